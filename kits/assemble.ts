// Assembles the board kits from unpacked Debian binary packages (kits/build.sh fetches them and
// unpacks each with `dpkg-deb -R`, so DEBIAN/control travels with the tree) and, for the pc kit, the
// kernel kits/x86/kernel.sh built from Debian's linux-source:
//
//   node --import tsx kits/assemble.ts --kernel DIR --firmware DIR --busybox DIR \
//     --pc-kernel DIR --seabios DIR --busybox-i386 DIR --out public/kits
//
// Writes <out>/index.json, <out>/<board>/kit.json for every board in workers/kits/boards.ts, and
// each file once under <out>/blobs/<sha256>. The output is built beside <out> and swapped in.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BOARDS, type Board } from '../workers/kits/boards.ts';
import { groupsFor } from './groups.ts';
import { type ModuleIndex, indexModules, loadOrder, modName, modulesAlias, modulesDep, readModule, resolveName } from './modules.ts';

interface Pkg {
  name: string;
  version: string;
  source: string;
  dir: string;
  copyright: string;
}

interface KitFile {
  part: 'boot' | 'root' | 'doc' | 'emulator';
  path: string;
  kind: string;
  size: number;
  sha256: string;
  mode?: number;
  package: string;
  version: string;
  licence: string;
  module?: string;
}

function args(): Record<string, string> {
  const out: Record<string, string> = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    if (!a[i].startsWith('--') || a[i + 1] === undefined) {
      throw new Error(`usage: assemble.ts --kernel DIR --firmware DIR --busybox DIR --pc-kernel DIR --seabios DIR --busybox-i386 DIR --out DIR (at "${a[i]}")`);
    }
    out[a[i].slice(2)] = a[i + 1];
  }
  for (const k of ['kernel', 'firmware', 'busybox', 'pc-kernel', 'seabios', 'busybox-i386', 'out']) if (!out[k]) throw new Error(`missing --${k}`);
  return out;
}

/** A package unpacked with `dpkg-deb -R`; or, with `flat`, a folder holding `control` and
 *  `copyright` beside what was made from the package (kits/x86/kernel.sh's output). */
function readPkg(dir: string, flat = false): Pkg {
  const controlFile = flat ? join(dir, 'control') : join(dir, 'DEBIAN', 'control');
  const control = readFileSync(controlFile, 'utf8');
  const field = (f: string) => control.match(new RegExp(`^${f}: *(.*)$`, 'm'))?.[1].trim();
  const name = field('Package');
  const version = field('Version');
  if (!name || !version) throw new Error(`${controlFile} has no Package or Version`);
  const copyrightFile = flat ? join(dir, 'copyright') : join(dir, 'usr', 'share', 'doc', name, 'copyright');
  return {
    name,
    version,
    source: (field('Source') ?? name).split(' ')[0],
    dir,
    copyright: existsSync(copyrightFile) ? readFileSync(copyrightFile, 'utf8') : '',
  };
}

/** The licence short name that covers `filesGlob` (a Files: value such as "*" or "boot/*") in a
 *  Debian copyright file. Machine-readable (DEP-5) files are read stanza by stanza; for the older
 *  free-form ones, the common-licenses file they point to names the licence. A Proprietary_N name
 *  is given with the copyright holder so it means something on its own. */
export function licenceOf(copyright: string, filesGlob: string): string {
  if (/^Format:/m.test(copyright)) {
    for (const stanza of copyright.split(/\n\s*\n/)) {
      const files = stanza.match(/^Files:((?:.*)(?:\n[ \t].*)*)/m)?.[1].split(/\s+/).filter(Boolean) ?? [];
      if (!files.includes(filesGlob)) continue;
      const licence = stanza.match(/^License: *(.*)$/m)?.[1].trim();
      if (!licence) continue;
      if (/^Proprietary/i.test(licence)) {
        const holder = stanza.match(/^Copyright: *(?:[0-9, -]+)?(.*)$/m)?.[1].trim();
        return holder ? `${holder} binary licence (${licence} in Debian's copyright file)` : licence;
      }
      return licence;
    }
  }
  const common = copyright.match(/common-licenses\/([A-Za-z0-9+-]+(?:\.[0-9]+)?)/);
  if (common) return common[1];
  throw new Error(`cannot tell the licence for ${filesGlob} from the copyright file`);
}

