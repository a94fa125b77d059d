import { describe, expect, it } from 'vitest';
import { BOARDS, type Board, boardById } from '../kits/boards.ts';
import type { Problem } from '../model/problems.ts';
import { type BootFolderInput, checkBootFolder, downstreamDtb } from './check.ts';
import { defaultCmdline } from './cmdline.ts';
import { defaultConfigTxt } from './config.ts';

const pi3 = boardById('pi3b')!;
const pi4 = boardById('pi4b')!;
const INITRD = 'initramfs.cpio.gz';

/** The kit's boot folder, as the engine will build it (the initramfs is added by the engine). */
function kit(board: Board, over: { config?: string; cmdline?: string; drop?: string[]; add?: Record<string, number> } = {}): BootFolderInput {
  const files = new Map<string, number>();
  for (const f of board.firmware) files.set(f, 1000);
  for (const d of board.dtbs) files.set(d, 30_000);
  files.set('vmlinuz', 33_000_000);
  const configTxt = over.config ?? defaultConfigTxt(board, { kernel: 'vmlinuz', initramfs: INITRD });
  const cmdlineTxt = over.cmdline ?? defaultCmdline(board);
  files.set('config.txt', configTxt.length);
  files.set('cmdline.txt', cmdlineTxt.length);
  for (const d of over.drop ?? []) files.delete(d);
  for (const [k, v] of Object.entries(over.add ?? {})) files.set(k, v);
  return {
    board, files, initramfsName: INITRD,
    configTxt: over.drop?.includes('config.txt') ? undefined : configTxt,
    cmdlineTxt: over.drop?.includes('cmdline.txt') ? undefined : cmdlineTxt,
  };
}

const KIT_CONFIG = (b: Board) => defaultConfigTxt(b, { kernel: 'vmlinuz', initramfs: INITRD });
const only = (ps: Problem[], severity?: 'error' | 'warning') => ps.filter((p) => !severity || p.severity === severity);
const msgs = (ps: Problem[]) => ps.map((p) => `${p.severity}: ${p.path}: ${p.message}`);

describe('checkBootFolder: the kit itself', () => {
  for (const board of BOARDS.filter((b) => b.family === 'pi')) {
    it(`finds nothing wrong with the ${board.name} kit's boot folder`, () => {
      expect(msgs(checkBootFolder(kit(board)))).toEqual([]);
      expect(msgs(checkBootFolder(kit(board, { cmdline: defaultCmdline(board, { root: 'ext4' }) })))).toEqual([]);
    });
  }

  it('compares names case-insensitively, as the FAT does', () => {
    const k = kit(pi4, { drop: ['vmlinuz', 'start4.elf'], add: { VMLINUZ: 5, 'Start4.ELF': 5 } });
    expect(msgs(checkBootFolder(k))).toEqual([]);
  });

  it('checks nothing for boards without a Pi boot folder', () => {
    expect(checkBootFolder({ ...kit(pi4), board: { ...pi4, family: 'x86' } })).toEqual([]);
  });
});

describe('checkBootFolder: missing files', () => {
  it('reports a missing config.txt and cmdline.txt as errors with a fix', () => {
    const ps = checkBootFolder(kit(pi4, { drop: ['config.txt', 'cmdline.txt'] }));
    expect(ps.map((p) => [p.severity, p.path])).toEqual([['error', 'config.txt'], ['error', 'cmdline.txt']]);
    for (const p of ps) expect(p.fix).toBeTruthy();
    expect(ps[1].message).toContain('cmdline.txt is missing');
    expect(ps[1].fix).toContain('console=ttyS1,115200');
  });

  it('reports each missing or empty firmware file', () => {
    const ps = checkBootFolder(kit(pi3, { drop: ['bootcode.bin'], add: { 'fixup.dat': 0 } }));
    expect(msgs(ps)).toEqual(['error: bootcode.bin: bootcode.bin is missing: the Raspberry Pi 3 firmware needs it to start', 'error: fixup.dat: fixup.dat is empty']);
    expect(ps[0].fix).toContain('raspi-firmware');
  });
});

