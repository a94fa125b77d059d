// Deterministic gzip on top of fflate, compressed block-parallel (pigz-style) when given a pool of
// threads, and a multi-member gunzip that knows where each member ends (the cpio reader needs that:
// the kernel accepts a plain archive and a gzip one back to back).

import { inflateSync } from 'fflate';
import { FormatError } from '../model/problems.ts';
import { crc32 } from './crc32.ts';
import { WINDOW, deflateBlock } from './deflate-block.mjs';
import type { DeflatePool } from './pool.ts';

export type { DeflatePool } from './pool.ts';

/** Default block size. Each block is compressed on its own (with the previous 32 KiB as its
 *  dictionary), so this is part of the format: the bytes depend on it. 1 MiB costs ~0.01% in size
 *  against one stream, and keeps two threads busy from 2 MB of input on. */
export const GZIP_BLOCK = 1024 * 1024;

let defaultPool: DeflatePool | undefined;

/** Sets the pool that gzipChunks uses when its caller names none (the CLI and the Web Worker set
 *  one at start-up, so the pipeline needs no options for it). `undefined`: the calling thread. */
export function setDefaultDeflatePool(pool: DeflatePool | undefined): void {
  defaultPool = pool;
}

export function isGzip(bytes: Uint8Array, pos = 0): boolean {
  return pos + 1 < bytes.length && bytes[pos] === 0x1f && bytes[pos + 1] === 0x8b;
}

export interface GzipOptions {
  /** 0–9, default 6. */
  level?: number;
  /** Threads to compress on; `null`: the calling thread; unset: the default pool, if one is set.
   *  The output is the same either way. */
  pool?: DeflatePool | null;
  /** Bytes per block (at least 32 KiB; default GZIP_BLOCK). Changes the output. */
  blockSize?: number;
  /** Blocks handed to the pool before waiting for the oldest (default: 2 per thread). */
  inFlight?: number;
}

/** Gzips a stream of chunks. The header carries no name, mtime 0 and OS 3 (Unix), so the same
 *  content gives the same bytes everywhere (fflate is plain JS: no platform zlib involved).
 *
 *  The input is cut into blocks of `blockSize` bytes, each deflated on its own with the 32 KiB
 *  before it as dictionary, every block but the last ending with a sync flush, so the one deflate
 *  stream is the concatenation of the blocks (as pigz does). The bytes depend on the content, level
 *  and block size only: not on how the input is chunked, nor on the pool or its number of threads.
 *  With a pool, up to `inFlight` blocks are compressed at once and output in order (an input of
 *  one block is compressed in the calling thread). */
export async function* gzipChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: GzipOptions = {},
): AsyncGenerator<Uint8Array> {
  const level = opts.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`gzip level must be 0–9, not ${level}`);
  const blockSize = opts.blockSize ?? GZIP_BLOCK;
  if (!Number.isInteger(blockSize) || blockSize < WINDOW) throw new RangeError(`gzip block size must be an integer of at least ${WINDOW}, not ${blockSize}`);
  const pool = opts.pool === undefined ? defaultPool : opts.pool ?? undefined;
  const inFlight = opts.inFlight ?? 2 * (pool?.threads ?? 2);
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new RangeError(`inFlight must be a positive integer, not ${inFlight}`);

  // Header: magic, deflate, no flags, mtime 0, XFL as zlib sets it (2: best, 4: fastest), OS 3.
  yield Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level < 2 ? 4 : level === 9 ? 2 : 0, 3);

  let crc = 0;
  let size = 0;
  let dictionary: Uint8Array | undefined;
  const queue: { promise: Promise<Uint8Array>; settled: boolean }[] = [];

  /** Hands one block over (in order) and yields whatever output is ready. */
  async function* submit(block: Uint8Array, final: boolean): AsyncGenerator<Uint8Array> {
    crc = crc32(block, crc);
    size += block.length;
    const dict = dictionary;
    // A copy: with a pool, `block` itself goes to another thread.
    dictionary = final ? undefined : block.slice(block.length - WINDOW);
    // An input of one block gains nothing from another thread: spare it starting one.
    if (!pool || (final && !dict)) {
      yield deflateBlock(block, dict, final, level);
      return;
    }
    const entry = { promise: pool.compress(block, dict, final, level), settled: false };
    // Also marks the rejection as handled, should the consumer stop before it is awaited.
    entry.promise.then(() => { entry.settled = true; }, () => { entry.settled = true; });
    queue.push(entry);
    while (queue.length >= inFlight || (queue.length && queue[0].settled)) yield await queue.shift()!.promise;
  }

  let buf = new Uint8Array(blockSize);
  let len = 0;
  for await (const piece of chunks) {
    let off = 0;
    while (off < piece.length) {
      if (len === blockSize) {
        // Full, and more follows: not the last block.
        yield* submit(buf, false);
        buf = new Uint8Array(blockSize);
        len = 0;
      }
      const n = Math.min(blockSize - len, piece.length - off);
      buf.set(piece.subarray(off, off + n), len);
      len += n;
      off += n;
    }
  }
  yield* submit(buf.subarray(0, len), true);
  while (queue.length) yield await queue.shift()!.promise;

  const trailer = new Uint8Array(8);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, crc, true);
  view.setUint32(4, size >>> 0, true);
  yield trailer;
}

