// The board kits in public/kits (made by kits/build.sh), checked from the outside: every blob is
// there with the size and sha256 kit.json gives, each Pi board has the firmware and device trees
// boards.ts asks for, the kernel and busybox are arm64, and the shipped modules.dep is complete and
// agrees with the `depends=` each module records about itself (read here with a plain byte search,
// not with the recipe's ELF reader). The pc kit has its own checks in x86-kit.test.ts. Skipped
// when the kits have not been assembled, except in CI.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers.ts';
import { BOARDS } from '../../workers/kits/boards.ts';

const KITS = process.env.BOOTSMITH_KITS || join(REPO, 'public', 'kits');
const present = existsSync(join(KITS, 'index.json'));
const skip = !present && !process.env.CI;
if (skip) console.warn(`tests/kits: skipped, no kits in ${KITS} (run: bash kits/build.sh)`);

interface KitFile {
  part: string; path: string; kind: string; size: number; sha256: string;
  mode?: number; package?: string; version?: string; licence?: string; module?: string;
}
interface Group { id: string; label: string; description?: string; modules: string[]; builtin?: string[]; closure?: string[] }
interface Kit {
  format: string; version: number; id: string; name: string; models: string[]; arch: string; kernel: string;
  packages?: { name: string; version: string }[];
  files: KitFile[]; moduleGroups: Group[]; sdModules?: string[]; licences?: Record<string, string>;
}

const PI = BOARDS.filter((b) => b.family === 'pi');
const blob = (sha: string) => readFileSync(join(KITS, 'blobs', sha));
const loadKit = (id: string): Kit => JSON.parse(readFileSync(join(KITS, id, 'kit.json'), 'utf8'));
const modName = (p: string) => p.replace(/^.*\//, '').replace(/\.ko$/, '').replace(/-/g, '_');

/** NUL-separated key=value strings found anywhere in a module (the .modinfo section holds them). */
function modinfoField(ko: Buffer, key: string): string[] {
  const out: string[] = [];
  const needle = Buffer.from(`\0${key}=`);
  for (let i = ko.indexOf(needle); i >= 0; i = ko.indexOf(needle, i + 1)) {
    const start = i + needle.length;
    out.push(ko.toString('utf8', start, ko.indexOf(0, start)));
  }
  return out;
}

function parseDep(text: string): Map<string, string[]> {
  const dep = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [mod, rest = ''] = line.split(':');
    dep.set(mod.trim(), rest.trim().split(/\s+/).filter(Boolean));
  }
  return dep;
}

