// The tar writer: POSIX ustar, with a pax extended header only for what ustar cannot hold (long
// names and link targets, big ids, sizes or times). Deterministic: no user/group names, no atime.

import type { Entry } from '../model/entry.ts';
import { BootsmithError, throwIfAborted } from '../model/problems.ts';
import { blobPieces, MiB, rechunk, zeros } from '../compress/chunker.ts';
import { concatBytes } from '../compress/gzip.ts';
import { BLOCK, checksums, F, type FieldName, MAGIC_USTAR, pad512, RECORD } from './ustar.ts';

export interface TarWriteOptions {
  signal?: AbortSignal;
  /** Called after each chunk with the number of archive bytes produced so far. */
  onProgress?: (bytesDone: number) => void;
  chunkSize?: number;
  /** Told about entries tar cannot store (sockets), which are left out. */
  onSkip?: (entry: Entry, reason: string) => void;
}

const utf8 = new TextEncoder();
const SOCKET_SKIPPED = 'tar cannot store sockets (GNU tar leaves them out too)';

/** Largest value an octal field of `len` bytes holds (len − 1 digits and a NUL). */
const maxOctal = (len: number) => 8 ** (len - 1) - 1;

function invalid(e: Entry, what: string): never {
  throw new BootsmithError(`tar: ${e.path}: ${what}`, [{ severity: 'error', path: e.path, message: what, fix: 'validate the tree before writing' }]);
}

function checkNumber(e: Entry, field: string, v: number | undefined, allowNegative = false): number {
  const n = v ?? 0;
  if (!Number.isSafeInteger(n) || (n < 0 && !allowNegative)) invalid(e, `${field} ${v} is not a valid whole number`);
  return n;
}

/** Cuts UTF-8 bytes to at most `max` without splitting a character. */
function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let cut = max;
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut);
}

/** Splits a name into ustar's prefix (≤ 155 bytes) and name (≤ 100) at a "/", or undefined. */
export function splitName(bytes: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (bytes.length <= 100) return { prefix: new Uint8Array(0), name: bytes };
  // the longest name part that fits keeps the prefix as short as possible
  for (let i = Math.max(0, bytes.length - 101); i < bytes.length - 1 && i <= 155; i++) {
    if (bytes[i] === 0x2f) return i > 0 && bytes.length - i - 1 <= 100 ? { prefix: bytes.subarray(0, i), name: bytes.subarray(i + 1) } : undefined;
  }
  return undefined;
}

/** One pax record, "<length> key=value\n", where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = utf8.encode(` ${key}=${value}\n`).length;
  let n = rest + 1;
  while (String(n).length + rest !== n) n = String(n).length + rest;
  return `${n} ${key}=${value}\n`;
}

export interface HeaderFields {
  name: Uint8Array;
  prefix: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: Uint8Array;
  devmajor: number;
  devminor: number;
}

function put(block: Uint8Array, field: FieldName, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, F[field][1]), F[field][0]);
}

/** Octal, zero-padded, NUL-terminated; GNU's base-256 for values octal cannot hold. */
function putNumber(block: Uint8Array, field: FieldName, v: number): void {
  const [off, len] = F[field];
  if (v <= maxOctal(len)) {
    put(block, field, utf8.encode(v.toString(8).padStart(len - 1, '0')));
    return;
  }
  block[off] = 0x80;
  let big = BigInt(v);
  for (let i = len - 1; i > 0; i--, big >>= 8n) block[off + i] = Number(big & 0xffn);
}

export function headerBlock(f: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  put(block, 'name', f.name);
  putNumber(block, 'mode', f.mode);
  putNumber(block, 'uid', f.uid);
  putNumber(block, 'gid', f.gid);
  putNumber(block, 'size', f.size);
  putNumber(block, 'mtime', f.mtime);
  block[F.typeflag[0]] = f.type.charCodeAt(0);
  put(block, 'linkname', f.linkname);
  put(block, 'magic', utf8.encode(MAGIC_USTAR));
  put(block, 'version', utf8.encode('00'));
  putNumber(block, 'devmajor', f.devmajor);
  putNumber(block, 'devminor', f.devminor);
  put(block, 'prefix', f.prefix);
  // six octal digits, NUL, space: the conventional form
  put(block, 'chksum', utf8.encode(checksums(block).unsigned.toString(8).padStart(6, '0') + '\0 '));
  return block;
}

