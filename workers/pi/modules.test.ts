import { describe, expect, it } from 'vitest';
import {
  filterModulesDep, missingDependencies, moduleNameOf, modulesLoadList, parseModulesBuiltin, parseModulesDep, resolveModules,
} from './modules.ts';

// Shaped like Debian's arm64 modules.dep: every module lists all its dependencies, users before
// what they use (bluetooth before ecdh_generic before ecc).
const DEP = `kernel/drivers/spi/spidev.ko:
kernel/drivers/spi/spi-bcm2835.ko:
kernel/drivers/mmc/host/sdhci-iproc.ko: kernel/drivers/mmc/host/sdhci-pltfm.ko kernel/drivers/mmc/host/sdhci.ko
kernel/drivers/mmc/host/sdhci-pltfm.ko: kernel/drivers/mmc/host/sdhci.ko
kernel/drivers/mmc/host/sdhci.ko:
kernel/drivers/mmc/host/bcm2835.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/net/bluetooth/rfcomm/rfcomm.ko: kernel/net/bluetooth/bluetooth.ko kernel/net/rfkill/rfkill.ko kernel/crypto/ecdh_generic.ko kernel/crypto/ecc.ko
kernel/net/bluetooth/bluetooth.ko: kernel/net/rfkill/rfkill.ko kernel/crypto/ecdh_generic.ko kernel/crypto/ecc.ko
kernel/crypto/ecdh_generic.ko: kernel/crypto/ecc.ko
kernel/crypto/ecc.ko:
kernel/net/rfkill/rfkill.ko:
kernel/drivers/usb/serial/ftdi_sio.ko.xz: kernel/drivers/usb/serial/usbserial.ko.xz
kernel/drivers/usb/serial/usbserial.ko.xz:
`;

describe('modules.dep', () => {
  it('parses every line, keeping the listed order', () => {
    const dep = parseModulesDep(DEP + '\n# comment\n  \n');
    expect(dep.size).toBe(17);
    expect(dep.get('kernel/fs/ext4/ext4.ko')).toEqual(['kernel/lib/crc16.ko', 'kernel/fs/mbcache.ko', 'kernel/fs/jbd2/jbd2.ko']);
    expect(dep.get('kernel/drivers/spi/spidev.ko')).toEqual([]);
    expect([...dep.keys()][0]).toBe('kernel/drivers/spi/spidev.ko');
  });

  it('names modules as modprobe does', () => {
    expect(moduleNameOf('kernel/drivers/mmc/host/sdhci-iproc.ko')).toBe('sdhci_iproc');
    expect(moduleNameOf('kernel/drivers/usb/serial/ftdi_sio.ko.xz')).toBe('ftdi_sio');
    expect(moduleNameOf('x/snd-soc-core.ko.zst')).toBe('snd_soc_core');
    expect(moduleNameOf('a.ko.gz')).toBe('a');
    expect(moduleNameOf('spi-bcm2835')).toBe('spi_bcm2835');
  });

  it('resolves names to paths, dependencies first, each once', () => {
    const dep = parseModulesDep(DEP);
    const r = resolveModules(['rfcomm', 'sdhci-iproc', 'ext4', 'sdhci_pltfm', 'ftdi-sio', 'kernel/drivers/spi/spidev.ko'], dep);
    expect(r.missing).toEqual([]);
    expect(r.paths).toEqual([
      'kernel/crypto/ecc.ko', 'kernel/crypto/ecdh_generic.ko', 'kernel/net/rfkill/rfkill.ko', 'kernel/net/bluetooth/bluetooth.ko', 'kernel/net/bluetooth/rfcomm/rfcomm.ko',
      'kernel/drivers/mmc/host/sdhci.ko', 'kernel/drivers/mmc/host/sdhci-pltfm.ko', 'kernel/drivers/mmc/host/sdhci-iproc.ko',
      // Independent dependencies load in reverse listed order, as modprobe loads them.
      'kernel/fs/jbd2/jbd2.ko', 'kernel/fs/mbcache.ko', 'kernel/lib/crc16.ko', 'kernel/fs/ext4/ext4.ko',
      'kernel/drivers/usb/serial/usbserial.ko.xz', 'kernel/drivers/usb/serial/ftdi_sio.ko.xz',
      'kernel/drivers/spi/spidev.ko',
    ]);
    // Every module comes after everything it depends on.
    for (const [i, p] of r.paths.entries()) for (const d of dep.get(p)!) expect(r.paths.indexOf(d)).toBeLessThan(i);
  });

  it('reports unknown names, and built-in ones apart', () => {
    const r = resolveModules(['nope', 'ext4', 'vfat'], parseModulesDep(DEP), parseModulesBuiltin('kernel/fs/fat/vfat.ko\nkernel/fs/fat/fat.ko\n'));
    expect(r.missing).toEqual(['nope']);
    expect(r.builtin).toEqual(['vfat']);
    expect(r.paths).toContain('kernel/fs/ext4/ext4.ko');
  });

  it('survives a dependency cycle and a dependency without a line', () => {
    const dep = parseModulesDep('a.ko: b.ko\nb.ko: a.ko c.ko\n');
    expect(resolveModules(['a'], dep).paths).toEqual(['c.ko', 'b.ko', 'a.ko']);
  });

  it('writes modules.dep for the shipped subset', () => {
    const dep = parseModulesDep(DEP);
    const keep = new Set(resolveModules(['ext4', 'sdhci-iproc'], dep).paths);
    const text = filterModulesDep(dep, keep);
    expect(text).toBe(`kernel/drivers/mmc/host/sdhci-iproc.ko: kernel/drivers/mmc/host/sdhci-pltfm.ko kernel/drivers/mmc/host/sdhci.ko
kernel/drivers/mmc/host/sdhci-pltfm.ko: kernel/drivers/mmc/host/sdhci.ko
kernel/drivers/mmc/host/sdhci.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
`);
    expect(resolveModules(['ext4'], parseModulesDep(text)).paths).toEqual(resolveModules(['ext4'], dep).paths);
    expect(missingDependencies(dep, keep)).toEqual([]);
    expect(missingDependencies(dep, new Set(['kernel/fs/ext4/ext4.ko']))).toEqual([
      { module: 'kernel/fs/ext4/ext4.ko', needs: 'kernel/lib/crc16.ko' },
      { module: 'kernel/fs/ext4/ext4.ko', needs: 'kernel/fs/mbcache.ko' },
      { module: 'kernel/fs/ext4/ext4.ko', needs: 'kernel/fs/jbd2/jbd2.ko' },
    ]);
  });

  it('lists the modules to load, one per line, each once', () => {
    expect(modulesLoadList(['spidev', 'sdhci-iproc', 'sdhci_iproc', ' ext4 ', ''])).toBe('spidev\nsdhci_iproc\next4\n');
    expect(modulesLoadList([])).toBe('');
  });
});
