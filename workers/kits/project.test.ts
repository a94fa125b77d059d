import { describe, expect, it } from 'vitest';
import { type Kit, type KitFile, type KitSource } from './kit.ts';
import { newBoardProject, readBoardSettings, selectedGroups, setExt4Root, setModuleGroups, setStart } from './project.ts';
import { findEntry } from '../model/tree.ts';
import { validateTree } from '../model/validate.ts';
import { buildProject, earlyEntries } from '../pipeline.ts';
import { defaultBoardOutputs } from './project.ts';
import { boardById } from './boards.ts';

const KERNEL = '6.1.0-99-arm64';
const enc = new TextEncoder();

/** A tiny in-memory kit shaped like kits/assemble.ts makes them. */
function fakeKit(): { kit: Kit; source: KitSource } {
  const blobs = new Map<string, Blob>();
  const files: KitFile[] = [];
  let n = 0;
  const add = (part: KitFile['part'], path: string, kind: string, content: string) => {
    const sha256 = (++n).toString(16).padStart(64, '0');
    blobs.set(sha256, new Blob([enc.encode(content)]));
    files.push({ part, path, kind, size: enc.encode(content).length, sha256 });
  };
  for (const f of ['bootcode.bin', 'start.elf', 'fixup.dat']) add('boot', f, 'firmware', `fw ${f}`);
  add('boot', 'vmlinuz', 'kernel', 'kernel image');
  add('boot', 'bcm2837-rpi-3-b.dtb', 'dtb', 'dtb');
  add('doc', 'licences/raspi-firmware.txt', 'licence', 'licence text');
  add('root', 'bin/busybox', 'busybox', '\x7fELF busybox');
  const m = `lib/modules/${KERNEL}`;
  add('root', `${m}/kernel/drivers/spi/spidev.ko`, 'module', 'spidev');
  add('root', `${m}/kernel/drivers/spi/spi-bcm2835.ko`, 'module', 'spi-bcm2835');
  add('root', `${m}/kernel/drivers/mmc/host/sdhci-iproc.ko`, 'module', 'sdhci-iproc');
  add('root', `${m}/kernel/drivers/mmc/host/sdhci-pltfm.ko`, 'module', 'sdhci-pltfm');
  add('root', `${m}/kernel/fs/ext4/ext4.ko`, 'module', 'ext4');
  add('root', `${m}/kernel/fs/jbd2/jbd2.ko`, 'module', 'jbd2');
  add('root', `${m}/modules.dep`, 'modules-meta', [
    'kernel/drivers/spi/spidev.ko:',
    'kernel/drivers/spi/spi-bcm2835.ko:',
    'kernel/drivers/mmc/host/sdhci-iproc.ko: kernel/drivers/mmc/host/sdhci-pltfm.ko',
    'kernel/drivers/mmc/host/sdhci-pltfm.ko:',
    'kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko',
    'kernel/fs/jbd2/jbd2.ko:',
    '',
  ].join('\n'));
  const kit: Kit = {
    format: 'bootsmith-kit', version: 1, id: 'pi3b', name: 'Raspberry Pi 3', models: ['Raspberry Pi 3 Model B'], arch: 'arm64', kernel: KERNEL, files,
    moduleGroups: [{ id: 'spi', label: 'SPI', modules: ['spi-bcm2835', 'spidev'] }],
    sdModules: ['sdhci-iproc', 'ext4'],
  };
  const source: KitSource = {
    list: async () => [{ id: kit.id, name: kit.name, models: kit.models, arch: kit.arch, kernel: KERNEL, size: 0 }],
    kit: async () => kit,
    file: async (sha) => blobs.get(sha)!,
  };
  return { kit, source };
}

const text = async (entries: Parameters<typeof findEntry>[0], path: string) => findEntry(entries, path)?.data?.text();

