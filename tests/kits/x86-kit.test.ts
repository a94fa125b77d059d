// The pc kit in public/kits (kits/build.sh; the kernel from kits/x86/kernel.sh), checked from the
// outside: every file's blob with its size and sha256, the kernel a bzImage whose boot-protocol
// header a loader (v86, QEMU) accepts and whose payload is LZ4, its configuration holding every line
// of kits/x86/kernel.config, busybox a static i386 ELF, and SeaBIOS a BIOS image with a reset
// vector. Skipped when the kits have not been assembled, except in CI.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers.ts';
import { boardById } from '../../workers/kits/boards.ts';

const KITS = process.env.BOOTSMITH_KITS || join(REPO, 'public', 'kits');
const present = existsSync(join(KITS, 'pc', 'kit.json'));
const skip = !present && !process.env.CI;
if (skip) console.warn(`tests/kits: pc kit skipped, no ${KITS}/pc/kit.json (run: bash kits/build.sh)`);

interface KitFile { part: string; path: string; kind: string; size: number; sha256: string; mode?: number; package?: string; version?: string; licence?: string }
interface Kit {
  format: string; version: number; id: string; name: string; models: string[]; arch: string; kernel: string;
  packages: { name: string; version: string; source: string }[];
  files: KitFile[]; moduleGroups: unknown[]; sdModules?: string[]; licences?: Record<string, string>;
}

const board = boardById('pc')!;
const kit = (): Kit => JSON.parse(readFileSync(join(KITS, 'pc', 'kit.json'), 'utf8'));
const blob = (sha: string) => readFileSync(join(KITS, 'blobs', sha));
const file = (part: string, path: string) => {
  const f = kit().files.find((x) => x.part === part && x.path === path);
  expect(f, `${part}/${path} in kit.json`).toBeTruthy();
  return f!;
};

/** "CONFIG_X=y" lines and "# CONFIG_X is not set" lines of a kernel .config or fragment. */
function configLines(text: string): { set: Map<string, string>; unset: Set<string> } {
  const set = new Map<string, string>();
  const unset = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) set.set(m[1], m[2]);
    const n = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (n) unset.add(n[1]);
  }
  return { set, unset };
}

