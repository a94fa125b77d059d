// `bootsmith boot`: a headless test boot in v86 with the serial console on the terminal. The
// kernel, BIOS and command line come from the project's kit (the pc board), from the outputs
// folder, or from --kernel/--bios/--append.
import { existsSync, openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Project } from '../model/project.ts';
import { BootsmithError } from '../model/problems.ts';
import { formatSize } from '../model/size.ts';
import { findEntry } from '../model/tree.ts';
import { boardById } from '../kits/boards.ts';
import { diskKitSource } from '../kits/node-source.ts';
import type { Kit, KitSource } from '../kits/kit.ts';
import { x86Cmdline } from '../x86/boot.ts';
import { importBytes } from '../import/import.ts';
import { looksLikeProjectFile } from '../projectfile/projectfile.ts';
import { EXT4_NAME, INITRAMFS_NAME, SDCARD_NAME } from '../pipeline.ts';
import { buildBootImages, refuseForeignPrograms } from '../boot/inputs.ts';
import { useToolsFromDisk } from '../wasi/node-tools.ts';
import type { ChunkedFile } from '../wasi/store.ts';
import { type BootEnd, type BootHandle, BootError, type DiskStore, autoMemoryMiB, isBzImage, startBoot } from '../boot/v86.ts';
import { FileOverlayDisk, nodeV86Wasm } from '../boot/node.ts';
import { intOption, parseArgs, stringOption } from './args.ts';

/** Ctrl-]: the quit key of telnet and many serial terminals; everything else goes to the guest. */
const QUIT = 0x1d;
const PC_KIT = 'pc';
/** Where Debian's seabios package (also pulled in by qemu-system-x86) puts the BIOS. */
const SYSTEM_BIOS = '/usr/share/seabios/bios.bin';
const DEFAULT_EXPECT_TIMEOUT_S = 120;

export const BOOT_HELP = `bootsmith boot <project-file|outputs-dir> [--expect TEXT] [--timeout S] [--memory MiB] [--disk]
               [--kernel FILE] [--bios FILE] [--append "ARGS"]

Boots a 32-bit x86 image headless in v86 (an x86 PC emulator in WebAssembly): the serial console
(ttyS0) is on stdout and what you type goes to it. Press Ctrl-] to quit; Ctrl-C goes to the guest.
With a project file, the initramfs (and the disk, with an ext4 root) is built in memory first;
programs built for another CPU (x86-64, ARM) are refused, since v86 runs 32-bit x86 only.
With an outputs folder (from 'bootsmith build'), initramfs.cpio.gz and the disk (sdcard.img, or
rootfs.ext4) found there are used.
The kernel, BIOS and command line come from the project's boot folder (vmlinuz, cmdline.txt) and
the pc kit (bios.bin); an outputs folder may hold vmlinuz, cmdline.txt or boot.zip, else the pc
kit's are used.
--expect TEXT   exit 0 once TEXT appears on the console; non-zero with the reason when the time
                runs out, the kernel panics or /init exits first
--timeout S     give up after S seconds (default with --expect: ${DEFAULT_EXPECT_TIMEOUT_S}); without --expect, stop then
--memory MiB    guest memory (default: enough for the initramfs, at least 128)
--disk          attach a disk (/dev/sda) even if the project has no ext4 root: its root
                filesystem as rootfs.ext4; with an outputs folder, fail if it has no disk image.
                What the guest writes to a disk is kept in memory; files are never changed.
--kernel FILE   an x86 bzImage instead of the project's or kit's vmlinuz
--bios FILE     a SeaBIOS bios.bin instead of the kit's (Debian's seabios package has one at
                ${SYSTEM_BIOS})
--append ARGS   the whole kernel command line instead of cmdline.txt (keep console=ttyS0)
The command ends with status 0 when the machine powers off.`;

interface Assets {
  kernel: Blob;
  bios: Blob;
  cmdline: string;
  initrd?: Blob;
  disk?: Blob | DiskStore;
  /** For the one-line summary on stderr. */
  what: string[];
}

interface Overrides {
  kernel?: string;
  bios?: string;
  append?: string;
  disk: boolean;
}

async function fileBlob(path: string, what: string): Promise<Blob> {
  try {
    if (!(await stat(path)).isFile()) throw new Error();
    return await openAsBlob(path);
  } catch {
    throw new BootsmithError(`${path}: no such ${what} file`);
  }
}