describe.skipIf(skip)('board kits in public/kits', () => {
  it('index.json lists every board of boards.ts with its kernel and size', () => {
    expect(present, `${KITS}/index.json (run: bash kits/build.sh)`).toBe(true);
    const index = JSON.parse(readFileSync(join(KITS, 'index.json'), 'utf8')) as { kits: { id: string; kernel: string; size: number; arch: string }[] };
    expect(index.kits.map((k) => k.id).sort()).toEqual(BOARDS.map((b) => b.id).sort());
    for (const s of index.kits) {
      const kit = loadKit(s.id);
      expect(s.kernel).toBe(kit.kernel);
      expect(s.arch).toBe(kit.arch);
      const unique = new Map(kit.files.map((f) => [f.sha256, f.size]));
      expect(s.size, `${s.id}: size is the sum of its distinct files`).toBe([...unique.values()].reduce((a, b) => a + b, 0));
    }
  });

  it('every blob exists with the size and sha256 kit.json gives, and no blob is unused', () => {
    const used = new Set<string>();
    const checked = new Set<string>();
    for (const b of BOARDS) {
      for (const f of loadKit(b.id).files) {
        used.add(f.sha256);
        if (checked.has(f.sha256)) continue;
        const p = join(KITS, 'blobs', f.sha256);
        expect(existsSync(p), `${b.id}: ${f.part}/${f.path} blob ${f.sha256}`).toBe(true);
        expect(statSync(p).size, `${b.id}: ${f.path} size`).toBe(f.size);
        expect(createHash('sha256').update(readFileSync(p)).digest('hex'), `${b.id}: ${f.path} sha256`).toBe(f.sha256);
        checked.add(f.sha256);
      }
    }
    const extra = readdirSync(join(KITS, 'blobs')).filter((n) => !used.has(n));
    expect(extra, 'blobs no kit lists').toEqual([]);
  });

  for (const board of PI) {
    describe(board.id, () => {
      const kit = () => loadKit(board.id);
      const boot = () => new Map(kit().files.filter((f) => f.part === 'boot').map((f) => [f.path, f]));
      const root = () => new Map(kit().files.filter((f) => f.part === 'root').map((f) => [f.path, f]));

      it('kit.json names the board as boards.ts does, and records every file\'s source package', () => {
        const k = kit();
        expect(k.format).toBe('bootsmith-kit');
        expect(k.version).toBe(1);
        expect([k.id, k.name, k.arch]).toEqual([board.id, board.name, board.arch]);
        expect(k.models).toEqual(board.models);
        expect(k.kernel).toMatch(/^\d+\.\d+\.\d+-\d+-arm64$/);
        const seen = new Set<string>();
        for (const f of k.files) {
          expect(['boot', 'root', 'doc']).toContain(f.part);
          expect(f.path, 'relative, no ..').toMatch(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/);
          expect(seen.has(`${f.part}:${f.path}`), `${f.part}/${f.path} listed once`).toBe(false);
          seen.add(`${f.part}:${f.path}`);
          expect(f.package && f.version && f.licence, `${f.path}: package, version, licence`).toBeTruthy();
        }
        for (const kind of ['firmware', 'kernel', 'dtb', 'busybox', 'module', 'modules-meta', 'licence']) {
          expect(k.files.some((f) => f.kind === kind), `a file of kind ${kind}`).toBe(true);
        }
        expect(k.files.some((f) => f.part === 'boot' && /^(config|cmdline)\.txt$|initr/.test(f.path)), 'no config.txt, cmdline.txt or initramfs').toBe(false);
      });

      it('the boot folder has the firmware and device trees boards.ts asks for, and an arm64 kernel', () => {
        const files = boot();
        for (const fw of board.firmware) expect(files.get(fw)?.kind, fw).toBe('firmware');
        for (const dtb of board.dtbs) {
          expect(files.get(dtb)?.kind, dtb).toBe('dtb');
          expect(blob(files.get(dtb)!.sha256).readUInt32BE(0), `${dtb} is a flattened device tree`).toBe(0xd00dfeed);
        }
        if (board.qemu) expect(files.has(board.qemu.dtb), `QEMU's ${board.qemu.dtb}`).toBe(true);
        const kernel = files.get('vmlinuz');
        expect(kernel?.kind).toBe('kernel');
        // arm64 Image header: "ARM\x64" at 0x38; Debian's arm64 vmlinuz is this uncompressed Image.
        expect(blob(kernel!.sha256).subarray(0x38, 0x3c).toString('latin1')).toBe('ARM\x64');
      });

      it('busybox is a static aarch64 ELF, mode 0755', () => {
        const bb = root().get('bin/busybox');
        expect(bb?.kind).toBe('busybox');
        expect(bb?.mode).toBe(0o755);
        const elf = blob(bb!.sha256);
        expect(elf.readUInt32BE(0)).toBe(0x7f454c46);
        expect(elf.readUInt16LE(18), 'e_machine EM_AARCH64').toBe(183);
      });

      it('modules.dep covers exactly the kit\'s modules, with every dependency present and in load order', () => {
        const k = kit();
        const base = `lib/modules/${k.kernel}/`;
        const files = root();
        const depFile = files.get(`${base}modules.dep`);
        expect(depFile?.kind).toBe('modules-meta');
        const dep = parseDep(blob(depFile!.sha256).toString('utf8'));
        const modules = k.files.filter((f) => f.kind === 'module');
        expect(modules.length).toBeGreaterThan(0);
        expect([...dep.keys()].sort()).toEqual(modules.map((f) => f.path.slice(base.length)).sort());
        for (const f of modules) {
          expect(f.path.startsWith(base) && f.path.endsWith('.ko'), `${f.path}: uncompressed, under ${base}`).toBe(true);
          const ko = blob(f.sha256);
          expect(modinfoField(ko, 'vermagic')[0]?.split(' ')[0], `${f.path} was built for ${k.kernel}`).toBe(k.kernel);
          const rel = f.path.slice(base.length);
          const deps = dep.get(rel)!;
          for (const d of deps) expect(dep.has(d), `${rel} needs ${d}`).toBe(true);
          // Transitive closure of depends=, as the module itself records it.
          const byName = new Map([...dep.keys()].map((p) => [modName(p), p]));
          const closure = new Set<string>();
          const walk = (p: string) => {
            const m = modules.find((x) => x.path === base + p)!;
            for (const n of (modinfoField(blob(m.sha256), 'depends')[0] ?? '').split(',').filter(Boolean)) {
              const dp = byName.get(n.replace(/-/g, '_'));
              expect(dp, `${p} depends on ${n}, which the kit lacks`).toBeTruthy();
              if (!closure.has(dp!)) { closure.add(dp!); walk(dp!); }
            }
          };
          walk(rel);
          expect([...deps].sort(), `${rel}: modules.dep lists its full dependency closure`).toEqual([...closure].sort());
          // Loaded last-to-first: each entry's own dependencies come after it.
          deps.forEach((d, i) => {
            for (const dd of dep.get(d)!) expect(deps.indexOf(dd), `${rel}: ${dd} after ${d}`).toBeGreaterThan(i);
          });
        }
      });

      it('module groups and sdModules name modules the kit carries', () => {
        const k = kit();
        const names = new Set(k.files.filter((f) => f.kind === 'module').map((f) => f.module ?? modName(f.path)));
        expect(k.moduleGroups.map((g) => g.id)).toEqual(expect.arrayContaining(['sd', 'vfat', 'i2c', 'spi', 'usb-serial', 'usb-storage']));
        for (const g of k.moduleGroups) {
          expect(g.label && g.description, `${g.id}: label and description`).toBeTruthy();
          for (const m of [...g.modules, ...(g.closure ?? [])]) expect(names.has(m.replace(/-/g, '_')), `${g.id}: ${m}`).toBe(true);
        }
        expect(k.sdModules?.length).toBeGreaterThan(0);
        for (const m of k.sdModules!) expect(names.has(m), `sdModules: ${m}`).toBe(true);
        expect(k.sdModules).toContain('ext4');
      });

      it('each package\'s copyright file travels as a licence', () => {
        const k = kit();
        const pkgs = new Set(k.files.filter((f) => f.kind !== 'licence').map((f) => f.package!));
        for (const p of pkgs) {
          const lic = k.files.find((f) => f.part === 'doc' && f.path === `licences/${p}.txt`);
          expect(lic?.kind, `licences/${p}.txt`).toBe('licence');
          expect(blob(lic!.sha256).toString('utf8')).toMatch(/[Cc]opyright/);
          expect(k.licences?.[p], `licences["${p}"]`).toBeTruthy();
        }
      });
    });
  }
});
