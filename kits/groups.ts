// Kernel module groups a Pi appliance may need, by SoC. Names are as modprobe takes them; the
// assembler follows every dependency in the kernel's own module metadata, and reports a name that
// is built into the kernel (modules.builtin) as builtin instead of shipping a file for it. A name
// that is neither modular nor built in fails the kit build: the recipe must be fixed.
import type { Board } from '../workers/kits/boards.ts';

export interface GroupDef {
  id: string;
  label: string;
  description: string;
  /** Module names to load, in this order (dependencies are added by the assembler). */
  modules: string[];
}

/** The SoC family of a board, from its first device tree's name ("bcm2837", "bcm2711"). */
export const socOf = (board: Board): string => board.dtbs[0].split('-')[0];

/** The USB host controller(s): Pi 3 and Zero 2 W have the DesignWare OTG core (dwc2, with its
 *  no-op PHY from the device tree); Pi 4's USB-A ports sit behind the VL805 xHCI on PCIe, whose
 *  reset (firmware load) goes through the Raspberry Pi firmware reset controller, and its USB-C
 *  port is dwc2 again. */
function usbHost(soc: string): string[] {
  if (soc === 'bcm2711') return ['reset-raspberrypi', 'xhci-pci', 'phy-generic', 'dwc2'];
  return ['phy-generic', 'dwc2'];
}

export function groupsFor(board: Board): GroupDef[] {
  const soc = socOf(board);
  const pi4 = soc === 'bcm2711';
  const groups: GroupDef[] = [
    {
      id: 'sd',
      label: 'SD card root (ext4)',
      description: pi4
        ? 'Mounts an ext4 root file system from the SD card: the EMMC2 controller (sdhci-iproc) and the two regulators the device tree gives it, then ext4 with crc32c.'
        : 'Mounts an ext4 root file system from the SD card: the SD host controller (bcm2835 "sdhost", which holds the card under the mainline device tree; the other controller, sdhci-iproc, serves the Wi-Fi chip), then ext4 with crc32c.',
      modules: pi4
        ? ['fixed', 'gpio-regulator', 'sdhci-iproc', 'mmc_block', 'ext4']
        : ['bcm2835', 'mmc_block', 'ext4'],
    },
    {
      id: 'vfat',
      label: 'FAT (boot partition)',
      description: 'Reads and writes FAT file systems such as the boot partition, with the character sets a plain mount needs (codepage 437, iocharset ascii) and those for iocharset=iso8859-1 or utf8.',
      modules: ['fat', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_iso8859_1', 'nls_utf8'],
    },
    {
      id: 'i2c',
      label: 'I2C',
      description: 'The BCM2835 I2C controllers and /dev/i2c-* for user programs (enable the bus with dtparam=i2c_arm=on).',
      modules: ['i2c-bcm2835', 'i2c-dev'],
    },
    {
      id: 'spi',
      label: 'SPI',
      description: 'The SPI controllers (SPI0 and the auxiliary SPI1/SPI2) and /dev/spidev* (enable with dtparam=spi=on).',
      modules: ['spi-bcm2835', 'spi-bcm2835aux', 'spidev'],
    },
    {
      id: 'usb-serial',
      label: 'USB serial adapters',
      description: 'USB host controller plus drivers for FTDI, CP210x, CH340/341 and PL2303 adapters (/dev/ttyUSB*) and CDC-ACM devices such as microcontroller boards (/dev/ttyACM*).',
      modules: [...usbHost(soc), 'usbserial', 'ftdi_sio', 'cp210x', 'ch341', 'pl2303', 'cdc-acm'],
    },
    {
      id: 'usb-storage',
      label: 'USB storage',
      description: 'USB host controller plus USB mass storage (and UAS) with the SCSI disk driver, for /dev/sd*.',
      modules: [...usbHost(soc), 'usb-storage', 'uas', 'sd_mod'],
    },
  ];
  if (pi4) {
    groups.push({
      id: 'network',
      label: 'Ethernet',
      description: 'The on-board Gigabit Ethernet (GENET) with its MDIO bus and Broadcom PHY driver. Raw packet sockets are built in.',
      modules: ['mdio-bcm-unimac', 'broadcom', 'genet', 'af_packet'],
    });
  } else if (board.dtbs.some((d) => d.startsWith('bcm2837-rpi-3-'))) {
    groups.push({
      id: 'network',
      label: 'Ethernet',
      description: 'USB host controller plus the on-board USB Ethernet: LAN9514 (smsc95xx, Pi 3 Model B) and LAN7515 (lan78xx, Pi 3 Model B+), with their PHY drivers. Raw packet sockets are built in.',
      modules: [...usbHost(soc), 'smsc', 'smsc95xx', 'microchip', 'lan78xx', 'af_packet'],
    });
  }
  // Boards without on-board Ethernet (Zero 2 W) get no network group: Wi-Fi needs firmware and a
  // supplicant, which a kit does not carry yet.
  return groups;
}
