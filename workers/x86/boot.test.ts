import { describe, expect, it } from 'vitest';
import { boardById, partitionOf } from '../kits/boards.ts';
import { checkX86BootFolder, x86Cmdline } from './boot.ts';

const pc = boardById('pc')!;
const files = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('x86 boot folder', () => {
  it('the default command line: serial console, steady TSC, /init; root= only with the ext4 root', () => {
    expect(x86Cmdline(pc)).toBe('console=ttyS0 tsc=reliable rdinit=/init\n');
    expect(x86Cmdline(pc, { root: true })).toBe('console=ttyS0 tsc=reliable rdinit=/init root=/dev/sda2 rootwait\n');
  });

  it('names partitions of a disk and of an SD card', () => {
    expect(partitionOf(pc, 2)).toBe('/dev/sda2');
    expect(partitionOf(boardById('pi3b')!, 2)).toBe('/dev/mmcblk0p2');
  });

  it('a folder from the kit passes', () => {
    expect(checkX86BootFolder({ board: pc, files: files({ vmlinuz: 1_500_000, 'cmdline.txt': 40 }), cmdlineTxt: x86Cmdline(pc), ext4Root: false })).toEqual([]);
    expect(checkX86BootFolder({ board: pc, files: files({ vmlinuz: 1_500_000 }), cmdlineTxt: x86Cmdline(pc, { root: true }), ext4Root: true })).toEqual([]);
  });

  it('no kernel is an error; no serial console or a root= that does not match the outputs are warnings', () => {
    const noKernel = checkX86BootFolder({ board: pc, files: files({ 'cmdline.txt': 40 }), cmdlineTxt: x86Cmdline(pc), ext4Root: false });
    expect(noKernel.map((p) => [p.severity, p.path])).toEqual([['error', '/vmlinuz']]);
    expect(checkX86BootFolder({ board: pc, files: files({ vmlinuz: 0 }), cmdlineTxt: x86Cmdline(pc), ext4Root: false })[0].severity).toBe('error');
    const quiet = checkX86BootFolder({ board: pc, files: files({ vmlinuz: 1 }), cmdlineTxt: 'console=tty0 rdinit=/init\n', ext4Root: false });
    expect(quiet.map((p) => p.severity)).toEqual(['warning']);
    expect(quiet[0].message).toContain('console=ttyS0');
    expect(checkX86BootFolder({ board: pc, files: files({ vmlinuz: 1 }), cmdlineTxt: x86Cmdline(pc), ext4Root: true })[0].fix).toContain('root=/dev/sda2');
    expect(checkX86BootFolder({ board: pc, files: files({ vmlinuz: 1 }), cmdlineTxt: x86Cmdline(pc, { root: true }), ext4Root: false })[0].message).toContain('no ext4 root');
    expect(checkX86BootFolder({ board: pc, files: files({ vmlinuz: 1 }), ext4Root: false })[0].severity).toBe('warning');
  });
});
