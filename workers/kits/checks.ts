// Everything a board project's build would stop on (errors) or mention (warnings): the boot folder
// as the board's firmware or emulator reads it, and the user's programs against the board's CPU.
// The Board screen shows these as the user edits; the pipeline refuses to build on an error.
import type { Entry } from '../model/entry.ts';
import type { Problem } from '../model/problems.ts';
import type { Board } from './boards.ts';
import { BOOT_INITRAMFS } from './project.ts';
import { checkBootFolder } from '../pi/check.ts';
import { checkX86BootFolder } from '../x86/boot.ts';
import { checkBinaries } from '../elf/elf.ts';

export async function boardProblems(board: Board, root: readonly Entry[], boot: readonly Entry[], ext4Root: boolean): Promise<Problem[]> {
  const files = new Map<string, number>();
  for (const e of boot) if (e.type === 'file') files.set(e.path.slice(1), e.data?.size ?? 0);
  // The boot partition is FAT: names match whatever their case.
  const textOf = async (name: string) => {
    const e = boot.find((x) => x.type === 'file' && x.path.toLowerCase() === '/' + name);
    return e ? (e.data ? e.data.text() : '') : undefined;
  };
  const cmdlineTxt = await textOf('cmdline.txt');
  const folder = board.family === 'x86'
    ? checkX86BootFolder({ board, files, cmdlineTxt, ext4Root })
    : checkBootFolder({ board, files, configTxt: await textOf('config.txt'), cmdlineTxt, initramfsName: BOOT_INITRAMFS });
  return [...folder, ...await checkBinaries(root as Entry[], board.arch, board.name)];
}