describe('checkBootFolder: kernel', () => {
  it('names the missing kernel and suggests the one that is there', () => {
    const ps = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace('kernel=vmlinuz', 'kernel=Image') }));
    expect(msgs(ps)).toEqual(['error: config.txt: kernel=Image (line 8) names a file that is not in the boot folder']);
    expect(ps[0].fix).toBe('Add Image to the boot folder, or set kernel=vmlinuz.');
  });

  it('says which file it looked for without kernel=', () => {
    const ps = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace('kernel=vmlinuz\n', '') }));
    expect(msgs(ps)).toEqual(['error: config.txt: config.txt has no kernel= line, so the firmware loads kernel8.img, which is not in the boot folder']);
    expect(ps[0].fix).toBe('Set kernel=vmlinuz, or add kernel8.img.');
    const ok = kit(pi4, { config: KIT_CONFIG(pi4).replace('kernel=vmlinuz\n', ''), drop: ['vmlinuz'], add: { 'kernel8.img': 9 } });
    expect(msgs(checkBootFolder(ok))).toEqual([]);
  });

  it('needs arm_64bit=1 for a kernel named vmlinuz (a warning on the Pi 4, whose firmware now defaults to 64-bit)', () => {
    const e3 = checkBootFolder(kit(pi3, { config: KIT_CONFIG(pi3).replace('arm_64bit=1\n', '') }));
    expect(msgs(e3)).toEqual([expect.stringMatching(/^error: config\.txt: kernel=vmlinuz without arm_64bit=1: .*32-bit mode/)]);
    expect(e3[0].fix).toBe('Add arm_64bit=1.');
    const w4 = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace('arm_64bit=1\n', '') }));
    expect(w4.map((p) => p.severity)).toEqual(['warning']);
    const zero = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace('arm_64bit=1', 'arm_64bit=0') }));
    expect(msgs(zero)).toEqual([expect.stringMatching(/^error: config\.txt: arm_64bit=0 \(line 7\) starts the CPU in 32-bit mode/)]);
  });

  it('follows os_prefix, and says so when it is ignored', () => {
    const cfg = KIT_CONFIG(pi4) + 'os_prefix=new/\n';
    const used = kit(pi4, { config: cfg, drop: ['vmlinuz', 'bcm2711-rpi-4-b.dtb'], add: { 'new/vmlinuz': 9, 'new/bcm2711-rpi-4-b.dtb': 9, [`new/${INITRD}`]: 9 } });
    // The initramfs Bootsmith adds sits at the top, so the prefixed name isn't ours.
    expect(msgs(checkBootFolder(used))).toEqual([`warning: config.txt: config.txt doesn't load ${INITRD}, the initramfs Bootsmith adds to the boot folder`]);
    const ignored = checkBootFolder(kit(pi4, { config: cfg }));
    expect(msgs(ignored)).toEqual(['warning: config.txt: os_prefix=new/ is ignored: the firmware only uses it when the kernel and a device tree exist under new/, and they don\'t']);
    // upstream_kernel=1 tries upstream/ first.
    const up = kit(pi4, { drop: ['vmlinuz', 'bcm2711-rpi-4-b.dtb'], add: { 'upstream/vmlinuz': 9, 'upstream/bcm2711-rpi-4-b.dtb': 9 } });
    const ps = checkBootFolder(up);
    expect(msgs(ps)).toEqual([`error: config.txt: initramfs ${INITRD} followkernel (line 10) names ${INITRD}, which is not in the boot folder (os_prefix=upstream/ applies, so the firmware looks for upstream/${INITRD})`]);
    // An absolute name bypasses the prefix.
    const abs = kit(pi4, { config: KIT_CONFIG(pi4).replace(`initramfs ${INITRD}`, `initramfs /${INITRD}`), drop: ['vmlinuz', 'bcm2711-rpi-4-b.dtb'], add: { 'upstream/vmlinuz': 9, 'upstream/bcm2711-rpi-4-b.dtb': 9 } });
    expect(msgs(checkBootFolder(abs))).toEqual([]);
  });

  it('rejects backslashes', () => {
    const ps = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace('kernel=vmlinuz', 'kernel=boot\\vmlinuz') }));
    expect(ps[0].message).toContain('uses "\\"');
    expect(ps[0].fix).toBe('Write kernel=boot/vmlinuz.');
  });

  it('checks every kernel a board model may load', () => {
    const cfg = KIT_CONFIG(pi3) + '[pi3+]\nkernel=plus.img\n[all]\n';
    expect(msgs(checkBootFolder(kit(pi3, { config: cfg })))).toEqual(['error: config.txt: kernel=plus.img (line 17) names a file that is not in the boot folder']);
    // On a Pi 4 the [pi3+] part doesn't apply.
    expect(msgs(checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + '[pi3+]\nkernel=plus.img\n[all]\n' })))).toEqual([]);
  });
});

