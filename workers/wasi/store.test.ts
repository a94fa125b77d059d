// Unit tests for the WASI file stores and the manifest encoding (no wasm needed).

import { describe, expect, it } from 'vitest';
import { buildManifest, comparePaths, decodeField, encodeField, manifestLine } from './manifest.ts';
import { CHUNK_SIZE, ChunkedFile, GrowableBytes } from './store.ts';

describe('ChunkedFile', () => {
  it('reads zeros where nothing was written and keeps no chunk for zeros', () => {
    const f = new ChunkedFile(10 * CHUNK_SIZE);
    expect(f.read(123, 5)).toEqual(new Uint8Array(5));
    f.write(3 * CHUNK_SIZE, new Uint8Array(CHUNK_SIZE)); // zeros: nothing stored
    expect(f.storedBytes).toBe(0);
    expect(f.size).toBe(10 * CHUNK_SIZE);
  });

  it('writes and reads across chunk boundaries', () => {
    const f = new ChunkedFile();
    const data = Uint8Array.from({ length: 3 * CHUNK_SIZE }, (_, i) => (i % 251) + 1);
    f.write(CHUNK_SIZE - 7, data);
    expect(f.size).toBe(CHUNK_SIZE - 7 + data.length);
    expect(Buffer.compare(f.read(CHUNK_SIZE - 7, data.length), data)).toBe(0);
    expect(f.read(0, CHUNK_SIZE - 7).every((b) => b === 0)).toBe(true);
    expect(f.storedBytes).toBe(4 * CHUNK_SIZE);
    // A read past the end is cut short; one at the end is empty.
    expect(f.read(f.size - 2, 10).length).toBe(2);
    expect(f.read(f.size, 10).length).toBe(0);
  });

  it('drops a chunk overwritten whole with zeros, and truncates', () => {
    const f = ChunkedFile.from(new Uint8Array(2 * CHUNK_SIZE).fill(9));
    expect(f.storedBytes).toBe(2 * CHUNK_SIZE);
    f.write(CHUNK_SIZE, new Uint8Array(CHUNK_SIZE));
    expect(f.storedBytes).toBe(CHUNK_SIZE);
    f.truncate(10);
    expect(f.size).toBe(10);
    f.truncate(CHUNK_SIZE);
    expect(Buffer.compare(f.read(0, CHUNK_SIZE), Uint8Array.from({ length: CHUNK_SIZE }, (_, i) => (i < 10 ? 9 : 0)))).toBe(0);
  });

  it('gives its extents in order and converts to bytes and a Blob', async () => {
    const f = new ChunkedFile(5 * CHUNK_SIZE + 3);
    f.write(4 * CHUNK_SIZE + 1, Uint8Array.of(1, 2));
    f.write(1, Uint8Array.of(3));
    expect([...f.extents()].map((e) => e.offset)).toEqual([0, 4 * CHUNK_SIZE]);
    const bytes = f.toUint8Array();
    expect(bytes.length).toBe(5 * CHUNK_SIZE + 3);
    expect([bytes[1], bytes[4 * CHUNK_SIZE + 1], bytes[4 * CHUNK_SIZE + 2]]).toEqual([3, 1, 2]);
    const blob = f.toBlob();
    expect(blob.size).toBe(bytes.length);
    expect(Buffer.compare(new Uint8Array(await blob.arrayBuffer()), bytes)).toBe(0);
  });
});

describe('GrowableBytes', () => {
  it('never changes the array it was given', () => {
    const given = Uint8Array.of(1, 2, 3);
    const g = new GrowableBytes(given);
    g.write(1, Uint8Array.of(9));
    g.write(5, Uint8Array.of(7));
    expect(given).toEqual(Uint8Array.of(1, 2, 3));
    expect(g.bytes()).toEqual(Uint8Array.of(1, 9, 3, 0, 0, 7));
    g.truncate(2);
    expect(g.bytes()).toEqual(Uint8Array.of(1, 9));
  });

  it('appends in amortised constant time', () => {
    const g = new GrowableBytes();
    const piece = new Uint8Array(4096).fill(1);
    for (let i = 0; i < 4096; i++) g.write(g.size, piece); // 16 MiB in 4 KiB writes
    expect(g.size).toBe(16 << 20);
  });
});

describe('manifest', () => {
  it('percent-encodes spaces, "%", control and non-ASCII bytes', () => {
    expect(encodeField('/a b/100%/ü\n')).toBe('/a%20b/100%25/%C3%BC%0A');
    expect(decodeField('/a%20b/100%25/%C3%BC%0A')).toBe('/a b/100%/ü\n');
  });

  it('writes one line per entry with the fields mke2fs expects', () => {
    expect(manifestLine({ path: '/dev/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: 5, major: 8, minor: 0 })).toBe(
      '/dev/sda block 660 0 6 5 8 0',
    );
    expect(manifestLine({ path: '/bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, target: 'usr/bin' })).toBe(
      '/bin symlink 777 0 0 1 usr/bin',
    );
    expect(manifestLine({ path: '/x', type: 'file', mode: 0o4755, uid: 1, gid: 2, mtime: 3, link: 'k 1', src: 'data/7' })).toBe(
      '/x file 4755 1 2 3 ino=k%201 src=data/7',
    );
    expect(() => manifestLine({ path: 'rel', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 })).toThrow();
    expect(() => manifestLine({ path: '/c', type: 'char', mode: 0o600, uid: 0, gid: 0, mtime: 0, major: 5 })).toThrow();
    expect(() => manifestLine({ path: '/d', type: 'dir', mode: 0o10000, uid: 0, gid: 0, mtime: 0 })).toThrow();
  });

  it('puts parents before children', () => {
    expect(['/a/b', '/a b', '/', '/a', '/a/b/c'].sort(comparePaths)).toEqual(['/', '/a', '/a/b', '/a/b/c', '/a b']);
    const text = buildManifest([
      { path: '/a/b', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 },
      { path: '/a', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 },
    ]);
    expect(text.split('\n').slice(1)).toEqual(['/a dir 755 0 0 0', '/a/b file 644 0 0 0', '']);
  });
});