/** The pc kit, when the set-up has made it. */
async function pcKit(): Promise<{ kit: Kit; source: KitSource } | undefined> {
  const source = diskKitSource();
  try {
    const list = await source.list();
    if (!list.some((k) => k.id === PC_KIT)) return undefined;
    return { kit: await source.kit(PC_KIT), source };
  } catch {
    return undefined;
  }
}

async function kitFile(kind: 'kernel' | 'bios', kitId = PC_KIT): Promise<Blob | undefined> {
  const source = diskKitSource();
  let kit: Kit;
  try {
    kit = kitId === PC_KIT ? (await pcKit())?.kit as Kit : await source.kit(kitId);
  } catch {
    return undefined;
  }
  const f = kit?.files.find((x) => x.kind === kind || (kind === 'bios' && /(^|\/)bios\.bin$/.test(x.path)));
  return f ? source.file(f.sha256) : undefined;
}

async function biosFor(o: Overrides, kitId?: string, extra?: Blob): Promise<{ blob: Blob; from: string }> {
  if (o.bios) return { blob: await fileBlob(o.bios, 'BIOS'), from: o.bios };
  if (extra) return { blob: extra, from: 'bios.bin' };
  const fromKit = await kitFile('bios', kitId ?? PC_KIT) ?? (kitId && kitId !== PC_KIT ? await kitFile('bios') : undefined);
  if (fromKit) return { blob: fromKit, from: 'the pc kit' };
  if (existsSync(SYSTEM_BIOS)) return { blob: await openAsBlob(SYSTEM_BIOS), from: SYSTEM_BIOS };
  throw new BootsmithError(`No BIOS: the pc kit is not assembled (npm start makes it) and ${SYSTEM_BIOS} is missing. Pass --bios FILE (a SeaBIOS bios.bin, e.g. from Debian's seabios package).`);
}

const firstLine = (text: string) => text.replace(/^\uFEFF/, '').split(/\r?\n/)[0].trim();

async function fromProject(file: string, project: Project, o: Overrides): Promise<Assets> {
  const board = project.board ? boardById(project.board.kit) : undefined;
  if (project.board && board?.family !== 'x86' && !o.kernel) {
    throw new BootsmithError(`${file} is a ${board?.name ?? project.board.kit} project; v86 boots 32-bit x86 only. Make a project with --board ${PC_KIT} to test-boot it.`);
  }
  await refuseForeignPrograms(project.entries, `Cannot boot ${file}`);
  const bootFile = (name: string) => {
    const e = findEntry(project.boot, '/' + name);
    return e?.type === 'file' ? e.data : undefined;
  };
  const kernel = o.kernel ? await fileBlob(o.kernel, 'kernel') : bootFile('vmlinuz') ?? await kitFile('kernel');
  if (!kernel) throw new BootsmithError(`${file} has no kernel (no vmlinuz in its boot folder, and the pc kit is not assembled). Pass --kernel FILE, or make the project with 'bootsmith new --board ${PC_KIT}'.`);
  const cmdlineTxt = bootFile('cmdline.txt');
  const bios = await biosFor(o, project.board?.kit, bootFile('bios.bin'));

  // Only what a boot needs: the initramfs, and the disk when there is a root filesystem on it.
  const attachRoot = project.ext4.enabled || o.disk;
  process.stderr.write(`bootsmith boot: building the initramfs${attachRoot ? ' and the disk' : ''} of ${file} in memory\n`);
  useToolsFromDisk();
  const { initrd, disk: diskOut } = await buildBootImages(project, !!attachRoot);
  const cmdline = o.append ?? (cmdlineTxt ? firstLine(await cmdlineTxt.text()) : defaultCmdline(!!initrd, diskOut?.name));
  return {
    kernel, bios: bios.blob, cmdline,
    initrd: initrd?.data as Blob | undefined,
    // The sparse image as built: the guest reads and writes it in place, nothing is copied.
    disk: diskOut ? diskOut.data as ChunkedFile : undefined,
    what: [
      `kernel ${o.kernel ?? (bootFile('vmlinuz') ? 'vmlinuz' : 'from the pc kit')}`,
      `BIOS ${bios.from}`,
      ...(initrd ? [`${initrd.name} ${formatSize(initrd.size)}`] : []),
      ...(diskOut ? [`disk ${diskOut.name} ${formatSize(diskOut.size)}`] : []),
    ],
  };
}