describe('checkBootFolder: initramfs', () => {
  it('counts the initramfs the engine adds, and reports other missing ones', () => {
    const ps = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace(`initramfs ${INITRD} followkernel`, 'initramfs initrd.img followkernel') }));
    expect(msgs(ps)).toEqual(['error: config.txt: initramfs initrd.img followkernel (line 10) names initrd.img, which is not in the boot folder']);
    expect(ps[0].fix).toBe(`Add initrd.img, or load the initramfs Bootsmith builds: initramfs ${INITRD} followkernel`);
  });

  it('catches "initramfs=", a missing address and a missing line', () => {
    const eq = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace(`initramfs ${INITRD} followkernel`, `initramfs=${INITRD}`) }));
    expect(msgs(eq)).toEqual([`error: config.txt: line 10: "initramfs=${INITRD}" — initramfs is written without "=", so the firmware doesn't understand this line`]);
    expect(eq[0].fix).toBe(`Write it as: initramfs ${INITRD} followkernel`);
    const noAddr = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace(` followkernel`, '') }));
    expect(msgs(noAddr)).toEqual([`warning: config.txt: initramfs ${INITRD} (line 10) has no load address`]);
    const none = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace(`initramfs ${INITRD} followkernel\n`, '') }));
    expect(msgs(none)).toEqual([`warning: config.txt: config.txt loads no initramfs, so ${INITRD} (which Bootsmith adds) is unused and the kit's /init never runs`]);
  });
});

