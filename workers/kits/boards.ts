// The boards Bootsmith makes images for. One record per kit: what its boot folder needs from the
// Pi firmware, which device trees (upstream names, as Debian's kernel ships them), which serial
// consoles exist under the mainline device tree, and how our CI boots it in QEMU. The kit recipe
// (kits/assemble.ts) and the boot-folder checks (workers/pi/) both read this table.

export type Arch = 'arm64' | 'i386';

export interface Board {
  /** Kit id, as `bootsmith new --board <id>` takes it. */
  id: string;
  name: string;
  /** Boards this kit covers, for the picker ("Raspberry Pi 3 Model B+"). */
  models: string[];
  arch: Arch;
  family: 'pi' | 'x86';
  /** Files from Debian's raspi-firmware (/usr/lib/raspi-firmware) the boot folder must hold. */
  firmware: string[];
  /** Device trees from the kernel package (Debian: /usr/lib/linux-image-VERSION/broadcom). The first
   *  is the one QEMU and the static checks use. */
  dtbs: string[];
  /** Consoles Linux has on this board with the mainline device tree; the first serial one is the
   *  UART on GPIO 14/15 (header pins 8/10) once `enable_uart=1`. */
  consoles: string[];
  /** The serial console the kit's cmdline.txt uses. */
  serialConsole: string;
  /** The block device of the SD card, for `root=`. (Kernels before 6.4 have no mmc0 alias on the
   *  Pi 4 and may name the card mmcblk1; the kit /init falls back to it.) */
  sdDevice: string;
  /** QEMU machine that boots this kit's outputs in CI, when one exists. */
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
];

export function boardById(id: string): Board | undefined {
  return BOARDS.find((b) => b.id === id);
}