describe.skipIf(skip)('the pc kit (x86) in public/kits', () => {
  it('kit.json names the board as boards.ts does, with no modules, and every file with its package and licence', () => {
    const k = kit();
    expect([k.format, k.version, k.id, k.name, k.arch]).toEqual(['bootsmith-kit', 1, 'pc', board.name, 'i386']);
    expect(k.models).toEqual(board.models);
    expect(k.kernel).toMatch(/^6\.1\.\d+-bootsmith$/);
    expect(k.moduleGroups).toEqual([]);
    expect(k.sdModules ?? []).toEqual([]);
    expect(k.packages.map((p) => p.name).sort()).toEqual(['busybox-static', 'linux-source-6.1', 'seabios']);
    expect(k.files.map((f) => `${f.part}/${f.path}`).sort()).toEqual([
      `doc/config-${k.kernel}`, 'doc/licences/busybox-static.txt', 'doc/licences/linux-source-6.1.txt',
      'emulator/bios.bin', 'emulator/licences/seabios.txt', 'root/bin/busybox', 'boot/vmlinuz',
    ].sort());
    for (const f of k.files) {
      expect(f.package && f.version && f.licence, `${f.path}: package, version, licence`).toBeTruthy();
      expect(k.packages.find((p) => p.name === f.package)?.version, `${f.path}: version of ${f.package}`).toBe(f.version);
    }
    expect(file('boot', 'vmlinuz')).toMatchObject({ kind: 'kernel', package: 'linux-source-6.1', licence: 'GPL-2' });
    expect(file('root', 'bin/busybox')).toMatchObject({ kind: 'busybox', package: 'busybox-static', licence: 'GPL-2', mode: 0o755 });
    expect(file('emulator', 'bios.bin')).toMatchObject({ kind: 'bios', package: 'seabios', licence: 'LGPL-3' });
    for (const p of k.packages) {
      const lic = k.files.find((f) => f.kind === 'licence' && f.path === `licences/${p.name}.txt`);
      expect(blob(lic!.sha256).toString('utf8'), `licences/${p.name}.txt`).toMatch(/[Cc]opyright/);
      expect(k.licences?.[p.name], `licences["${p.name}"]`).toBeTruthy();
    }
  });

  it('every file\'s blob has the size and sha256 kit.json gives, and index.json sums them', () => {
    const k = kit();
    for (const f of k.files) {
      const p = join(KITS, 'blobs', f.sha256);
      expect(statSync(p).size, `${f.path} size`).toBe(f.size);
      expect(createHash('sha256').update(readFileSync(p)).digest('hex'), `${f.path} sha256`).toBe(f.sha256);
    }
    const summary = (JSON.parse(readFileSync(join(KITS, 'index.json'), 'utf8')) as { kits: { id: string; size: number; kernel: string; arch: string }[] }).kits.find((s) => s.id === 'pc');
    expect(summary).toMatchObject({ kernel: k.kernel, arch: 'i386' });
    expect(summary!.size).toBe([...new Map(k.files.map((f) => [f.sha256, f.size])).values()].reduce((a, b) => a + b, 0));
  });

  it('vmlinuz is a bzImage with a boot protocol v86 and QEMU load (2.10 or later, loaded high), an LZ4 payload and our version string', () => {
    const k = kit();
    const img = blob(file('boot', 'vmlinuz').sha256);
    expect(img.readUInt16LE(0x1fe), 'boot_flag').toBe(0xaa55);
    expect(img.toString('latin1', 0x202, 0x206), 'setup header magic').toBe('HdrS');
    const protocol = img.readUInt16LE(0x206);
    expect(protocol, `boot protocol ${protocol.toString(16)}`).toBeGreaterThanOrEqual(0x020a);
    expect(img[0x211] & 1, 'loadflags LOADED_HIGH (a bzImage)').toBe(1);
    const setupSects = img[0x1f1] || 4;
    const pmStart = (setupSects + 1) * 512;
    expect(pmStart + img.readUInt32LE(0x1f4) * 16, 'setup + syssize covers the file').toBeGreaterThanOrEqual(img.length - 16);
    expect(img.readUInt32LE(0x1f4) * 16).toBeLessThanOrEqual(img.length);
    // The compressed kernel: LZ4's legacy frame (what `lz4 -l` writes), magic 0x184c2102.
    const payload = pmStart + img.readUInt32LE(0x248);
    expect(img.readUInt32LE(payload), 'LZ4 legacy magic at payload_offset').toBe(0x184c2102);
    expect(img.readUInt32LE(0x24c), 'payload_length').toBeGreaterThan(500_000);
    // kernel_version points at "<release> (user@host) #1 ..." (fixed user and host: reproducible).
    const at = 0x200 + img.readUInt16LE(0x20e);
    const version = img.toString('latin1', at, img.indexOf(0, at));
    expect(version.startsWith(`${k.kernel} (bootsmith@bootsmith) #1 `), version).toBe(true);
    // Small enough to fetch quickly in the page.
    expect(img.length).toBeLessThan(4_000_000);
  });

  it('the shipped configuration holds every line of kits/x86/kernel.config, everything built in', () => {
    const shipped = configLines(blob(file('doc', `config-${kit().kernel}`).sha256).toString('utf8'));
    const fragment = configLines(readFileSync(join(REPO, 'kits', 'x86', 'kernel.config'), 'utf8'));
    for (const [k, v] of fragment.set) expect(shipped.set.get(k), k).toBe(v);
    for (const k of fragment.unset) expect(shipped.set.has(k), `${k} is not set`).toBe(false);
    expect(shipped.set.has('CONFIG_MODULES'), 'no module support').toBe(false);
    for (const k of ['CONFIG_ATA_PIIX', 'CONFIG_BLK_DEV_SD', 'CONFIG_EXT4_FS', 'CONFIG_VFAT_FS', 'CONFIG_SERIAL_8250_CONSOLE', 'CONFIG_DEVTMPFS_MOUNT', 'CONFIG_RD_GZIP', 'CONFIG_KERNEL_LZ4', 'CONFIG_UNIX']) {
      expect(shipped.set.get(k), k).toBe('y');
    }
    expect([...shipped.set.values()].includes('m'), 'no option built as a module').toBe(false);
  });

  it('busybox is a static i386 ELF', () => {
    const elf = blob(file('root', 'bin/busybox').sha256);
    expect(elf.readUInt32BE(0)).toBe(0x7f454c46);
    expect(elf[4], 'ELFCLASS32').toBe(1);
    expect(elf.readUInt16LE(18), 'e_machine EM_386').toBe(3);
    const phoff = elf.readUInt32LE(28);
    const phentsize = elf.readUInt16LE(42);
    const types = Array.from({ length: elf.readUInt16LE(44) }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    expect(types, 'no PT_INTERP: static').not.toContain(3);
    expect(types, 'has PT_LOAD').toContain(1);
  });

  it('bios.bin is a BIOS image: a power-of-two size with the reset vector (a far jump) 16 bytes from its end', () => {
    const bios = blob(file('emulator', 'bios.bin').sha256);
    expect([65536, 131072, 262144]).toContain(bios.length);
    expect(bios[bios.length - 16], 'jmp far at F000:FFF0').toBe(0xea);
  });
});
