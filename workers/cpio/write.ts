// The newc cpio writer: the format of an initramfs, as the kernel's unpacker and GNU cpio read it.

import { type Entry, entrySize, statMode } from '../model/entry.ts';
import { BootsmithError, throwIfAborted } from '../model/problems.ts';
import { blobPieces, MiB, rechunk, zeros } from '../compress/chunker.ts';
import { align4, BLOCK, FIELDS, type Field, type Header, HEADER_SIZE, MAGIC_NEWC, pad4, TRAILER } from './newc.ts';

export interface CpioWriteOptions {
  signal?: AbortSignal;
  /** Called after each chunk with the number of archive bytes produced so far; the last call
   *  reports `cpioSize(entries)`. */
  onProgress?: (bytesDone: number) => void;
  /** Size of the yielded chunks (the last one may be shorter); default 1 MiB. */
  chunkSize?: number;
}

const utf8 = new TextEncoder();
const MAX32 = 0xffffffff;

const FIX: Partial<Record<Field, string>> = {
  filesize: 'newc stores files of at most 4 GiB − 1 bytes; leave this file out of the initramfs (put it on the ext4 root instead)',
  mtime: 'newc stores times from 1970 to 2106 only; clamp the timestamp (SOURCE_DATE_EPOCH)',
};

function hex8(h: Header, field: Field, path: string): string {
  const v = h[field];
  if (!Number.isInteger(v) || v < 0 || v > MAX32) {
    const message = `${field} ${v} does not fit the newc format (a whole number from 0 to ${MAX32})`;
    const fix = FIX[field] ?? 'correct the value in the file list';
    throw new BootsmithError(`cpio: ${path}: ${message} — ${fix}`, [{ severity: 'error', path, message, fix }]);
  }
  return v.toString(16).toUpperCase().padStart(8, '0');
}

/** The header, the name with its NUL, and the zero padding up to a multiple of 4. */
export function encodeHeader(h: Header, name: Uint8Array, path = name.length ? '/' + new TextDecoder().decode(name) : '/'): Uint8Array {
  let text = MAGIC_NEWC;
  for (const f of FIELDS) text += hex8(h, f, path);
  const out = new Uint8Array(align4(HEADER_SIZE + name.length + 1));
  for (let i = 0; i < HEADER_SIZE; i++) out[i] = text.charCodeAt(i);
  out.set(name, HEADER_SIZE);
  return out;
}

function nameOf(e: Entry): Uint8Array {
  if (!e.path.startsWith('/') || e.path.length < 2) {
    throw new BootsmithError(`cpio: "${e.path}" is not an absolute path below the root`, [
      { severity: 'error', path: e.path, message: 'not an absolute path below the root', fix: 'validate the tree before writing' },
    ]);
  }
  return utf8.encode(e.path.slice(1));
}

function headerOf(e: Entry, ino: number, name: Uint8Array): Header {
  const device = e.type === 'char' || e.type === 'block';
  return {
    ino,
    mode: statMode(e),
    uid: e.uid,
    gid: e.gid,
    nlink: e.type === 'dir' ? 2 : 1,
    mtime: e.mtime,
    filesize: entrySize(e),
    devmajor: 0,
    devminor: 0,
    rdevmajor: device ? e.major ?? 0 : 0,
    rdevminor: device ? e.minor ?? 0 : 0,
    namesize: name.length + 1,
    check: 0,
  };
}

const TRAILER_HEADER: Header = {
  ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0,
  devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: TRAILER.length + 1, check: 0,
};

/** The archive's pieces, unchunked. */
async function* pieces(entries: Entry[], signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; i < entries.length; i++) {
    throwIfAborted(signal);
    const e = entries[i];
    const name = nameOf(e);
    const h = headerOf(e, i + 1, name);
    const head = encodeHeader(h, name, e.path);
    yield head;
    offset += head.length;
    if (h.filesize === 0) continue;
    if (e.type === 'file') yield* blobPieces(e.data!, h.filesize, e.path, signal);
    else if (e.type === 'symlink') yield utf8.encode(e.target ?? '');
    yield* zeros(pad4(h.filesize));
    offset += align4(h.filesize);
  }
  throwIfAborted(signal);
  const trailer = encodeHeader(TRAILER_HEADER, utf8.encode(TRAILER));
  yield trailer;
  offset += trailer.length;
  yield* zeros((BLOCK - (offset % BLOCK)) % BLOCK);
}

/** Writes `entries` in the given order (the caller sorts and validates: parents before children,
 *  no duplicates, no root entry) as a newc archive, padded to a multiple of 512 bytes. */
export async function* writeCpio(entries: Entry[], opts: CpioWriteOptions = {}): AsyncGenerator<Uint8Array> {
  yield* rechunk(pieces(entries, opts.signal), opts.chunkSize ?? MiB, opts.onProgress);
}

/** The exact byte length `writeCpio(entries)` will produce. */
export function cpioSize(entries: Entry[]): number {
  let n = align4(HEADER_SIZE + TRAILER.length + 1);
  // the path's bytes ("/init") count the same as the name and its NUL ("init\0")
  for (const e of entries) n += align4(HEADER_SIZE + utf8.encode(e.path).length) + align4(entrySize(e));
  return n + ((BLOCK - (n % BLOCK)) % BLOCK);
}
