// A light ELF reader for checking the user's programs before an image is built: architecture,
// static or dynamic, the program interpreter and the shared libraries it needs. Reads only the
// slices it needs (the 64-byte header, the program headers, PT_INTERP, PT_DYNAMIC and the dynamic
// string table), so a 100 MB file costs a few small reads. Malformed input gives undefined or a
// partial answer, never an exception.

import { type Entry } from '../model/entry.ts';
import { baseName, normalizePath, parentOf } from '../model/path.ts';
import type { Problem } from '../model/problems.ts';

export type ElfArch = 'arm64' | 'arm' | 'i386' | 'x86_64' | 'riscv64' | string;
export type ElfType = 'rel' | 'exec' | 'dyn' | 'core' | 'other';
/** static: ET_EXEC without an interpreter; static-pie: ET_DYN without one, flagged PIE (or with no
 *  dynamic section); dynamic: has PT_INTERP; library: ET_DYN without interpreter (a .so). */
export type ElfLinking = 'static' | 'static-pie' | 'dynamic' | 'library' | 'none';

export interface ElfInfo {
  bits: 32 | 64;
  endian: 'little' | 'big';
  /** e_machine. */
  machine: number;
  /** 'arm64', 'arm', 'i386', 'x86_64', 'riscv64', ... or `machine <n>`. */
  arch: ElfArch;
  type: ElfType;
  linking: ElfLinking;
  /** PT_INTERP: the dynamic loader's path ("/lib/ld-linux-aarch64.so.1"). */
  interpreter?: string;
  /** DT_NEEDED, in order. */
  needed: string[];
  soname?: string;
  /** DT_RUNPATH, else DT_RPATH, split at ':' (may hold $ORIGIN). */
  runpath: string[];
  /** 32-bit ARM: the EABI version from e_flags (0 means the old ABI, which arm64 kernels can't run). */
  armEabi?: number;
}

const EM: Record<number, string> = {
  2: 'sparc', 3: 'i386', 8: 'mips', 20: 'ppc', 21: 'ppc64', 22: 's390', 40: 'arm', 42: 'sh', 50: 'ia64',
  62: 'x86_64', 183: 'arm64', 243: 'riscv', 258: 'loongarch', 6: 'i486',
};

/** Human names for messages. */
export function archLabel(arch: string, bits?: 32 | 64): string {
  switch (arch) {
    case 'arm64': return 'arm64 (aarch64)';
    case 'arm': return '32-bit ARM';
    case 'i386': return 'i386 (32-bit x86)';
    case 'x86_64': return 'x86-64';
    case 'riscv64': return 'RISC-V 64-bit';
    case 'riscv': return bits === 32 ? 'RISC-V 32-bit' : 'RISC-V';
    default: return arch;
  }
}

const PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3;
const DT_NULL = 0, DT_NEEDED = 1, DT_STRTAB = 5, DT_STRSZ = 10, DT_SONAME = 14, DT_RPATH = 15, DT_RUNPATH = 29, DT_FLAGS_1 = 0x6ffffffb;
const DF_1_PIE = 0x08000000;
/** Caps on what one file may make us read. */
const MAX_PHNUM = 512;
const MAX_DYNAMIC = 64 * 1024;
const MAX_STRTAB = 1024 * 1024;
const MAX_INTERP = 4096;

async function read(blob: Blob, offset: number, length: number): Promise<DataView | undefined> {
  if (!Number.isSafeInteger(offset) || offset < 0 || length <= 0 || offset >= blob.size) return undefined;
  const buf = await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer();
  return new DataView(buf);
}

const cstr = (v: DataView, at: number): string | undefined => {
  if (at < 0 || at >= v.byteLength) return undefined;
  let end = at;
  while (end < v.byteLength && v.getUint8(end) !== 0) end++;
  return new TextDecoder().decode(new Uint8Array(v.buffer, v.byteOffset + at, end - at));
};

/** True when the first bytes are an ELF header's magic. */
export function isElfMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

export async function inspectElf(blob: Blob): Promise<ElfInfo | undefined> {
  try {
    return await inspect(blob);
  } catch {
    return undefined;
  }
}

