// Kernel modules of an unpacked Debian kernel package, read without kmod: each module's ELF
// `.modinfo` section gives its name, `depends=` (what modpost resolved from the symbols it uses,
// the same edges depmod finds), `softdep=` and `alias=` lines. From these the kit recipe computes
// dependency closures and writes a filtered modules.dep / modules.alias that busybox modprobe reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface KernelModule {
  /** Module name as the kernel knows it: file name without .ko, '-' written '_'. */
  name: string;
  /** Path relative to lib/modules/<ver>/, as stored in the package (maybe .ko.xz). */
  srcPath: string;
  /** Path relative to lib/modules/<ver>/ in the kit: always an uncompressed .ko. */
  path: string;
  compression: 'none' | 'xz' | 'zstd' | 'gzip';
  depends: string[];
  /** softdep targets as written (module names or aliases such as crypto-crc32c). */
  softdepPre: string[];
  softdepPost: string[];
  aliases: string[];
  licence?: string;
  description?: string;
}

export interface ModuleIndex {
  version: string;
  dir: string;
  modules: Map<string, KernelModule>;
  /** Names of modules built into the kernel (modules.builtin). */
  builtin: Set<string>;
  builtinText: string;
}

export const modName = (s: string): string =>
  s.replace(/^.*\//, '').replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');

function compressionOf(file: string): KernelModule['compression'] {
  if (file.endsWith('.ko.xz')) return 'xz';
  if (file.endsWith('.ko.zst')) return 'zstd';
  if (file.endsWith('.ko.gz')) return 'gzip';
  return 'none';
}

/** The module's bytes, uncompressed (the kernel of Debian 12 ships plain .ko; later Debian kernels
 *  ship .ko.xz, which busybox insmod only loads when it was built with xz support). */
export function readModule(file: string): Buffer {
  const c = compressionOf(file);
  if (c === 'none') return readFileSync(file);
  if (c === 'gzip') return gunzipSync(readFileSync(file));
  const tool = c === 'xz' ? 'xz' : 'zstd';
  const r = spawnSync(tool, ['-dc', file], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${tool} -dc ${file} failed: ${r.stderr?.toString().trim()}`);
  return r.stdout;
}

/** Key=value strings of an ELF64 little-endian object's .modinfo section. */
export function modinfo(elf: Buffer): [string, string][] {
  if (elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('only 64-bit little-endian modules are handled');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  const sec = (i: number) => {
    const o = shoff + i * shentsize;
    return { name: elf.readUInt32LE(o), off: Number(elf.readBigUInt64LE(o + 0x18)), size: Number(elf.readBigUInt64LE(o + 0x20)) };
  };
  const strtab = sec(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    const n0 = strtab.off + s.name;
    const name = elf.toString('latin1', n0, elf.indexOf(0, n0));
    if (name !== '.modinfo') continue;
    return elf
      .toString('utf8', s.off, s.off + s.size)
      .split('\0')
      .filter((x) => x.includes('='))
      .map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)] as [string, string]);
  }
  return [];
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Reads every module of lib/modules/<version> under an unpacked kernel package. */
export function indexModules(root: string, version: string): ModuleIndex {
  const dir = join(root, 'lib', 'modules', version);
  const modules = new Map<string, KernelModule>();
  for (const file of walk(join(dir, 'kernel')).sort()) {
    const info = modinfo(readModule(file));
    const get = (k: string) => info.filter(([key]) => key === k).map(([, v]) => v);
    const srcPath = relative(dir, file);
    const soft = get('softdep').join(' ');
    const softList = (kind: string) => {
      const m = soft.match(new RegExp(`${kind}:((?:\\s+[^\\s:]+(?=\\s|$))*)`));
      return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
    };
    const name = get('name')[0] ?? modName(file);
    modules.set(name, {
      name,
      srcPath,
      path: srcPath.replace(/\.ko\.(xz|zst|gz)$/, '.ko'),
      compression: compressionOf(file),
      depends: (get('depends')[0] ?? '').split(',').filter(Boolean).map(modName),
      softdepPre: softList('pre'),
      softdepPost: softList('post'),
      aliases: get('alias'),
      licence: get('license')[0],
      description: get('description')[0],
    });
  }
  const builtinFile = join(dir, 'modules.builtin');
  const builtinText = existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8') : '';
  const builtin = new Set(builtinText.split('\n').filter(Boolean).map(modName));
  return { version, dir, modules, builtin, builtinText };
}

/** The modules a name stands for: the module of that name, or (for an alias such as
 *  crypto-crc32c or fs-vfat) every module declaring exactly that alias. Empty for a builtin. */
export function resolveName(index: ModuleIndex, n: string): string[] {
  const name = modName(n);
  if (index.modules.has(name)) return [name];
  if (index.builtin.has(name)) return [];
  const hits = [...index.modules.values()].filter((m) => m.aliases.includes(n) || m.aliases.includes(name)).map((m) => m.name);
  return hits;
}

/** Modules in load order (each after everything it depends on) for the given names, following
 *  hard dependencies and, when `soft` is set, softdep "pre:" modules too. Builtins are dropped. */
export function loadOrder(index: ModuleIndex, names: string[], soft = true): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, from: string) => {
    const name = modName(n);
    if (index.builtin.has(name) && !index.modules.has(name)) return;
    const m = index.modules.get(name);
    if (!m) throw new Error(`module ${name} (wanted by ${from}) is neither in the kernel package nor built in`);
    const st = state.get(name);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`module dependency cycle at ${name}`);
    state.set(name, 'visiting');
    if (soft) for (const d of m.softdepPre) for (const r of resolveName(index, d)) visit(r, name);
    for (const d of m.depends) visit(d, name);
    state.set(name, 'done');
    order.push(name);
  };
  for (const n of names) visit(n, 'the kit recipe');
  return order;
}

/** modules.dep for a set of modules, in depmod's format: "path: deps", the dependencies of each
 *  module listed so that the last is loaded first (what busybox and kmod modprobe expect). Only
 *  hard dependencies appear; softdeps are the recipe's business. */
export function modulesDep(index: ModuleIndex, names: Iterable<string>): string {
  const lines: string[] = [];
  for (const name of [...new Set(names)].sort((a, b) => index.modules.get(a)!.path.localeCompare(index.modules.get(b)!.path))) {
    const m = index.modules.get(name)!;
    const deps = loadOrder(index, [name], false).slice(0, -1).reverse();
    lines.push(`${m.path}:${deps.map((d) => ' ' + index.modules.get(d)!.path).join('')}`);
  }
  return lines.join('\n') + '\n';
}

/** modules.alias lines ("alias <pattern> <module>") for a set of modules, as depmod writes them. */
export function modulesAlias(index: ModuleIndex, names: Iterable<string>): string {
  const lines = ['# Aliases extracted from modules themselves (Bootsmith kit, filtered).'];
  for (const name of [...new Set(names)].sort()) {
    for (const a of index.modules.get(name)!.aliases) lines.push(`alias ${a} ${name}`);
  }
  return lines.join('\n') + '\n';
}
