// One block of a block-parallel deflate stream (pigz-style), on fflate. Plain ESM JavaScript so that
// the same code runs in the calling thread (imported by gzip.ts), in a Node worker thread
// (deflate-thread.mjs, loaded without tsx) and in a browser module worker (deflate-thread-web.ts).
//
// The stream is cut into fixed blocks. Block i is compressed on its own with the last 32 KiB of
// block i-1 as the preset dictionary, so matches reach back across the cut as in one stream; every
// block but the last ends byte-aligned and not final (a sync flush), so the raw outputs simply
// concatenate into one valid deflate stream. deflateBlock is a pure function of its arguments: the
// bytes of a stream depend on its content, level and block size only, never on which thread
// compressed what.
//
// Two fflate 0.8 defects shape the code (both are checked by workers/compress/parallel.test.ts):
//  - The streaming `Deflate` matches against the 32 KiB of zeros that precede the data in its
//    buffer when it starts without a dictionary: in the first 32 KiB of a stream it can emit a
//    distance reaching before the start of the data ("invalid distance too far back" in zlib) when
//    that data begins with zero bytes. With a full 32 KiB dictionary the bytes before the data are
//    the real history, so the stream is valid. A block without a full dictionary (the first one) is
//    therefore compressed by the one-shot `deflateSync`, which bounds distances correctly.
//  - `Deflate.flush(true)` writes its empty stored block at the wrong offset whenever bits are
//    pending (LEN/NLEN land misaligned), so the sync flush is written here instead.

import { Deflate, deflateSync } from 'fflate';

/** Size of the pieces a block is fed to fflate's streaming Deflate in (fixed: the output depends on
 *  how the input is split). */
export const PIECE = 64 * 1024;
/** Deflate's window: the dictionary is the last WINDOW bytes before the block. */
export const WINDOW = 32 * 1024;
/** fflate memory level (hash table of 2^(12+MEM) entries). Part of the format: changes the bytes. */
export const MEM = 8;

const EMPTY = new Uint8Array(0);

/**
 * Raw deflate data for one block. Not final: the data ends with an empty non-final stored block
 * after byte alignment (`... 00 00 ff ff`, a sync flush), so the next block's data can follow
 * directly. Final: ends with the stream's last block.
 * @param {Uint8Array} block
 * @param {Uint8Array | undefined} dictionary the bytes just before `block` in the stream (the last
 *   32 KiB are used; none for the first block)
 * @param {boolean} final
 * @param {number} level 0–9
 * @returns {Uint8Array} a new array that owns its whole buffer
 */
export function deflateBlock(block, dictionary, final, level) {
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`deflate level must be 0–9, not ${level}`);
  const dict = dictionary && dictionary.length ? dictionary.subarray(-WINDOW) : undefined;
  /** @type {any} */
  const opts = { level, mem: MEM };
  if (!dict || dict.length < WINDOW) {
    if (dict) opts.dictionary = dict;
    const whole = deflateSync(block, opts);
    return final ? whole : unfinal(whole);
  }
  opts.dictionary = dict;
  /** @type {Uint8Array[]} */
  const out = [];
  const d = new Deflate(opts, (chunk) => { out.push(chunk); });
  const n = block.length;
  if (final) {
    if (n === 0) d.push(EMPTY, true);
    for (let o = 0; o < n; o += PIECE) {
      const e = Math.min(n, o + PIECE);
      d.push(block.subarray(o, e), e === n);
    }
    return concat(out);
  }
  for (let o = 0; o < n; o += PIECE) d.push(block.subarray(o, Math.min(n, o + PIECE)), false);
  // flush(false) compresses everything pending and keeps back the last partial byte.
  d.flush(false);
  if (level === 0) {
    // Stored blocks only: already byte-aligned and none final.
    out.push(Uint8Array.of(0, 0, 0, 0xff, 0xff));
    return concat(out);
  }
  // An empty final push then emits that partial byte and an empty final block, whose place is
  // known exactly: see syncTail.
  d.push(EMPTY, true);
  const tail = out.pop();
  out.push(syncTail(tail));
  return concat(out);
}