const TYPEFLAG: Record<Entry['type'], string> = { file: '0', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', socket: '' };

/** The header block(s) of an entry (a pax header first when needed), without its data. */
export function entryHeaders(e: Entry): Uint8Array {
  if (!e.path.startsWith('/') || e.path.length < 2) invalid(e, 'not an absolute path below the root');
  const pax: string[] = [];
  const rel = e.path.slice(1) + (e.type === 'dir' ? '/' : '');
  const relBytes = utf8.encode(rel);
  let split = splitName(relBytes);
  if (!split) {
    pax.push(paxRecord('path', rel));
    split = { prefix: new Uint8Array(0), name: truncateUtf8(relBytes, 100) };
  }
  let linkname: Uint8Array = new Uint8Array(0);
  if (e.type === 'symlink') {
    linkname = utf8.encode(e.target ?? '');
    if (linkname.length > 100) { pax.push(paxRecord('linkpath', e.target!)); linkname = truncateUtf8(linkname, 100); }
  }
  const big = (key: string, v: number, len: number) => {
    if (v >= 0 && v <= maxOctal(len)) return v;
    pax.push(paxRecord(key, String(v)));
    return 0;
  };
  const size = e.type === 'file' ? checkNumber(e, 'size', e.data?.size) : 0;
  const mtime = checkNumber(e, 'mtime', e.mtime, true);
  const device = e.type === 'char' || e.type === 'block';
  const fields: HeaderFields = {
    ...split,
    mode: e.mode & 0o7777,
    uid: big('uid', checkNumber(e, 'uid', e.uid), 8),
    gid: big('gid', checkNumber(e, 'gid', e.gid), 8),
    size: big('size', size, 12),
    mtime: Math.min(Math.max(mtime, 0), maxOctal(12)),
    type: TYPEFLAG[e.type],
    linkname,
    devmajor: device ? checkNumber(e, 'major', e.major) : 0,
    devminor: device ? checkNumber(e, 'minor', e.minor) : 0,
  };
  if (fields.mtime !== mtime) pax.push(paxRecord('mtime', String(mtime)));
  const header = headerBlock(fields);
  if (!pax.length) return header;

  const records = utf8.encode(pax.join(''));
  const base = utf8.encode(e.path.slice(e.path.lastIndexOf('/') + 1));
  const paxHeader = headerBlock({
    name: truncateUtf8(concatBytes([utf8.encode('PaxHeaders/'), base]), 100),
    prefix: new Uint8Array(0),
    mode: 0o644, uid: 0, gid: 0, size: records.length, mtime: fields.mtime,
    type: 'x', linkname: new Uint8Array(0), devmajor: 0, devminor: 0,
  });
  const padded = new Uint8Array(records.length + pad512(records.length));
  padded.set(records);
  return concatBytes([paxHeader, padded, header]);
}

async function* pieces(entries: Entry[], opts: TarWriteOptions): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (const e of entries) {
    throwIfAborted(opts.signal);
    if (e.type === 'socket') { opts.onSkip?.(e, SOCKET_SKIPPED); continue; }
    const head = entryHeaders(e);
    yield head;
    const size = e.type === 'file' ? e.data?.size ?? 0 : 0;
    if (size > 0) yield* blobPieces(e.data!, size, e.path, opts.signal);
    yield* zeros(pad512(size));
    offset += head.length + size + pad512(size);
  }
  throwIfAborted(opts.signal);
  // the end-of-archive marker (two zero blocks), then zeros to a whole record, as GNU tar writes
  offset += 2 * BLOCK;
  yield* zeros(2 * BLOCK + ((RECORD - (offset % RECORD)) % RECORD));
}

/** Writes `entries` in the given order as a tar archive (sockets left out, see `onSkip`). */
export async function* writeTar(entries: Entry[], opts: TarWriteOptions = {}): AsyncGenerator<Uint8Array> {
  yield* rechunk(pieces(entries, opts), opts.chunkSize ?? MiB, opts.onProgress);
}

/** The exact byte length `writeTar(entries)` will produce. */
export function tarSize(entries: Entry[]): number {
  let n = 2 * BLOCK;
  for (const e of entries) {
    if (e.type === 'socket') continue;
    const size = e.type === 'file' ? e.data?.size ?? 0 : 0;
    n += entryHeaders(e).length + size + pad512(size);
  }
  return n + ((RECORD - (n % RECORD)) % RECORD);
}