describe('checkBootFolder: device tree', () => {
  it('needs a DTB for the board', () => {
    const ps = checkBootFolder(kit(pi4, { drop: ['bcm2711-rpi-4-b.dtb'] }));
    expect(msgs(ps)).toEqual(['error: bcm2711-rpi-4-b.dtb: no device tree for the Raspberry Pi 4: the boot folder has none of bcm2711-rpi-4-b.dtb']);
  });

  it('explains that without upstream_kernel=1 the Pi 3 firmware looks for the Raspberry Pi OS name', () => {
    expect(downstreamDtb('bcm2837-rpi-3-b.dtb')).toBe('bcm2710-rpi-3-b.dtb');
    const ps = checkBootFolder(kit(pi3, { config: KIT_CONFIG(pi3).replace('upstream_kernel=1\n', '') }));
    expect(msgs(ps)).toEqual(['error: config.txt: upstream_kernel=1 is not set, so the firmware looks for Raspberry Pi OS device tree names (bcm2710-rpi-3-b.dtb) and ignores bcm2837-rpi-3-b.dtb; the kernel gets no device tree']);
    // The Pi 4's DTB has the same name both ways.
    expect(msgs(checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4).replace('upstream_kernel=1\n', '') })))).toEqual([]);
  });

  it('warns about a model of the board whose DTB is missing', () => {
    const ps = checkBootFolder(kit(pi3, { drop: ['bcm2837-rpi-3-b-plus.dtb'] }));
    expect(msgs(ps)).toEqual(['warning: bcm2837-rpi-3-b-plus.dtb: bcm2837-rpi-3-b-plus.dtb is missing: the firmware picks the device tree by the exact model, so a Raspberry Pi 3 Model B+ would start without one']);
  });

  it('checks device_tree=', () => {
    const missing = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + 'device_tree=my.dtb\n' }));
    expect(msgs(missing)).toEqual(['error: config.txt: device_tree=my.dtb (line 16) names a file that is not in the boot folder']);
    const empty = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + 'device_tree=\n' }));
    expect(empty[0].message).toContain('device_tree= (line 16) is empty');
    const forced = checkBootFolder(kit(pi3, { config: KIT_CONFIG(pi3) + 'device_tree=bcm2837-rpi-3-b.dtb\n' }));
    expect(msgs(forced)).toEqual([expect.stringMatching(/^warning: config\.txt: device_tree=bcm2837-rpi-3-b\.dtb \(line 16\) makes every board use it, but a Raspberry Pi 3 Model B\+ needs bcm2837-rpi-3-b-plus\.dtb/)]);
    const wrong = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + 'device_tree=bcm2837-rpi-3-b.dtb\n', add: { 'bcm2837-rpi-3-b.dtb': 9 } }));
    expect(wrong[0].message).toContain('is not a device tree for the Raspberry Pi 4');
  });
});

describe('checkBootFolder: consoles and cmdline.txt', () => {
  const line = (c: string) => kit(pi3, { cmdline: c });

  it('rejects serial0/serial1 and consoles the board lacks, suggesting ttyS1', () => {
    const ps = checkBootFolder(line('console=serial0,115200 console=ttyS0,115200 console=ttyUSB0 console=tty1\n'));
    expect(msgs(ps)).toEqual([
      'error: cmdline.txt: console=serial0,115200 is a Raspberry Pi OS alias: the firmware rewrites it to ttyS0 or ttyAMA0, which under the mainline kernel is no port or the Bluetooth UART',
      'error: cmdline.txt: console=ttyS0,115200: the Raspberry Pi 3 has no ttyS0; with the mainline device tree the header UART is ttyS1',
      'error: cmdline.txt: console=ttyUSB0: the Raspberry Pi 3 has no ttyUSB0',
    ]);
    for (const p of ps) expect(p.fix).toContain('console=ttyS1,115200');
  });

  it('warns about ttyAMA0 (Bluetooth) and about a serial console without enable_uart=1', () => {
    expect(msgs(checkBootFolder(line('console=ttyAMA0,115200\n')))).toEqual([
      'warning: cmdline.txt: console=ttyAMA0,115200: ttyAMA0 is the UART wired to Bluetooth on the Raspberry Pi 3, not to the header pins, and the firmware may rewrite it to ttyS0',
    ]);
    const noUart = checkBootFolder(kit(pi3, { config: KIT_CONFIG(pi3).replace('enable_uart=1\n', '') }));
    expect(msgs(noUart)).toEqual(['warning: config.txt: cmdline.txt has console=ttyS1,115200, but enable_uart=1 is not set in config.txt, so the serial port may stay off or run at the wrong speed']);
    const partly = checkBootFolder(kit(pi3, { config: KIT_CONFIG(pi3).replace('enable_uart=1\n', '[pi3+]\nenable_uart=1\n[all]\n') }));
    expect(partly[0].message).toContain('is not always set');
    // Screen consoles need no UART.
    expect(msgs(checkBootFolder(kit(pi3, { cmdline: 'console=tty1\n', config: KIT_CONFIG(pi3).replace('enable_uart=1\n', '') })))).toEqual([]);
  });

  it('warns about a second line, a stray quote, a BOM, an empty file and repeated root=', () => {
    expect(msgs(checkBootFolder(line('console=tty1\nroot=/dev/mmcblk0p2\n')))).toEqual(['warning: cmdline.txt: cmdline.txt has more than one line; the firmware passes only the first line to the kernel']);
    expect(only(checkBootFolder(line('console=tty1 dyndbg="x\n')), 'warning')[0].message).toContain('unmatched double quote');
    expect(only(checkBootFolder(line('\uFEFFconsole=tty1\n')))[0].message).toContain('byte order mark');
    expect(only(checkBootFolder(line('\n')))[0].message).toContain('no kernel arguments');
    expect(only(checkBootFolder(line('console=tty1 root=/dev/a root=/dev/b\n')))[0].message).toBe('cmdline.txt has root= 2 times; the kernel uses the last one');
    expect(only(checkBootFolder(line('console=tty1 ' + 'x'.repeat(1600) + '\n')))[0].message).toContain('1613 characters long');
  });

  it('follows cmdline= in config.txt', () => {
    const ps = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + 'cmdline=other.txt\n' }));
    expect(msgs(ps)).toEqual(['error: other.txt: other.txt is missing: the kernel would start with no console= and no root=']);
    const there = checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + 'cmdline=other.txt\n', add: { 'other.txt': 10 } }));
    expect(msgs(there)).toEqual(['warning: config.txt: cmdline=other.txt: the firmware reads the command line from other.txt, not cmdline.txt']);
  });
});