async function inspect(blob: Blob): Promise<ElfInfo | undefined> {
  const h = await read(blob, 0, 64);
  if (!h || h.byteLength < 52 || !isElfMagic(new Uint8Array(h.buffer, h.byteOffset, 4))) return undefined;
  const cls = h.getUint8(4), data = h.getUint8(5);
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const b64 = cls === 2;
  if (b64 && h.byteLength < 64) return undefined;
  const le = data === 1;
  const u16 = (v: DataView, o: number) => v.getUint16(o, le);
  const u32 = (v: DataView, o: number) => v.getUint32(o, le);
  const word = (v: DataView, o: number) => (b64 ? Number(v.getBigUint64(o, le)) : v.getUint32(o, le));
  const sword = (v: DataView, o: number) => (b64 ? v.getBigInt64(o, le) : BigInt(v.getInt32(o, le)));

  const eType = u16(h, 16);
  const machine = u16(h, 18);
  const eFlags = u32(h, b64 ? 48 : 36);
  const phoff = word(h, b64 ? 32 : 28);
  const phentsize = u16(h, b64 ? 54 : 42);
  const phnum = Math.min(u16(h, b64 ? 56 : 44), MAX_PHNUM);
  let arch: string = EM[machine] ?? `machine ${machine}`;
  if (arch === 'riscv') arch = b64 ? 'riscv64' : 'riscv';
  if (arch === 'i486') arch = 'i386';
  const type: ElfType = eType === 1 ? 'rel' : eType === 2 ? 'exec' : eType === 3 ? 'dyn' : eType === 4 ? 'core' : 'other';
  const info: ElfInfo = { bits: b64 ? 64 : 32, endian: le ? 'little' : 'big', machine, arch, type, linking: 'none', needed: [], runpath: [] };
  if (arch === 'arm') info.armEabi = eFlags >>> 24;
  if (type !== 'exec' && type !== 'dyn') return info;

  // Program headers.
  const minEnt = b64 ? 56 : 32;
  const segs: { type: number; offset: number; vaddr: number; filesz: number }[] = [];
  if (phnum && phentsize >= minEnt) {
    const ph = await read(blob, phoff, phentsize * phnum);
    if (ph) {
      for (let i = 0; i < phnum && (i + 1) * phentsize <= ph.byteLength; i++) {
        const o = i * phentsize;
        segs.push(b64
          ? { type: u32(ph, o), offset: word(ph, o + 8), vaddr: word(ph, o + 16), filesz: word(ph, o + 32) }
          : { type: u32(ph, o), offset: u32(ph, o + 4), vaddr: u32(ph, o + 8), filesz: u32(ph, o + 16) });
      }
    }
  }
  const interp = segs.find((s) => s.type === PT_INTERP);
  if (interp) {
    const v = await read(blob, interp.offset, Math.min(interp.filesz, MAX_INTERP));
    if (v) info.interpreter = cstr(v, 0);
  }

  // Dynamic section: DT_NEEDED etc. name offsets into the string table found via DT_STRTAB, a
  // virtual address that the PT_LOAD segments map back to a file offset.
  let flags1 = 0;
  const dynSeg = segs.find((s) => s.type === PT_DYNAMIC);
  const dyn = dynSeg ? await read(blob, dynSeg.offset, Math.min(dynSeg.filesz, MAX_DYNAMIC)) : undefined;
  if (dyn) {
    const entSize = b64 ? 16 : 8;
    const needed: number[] = [];
    let strtab: number | undefined, strsz: number | undefined, soname: number | undefined, rpath: number | undefined, runpath: number | undefined;
    for (let o = 0; o + entSize <= dyn.byteLength; o += entSize) {
      const tag = sword(dyn, o);
      const val = word(dyn, o + (b64 ? 8 : 4));
      if (tag === BigInt(DT_NULL)) break;
      switch (Number(tag)) {
        case DT_NEEDED: needed.push(val); break;
        case DT_STRTAB: strtab = val; break;
        case DT_STRSZ: strsz = val; break;
        case DT_SONAME: soname = val; break;
        case DT_RPATH: rpath = val; break;
        case DT_RUNPATH: runpath = val; break;
        case DT_FLAGS_1: flags1 = val; break;
      }
    }
    if (strtab !== undefined) {
      const load = segs.find((s) => s.type === PT_LOAD && strtab! >= s.vaddr && strtab! < s.vaddr + s.filesz);
      if (load) {
        const off = load.offset + (strtab - load.vaddr);
        const len = Math.min(strsz ?? MAX_STRTAB, MAX_STRTAB, load.filesz - (strtab - load.vaddr));
        const st = await read(blob, off, len);
        if (st) {
          info.needed = needed.map((n) => cstr(st, n)).filter((s): s is string => !!s);
          if (soname !== undefined) info.soname = cstr(st, soname);
          const rp = runpath ?? rpath;
          if (rp !== undefined) info.runpath = (cstr(st, rp) ?? '').split(':').filter(Boolean);
        }
      }
    }
  }
  if (info.interpreter !== undefined) info.linking = 'dynamic';
  else if (type === 'exec') info.linking = 'static';
  else if (flags1 & DF_1_PIE || !dynSeg) info.linking = 'static-pie';
  else info.linking = 'library';
  return info;
}

