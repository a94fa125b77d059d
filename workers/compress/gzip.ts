// Deterministic gzip on top of fflate, and a multi-member gunzip that knows where each member ends
// (the cpio reader needs that: the kernel accepts a plain archive and a gzip one back to back).

import { Gzip, inflateSync } from 'fflate';
import { FormatError } from '../model/problems.ts';
import { crc32 } from './crc32.ts';
import { rechunk } from './chunker.ts';

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** fflate's streaming deflate output depends on how the input is split, so the input is always
 *  re-cut into pieces of this size: the output then depends on the content only. */
const DEFLATE_PIECE = 64 * 1024;

export function isGzip(bytes: Uint8Array, pos = 0): boolean {
  return pos + 1 < bytes.length && bytes[pos] === 0x1f && bytes[pos + 1] === 0x8b;
}

/** Gzips a stream of chunks. The header carries no name, mtime 0 and OS 3 (Unix), so the same
 *  content gives the same bytes everywhere (fflate is plain JS: no platform zlib involved). */
export async function* gzipChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { level?: number } = {},
): AsyncGenerator<Uint8Array> {
  const level = opts.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`gzip level must be 0–9, not ${level}`);
  const out: Uint8Array[] = [];
  let first = true;
  const gz = new Gzip({ level: level as Level, mem: 8, mtime: 0 }, (data) => {
    if (first) {
      // fflate leaves mtime 0 when asked to and writes OS 3; pin both so a future fflate that
      // changed its defaults could not make the output depend on the clock or the platform.
      data.fill(0, 4, 8);
      data[9] = 3;
      first = false;
    }
    out.push(data);
  });
  for await (const piece of rechunk(chunks, DEFLATE_PIECE)) {
    gz.push(piece);
    if (out.length) yield* out.splice(0);
  }
  gz.push(new Uint8Array(0), true);
  yield* out.splice(0);
}

/** Gzips one buffer (same bytes as gzipChunks). */
export async function gzipBytes(bytes: Uint8Array, opts: { level?: number } = {}): Promise<Uint8Array> {
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