function defaultCmdline(initrd: boolean, disk?: string): string {
  const pc = boardById(PC_KIT);
  if (pc) return firstLine(x86Cmdline(pc, { root: disk === SDCARD_NAME }) + (disk === EXT4_NAME && !initrd ? ' root=/dev/sda rw' : ''));
  return `console=ttyS0 tsc=reliable${disk && !initrd ? ' root=/dev/sda rw' : ''}`;
}

async function fromOutputs(dir: string, o: Overrides): Promise<Assets> {
  const present = (name: string) => existsSync(join(dir, name));
  const blob = (name: string) => openAsBlob(join(dir, name));
  // boot.zip: the boot folder of a board project, when the project made one.
  let zipped: Record<string, Uint8Array> = {};
  if (present('boot.zip')) {
    try {
      zipped = unzipSync(new Uint8Array(await readFile(join(dir, 'boot.zip'))), { filter: (f) => ['vmlinuz', 'cmdline.txt', 'bios.bin'].includes(f.name) });
    } catch {
      throw new BootsmithError(`${join(dir, 'boot.zip')} is not a readable zip file`);
    }
  }
  const local = async (name: string) => (present(name) ? blob(name) : zipped[name] ? new Blob([zipped[name] as Uint8Array<ArrayBuffer>]) : undefined);

  const initName = [INITRAMFS_NAME.gzip, INITRAMFS_NAME.none].find(present);
  const diskName = [SDCARD_NAME, EXT4_NAME].find(present);
  if (!initName && !diskName) throw new BootsmithError(`${dir} has neither ${INITRAMFS_NAME.gzip} nor a disk image (${SDCARD_NAME}, ${EXT4_NAME}); build the project into it with 'bootsmith build <project> -o ${dir}'.`);
  if (o.disk && !diskName) throw new BootsmithError(`--disk: ${dir} has no disk image (${SDCARD_NAME} or ${EXT4_NAME}); turn the project's ext4 root on and build again.`);
  const initrd = initName ? await blob(initName) : undefined;
  if (initrd) {
    const imported = await importBytes(new Uint8Array(await initrd.arrayBuffer()), initName!);
    if (imported.format !== 'project') await refuseForeignPrograms(imported.entries, `Cannot boot ${join(dir, initName!)}`);
  }
  const zipKernel = await local('vmlinuz');
  const kernel = o.kernel ? await fileBlob(o.kernel, 'kernel') : zipKernel ?? await kitFile('kernel');
  if (!kernel) throw new BootsmithError(`No kernel: ${dir} has no vmlinuz (or boot.zip) and the pc kit is not assembled. Pass --kernel FILE (a 32-bit x86 bzImage).`);
  const cmdlineTxt = await local('cmdline.txt');
  const cmdline = o.append ?? (cmdlineTxt ? firstLine(await cmdlineTxt.text()) : defaultCmdline(!!initrd, diskName));
  const bios = await biosFor(o, undefined, await local('bios.bin'));
  return {
    kernel, bios: bios.blob, cmdline, initrd,
    disk: diskName ? FileOverlayDisk.open(join(dir, diskName)) : undefined,
    what: [
      `kernel ${o.kernel ?? (zipKernel ? 'vmlinuz' : 'from the pc kit')}`,
      `BIOS ${bios.from}`,
      ...(initName ? [`${initName} ${formatSize(initrd!.size)}`] : []),
      ...(diskName ? [`disk ${diskName}`] : []),
    ],
  };
}

interface Session {
  expect?: string;
  timeoutS?: number;
}