describe('checkBootFolder: config.txt text', () => {
  const ps = (extra: string, board = pi4) => checkBootFolder(kit(board, { config: KIT_CONFIG(board) + extra }));

  it('warns about long lines, stray text, unknown filters and comments after a value', () => {
    expect(msgs(ps(`# ${'x'.repeat(100)}\n`))).toEqual(['warning: config.txt: line 16 is 102 characters long; the firmware reads at most 98 and may take the rest for another line']);
    expect(msgs(ps('hello world this is text\n'))).toEqual([]); // "key value" form is a setting
    expect(msgs(ps('[pi4\n'))).toEqual(['warning: config.txt: line 16: "[pi4" is not a setting (key=value), a [filter] or a # comment; the firmware ignores it']);
    expect(msgs(ps('[pi9000]\n[all]\n'))).toEqual(['warning: config.txt: line 16: [pi9000] is not a filter the firmware documents; the checks assume the settings below it may apply']);
    expect(msgs(ps('gpu_mem=16  # small\n'))).toEqual(['warning: config.txt: line 16: gpu_mem=16  # small — config.txt has no comments after a setting; the firmware reads the "#..." as part of the value']);
    expect(msgs(checkBootFolder(kit(pi4, { config: '\uFEFF' + KIT_CONFIG(pi4) })))[0]).toContain('byte order mark');
  });

  it('checks overlays, includes and explicit firmware files', () => {
    expect(msgs(ps('dtoverlay=disable-bt\ndtoverlay=\n'))).toEqual([
      expect.stringMatching(/^warning: config\.txt: dtoverlay=disable-bt \(line 16\): overlays\/disable-bt\.dtbo is not in the boot folder, so the firmware skips the overlay/),
    ]);
    expect(msgs(checkBootFolder(kit(pi4, { config: KIT_CONFIG(pi4) + 'dtoverlay=disable-bt\n', add: { 'overlays/disable-bt.dtbo': 9 } })))).toEqual([]);
    expect(msgs(ps('include extra.txt\n'))).toEqual(['warning: config.txt: include extra.txt (line 16) names a file that is not in the boot folder; the firmware skips it']);
    expect(msgs(ps('start_file=start_cd.elf\n'))[0]).toMatch(/^error: config\.txt: start_file=start_cd\.elf \(line 16\) names a file that is not in the boot folder/);
    expect(msgs(ps('start_x=1\n'))).toEqual(['warning: config.txt: start_x=1 selects start4x.elf and fixup4x.dat, and start4x.elf and fixup4x.dat are not in the boot folder']);
  });
});