/** Gzips one buffer (same bytes as gzipChunks). */
export async function gzipBytes(bytes: Uint8Array, opts: GzipOptions = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of gzipChunks([bytes], opts)) parts.push(c);
  return concatBytes(parts);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const bad = (pos: number, what: string, fix = 'the file is damaged or truncated; re-create or re-download it') =>
  new FormatError('gzip', `at byte ${pos}`, what, fix);

/** Byte offset where the deflate data of the member at `pos` starts (after the header). */
function headerEnd(bytes: Uint8Array, pos: number): number {
  if (pos + 10 > bytes.length) throw bad(pos, 'the gzip header is cut short');
  if (bytes[pos + 2] !== 8) throw bad(pos, `compression method ${bytes[pos + 2]} is not deflate (8)`);
  const flags = bytes[pos + 3];
  if (flags & 0xe0) throw bad(pos, `reserved header flags are set (0x${flags.toString(16)})`);
  let p = pos + 10;
  if (flags & 4) {
    if (p + 2 > bytes.length) throw bad(pos, 'the gzip header is cut short');
    p += 2 + (bytes[p] | (bytes[p + 1] << 8));
  }
  for (const flag of [8, 16]) {
    // FNAME and FCOMMENT: NUL-terminated strings
    if (!(flags & flag)) continue;
    const nul = bytes.indexOf(0, p);
    if (nul < 0) throw bad(pos, 'the gzip header is cut short');
    p = nul + 1;
  }
  if (flags & 2) p += 2;
  if (p > bytes.length) throw bad(pos, 'the gzip header is cut short');
  return p;
}

/** Index of the first `crc32 ‖ isize` trailer (little-endian) at or after `from`, or -1. */
function findTrailer(bytes: Uint8Array, from: number, crc: number, isize: number): number {
  const t = new Uint8Array(8);
  new DataView(t.buffer).setUint32(0, crc, true);
  new DataView(t.buffer).setUint32(4, isize, true);
  for (let i = bytes.indexOf(t[0], from); i >= 0 && i + 8 <= bytes.length; i = bytes.indexOf(t[0], i + 1)) {
    let k = 1;
    while (k < 8 && bytes[i + k] === t[k]) k++;
    if (k === 8) return i;
  }
  return -1;
}

/** Inflates the deflate stream at `start`. fflate stops at the final block, but sizes its output
 *  from the input length, so with many members after this one it is given a window of the input
 *  that grows until the stream fits. */
function inflateAt(bytes: Uint8Array, start: number, window: number, member: number): Uint8Array {
  for (;;) {
    const end = Math.min(bytes.length, start + window);
    try {
      return inflateSync(bytes.subarray(start, end));
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === 0 && end < bytes.length) { window *= 4; continue; }
      throw bad(member, `the compressed data is damaged (${(e as Error).message})`);
    }
  }
}

/** Decompresses the one gzip member at `pos`; returns its content and the offset after it. */
export function gunzipMember(bytes: Uint8Array, pos: number, window = Infinity): { data: Uint8Array; end: number } {
  const start = headerEnd(bytes, pos);
  const data = inflateAt(bytes, start, window, pos);
  // The member ends at its trailer: CRC-32 and length of the content. Searching for it (rather than
  // asking the inflater how much it consumed, which fflate does not tell) also checks the CRC; a
  // false match inside the compressed data is a 1-in-2^64 event.
  const t = findTrailer(bytes, start, crc32(data), data.length >>> 0);
  if (t < 0) throw bad(pos, 'the CRC-32 or length in the gzip trailer does not match the data (or the trailer is missing)');
  return { data, end: t + 8 };
}

/** Decompresses the gzip members that follow each other from `pos` and concatenates their
 *  content; `end` is the offset of the first byte that does not start another member. */
export function gunzipMembers(bytes: Uint8Array, pos = 0): { data: Uint8Array; end: number } {
  const parts: Uint8Array[] = [];
  let window = Infinity; // the first member usually is the whole rest of the file
  while (isGzip(bytes, pos)) {
    const m = gunzipMember(bytes, pos, window);
    window = Math.max(1 << 20, 4 * (m.end - pos));
    parts.push(m.data);
    pos = m.end;
  }
  return { data: concatBytes(parts), end: pos };
}

/** Decompresses a whole .gz file: every member, in order. Zero padding after a member (left by
 *  tape or block devices) is skipped; anything else is an error. */
export function gunzipAll(bytes: Uint8Array): Uint8Array {
  if (!isGzip(bytes)) throw bad(0, 'this is not gzip data (it does not start with 1f 8b)', 'give a .gz file');
  const parts: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos] === 0) { pos++; continue; }
    if (!isGzip(bytes, pos)) throw bad(pos, 'unexpected data after the last gzip member');
    const m = gunzipMembers(bytes, pos);
    parts.push(m.data);
    pos = m.end;
  }
  return concatBytes(parts);
}