/** Runs the machine until the expected text, the end of the boot, the timeout or Ctrl-]. */
async function attach(boot: BootHandle, s: Session): Promise<void> {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  let quit!: () => void;
  const quitting = new Promise<'quit'>((resolve) => { quit = () => resolve('quit'); });
  // Piped input waits for /init: typed before the console is open, it would be lost.
  let initRunning = false;
  const held: Buffer[] = [];
  const onData = (chunk: Buffer) => {
    if (raw && chunk.includes(QUIT)) {
      const before = chunk.subarray(0, chunk.indexOf(QUIT));
      if (before.length) boot.write(before);
      quit();
      return;
    }
    if (raw || initRunning) boot.write(chunk); else held.push(chunk);
  };
  void boot.milestones.init.then(() => {
    initRunning = true;
    for (const c of held.splice(0)) boot.write(c);
  }, () => {});
  // Output into a closed pipe (`| head`) ends the session like Ctrl-].
  const onOutputError = () => quit();
  process.stdout.on('error', onOutputError);
  if (raw) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('error', () => {});
  stdin.resume();

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeoutS = s.timeoutS ?? (s.expect !== undefined ? DEFAULT_EXPECT_TIMEOUT_S : undefined);
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutS !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutS * 1000);
  });
  const expected = s.expect !== undefined ? boot.waitFor(s.expect).then(() => 'found' as const, () => 'ended' as const) : new Promise<never>(() => {});
  try {
    const outcome = await Promise.race([expected, boot.ended, timedOut, quitting]);
    if (outcome === 'quit') return;
    if (outcome === 'found') {
      process.stderr.write(`\nbootsmith boot: "${s.expect}" appeared after ${(boot.elapsedMs() / 1000).toFixed(1)} s\n`);
      return;
    }
    if (outcome === 'timeout') {
      if (s.expect === undefined) {
        process.stderr.write(`\nbootsmith boot: stopped after ${timeoutS} s\n`);
        return;
      }
      throw new BootsmithError(`"${s.expect}" did not appear within ${timeoutS} s`);
    }
    const end: BootEnd = outcome === 'ended' ? await boot.ended : outcome;
    if (end.kind === 'halted' && s.expect === undefined) return;
    const detail = end.kind === 'halted' ? `${end.summary} before "${s.expect}" appeared` : end.summary;
    throw new BootError(detail, end);
  } finally {
    clearTimeout(timer);
    stdin.off('data', onData);
    process.stdout.off('error', onOutputError);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    // A pipe or terminal on stdin would keep the process alive after the machine is gone.
    (stdin as { unref?: () => void }).unref?.();
    await boot.stop();
  }
}

export async function cmdBoot(argv: string[]): Promise<void> {
  const p = parseArgs(argv, ['--expect', '--timeout', '--memory', '--kernel', '--bios', '--append'], ['--disk']);
  if (p.positionals.length !== 1) throw new BootsmithError('boot takes one <project-file> or <outputs-dir> (see bootsmith boot --help)');
  const input = p.positionals[0];
  const timeoutS = intOption(p, '--timeout');
  if (timeoutS === 0) throw new BootsmithError('--timeout takes a number of seconds above 0');
  const memoryMiB = intOption(p, '--memory');
  const o: Overrides = { kernel: stringOption(p, '--kernel'), bios: stringOption(p, '--bios'), append: stringOption(p, '--append'), disk: p.options.has('--disk') };

  let st;
  try { st = await stat(input); } catch { throw new BootsmithError(`${input}: no such project file or outputs folder`); }
  let assets: Assets;
  if (st.isDirectory()) {
    assets = await fromOutputs(input, o);
  } else {
    const head = new Uint8Array(await readFile(input));
    if (!looksLikeProjectFile(head)) throw new BootsmithError(`${input} is neither a Bootsmith project file nor an outputs folder`);
    const imported = await importBytes(head, basename(input));
    if (imported.format !== 'project') throw new BootsmithError(`${input} is not a Bootsmith project file`);
    assets = await fromProject(input, imported.project, o);
  }
  const head = new Uint8Array(await assets.kernel.slice(0, 0x206).arrayBuffer());
  if (!isBzImage(head)) throw new BootsmithError(`The kernel (${o.kernel ?? 'vmlinuz'}) is not an x86 bzImage; v86 boots 32-bit x86 kernels only.`);
  if (!/(^|\s)console=ttyS0\b/.test(assets.cmdline)) {
    process.stderr.write(`bootsmith boot: warning: the kernel command line has no console=ttyS0, so the kernel's messages will not show\n`);
  }
  const memory = memoryMiB ?? autoMemoryMiB(assets.initrd?.size);
  process.stderr.write(`bootsmith boot: ${assets.what.join(', ')}, ${memory} MiB; kernel command line: ${assets.cmdline}\n`);
  process.stderr.write(`bootsmith boot: Ctrl-] quits\n`);

  let atLineStart = true;
  const boot = await startBoot({
    wasm: nodeV86Wasm,
    bios: assets.bios,
    kernel: assets.kernel,
    initrd: assets.initrd,
    disk: assets.disk,
    cmdline: assets.cmdline,
    memoryMiB: memory,
    onSerial: ({ bytes }) => {
      process.stdout.write(bytes);
      atLineStart = bytes[bytes.length - 1] === 0x0a;
    },
  });
  try {
    await attach(boot, { expect: stringOption(p, '--expect'), timeoutS });
  } finally {
    if (!atLineStart) process.stdout.write('\n');
  }
}
