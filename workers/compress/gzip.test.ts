import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../model/problems.ts';
import { crc32 } from './crc32.ts';
import { rechunk } from './chunker.ts';
import { concatBytes, gunzipAll, gunzipMember, gunzipMembers, gzipBytes, gzipChunks, isGzip } from './gzip.ts';
import { collect, errorOf, has, run, tempDirs, text } from './test-helpers.ts';

const tmp = tempDirs();
afterAll(tmp.cleanup);

/** Deterministic pseudo-random bytes (xorshift), mixed with runs so the data compresses a little. */
function sample(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = (x & 0x300) === 0 ? 0x41 : x & 0xff;
  }
  return out;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('crc32', () => {
  it('gives the standard check value and chains', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(text('6789'), crc32(text('12345')))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('gzipChunks', () => {
  it('writes a fixed header: no name, mtime 0, OS 3 (Unix), XFL by level', async () => {
    const header = async (level?: number) => [...(await gzipBytes(text('x'), level === undefined ? {} : { level })).subarray(0, 10)];
    expect(await header()).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    expect(await header(9)).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    expect(await header(1)).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3]);
  });

  it('ends with the CRC-32 and length of the input', async () => {
    const data = sample(100_000);
    const gz = await gzipBytes(data);
    const view = new DataView(gz.buffer, gz.byteOffset, gz.byteLength);
    expect(view.getUint32(gz.length - 8, true)).toBe(crc32(data));
    expect(view.getUint32(gz.length - 4, true)).toBe(100_000);
  });

  it('gives the same bytes however the input is cut, and run after run', async () => {
    const data = sample(300_000, 7);
    const whole = await gzipBytes(data);
    const pieces = (size: number) => collect(gzipChunks(rechunk([data], size)));
    for (const size of [1, 1000, 65_536, 100_000]) {
      if (size === 1) { expect(await collect(gzipChunks(rechunk([data.subarray(0, 5000)], 1)))).toEqual(await gzipBytes(data.subarray(0, 5000))); continue; }
      expect(await pieces(size)).toEqual(whole);
    }
    expect(await gzipBytes(data)).toEqual(whole);
  });

  it('is pinned: fflate 0.8, level 6, 1 MiB blocks give these exact bytes (a change breaks reproducible builds)', async () => {
    // Pins the block-parallel format (deflate-block.mjs): a first block by fflate's one-shot
    // deflateSync, later ones by its streaming Deflate with the previous 32 KiB as dictionary fed in
    // 64 KiB pieces, sync flushes between blocks. These pins replaced those of the earlier single
    // streaming Deflate on purpose: the block split (so that threads can share the work) changes the
    // bytes of any input over 64 KiB, and that stream could be invalid for zlib (see
    // parallel.test.ts). Inputs of one block: one deflateSync stream, which still matches the old
    // pin for small input. The pool (threads or not) never changes these bytes: parallel.test.ts.
    const gz = await gzipBytes(text('bootsmith '.repeat(50)), { pool: null });
    expect(Buffer.from(gz).toString('hex')).toBe(
      '1f8b08000000000000034bcacf2f29cecd2cc95018658d141600b4feb004f4010000',
    );
    expect(sha256(await gzipBytes(sample(50_000, 3), { pool: null }))).toBe('f7199a55a51655d67bd2a9d7d5f0666ebd48a1a6b6c2b6748b9ec9822cd9af4f');
    // three blocks: little to compress, and much to compress across the block boundaries
    expect(sha256(await gzipBytes(sample(2_500_000, 3), { pool: null }))).toBe('0a9b6a4d51ddb2cd17461602df20ef202bd6374c12961ef7b9c51b5eab47eee1');
    const lines = text(Array.from({ length: 120_000 }, (_, i) => `line ${i % 977} of bootsmith\n`).join(''));
    const linesGz = await gzipBytes(lines, { pool: null });
    expect(linesGz.length).toBe(32_569);
    expect(sha256(linesGz)).toBe('2e1b49f753786378babcaf5710f255c7cdf145de291422dae323802e7c05bc30');
  });

  it.skipIf(!has('gzip'))('is decompressed by native gzip -dc, for empty, small, large and incompressible input', async () => {
    for (const data of [new Uint8Array(0), text('a'), sample(2_000_000, 5), crypto.getRandomValues(new Uint8Array(65_536))]) {
      for (const level of [0, 1, 6, 9]) {
        const gz = await gzipBytes(data, { level });
        expect(sha256(run('gzip', ['-dc'], { input: gz }))).toBe(sha256(data));
        run('gzip', ['-t'], { input: gz });
      }
    }
  });

  it('rejects levels outside 0–9', async () => {
    expect((await errorOf(() => gzipBytes(text('x'), { level: 10 }))).message).toBe('gzip level must be 0–9, not 10');
  });
});

describe('gunzip', () => {
  it('recognises the magic', () => {
    expect(isGzip(Uint8Array.from([0x1f, 0x8b]))).toBe(true);
    expect(isGzip(Uint8Array.from([0x1f]))).toBe(false);
    expect(isGzip(Uint8Array.from([0, 0x1f, 0x8b]), 1)).toBe(true);
  });

  it.skipIf(!has('gzip'))('reads native gzip output, with a file name, and concatenated members', async () => {
    const a = sample(70_000, 11);
    const b = text('second member\n');
    const ga = run('sh', ['-c', 'cat > a && gzip -9 a && cat a.gz'], { cwd: tmp.make('gz'), input: a });
    expect(ga[3] & 8).toBe(8); // FNAME set: the header carries "a"
    const gb = run('gzip', ['-1nc'], { input: b });
    expect(gunzipAll(ga)).toEqual(a);
    expect(gunzipAll(concatBytes([ga, gb, ga]))).toEqual(concatBytes([a, b, a]));
    const m = gunzipMembers(concatBytes([ga, gb, text('tail')]));
    expect(m.data).toEqual(concatBytes([a, b]));
    expect(m.end).toBe(ga.length + gb.length);
  });

  it('skips FEXTRA, FCOMMENT and FHCRC header fields', async () => {
    const gz = await gzipBytes(text('payload'));
    const extra = Uint8Array.from([4, 0, 0x41, 0x42, 0x02, 0x00]);
    const comment = text('a comment\0');
    const hcrc = Uint8Array.from([0x12, 0x34]);
    const head = gz.slice(0, 10);
    head[3] = 4 | 16 | 2;
    expect(gunzipAll(concatBytes([head, extra, comment, hcrc, gz.subarray(10)]))).toEqual(text('payload'));
  });

  it('finds member ends when the input window has to grow', async () => {
    const a = sample(500_000, 2);
    const gz = concatBytes([await gzipBytes(a), await gzipBytes(text('next'))]);
    const m = gunzipMember(gz, 0, 16);
    expect(m.data).toEqual(a);
    expect(gunzipMember(gz, m.end).data).toEqual(text('next'));
  });

  it('accepts trailing zeros, rejects trailing junk, damage and truncation with the offset', async () => {
    const gz = await gzipBytes(sample(10_000));
    expect(gunzipAll(concatBytes([gz, new Uint8Array(100)]))).toEqual(sample(10_000));
    const junk = await errorOf(() => gunzipAll(concatBytes([gz, text('junk')])));
    expect(junk).toBeInstanceOf(FormatError);
    expect(junk.message).toBe(`gzip: at byte ${gz.length}: unexpected data after the last gzip member — the file is damaged or truncated; re-create or re-download it`);

    const badCrc = gz.slice();
    badCrc[badCrc.length - 6] ^= 1;
    expect((await errorOf(() => gunzipAll(badCrc))).message)
      .toBe('gzip: at byte 0: the CRC-32 or length in the gzip trailer does not match the data (or the trailer is missing) — the file is damaged or truncated; re-create or re-download it');
    const second = concatBytes([gz, badCrc]);
    expect((await errorOf(() => gunzipAll(second))).message).toMatch(new RegExp(`^gzip: at byte ${gz.length}: the CRC-32`));
    expect((await errorOf(() => gunzipAll(gz.subarray(0, 5000)))).message).toMatch(/^gzip: at byte 0: the compressed data is damaged \(unexpected EOF\)/);
    expect((await errorOf(() => gunzipAll(gz.subarray(0, 6)))).message).toMatch(/^gzip: at byte 0: the gzip header is cut short/);
    const method = gz.slice();
    method[2] = 7;
    expect((await errorOf(() => gunzipAll(method))).message).toMatch(/^gzip: at byte 0: compression method 7 is not deflate \(8\)/);
    expect((await errorOf(() => gunzipAll(text('plain')))).message).toMatch(/^gzip: at byte 0: this is not gzip data/);
  });
});

describe('rechunk', () => {
  it('cuts into exact sizes, copies its input, and reports progress', async () => {
    const src = [text('abc'), new Uint8Array(0), text('defgh'), text('ij')];
    const progress: number[] = [];
    const out: Uint8Array[] = [];
    for await (const c of rechunk(src, 4, (n) => progress.push(n))) out.push(c);
    src[0][0] = 0x7a; // changing the input afterwards changes nothing
    expect(out.map((c) => new TextDecoder().decode(c))).toEqual(['abcd', 'efgh', 'ij']);
    expect(progress).toEqual([4, 8, 10]);
    expect(await collect(rechunk([], 4))).toEqual(new Uint8Array(0));
  });
});