function main() {
  const a = args();
  const out = resolve(a.out);
  const kernel = readPkg(a.kernel);
  const firmware = readPkg(a.firmware);
  const busybox = readPkg(a.busybox);

  const vmlinuzName = readdirSync(join(kernel.dir, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuzName) throw new Error(`${kernel.name} has no /boot/vmlinuz-*`);
  const kver = vmlinuzName.slice('vmlinuz-'.length);
  const dtbDir = join(kernel.dir, 'usr', 'lib', `linux-image-${kver}`, 'broadcom');
  const fwDir = join(firmware.dir, 'usr', 'lib', 'raspi-firmware');
  const index = indexModules(kernel.dir, kver);

  const licence = {
    kernel: licenceOf(kernel.copyright, '*'),
    firmware: licenceOf(firmware.copyright, 'boot/*'),
    busybox: licenceOf(busybox.copyright, '*'),
  };

  // Staging folder beside the output, swapped in at the end (removed if anything fails).
  const stage = join(dirname(out), `.${basename(out)}.new-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  process.on('exit', () => rmSync(stage, { recursive: true, force: true }));
  mkdirSync(join(stage, 'blobs'), { recursive: true });
  const blobSizes = new Map<string, number>();
  const store = (data: Buffer): { sha256: string; size: number } => {
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (!blobSizes.has(sha256)) {
      writeFileSync(join(stage, 'blobs', sha256), data);
      blobSizes.set(sha256, data.length);
    }
    return { sha256, size: data.length };
  };
  // Files read once, however many kits use them.
  const cache = new Map<string, Buffer>();
  const read = (file: string, how: (f: string) => Buffer = readFileSync) => {
    let b = cache.get(file);
    if (!b) cache.set(file, (b = how(file)));
    return b;
  };

  const summaries: unknown[] = [];
  const from = (p: Pkg, lic: string) => ({ package: p.name, version: p.version, licence: lic });
  /** Each package's copyright file as Debian ships it, as a kit file; returns kit.json's lines. */
  const addLicences = (add: (f: Omit<KitFile, 'size' | 'sha256'>, data: Buffer) => void, list: readonly (readonly [Pkg, string, string, KitFile['part']])[]) => {
    const licences: Record<string, string> = {};
    for (const [p, lic, what, part] of list) {
      const path = `licences/${p.name}.txt`;
      add({ part, path, kind: 'licence', ...from(p, lic) }, Buffer.from(p.copyright));
      licences[p.name] = `${lic}: ${what}. Full text: ${path} (Debian's /usr/share/doc/${p.name}/copyright).`;
    }
    return licences;
  };
  /** Writes <board>/kit.json and adds the kit to index.json. */
  const writeKit = (board: Board, release: string, packages: Pkg[], files: KitFile[], groups: { moduleGroups: unknown[]; sdModules: string[] }, licences: Record<string, string>) => {
    const kit = {
      format: 'bootsmith-kit',
      version: 1,
      id: board.id,
      name: board.name,
      models: board.models,
      arch: board.arch,
      kernel: release,
      packages: packages.map((p) => ({ name: p.name, version: p.version, source: p.source })),
      files,
      ...groups,
      licences,
    };
    mkdirSync(join(stage, board.id), { recursive: true });
    writeFileSync(join(stage, board.id, 'kit.json'), JSON.stringify(kit, null, 2) + '\n');
    const size = [...new Set(files.map((f) => f.sha256))].reduce((n, sha) => n + blobSizes.get(sha)!, 0);
    summaries.push({ id: board.id, name: board.name, models: board.models, arch: board.arch, kernel: release, size });
  };
  for (const board of BOARDS.filter((b: Board) => b.family === 'pi')) {
    const files: KitFile[] = [];
    const add = (f: Omit<KitFile, 'size' | 'sha256'>, data: Buffer) => files.push({ ...f, ...store(data) } as KitFile);

    // The boot folder: firmware, kernel, device trees.
    for (const fw of board.firmware) {
      const f = join(fwDir, fw);
      if (!existsSync(f)) throw new Error(`${board.id}: ${firmware.name} ${firmware.version} has no ${fw}`);
      add({ part: 'boot', path: fw, kind: 'firmware', ...from(firmware, licence.firmware) }, read(f));
    }
    add({ part: 'boot', path: 'vmlinuz', kind: 'kernel', ...from(kernel, licence.kernel) }, read(join(kernel.dir, 'boot', vmlinuzName)));
    // The board's device trees, and the one QEMU boots it with when that is another board's
    // (boards.ts gives the Zero 2 W the Pi 3 tree for QEMU's raspi3b).
    const dtbs = [...board.dtbs, ...(board.qemu && !board.dtbs.includes(board.qemu.dtb) ? [board.qemu.dtb] : [])];
    for (const dtb of dtbs) {
      const f = join(dtbDir, dtb);
      if (!existsSync(f)) throw new Error(`${board.id}: ${kernel.name} has no broadcom/${dtb}`);
      add({ part: 'boot', path: dtb, kind: 'dtb', ...from(kernel, licence.kernel) }, read(f));
    }

    // The root file system: busybox and the modules of every group.
    add({ part: 'root', path: 'bin/busybox', kind: 'busybox', mode: 0o755, ...from(busybox, licence.busybox) }, read(join(busybox.dir, 'bin', 'busybox')));

    const groups = groupsFor(board).map((g) => resolveGroup(index, g));
    const all = new Set(groups.flatMap((g) => g.closure));
    const base = `lib/modules/${kver}`;
    for (const name of [...all].sort()) {
      const m = index.modules.get(name)!;
      add({ part: 'root', path: `${base}/${m.path}`, kind: 'module', mode: 0o644, module: name, ...from(kernel, licence.kernel) }, read(join(index.dir, m.srcPath), readModule));
    }
    const meta = (name: string, content: string) =>
      add({ part: 'root', path: `${base}/${name}`, kind: 'modules-meta', mode: 0o644, ...from(kernel, licence.kernel) }, Buffer.from(content));
    meta('modules.dep', modulesDep(index, all));
    meta('modules.alias', modulesAlias(index, all));
    meta('modules.builtin', index.builtinText);

    const licences = addLicences(add, [
      [firmware, licence.firmware, `the boot firmware (${board.firmware.join(', ')})`, 'doc'],
      [kernel, licence.kernel, 'the kernel, its device trees and modules', 'doc'],
      [busybox, licence.busybox, 'busybox', 'doc'],
    ]);
    const sd = groups.find((g) => g.id === 'sd');
    writeKit(board, kver, [kernel, firmware, busybox], files, {
      moduleGroups: groups.map(({ id, label, description, modules, builtin, closure }) => ({ id, label, description, modules, builtin, closure })),
      sdModules: sd ? sd.closure : [],
    }, licences);
  }

  // The pc kit (family x86): the kernel kits/x86/kernel.sh built from Debian's linux-source with
  // everything built in (no modules, no groups), SeaBIOS for v86 (part "emulator": the emulator
  // needs it, a project never holds it) and busybox for i386.
  const pcKernel = readPkg(a['pc-kernel'], true);
  const seabios = readPkg(a.seabios);
  const busybox32 = readPkg(a['busybox-i386']);
  const pcRelease = readFileSync(join(pcKernel.dir, 'release'), 'utf8').trim();
  const pcLicence = {
    kernel: licenceOf(pcKernel.copyright, '*'),
    seabios: licenceOf(seabios.copyright, '*'),
    busybox: licenceOf(busybox32.copyright, '*'),
  };
  for (const board of BOARDS.filter((b: Board) => b.family === 'x86')) {
    const files: KitFile[] = [];
    const add = (f: Omit<KitFile, 'size' | 'sha256'>, data: Buffer) => files.push({ ...f, ...store(data) } as KitFile);
    const bzImage = read(join(pcKernel.dir, 'bzImage'));
    // A bzImage starts its setup header with "HdrS" at 0x202; anything else is a broken build.
    if (bzImage.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error(`${board.id}: ${pcKernel.dir}/bzImage is not a bzImage`);
    add({ part: 'boot', path: 'vmlinuz', kind: 'kernel', ...from(pcKernel, pcLicence.kernel) }, bzImage);
    add({ part: 'doc', path: `config-${pcRelease}`, kind: 'kernel-config', ...from(pcKernel, pcLicence.kernel) }, read(join(pcKernel.dir, 'config')));
    const bios = join(seabios.dir, 'usr', 'share', 'seabios', 'bios.bin');
    if (!existsSync(bios)) throw new Error(`${board.id}: ${seabios.name} ${seabios.version} has no /usr/share/seabios/bios.bin`);
    add({ part: 'emulator', path: 'bios.bin', kind: 'bios', ...from(seabios, pcLicence.seabios) }, read(bios));
    add({ part: 'root', path: 'bin/busybox', kind: 'busybox', mode: 0o755, ...from(busybox32, pcLicence.busybox) }, read(join(busybox32.dir, 'bin', 'busybox')));

    const licences = addLicences(add, [
      [pcKernel, pcLicence.kernel, `the kernel, built from this package's source with \`make tinyconfig\` and Bootsmith's kits/x86/kernel.config (the full configuration: config-${pcRelease})`, 'doc'],
      [busybox32, pcLicence.busybox, 'busybox', 'doc'],
      [seabios, pcLicence.seabios, 'the BIOS the emulator starts (bios.bin)', 'emulator'],
    ]);
    writeKit(board, pcRelease, [pcKernel, seabios, busybox32], files, { moduleGroups: [], sdModules: [] }, licences);
  }
  writeFileSync(join(stage, 'index.json'), JSON.stringify({ kits: summaries }, null, 2) + '\n');

  const old = join(dirname(out), `.${basename(out)}.old-${process.pid}`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(stage, out);
  rmSync(old, { recursive: true, force: true });
  const total = [...blobSizes.values()].reduce((n, s) => n + s, 0);
  process.stderr.write(`[kits] ${summaries.length} kits, kernels ${kver} and ${pcRelease}, ${blobSizes.size} blobs, ${(total / 1e6).toFixed(1)} MB in ${out}\n`);
}

/** A group as kit.json lists it: `modules` are what to modprobe, in order (the requested modular
 *  ones plus modules only reached through softdeps, e.g. crc32c for ext4, which modules.dep
 *  cannot express); `builtin` the requested names built into this kernel; `closure` every module
 *  file the group needs, in load order. */
function resolveGroup(index: ModuleIndex, g: ReturnType<typeof groupsFor>[number]) {
  const builtin: string[] = [];
  const modular: string[] = [];
  for (const n of g.modules) {
    const name = modName(n);
    if (index.modules.has(name)) modular.push(name);
    else if (index.builtin.has(name)) builtin.push(name);
    else {
      const viaAlias = resolveName(index, n);
      throw new Error(`module group ${g.id}: ${n} is not a module of this kernel${viaAlias.length ? ` (an alias of ${viaAlias.join(', ')})` : ''}`);
    }
  }
  const closure = loadOrder(index, modular, true);
  const hard = new Set(loadOrder(index, modular, false));
  const want = new Set(modular);
  const modules = closure.filter((n) => want.has(n) || !hard.has(n));
  const description = builtin.length ? `${g.description} Built into this kernel (nothing to load): ${builtin.join(', ')}.` : g.description;
  return { id: g.id, label: g.label, description, modules, builtin, closure };
}

try {
  main();
} catch (err) {
  process.stderr.write(`[kits] ${(err as Error).message}\n`);
  process.exit(1);
}