// ---------------------------------------------------------------------------------------------
// Checking a root filesystem's programs

export type TargetArch = 'arm64' | 'i386';

const TRIPLETS: Record<string, string[]> = {
  arm64: ['aarch64-linux-gnu'],
  arm: ['arm-linux-gnueabihf', 'arm-linux-gnueabi'],
  i386: ['i386-linux-gnu'],
  x86_64: ['x86_64-linux-gnu'],
  riscv64: ['riscv64-linux-gnu'],
};
const MUSL_ARCH: Record<string, string> = { arm64: 'aarch64', arm: 'armhf', i386: 'i386', x86_64: 'x86_64', riscv64: 'riscv64' };

/** A file system view over the entries: finds files through symlinks (including symlinked
 *  folders such as a merged /lib → usr/lib). */
class Tree {
  private byPath = new Map<string, Entry>();
  private byName = new Map<string, string[]>();
  constructor(entries: readonly Entry[]) {
    for (const e of entries) {
      this.byPath.set(e.path, e);
      const n = baseName(e.path);
      const list = this.byName.get(n);
      if (list) list.push(e.path); else this.byName.set(n, [e.path]);
    }
  }
  /** The entry a path ends at after following symlinks, with its real path. */
  resolve(path: string, depth = 0): { path: string; entry: Entry } | undefined {
    if (depth > 40) return undefined;
    const parts = path.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      const next = normalizePath(`${cur}/${parts[i]}`);
      const e = this.byPath.get(next);
      // A folder without an entry of its own (trees may list files only) is still a folder.
      if (!e) {
        if (i === parts.length - 1) return undefined;
        cur = next;
        continue;
      }
      if (e.type === 'symlink') {
        const t = e.target ?? '';
        const target = normalizePath(t.startsWith('/') ? t : `${cur}/${t}`);
        const rest = parts.slice(i + 1).join('/');
        const r = this.resolve(rest ? `${target}/${rest}` : target || '/', depth + 1);
        return r;
      }
      cur = next;
    }
    const e = this.byPath.get(cur);
    return e ? { path: cur, entry: e } : undefined;
  }
  isFile(path: string): boolean {
    return this.resolve(path)?.entry.type === 'file';
  }
  text(path: string): Promise<string | undefined> {
    const r = this.resolve(path);
    return r?.entry.type === 'file' && r.entry.data ? r.entry.data.slice(0, 64 * 1024).text() : Promise.resolve(undefined);
  }
  /** Paths directly inside a folder (given by its real path). */
  childrenOf(dir: string): string[] {
    return [...this.byPath.keys()].filter((p) => parentOf(p) === dir);
  }
  pathsNamed(name: string): string[] {
    return this.byName.get(name) ?? [];
  }
}