/**
 * The chunk fflate emits when a stream with nothing left to compress is ended: `k` pending bits
 * (0–7) of earlier blocks, then an empty fixed-Huffman block — BFINAL=1, BTYPE=01 (bits 1, 0),
 * end-of-block (seven 0 bits) — then zero padding. The highest set bit is thus BTYPE's first and
 * BFINAL is just below it. Returns the `k` bits followed by an empty non-final stored block.
 * @param {Uint8Array | undefined} tail
 */
function syncTail(tail) {
  if (!tail || tail.length < 2 || tail.length > 3) throw unexpected();
  let top = -1; // highest set bit, counting from bit 0 of byte 0
  for (let i = tail.length - 1; i >= 0 && top < 0; i--) {
    if (tail[i]) top = 8 * i + 31 - Math.clz32(tail[i]);
  }
  const k = top - 1;
  if (k < 0 || k > 7 || !((tail[0] >> k) & 1) || tail.length !== ((k + 17) >> 3)) throw unexpected();
  return syncFlushAfter(tail, k);
}

/**
 * A non-final deflate stream from a complete one: the final block's BFINAL bit is cleared and an
 * empty non-final stored block is written right after that block's end-of-block code.
 * @param {Uint8Array} stream
 */
function unfinal(stream) {
  const { last, end } = finalBlock(stream);
  const out = syncFlushAfter(stream, end);
  out[last >> 3] &= ~(1 << (last & 7));
  return out;
}

/**
 * The first `bits` bits of `data`, then an empty non-final stored block: 3 zero header bits
 * (BFINAL=0, BTYPE=00), zero padding to the byte boundary, LEN=0000, NLEN=ffff.
 * @param {Uint8Array} data
 * @param {number} bits
 */
function syncFlushAfter(data, bits) {
  const whole = bits >> 3, k = bits & 7;
  const at = whole + (k + 3 > 8 ? 2 : 1); // where LEN starts
  const out = new Uint8Array(at + 4);
  out.set(data.subarray(0, whole));
  if (k) out[whole] = data[whole] & ((1 << k) - 1);
  out[at + 2] = 0xff;
  out[at + 3] = 0xff;
  return out;
}

function unexpected() {
  return new Error('unexpected output from fflate at the end of a deflate block (has the fflate version changed?)');
}