describe('a project from a board kit', () => {
  it('has the boot folder, busybox, /init and the settings files, and is a valid tree', async () => {
    const { source } = fakeKit();
    const p = await newBoardProject({ kit: 'pi3b', name: 'Puzzle', start: '/usr/bin/puzzle --fast', after: 'restart', now: 1_700_000_000_000, source });
    expect(p.board).toEqual({ kit: 'pi3b', kernel: KERNEL });
    expect(p.boot.map((e) => e.path)).toEqual(expect.arrayContaining(['/bootcode.bin', '/start.elf', '/fixup.dat', '/vmlinuz', '/bcm2837-rpi-3-b.dtb', '/config.txt', '/cmdline.txt', '/licences/raspi-firmware.txt']));
    expect(await text(p.boot, '/config.txt')).toMatch(/initramfs initramfs\.cpio\.gz followkernel/);
    expect(await text(p.boot, '/cmdline.txt')).toMatch(/console=ttyS1,115200/);
    expect(findEntry(p.entries, '/bin/busybox')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(findEntry(p.entries, '/init')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(findEntry(p.entries, '/dev/console')).toMatchObject({ type: 'char', major: 5, minor: 1 });
    expect(await readBoardSettings(p)).toEqual({ start: '/usr/bin/puzzle --fast', after: 'restart', modules: [] });
    expect(validateTree(p.entries).filter((x) => x.severity === 'error')).toEqual([]);
    expect([p.zip.enabled, p.fat.enabled, p.fat.fatType, p.sdcard.enabled, p.ext4.enabled]).toEqual([true, true, 32, true, false]);
  });

  it('module groups bring their modules and dependencies, a filtered modules.dep and the load list', async () => {
    const { kit, source } = fakeKit();
    let p = await newBoardProject({ kit: 'pi3b', name: 'p', source });
    p = await setModuleGroups(p, ['spi'], { kit, source });
    const mods = p.entries.filter((e) => e.path.endsWith('.ko')).map((e) => e.path.split('/').pop());
    expect(mods.sort()).toEqual(['spi-bcm2835.ko', 'spidev.ko']);
    expect((await readBoardSettings(p)).modules).toEqual(['spi_bcm2835', 'spidev']);
    expect(selectedGroups(kit, (await readBoardSettings(p)).modules)).toEqual(['spi']);
    const dep = await text(p.entries, `/lib/modules/${KERNEL}/modules.dep`);
    expect(dep).toContain('kernel/drivers/spi/spidev.ko:');
    expect(dep).not.toContain('ext4');
    p = await setModuleGroups(p, [], { kit, source });
    expect(p.entries.filter((e) => e.path.endsWith('.ko'))).toEqual([]);
    await expect(setModuleGroups(p, ['wifi'], { kit, source })).rejects.toThrow(/Unknown module group wifi.*spi/);
  });

  it('an ext4 root sets root= in cmdline.txt and brings the SD card modules; turning it off undoes both', async () => {
    const { kit, source } = fakeKit();
    let p = await newBoardProject({ kit: 'pi3b', name: 'p', source });
    p = await setModuleGroups(p, ['spi'], { kit, source });
    p = await setExt4Root(p, true, { kit, source });
    expect(p.ext4.enabled).toBe(true);
    expect(await text(p.boot, '/cmdline.txt')).toMatch(/root=\/dev\/mmcblk0p2/);
    expect(await text(p.boot, '/cmdline.txt')).toMatch(/rootwait/);
    const loaded = (await readBoardSettings(p)).modules;
    expect(loaded).toEqual(expect.arrayContaining(['spidev', 'sdhci_iproc', 'ext4']));
    expect(p.entries.map((e) => e.path)).toEqual(expect.arrayContaining([`/lib/modules/${KERNEL}/kernel/fs/jbd2/jbd2.ko`]));
    // The initramfs part of an ext4-root project keeps /init, busybox, settings and modules only.
    const early = earlyEntries(setStart(p, '/usr/bin/x').entries).map((e) => e.path);
    expect(early).toEqual(expect.arrayContaining(['/init', '/bin/busybox', '/etc/bootsmith/start', `/lib/modules/${KERNEL}/modules.dep`]));
    p = await setExt4Root(p, false, { kit, source });
    expect(await text(p.boot, '/cmdline.txt')).not.toMatch(/root=|rootwait/);
    expect((await readBoardSettings(p)).modules).toEqual(['spi_bcm2835', 'spidev']);
  });
});

/** A pc kit shaped like kits/assemble.ts makes it: everything built in, the BIOS for the emulator. */
function fakePcKit(): { kit: Kit; source: KitSource } {
  const blobs = new Map<string, Blob>();
  const files: KitFile[] = [];
  let n = 0;
  const add = (part: KitFile['part'], path: string, kind: string, content: string, mode?: number) => {
    const sha256 = (++n).toString(16).padStart(64, '0');
    blobs.set(sha256, new Blob([enc.encode(content)]));
    files.push({ part, path, kind, size: enc.encode(content).length, sha256, ...(mode ? { mode } : {}) });
  };
  add('boot', 'vmlinuz', 'kernel', 'bzImage');
  add('doc', 'config-6.1.99-bootsmith', 'kernel-config', 'CONFIG_EXT4_FS=y\n');
  add('doc', 'licences/linux-source-6.1.txt', 'licence', 'GPL');
  add('emulator', 'bios.bin', 'bios', 'seabios');
  add('emulator', 'licences/seabios.txt', 'licence', 'LGPL');
  add('root', 'bin/busybox', 'busybox', '\x7fELF busybox', 0o755);
  const kit: Kit = {
    format: 'bootsmith-kit', version: 1, id: 'pc', name: 'PC (x86, test boot in v86)', models: ['v86'], arch: 'i386', kernel: '6.1.99-bootsmith', files,
    moduleGroups: [], sdModules: [],
  };
  const source: KitSource = {
    list: async () => [{ id: kit.id, name: kit.name, models: kit.models, arch: kit.arch, kernel: kit.kernel, size: 0 }],
    kit: async () => kit,
    file: async (sha) => blobs.get(sha)!,
  };
  return { kit, source };
}

describe('a project from the pc kit (x86)', () => {
  it('has vmlinuz and cmdline.txt but no config.txt and no BIOS, and builds the initramfs only', async () => {
    const { source } = fakePcKit();
    const p = await newBoardProject({ kit: 'pc', name: 'x86', start: '/bin/sh -c "echo hi"', now: 1_700_000_000_000, source });
    expect(p.board).toEqual({ kit: 'pc', kernel: '6.1.99-bootsmith' });
    expect(p.boot.filter((e) => e.type === 'file').map((e) => e.path).sort()).toEqual(['/cmdline.txt', '/config-6.1.99-bootsmith', '/licences/linux-source-6.1.txt', '/vmlinuz']);
    expect(await text(p.boot, '/cmdline.txt')).toBe('console=ttyS0 tsc=reliable rdinit=/init\n');
    expect(findEntry(p.entries, '/bin/busybox')).toMatchObject({ type: 'file', mode: 0o755 });
    expect([p.initramfs.enabled, p.zip.enabled, p.fat.enabled, p.sdcard.enabled, p.ext4.enabled]).toEqual([true, false, false, false, false]);
    expect(defaultBoardOutputs(boardById('pc')!)).toEqual(['initramfs']);
    expect(defaultBoardOutputs(boardById('pi3b')!)).toEqual(['zip', 'fat', 'sdcard', 'initramfs']);
    const outputs = await buildProject(p);
    expect(outputs.map((o) => o.name)).toEqual(['initramfs.cpio.gz']);
  });

  it('the initramfs is built even when the project turned it off: it is what the emulator boots', async () => {
    const { source } = fakePcKit();
    const p = await newBoardProject({ kit: 'pc', name: 'x86', source });
    const outputs = await buildProject({ ...p, initramfs: { ...p.initramfs, enabled: false } });
    expect(outputs.map((o) => o.name)).toEqual(['initramfs.cpio.gz']);
  });

  it('the ext4 root: root=/dev/sda2 rootwait, sdcard.img follows it, and no modules are needed', async () => {
    const { kit, source } = fakePcKit();
    let p = await newBoardProject({ kit: 'pc', name: 'x86', source });
    p = await setExt4Root(p, true, { kit, source });
    expect(await text(p.boot, '/cmdline.txt')).toBe('console=ttyS0 tsc=reliable rdinit=/init root=/dev/sda2 rootwait\n');
    expect([p.ext4.enabled, p.sdcard.enabled]).toEqual([true, true]);
    expect((await readBoardSettings(p)).modules).toEqual([]);
    expect(p.entries.some((e) => e.path.endsWith('.ko'))).toBe(false);
    p = await setExt4Root(p, false, { kit, source });
    expect(await text(p.boot, '/cmdline.txt')).toBe('console=ttyS0 tsc=reliable rdinit=/init\n');
    expect([p.ext4.enabled, p.sdcard.enabled]).toEqual([false, false]);
    await expect(setModuleGroups(p, ['sd'], { kit, source })).rejects.toThrow(/no module groups: everything .* built into its kernel/);
  });
});