/** Folders listed in /etc/ld.so.conf (following `include` globs of the form dir/*.conf). */
async function ldSoConfDirs(tree: Tree): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (file: string, depth: number) => {
    if (seen.has(file) || depth > 4) return;
    seen.add(file);
    const text = await tree.text(file);
    if (text === undefined) return;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const inc = /^include\s+(\S+)/.exec(line);
      if (inc) {
        const pat = inc[1].startsWith('/') ? inc[1] : `/etc/${inc[1]}`;
        const dir = parentOf(pat);
        const re = new RegExp('^' + baseName(pat).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
        const d = tree.resolve(dir);
        const names = d ? tree.childrenOf(d.path).filter((p) => re.test(baseName(p))).sort() : [];
        for (const n of names) await walk(n, depth + 1);
      } else if (line.startsWith('/')) out.push(normalizePath(line));
    }
  };
  await walk('/etc/ld.so.conf', 0);
  return out;
}

/** Where the dynamic loader looks for a library of this architecture. */
function libraryDirs(arch: string, extra: string[]): string[] {
  const trip = TRIPLETS[arch] ?? [];
  const dirs = [
    ...trip.flatMap((t) => [`/lib/${t}`, `/usr/lib/${t}`]),
    '/lib', '/usr/lib', '/lib64', '/usr/lib64', '/lib32', '/usr/lib32', '/usr/local/lib',
    ...extra,
  ];
  return [...new Set(dirs)];
}

interface Inspected { info?: ElfInfo }

/**
 * Problems with the programs in a root filesystem for a board of the given architecture:
 * programs built for another CPU (errors; 32-bit ARM on an arm64 board is a warning, as Debian's
 * arm64 kernel runs it through CONFIG_COMPAT), and dynamic programs whose loader or libraries are
 * not in the tree (warnings). Kernel modules and other relocatable objects are skipped.
 */
export async function checkBinaries(entries: readonly Entry[], arch: TargetArch, boardName: string): Promise<Problem[]> {
  const out: Problem[] = [];
  const tree = new Tree(entries);
  const cache = new Map<string, Inspected>();
  const inspectPath = async (path: string): Promise<ElfInfo | undefined> => {
    const r = tree.resolve(path);
    if (!r || r.entry.type !== 'file' || !r.entry.data) return undefined;
    let c = cache.get(r.path);
    if (!c) {
      c = { info: await inspectElf(r.entry.data) };
      cache.set(r.path, c);
    }
    return c.info;
  };
  let confDirs: string[] | undefined;
  const muslDirs = async (a: string) => {
    const text = await tree.text(`/etc/ld-musl-${MUSL_ARCH[a] ?? a}.path`);
    return text ? text.split(/[:\n]/).map((s) => s.trim()).filter((s) => s.startsWith('/')) : [];
  };

  for (const e of entries) {
    if (e.type !== 'file' || !e.data || e.data.size < 52) continue;
    if (/\.ko(\.(xz|zst|gz))?$/.test(e.path)) continue;
    const info = await inspectPath(e.path);
    if (!info || info.type === 'rel' || info.type === 'core' || info.type === 'other') continue;
    const what = info.linking === 'library' ? 'library' : 'program';
    const isLib = info.linking === 'library';

    const wrong = archProblem(info, arch, boardName);
    if (wrong) {
      out.push({ severity: wrong.severity, path: e.path, message: `${e.path} is ${article(wrong.label)} ${wrong.label} ${what}; ${wrong.why}`, fix: isLib ? wrong.fixLib : wrong.fix });
      if (wrong.severity === 'error') continue;
    }
    // Libraries are followed from the programs that need them, not checked on their own.
    if (info.linking !== 'dynamic') continue;

    // Loader and libraries.
    const missing: string[] = [];
    if (info.interpreter && !tree.isFile(info.interpreter)) missing.push(`its loader ${info.interpreter}`);
    confDirs ??= await ldSoConfDirs(tree);
    const dirs = libraryDirs(info.arch, [...confDirs, ...(await muslDirs(info.arch))]);
    const seen = new Set<string>();
    const queue: { name: string; by?: string; rpath: string[]; origin: string }[] =
      info.needed.map((n) => ({ name: n, rpath: info.runpath, origin: parentOf(e.path) || '/' }));
    // Libraries needed by the libraries found, too (a few levels are enough in practice).
    while (queue.length && seen.size < 200) {
      const q = queue.shift()!;
      if (seen.has(q.name)) continue;
      seen.add(q.name);
      // The loader itself is often listed as needed (ld-linux-*.so.*); it is checked above.
      if (info.interpreter && baseName(info.interpreter) === q.name) continue;
      const found = findLibrary(tree, q.name, [...q.rpath.map((r) => normalizePath(r.replace(/\$(ORIGIN|\{ORIGIN\})/g, q.origin))), ...dirs]);
      if (!found) {
        const elsewhere = tree.pathsNamed(q.name)[0];
        const by = q.by ? ` (needed by ${q.by})` : '';
        missing.push(elsewhere ? `${q.name}${by}, which is at ${elsewhere} where the loader doesn't look` : `${q.name}${by}`);
        continue;
      }
      const lib = await inspectPath(found);
      if (lib) for (const n of lib.needed) queue.push({ name: n, by: q.name, rpath: lib.runpath, origin: parentOf(found) || '/' });
    }
    if (missing.length) {
      out.push({
        severity: 'warning',
        path: e.path,
        message: `${e.path} is a dynamically linked ${what} and the image lacks ${listOf(missing)}, so it won't start`,
        fix: `Add the missing files, built for ${archLabel(info.arch, info.bits)}, from the same build or distribution, or rebuild it statically.`,
      });
    }
  }
  return out;
}

