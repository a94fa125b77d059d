import { crc32 as zlibCrc32, gzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dir, errorOf, file, node, symlink } from '../compress/test-helpers.ts';
import { createNodeDeflatePool } from '../compress/node-pool.ts';
import { setDefaultDeflatePool } from '../compress/gzip.ts';
import type { Entry } from '../model/entry.ts';
import { BootsmithError, CancelledError } from '../model/problems.ts';
import { dosDateTime, worthDeflating, zipEntries } from './zip.ts';

const EPOCH = 1_700_000_000; // 2023-11-14 22:13:20 UTC
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytesOf = async (b: Blob) => new Uint8Array(await b.arrayBuffer());
const le16 = (n: number) => hex(Uint8Array.of(n & 0xff, n >> 8));
const le32 = (n: number) => hex(new Uint8Array(new Uint32Array([n]).buffer));

/** A PRNG's bytes: incompressible. */
function noise(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
/** Sixteen letters at random: deflate halves it, and its gzip output is incompressible. */
const letters = (n: number) => noise(n, 7).map((b) => 97 + (b & 15));
/** Text-like bytes: compress well. */
function prose(n: number): Uint8Array {
  const words = ['kernel', 'firmware', 'device', 'tree', 'boot', 'partition', 'console', 'serial', 'overlay'];
  const out = new Uint8Array(n);
  let s = '';
  for (let i = 0; s.length < n; i++) s += words[(i * 7 + (i >> 3)) % words.length] + (i % 11 ? ' ' : '\n');
  out.set(new TextEncoder().encode(s.slice(0, n)));
  return out;
}

/** The central directory, read by hand (independently of zip.ts). */
function central(zip: Uint8Array) {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  expect(v.getUint32(eocd, true)).toBe(0x06054b50);
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out = [];
  for (let i = 0; i < count; i++) {
    expect(v.getUint32(p, true)).toBe(0x02014b50);
    const nameLen = v.getUint16(p + 28, true), extraLen = v.getUint16(p + 30, true), commentLen = v.getUint16(p + 32, true);
    out.push({
      madeBy: v.getUint16(p + 4, true), flags: v.getUint16(p + 8, true), method: v.getUint16(p + 10, true),
      crc: v.getUint32(p + 16, true), compressed: v.getUint32(p + 20, true), size: v.getUint32(p + 24, true),
      external: v.getUint32(p + 38, true), offset: v.getUint32(p + 42, true),
      name: new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen)),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  expect(p).toBe(eocd);
  return out;
}

describe('dosDateTime', () => {
  it('encodes UTC date and time in DOS words', () => {
    // 22:13:20 → 22<<11 | 13<<5 | 10; 2023-11-14 → 43<<9 | 11<<5 | 14
    expect(dosDateTime(EPOCH)).toEqual({ time: 0xb1aa, date: 0x576e });
    expect(dosDateTime(EPOCH + 1)).toEqual({ time: 0xb1aa, date: 0x576e }); // two-second steps
  });
  it('clamps to 1980–2107', () => {
    expect(dosDateTime(0)).toEqual({ time: 0, date: (1 << 5) | 1 });
    expect(dosDateTime(2 ** 40)).toEqual({ time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 });
  });
});

describe('zipEntries: bytes', () => {
  it('writes the exact local header, data, central header and end record for one file', async () => {
    const { blob, skipped } = await zipEntries([file('/hi.txt', 'hi', { mode: 0o755 })], { mtime: EPOCH });
    expect(skipped).toEqual([]);
    const z = await bytesOf(blob);
    const crc = zlibCrc32('hi');
    const ut = '5554' + '0500' + '01' + le32(EPOCH); // "UT", 5 bytes, mtime flag, mtime
    const local = '504b0304' + '0a00' + '0008' + '0000' + 'aab1' + '6e57' + le32(crc) + '02000000' + '02000000' + '0600' + '0900'
      + hex(new TextEncoder().encode('hi.txt')) + ut;
    // a 2-byte file deflates to more than 2 bytes: stored
    expect(hex(z.subarray(0, 45))).toBe(local);
    expect(hex(z.subarray(45, 47))).toBe(hex(new TextEncoder().encode('hi')));
    const cen = '504b0102' + '1e03' + '0a00' + '0008' + '0000' + 'aab1' + '6e57' + le32(crc) + '02000000' + '02000000' + '0600' + '0900'
      + '0000' + '0000' + '0000' + le32(0o100755 << 16) + '00000000' + hex(new TextEncoder().encode('hi.txt')) + ut;
    expect(hex(z.subarray(47, 47 + 61))).toBe(cen);
    expect(hex(z.subarray(108))).toBe('504b0506' + '0000' + '0000' + '0100' + '0100' + le32(61) + le32(47) + '0000');
    expect(z.length).toBe(130);
  });

  it('writes folders as "name/" with directory attributes and no data', async () => {
    const z = await bytesOf((await zipEntries([dir('/overlays', { mode: 0o750 })], { mtime: EPOCH })).blob);
    const [d] = central(z);
    expect(d).toMatchObject({ name: 'overlays/', method: 0, size: 0, compressed: 0, crc: 0, flags: 0x800, madeBy: 0x031e });
    expect(d.external >>> 0).toBe(((0o40750 << 16) | 0x10) >>> 0);
    expect(le16(new DataView(z.buffer).getUint16(4, true))).toBe('1400'); // version needed 2.0
  });

  it('sorts by path, skips what FAT cannot hold and names it', async () => {
    const entries: Entry[] = [
      file('/z.txt', 'z'), symlink('/link', 'z.txt'), dir('/a'), file('/a/b', 'b'), file('/a-b', 'ab'),
      node('/dev-console', 'char', { major: 5, minor: 1 }), node('/fifo', 'fifo'), node('/sock', 'socket'), node('/disk', 'block'),
    ];
    const { blob, skipped } = await zipEntries(entries, { mtime: EPOCH });
    expect(skipped).toEqual(['/link', '/dev-console', '/fifo', '/sock', '/disk']);
    expect(central(await bytesOf(blob)).map((m) => m.name)).toEqual(['a/', 'a-b', 'a/b', 'z.txt']);
  });

  it('sets the UTF-8 flag and writes names as UTF-8', async () => {
    const z = await bytesOf((await zipEntries([file('/ünïcödé/日本.txt', 'x'), dir('/ünïcödé')], { mtime: EPOCH })).blob);
    const c = central(z);
    expect(c.map((m) => m.name)).toEqual(['ünïcödé/', 'ünïcödé/日本.txt']);
    for (const m of c) expect(m.flags & 0x800).toBe(0x800);
    expect(new DataView(z.buffer).getUint16(6, true)).toBe(0x800); // local header too
  });

  it('deflates what compresses and stores what does not', async () => {
    const gz = gzipSync(letters(2_000_000));
    expect(gz.length).toBeGreaterThan(900_000);
    const entries = [
      file('/Image', prose(1_500_000)), file('/random.bin', noise(1_000_000)), file('/initramfs.gz', gz),
      file('/small-random', noise(1000)), file('/small-text', prose(1000)), file('/empty', ''),
    ];
    const z = await bytesOf((await zipEntries(entries, { mtime: EPOCH })).blob);
    const byName = Object.fromEntries(central(z).map((m) => [m.name, m]));
    expect(byName.Image.method).toBe(8);
    expect(byName.Image.compressed).toBeLessThan(1_500_000 / 5);
    expect(byName['random.bin']).toMatchObject({ method: 0, compressed: 1_000_000 });
    expect(byName['initramfs.gz']).toMatchObject({ method: 0, compressed: gz.length });
    expect(byName['small-random']).toMatchObject({ method: 0, compressed: 1000 }); // tried, no gain
    expect(byName['small-text'].method).toBe(8);
    expect(byName.empty).toMatchObject({ method: 0, size: 0, compressed: 0, crc: 0 });
    for (const e of entries) expect(byName[e.path.slice(1)].crc).toBe(zlibCrc32(await bytesOf(e.data!)));
    // fflate reads it back
    const files = unzipSync(z);
    for (const e of entries) expect(Buffer.from(files[e.path.slice(1)]).equals(Buffer.from(await bytesOf(e.data!)))).toBe(true);
  });

  it('judges compressibility from a sample', async () => {
    const worth = (b: Uint8Array) => worthDeflating(new Blob([b as Uint8Array<ArrayBuffer>]));
    expect(await worth(new Uint8Array(0))).toBe(false);
    expect(await worth(noise(10))).toBe(true); // small: simply try
    expect(await worth(prose(3_000_000))).toBe(true);
    expect(await worth(noise(3_000_000))).toBe(false);
    expect(await worth(gzipSync(letters(3_000_000)))).toBe(false);
    expect(await worth(letters(3_000_000))).toBe(true);
  });
});

describe('zipEntries: determinism and streaming', () => {
  const tree = (content: Uint8Array, parts = 1): Entry[] => {
    const step = Math.ceil(content.length / parts);
    const pieces = Array.from({ length: parts }, (_, i) => content.subarray(i * step, (i + 1) * step));
    return [dir('/overlays'), file('/kernel', new Uint8Array(0), { data: new Blob(pieces as Uint8Array<ArrayBuffer>[]) }), file('/config.txt', 'arm_64bit=1\n')];
  };

  it('gives the same bytes whatever the Blob is made of, with or without a thread pool', async () => {
    const content = prose(3_500_000);
    const a = await bytesOf((await zipEntries(tree(content), { mtime: EPOCH })).blob);
    const b = await bytesOf((await zipEntries(tree(content, 37), { mtime: EPOCH })).blob);
    const pool = createNodeDeflatePool(2);
    setDefaultDeflatePool(pool);
    try {
      const c = await bytesOf((await zipEntries(tree(content, 5), { mtime: EPOCH })).blob);
      expect(Buffer.from(c).equals(Buffer.from(a))).toBe(true);
    } finally {
      setDefaultDeflatePool(undefined);
      pool.close();
    }
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    // entry mtimes do not matter, only the option
    const d = await bytesOf((await zipEntries(tree(content).map((e) => ({ ...e, mtime: 5 })), { mtime: EPOCH })).blob);
    expect(Buffer.from(d).equals(Buffer.from(a))).toBe(true);
    const e = await bytesOf((await zipEntries(tree(content), { mtime: EPOCH + 2 })).blob);
    expect(Buffer.from(e).equals(Buffer.from(a))).toBe(false);
  });

  it('reports progress in bytes of content', async () => {
    const calls: [number, number][] = [];
    const entries = tree(prose(3_000_000));
    await zipEntries([...entries, file('/r', noise(600_000))], { mtime: EPOCH, onProgress: (d, t) => calls.push([d, t]) });
    const total = 3_000_000 + 12 + 600_000;
    expect(calls[0]).toEqual([0, total]);
    expect(calls.at(-1)).toEqual([total, total]);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const p = zipEntries(tree(prose(4_000_000), 40), { mtime: EPOCH, signal: ac.signal, onProgress: (d) => { if (d > 1_000_000) ac.abort(); } });
    expect(await errorOf(() => p)).toBeInstanceOf(CancelledError);
  });

  it('refuses what it cannot write', async () => {
    expect(await errorOf(() => zipEntries([file('/a', 'x'), file('/a', 'y')], { mtime: EPOCH }))).toBeInstanceOf(BootsmithError);
    expect((await errorOf(() => zipEntries([file('a', 'x')], { mtime: EPOCH }))).message).toMatch(/not an absolute path/);
    expect((await errorOf(() => zipEntries([], { mtime: EPOCH, level: 0 }))).message).toMatch(/level must be 1–9/);
    const liar = file('/changing', 'x', { data: { size: 10, stream: () => new Blob(['abc']).stream(), slice: (a?: number, b?: number) => new Blob(['abc']).slice(a, b) } as unknown as Blob });
    expect((await errorOf(() => zipEntries([liar], { mtime: EPOCH }))).message).toMatch(/changed while it was being read/);
  });

  it('writes an empty archive as the end record alone', async () => {
    const z = await bytesOf((await zipEntries([], { mtime: EPOCH })).blob);
    expect(hex(z)).toBe('504b0506' + '00'.repeat(18));
  });
});
