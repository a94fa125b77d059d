// The boards Bootsmith makes images for. One record per kit: what its boot folder needs from the
// Pi firmware, which device trees (upstream names, as Debian's kernel ships them), which serial
// consoles exist under the mainline device tree, and how our CI boots it in QEMU. The kit recipe
// (kits/assemble.ts) and the boot-folder checks (workers/pi/, workers/x86/) both read this table.
// family 'pi' boots through the Raspberry Pi firmware (config.txt, cmdline.txt); family 'x86' is a
// PC that an emulator (v86 in the page, QEMU in CI) starts with the kit's BIOS, loading vmlinuz and
// the initramfs itself with the arguments in cmdline.txt.

export type Arch = 'arm64' | 'i386';

export interface Board {
  /** Kit id, as `bootsmith new --board <id>` takes it. */
  id: string;
  name: string;
  /** Boards this kit covers, for the picker ("Raspberry Pi 3 Model B+"). */
  models: string[];
  arch: Arch;
  family: 'pi' | 'x86';
  /** Files from Debian's raspi-firmware (/usr/lib/raspi-firmware) the boot folder must hold
   *  (none on x86). */
  firmware: string[];
  /** Device trees from the kernel package (Debian: /usr/lib/linux-image-VERSION/broadcom). The first
   *  is the one QEMU and the static checks use. None on x86. */
  dtbs: string[];
  /** Consoles Linux has on this board with the mainline device tree; the first serial one is the
   *  UART on GPIO 14/15 (header pins 8/10) once `enable_uart=1`. */
  consoles: string[];
  /** The serial console the kit's cmdline.txt uses. */
  serialConsole: string;
  /** The block device of the SD card (the first disk on a PC), for `root=`. (Kernels before 6.4
   *  have no mmc0 alias on the Pi 4 and may name the card mmcblk1; the kit /init falls back to it.) */
  sdDevice: string;
  /** QEMU machine that boots this kit's Pi outputs in CI, when one exists (the pc kit boots on
   *  qemu-system-i386's default machine and needs no device tree). */
  qemu?: { machine: string; dtb: string; minVersion?: number };
}

const PI_CONSOLES = ['tty0', 'tty1', 'ttyS1', 'ttyAMA0'];

export const BOARDS: Board[] = [
  {
    id: 'pi3b',
    name: 'Raspberry Pi 3',
    models: ['Raspberry Pi 3 Model B', 'Raspberry Pi 3 Model B+'],
    arch: 'arm64',
    family: 'pi',
    firmware: ['bootcode.bin', 'start.elf', 'fixup.dat'],
    dtbs: ['bcm2837-rpi-3-b.dtb', 'bcm2837-rpi-3-b-plus.dtb'],
    consoles: PI_CONSOLES,
    serialConsole: 'ttyS1',
    sdDevice: '/dev/mmcblk0',
    qemu: { machine: 'raspi3b', dtb: 'bcm2837-rpi-3-b.dtb' },
  },
  {
    id: 'pizero2w',
    name: 'Raspberry Pi Zero 2 W',
    models: ['Raspberry Pi Zero 2 W'],
    arch: 'arm64',
    family: 'pi',
    firmware: ['bootcode.bin', 'start.elf', 'fixup.dat'],
    dtbs: ['bcm2837-rpi-zero-2-w.dtb'],
    consoles: PI_CONSOLES,
    serialConsole: 'ttyS1',
    sdDevice: '/dev/mmcblk0',
    // Same SoC as the Pi 3: QEMU's raspi3b runs the same kernel and initramfs.
    qemu: { machine: 'raspi3b', dtb: 'bcm2837-rpi-3-b.dtb' },
  },
  {
    id: 'pi4b',
    name: 'Raspberry Pi 4',
    models: ['Raspberry Pi 4 Model B'],
    arch: 'arm64',
    family: 'pi',
    firmware: ['start4.elf', 'fixup4.dat'],
    dtbs: ['bcm2711-rpi-4-b.dtb'],
    consoles: PI_CONSOLES,
    serialConsole: 'ttyS1',
    sdDevice: '/dev/mmcblk0',
    qemu: { machine: 'raspi4b', dtb: 'bcm2711-rpi-4-b.dtb', minVersion: 9 },
  },
  {
    // A 32-bit PC for test boots: our own small kernel (kits/x86/), SeaBIOS for v86, no modules.
    id: 'pc',
    name: 'PC (x86, test boot in v86)',
    models: ['v86 in the browser', 'QEMU i440FX PC (qemu-system-i386)'],
    arch: 'i386',
    family: 'x86',
    firmware: [],
    dtbs: [],
    consoles: ['ttyS0', 'tty0'],
    serialConsole: 'ttyS0',
    // The first IDE disk (ata_piix).
    sdDevice: '/dev/sda',
  },
];

/** Partition `n` of the board's SD card or disk: /dev/mmcblk0p2, /dev/sda2. */
export function partitionOf(board: Board, n: number): string {
  return `${board.sdDevice}${/\d$/.test(board.sdDevice) ? 'p' : ''}${n}`;
}

export function boardById(id: string): Board | undefined {
  return BOARDS.find((b) => b.id === id);
}

/** Whether v86 can test-boot a project: x86 board projects, and blank ones (with the PC kit's
 *  kernel). v86 emulates a 32-bit PC, so Pi projects are verified in QEMU instead. */
export function canTestBoot(p: { board?: { kit: string } }): boolean {
  return !p.board || boardById(p.board.kit)?.family === 'x86';
}