function findLibrary(tree: Tree, name: string, dirs: string[]): string | undefined {
  if (name.includes('/')) return tree.isFile(name) ? name : undefined;
  for (const d of dirs) {
    const p = `${d}/${name}`;
    if (tree.isFile(p)) return p;
  }
  return undefined;
}

const article = (s: string) => (/^([aeiou]|x86|i386)/i.test(s) ? 'an' : 'a');
const listOf = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

interface ArchVerdict { severity: 'error' | 'warning'; label: string; why: string; fix: string; fixLib: string }

function archProblem(info: ElfInfo, target: TargetArch, board: string): ArchVerdict | undefined {
  const label = info.endian === 'big' && (info.arch === 'arm64' || info.arch === 'arm') ? `big-endian ${archLabel(info.arch, info.bits)}` : archLabel(info.arch, info.bits);
  if (target === 'arm64') {
    if (info.arch === 'arm64' && info.endian === 'little') return undefined;
    const fix = 'Rebuild it for aarch64-linux — a static build is simplest (e.g. aarch64-linux-gnu-gcc -static, GOARCH=arm64 CGO_ENABLED=0, or Rust\'s aarch64-unknown-linux-musl) — or take the arm64 build of the package.';
    const fixLib = 'Use the arm64 (aarch64) build of this library, or remove it.';
    if (info.arch === 'arm' && info.endian === 'little') {
      if (info.armEabi === 0) {
        return { severity: 'error', label: 'old-ABI 32-bit ARM', why: `the ${board}'s arm64 kernel runs 32-bit ARM programs only if they use the EABI`, fix, fixLib };
      }
      return {
        severity: 'warning', label, fix, fixLib,
        why: `the ${board} runs arm64 (aarch64) programs; Debian's arm64 kernel also runs 32-bit ARM ones (CONFIG_COMPAT), so it works if it is static or its 32-bit ARM libraries are in the image`,
      };
    }
    return { severity: 'error', label, why: `the ${board} runs arm64 (aarch64) programs`, fix, fixLib };
  }
  // i386: v86 emulates a 32-bit x86 PC.
  if (info.arch === 'i386') return undefined;
  const fix = 'Rebuild it for 32-bit x86 (e.g. gcc -m32 -static, GOARCH=386 CGO_ENABLED=0, or Rust\'s i686-unknown-linux-musl) or take the i386 build of the package.';
  const fixLib = 'Use the i386 build of this library, or remove it.';
  if (info.arch === 'x86_64') {
    return { severity: 'error', label, why: `the ${board} kit runs in v86, which emulates a 32-bit x86 PC and can't run 64-bit programs`, fix, fixLib };
  }
  return { severity: 'error', label, why: `the ${board} kit runs i386 (32-bit x86) programs`, fix, fixLib };
}