/** @param {Uint8Array[]} parts */
function concat(parts) {
  if (parts.length === 1 && parts[0].byteOffset === 0 && parts[0].byteLength === parts[0].buffer.byteLength) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const r = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { r.set(p, o); o += p.length; }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Finding the final block of a deflate stream: the blocks are walked symbol by symbol (nothing is
// decompressed). Used once per stream, on the first block, so speed matters little.

const LEN_EXTRA = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0);
const DIST_EXTRA = Uint8Array.of(0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13);
const CL_ORDER = Uint8Array.of(16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15);

/**
 * A decoding table for canonical Huffman code lengths: indexed by the next `bits` input bits
 * (LSB first), each entry is `symbol << 4 | length`, or -1 for no code.
 * @param {Uint8Array} lens
 * @returns {{ table: Int32Array, bits: number }}
 */
function huffman(lens) {
  const count = new Uint16Array(16);
  let bits = 0;
  for (const l of lens) { count[l]++; if (l > bits) bits = l; }
  count[0] = 0;
  const next = new Uint16Array(16);
  for (let l = 1, code = 0; l < 16; l++) { code = (code + count[l - 1]) << 1; next[l] = code; }
  const table = new Int32Array(1 << bits).fill(-1);
  for (let s = 0; s < lens.length; s++) {
    const l = lens[s];
    if (!l) continue;
    let c = next[l]++, r = 0;
    for (let k = 0; k < l; k++) { r = (r << 1) | (c & 1); c >>= 1; }
    for (let j = r; j < table.length; j += 1 << l) table[j] = (s << 4) | l;
  }
  return { table, bits };
}

/** @type {[ReturnType<typeof huffman>, ReturnType<typeof huffman>] | undefined} */
let fixedCodes;

/**
 * Bit positions of the final block's header and of the end of that block.
 * @param {Uint8Array} b a complete raw deflate stream
 * @returns {{ last: number, end: number }}
 */
function finalBlock(b) {
  const limit = 8 * b.length;
  /** @param {number} p @param {number} k */
  const read = (p, k) => {
    const o = p >> 3;
    return ((b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) >>> (p & 7)) & ((1 << k) - 1);
  };
  const bad = () => new Error('deflate block walk: the stream is not valid (has the fflate version changed?)');
  let p = 0;
  for (;;) {
    const head = p;
    if (p + 3 > limit) throw bad();
    const final = read(p, 1), type = read(p + 1, 2);
    p += 3;
    if (type === 0) {
      p = (p + 7) & ~7;
      const len = read(p, 16);
      if ((len ^ 0xffff) !== read(p + 16, 16)) throw bad();
      p += 32 + 8 * len;
    } else {
      let lit, dist;
      if (type === 1) {
        if (!fixedCodes) {
          const l = new Uint8Array(288);
          l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
          fixedCodes = [huffman(l), huffman(new Uint8Array(30).fill(5))];
        }
        [lit, dist] = fixedCodes;
      } else if (type === 2) {
        const nlit = read(p, 5) + 257, ndist = read(p + 5, 5) + 1, ncl = read(p + 10, 4) + 4;
        p += 14;
        const cl = new Uint8Array(19);
        for (let i = 0; i < ncl; i++, p += 3) cl[CL_ORDER[i]] = read(p, 3);
        const clc = huffman(cl);
        const lens = new Uint8Array(nlit + ndist);
        for (let i = 0; i < lens.length;) {
          const e = clc.table[read(p, clc.bits)];
          if (e < 0) throw bad();
          p += e & 15;
          const s = e >> 4;
          if (s < 16) { lens[i++] = s; continue; }
          let rep, v = 0;
          if (s === 16) { if (!i) throw bad(); v = lens[i - 1]; rep = 3 + read(p, 2); p += 2; }
          else if (s === 17) { rep = 3 + read(p, 3); p += 3; }
          else { rep = 11 + read(p, 7); p += 7; }
          if (i + rep > lens.length) throw bad();
          lens.fill(v, i, i + rep);
          i += rep;
        }
        lit = huffman(lens.subarray(0, nlit));
        dist = huffman(lens.subarray(nlit));
      } else throw bad();
      const lt = lit.table, lb = lit.bits, dt = dist.table, db = dist.bits;
      for (;;) {
        if (p >= limit) throw bad();
        const e = lt[read(p, lb)];
        if (e < 0) throw bad();
        p += e & 15;
        const s = e >> 4;
        if (s < 256) continue;
        if (s === 256) break;
        if (s > 285) throw bad();
        p += LEN_EXTRA[s - 257];
        const d = dt[read(p, db)];
        if (d < 0 || d >> 4 > 29) throw bad();
        p += (d & 15) + DIST_EXTRA[d >> 4];
      }
    }
    if (p > limit) throw bad();
    if (final) return { last: head, end: p };
  }
}

// ---------------------------------------------------------------------------------------------
// The deflate threads (Node and browser) answer each task with this.

/**
 * @param {{ id: number, block?: Uint8Array, dictionary?: Uint8Array, final?: boolean, level?: number, warm?: boolean }} task
 * @returns {[{ id: number, data: Uint8Array } | { id: number, error: string }, ArrayBuffer[]]}
 */
export function runDeflateTask(task) {
  try {
    if (task.warm) {
      warmUp();
      return [{ id: task.id, data: EMPTY }, []];
    }
    const data = deflateBlock(/** @type {Uint8Array} */ (task.block), task.dictionary, !!task.final, /** @type {number} */ (task.level));
    return [{ id: task.id, data }, [/** @type {ArrayBuffer} */ (data.buffer)]];
  } catch (e) {
    return [{ id: task.id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }, []];
  }
}

/** Compresses 256 KiB of made-up text-like data, so that the JIT has compiled deflate's hot loops
 *  before the first real block (a cold thread does its first megabyte at about half speed). */
export function warmUp() {
  const n = WINDOW + 256 * 1024;
  const data = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    // letters, with a copy of recent data now and then so that matches are found
    data[i] = i & 0x1000 && i > 4096 ? data[i - 4000 + (x & 63)] : 97 + ((x >>> 8) % 20);
  }
  deflateBlock(data.subarray(WINDOW), data.subarray(0, WINDOW), false, 6);
}
