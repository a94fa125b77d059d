// The entry manifest that our patched mke2fs reads (env E2FS_MANIFEST; see
// wasm-tools/e2fsprogs/patches/02-create-inode-manifest.patch and docs/wasm-tools.md). WASI
// carries no permission bits, owners, device numbers, FIFOs or sockets, so `mke2fs -d DIR` takes
// every entry, its type and its exact metadata from this text, and only regular files' content
// from DIR. No Node-only APIs.
//
// One line per entry, fields separated by spaces:
//   PATH TYPE MODE UID GID MTIME [TARGET | MAJOR MINOR] [ino=KEY] [src=SRC]
// PATH and TARGET/SRC are percent-encoded UTF-8; MODE is octal permission bits; MTIME is seconds.

import type { EntryType } from '../model/entry.ts';

export interface ManifestEntry {
  /** Absolute path in the new file system; "/" is the root directory. */
  path: string;
  type: EntryType;
  /** Permission bits (0o7777 at most). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch; also used for atime and ctime. */
  mtime: number;
  /** Symlinks: the link target, as written. */
  target?: string;
  /** Character and block devices. */
  major?: number;
  minor?: number;
  /** Entries with the same key become one inode with several names (hard links); the first
   *  entry gives the inode its content and metadata. Not for directories. */
  link?: string;
  /** Regular files: where the content is, relative to the `-d` directory (default: the path). */
  src?: string;
}

const encoder = new TextEncoder();

/** Percent-encodes every byte outside 0x21–0x7e, and "%" itself, of the UTF-8 form of `s`. */
export function encodeField(s: string): string {
  let out = '';
  for (const b of encoder.encode(s)) {
    out += b > 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Decodes a field written by encodeField (or any %XX-escaped UTF-8). */
export function decodeField(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...encoder.encode(s[i]));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function checkUint(name: string, v: number | undefined, max: number, path: string): number {
  if (v === undefined || !Number.isInteger(v) || v < 0 || v > max) {
    throw new Error(`manifest: ${path}: ${name} must be an integer in 0..${max}, not ${v}`);
  }
  return v;
}

/** One manifest line (no newline). Throws on values mke2fs would reject. */
export function manifestLine(e: ManifestEntry): string {
  if (e.path !== '/' && !/^(\/[^/]+)+$/.test(e.path)) throw new Error(`manifest: bad path ${JSON.stringify(e.path)}`);
  if (e.path.split('/').some((c) => c === '.' || c === '..')) throw new Error(`manifest: bad path ${e.path}`);
  if (e.path.includes('\0')) throw new Error(`manifest: NUL in path ${JSON.stringify(e.path)}`);
  const fields = [
    encodeField(e.path),
    e.type,
    checkUint('mode', e.mode, 0o7777, e.path).toString(8),
    String(checkUint('uid', e.uid, 0xffffffff, e.path)),
    String(checkUint('gid', e.gid, 0xffffffff, e.path)),
    String(Math.trunc(e.mtime)),
  ];
  if (e.type === 'symlink') {
    if (!e.target) throw new Error(`manifest: ${e.path}: symlink without a target`);
    fields.push(encodeField(e.target));
  } else if (e.type === 'char' || e.type === 'block') {
    fields.push(String(checkUint('major', e.major, 0xfff, e.path)), String(checkUint('minor', e.minor, 0xfffff, e.path)));
  }
  if (e.link !== undefined) {
    if (e.type === 'dir') throw new Error(`manifest: ${e.path}: a directory cannot be a hard link`);
    fields.push('ino=' + encodeField(e.link));
  }
  if (e.src !== undefined) {
    if (e.type !== 'file') throw new Error(`manifest: ${e.path}: src is for regular files only`);
    fields.push('src=' + encodeField(e.src.replace(/^\/+/, '')));
  }
  return fields.join(' ');
}

/** Orders paths so that every directory comes before what it contains (component by component,
 *  by UTF-16 code unit: deterministic for the same input). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/').filter(Boolean);
  const pb = b.split('/').filter(Boolean);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The whole manifest, parents before children. */
export function buildManifest(entries: Iterable<ManifestEntry>): string {
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
  return '# bootsmith manifest for mke2fs -d (E2FS_MANIFEST)\n' + sorted.map((e) => manifestLine(e) + '\n').join('');
}
