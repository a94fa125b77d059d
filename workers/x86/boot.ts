// The boot folder of an x86 (pc kit) project. No firmware reads it: the emulator (v86 in the page,
// QEMU in CI) loads vmlinuz and the initramfs itself and passes the first line of cmdline.txt as
// the kernel command line. So the folder is just vmlinuz, cmdline.txt, the initramfs the engine
// adds and the licences; the checks below are the few things that leave such a boot silent.
import type { Board } from '../kits/boards.ts';
import { partitionOf } from '../kits/boards.ts';
import type { Problem } from '../model/problems.ts';
import { consoleDevice, consoles, getArg } from '../pi/cmdline.ts';

export const X86_KERNEL = 'vmlinuz';

/** The kernel arguments a pc kit project starts with: the serial console (what a test boot shows
 *  and what CI reads), `tsc=reliable` (an emulator's TSC is steady, but the kernel's watchdog would
 *  otherwise compare it with slow emulated timers and fall back to a worse clock), and the
 *  initramfs's /init. With the ext4 root on, root= names the disk's second partition: the kit's
 *  /init mounts it itself. */
export function x86Cmdline(board: Board, opts: { root?: boolean } = {}): string {
  const args = [`console=${board.serialConsole}`, 'tsc=reliable', 'rdinit=/init'];
  if (opts.root) args.push(`root=${partitionOf(board, 2)}`, 'rootwait');
  return args.join(' ') + '\n';
}

export interface X86BootInput {
  board: Board;
  /** Path relative to the boot folder root → size in bytes. */
  files: Map<string, number>;
  cmdlineTxt?: string;
  /** The ext4 root partition is being built. */
  ext4Root: boolean;
}

export function checkX86BootFolder(input: X86BootInput): Problem[] {
  const { board, files } = input;
  const out: Problem[] = [];
  const size = [...files].find(([p]) => p.toLowerCase() === X86_KERNEL)?.[1];
  if (size === undefined) {
    out.push({ severity: 'error', path: `/${X86_KERNEL}`, message: `The boot folder has no ${X86_KERNEL}, the kernel the emulator starts.`, fix: `Make a new project from the ${board.name} kit, or add the kernel as /${X86_KERNEL} in the boot folder.` });
  } else if (size === 0) {
    out.push({ severity: 'error', path: `/${X86_KERNEL}`, message: `${X86_KERNEL} is empty.`, fix: `Make a new project from the ${board.name} kit.` });
  }
  const text = input.cmdlineTxt;
  if (text === undefined) {
    out.push({ severity: 'warning', path: '/cmdline.txt', message: 'The boot folder has no cmdline.txt: the kernel starts without arguments and prints nothing on the serial console.', fix: `Add cmdline.txt with ${x86Cmdline(board).trim()}` });
    return out;
  }
  const cons = consoles(text).map(consoleDevice);
  if (!cons.includes(board.serialConsole)) {
    out.push({ severity: 'warning', path: '/cmdline.txt', message: `cmdline.txt has no console=${board.serialConsole}: a test boot shows nothing until your program writes to the serial port.`, fix: `Add console=${board.serialConsole} to cmdline.txt.` });
  }
  const root = getArg(text, 'root');
  if (input.ext4Root && root === undefined) {
    out.push({ severity: 'warning', path: '/cmdline.txt', message: `The ext4 root is on but cmdline.txt has no root=: /init stays in the initramfs.`, fix: `Add root=${partitionOf(board, 2)} rootwait to cmdline.txt.` });
  }
  if (!input.ext4Root && typeof root === 'string' && root.startsWith(board.sdDevice)) {
    out.push({ severity: 'warning', path: '/cmdline.txt', message: `cmdline.txt names root=${root}, but no ext4 root is built: /init waits for it for 20 s, then stays in the initramfs.`, fix: 'Turn the ext4 root on, or remove root= from cmdline.txt.' });
  }
  return out;
}
