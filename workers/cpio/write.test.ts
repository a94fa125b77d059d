import { lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Entry } from '../model/entry.ts';
import { BootsmithError, CancelledError } from '../model/problems.ts';
import { collect, dir, errorOf, file, has, node, run, sh, symlink, tempDirs, text } from '../compress/test-helpers.ts';
import { cpioSize, encodeHeader, writeCpio } from './write.ts';

const ascii = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
const tmp = tempDirs();
afterAll(tmp.cleanup);

// 1700000000 = 0x6553F100; 0o100755 = 0x81ED
const INIT_HEADER =
  '070701' + '00000001' + '000081ED' + '00000000' + '00000000' + '00000001' + '6553F100' + '00000005' +
  '00000000' + '00000000' + '00000000' + '00000000' + '00000005' + '00000000';
const TRAILER_RECORD =
  '070701' + '00000000' + '00000000' + '00000000' + '00000000' + '00000001' + '00000000' + '00000000' +
  '00000000' + '00000000' + '00000000' + '00000000' + '0000000B' + '00000000' + 'TRAILER!!!\0' + '\0\0\0';

describe('writeCpio: bytes', () => {
  it('writes the exact newc header, name, padding and trailer for one file', async () => {
    const out = await collect(writeCpio([file('/init', 'hello', { mode: 0o755 })]));
    // 110-byte header + "init\0" = 115, padded to 116; 5 data bytes padded to 8.
    const expected = INIT_HEADER + 'init\0' + '\0' + 'hello\0\0\0' + TRAILER_RECORD;
    expect(expected.length).toBe(248);
    expect(out.length).toBe(512);
    expect(ascii(out.subarray(0, 248))).toBe(expected);
    expect(out.subarray(248).every((b) => b === 0)).toBe(true);
  });

  it('writes dirs (nlink 2), symlinks (target as data, no NUL) and devices (rdev)', async () => {
    const entries: Entry[] = [
      dir('/dev', { mtime: 0x10 }),
      node('/dev/console', 'char', { major: 5, minor: 1, mtime: 0x20 }),
      node('/dev/sda', 'block', { major: 8, minor: 0x10, mtime: 0x20, uid: 1000, gid: 6 }),
      symlink('/bin/sh', 'busybox', { mtime: 0x30 }),
      node('/run/fifo', 'fifo', { mode: 0o644 }),
      node('/run/sock', 'socket', { mode: 0o755 }),
    ];
    const out = ascii(await collect(writeCpio(entries)));
    const fields = (at: number) => out.slice(at + 6, at + 110).match(/.{8}/g)!;
    // dir: ino 1, mode 040755, nlink 2, namesize 4 ("dev\0"), header+name = 114 → 116
    expect(out.slice(0, 116)).toBe('070701' + ['00000001', '000041ED', '00000000', '00000000', '00000002', '00000010', '00000000',
      '00000000', '00000000', '00000000', '00000000', '00000004', '00000000'].join('') + 'dev\0\0\0');
    // char device: mode 020600, rdev 5:1, name "dev/console\0" (12) → 122 → 124
    expect(fields(116)).toEqual(['00000002', '00002180', '00000000', '00000000', '00000001', '00000020', '00000000',
      '00000000', '00000000', '00000005', '00000001', '0000000C', '00000000']);
    expect(out.slice(226, 240)).toBe('dev/console\0\0\0');
    // block device: uid 1000 = 0x3E8, gid 6, rdev 8:16; name "dev/sda\0" (8) → 118 → 120
    expect(fields(240)).toEqual(['00000003', '00006180', '000003E8', '00000006', '00000001', '00000020', '00000000',
      '00000000', '00000000', '00000008', '00000010', '00000008', '00000000']);
    // symlink: mode 0120777, filesize 7, name "bin/sh\0" (7) → 117 → 120, data "busybox" → 8
    const at = 360;
    expect(fields(at)).toEqual(['00000004', '0000A1FF', '00000000', '00000000', '00000001', '00000030', '00000007',
      '00000000', '00000000', '00000000', '00000000', '00000007', '00000000']);
    expect(out.slice(at + 110, at + 128)).toBe('bin/sh\0\0\0\0busybox\0');
    // fifo and socket: type bits 010000 and 0140000, no data
    expect(fields(488)[1]).toBe('000011A4');
    expect(out.slice(488 + 110, 488 + 120)).toBe('run/fifo\0\0');
    expect(fields(608)[1]).toBe('0000C1ED');
    expect(out.slice(728).startsWith('070701')).toBe(true);
    expect(out.length % 512).toBe(0);
  });

  it('pads data to 4 bytes for every length and names to 4 counting the 110-byte header', async () => {
    for (let n = 0; n < 9; n++) {
      const name = 'x'.repeat(n + 1);
      const out = await collect(writeCpio([file('/' + name, 'y'.repeat(n))]));
      const dataAt = Math.ceil((110 + name.length + 1) / 4) * 4;
      expect(ascii(out.subarray(110, dataAt))).toBe(name + '\0'.repeat(dataAt - 110 - name.length));
      const trailerAt = dataAt + Math.ceil(n / 4) * 4;
      expect(ascii(out.subarray(dataAt, trailerAt))).toBe('y'.repeat(n) + '\0'.repeat(trailerAt - dataAt - n));
      expect(ascii(out.subarray(trailerAt, trailerAt + 6))).toBe('070701');
    }
  });

  it('numbers inodes from 1 in order and writes an empty archive as the trailer alone', async () => {
    const empty = await collect(writeCpio([]));
    expect(empty.length).toBe(512);
    expect(ascii(empty.subarray(0, 124))).toBe(TRAILER_RECORD);
    const out = ascii(await collect(writeCpio([dir('/a'), dir('/b'), dir('/c')])));
    expect([0, 112, 224].map((at) => out.slice(at + 6, at + 14))).toEqual(['00000001', '00000002', '00000003']);
  });

  it('encodes names as UTF-8 and sizes them in bytes', async () => {
    const out = await collect(writeCpio([file('/é', 'z')]));
    expect(ascii(out.subarray(6 + 8 * 11, 6 + 8 * 12))).toBe('00000003'); // 2 bytes + NUL
    expect([...out.subarray(110, 113)]).toEqual([0xc3, 0xa9, 0]);
  });

  it('is deterministic and matches cpioSize for assorted trees', async () => {
    const trees: Entry[][] = [
      [],
      [file('/a', '')],
      [dir('/d'), file('/d/' + 'n'.repeat(300), new Uint8Array(70_000).fill(7)), symlink('/l', 'ü'.repeat(50))],
      Array.from({ length: 50 }, (_, i) => file(`/f${i}`, 'q'.repeat(i * 37))),
    ];
    for (const t of trees) {
      const a = await collect(writeCpio(t));
      const b = await collect(writeCpio(t, { chunkSize: 1000 }));
      expect(b).toEqual(a);
      expect(a.length).toBe(cpioSize(t));
      expect(a.length % 512).toBe(0);
    }
  });
});

describe('writeCpio: streaming', () => {
  const tree = [dir('/d'), file('/d/big', new Uint8Array(10_000).fill(1)), file('/d/small', 'abc')];

  it('yields chunks of chunkSize bytes, the last possibly shorter', async () => {
    const sizes: number[] = [];
    for await (const c of writeCpio(tree, { chunkSize: 3000 })) sizes.push(c.length);
    const total = cpioSize(tree);
    expect(sizes.slice(0, -1).every((s) => s === 3000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(sizes.length).toBe(Math.ceil(total / 3000));
  });

  it('reports progress up to the exact archive size', async () => {
    const seen: number[] = [];
    await collect(writeCpio(tree, { chunkSize: 1024, onProgress: (n) => seen.push(n) }));
    expect(seen.at(-1)).toBe(cpioSize(tree));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.length).toBe(Math.ceil(cpioSize(tree) / 1024));
  });

  it('throws CancelledError when aborted before or during writing', async () => {
    const before = new AbortController();
    before.abort();
    expect(await errorOf(() => collect(writeCpio(tree, { signal: before.signal })))).toBeInstanceOf(CancelledError);

    const during = new AbortController();
    const err = await errorOf(async () => {
      for await (const _ of writeCpio(tree, { signal: during.signal, chunkSize: 512 })) during.abort();
    });
    expect(err).toBeInstanceOf(CancelledError);
  });

  it('reads file content through Blob.stream, not arrayBuffer', async () => {
    const b = new Blob(['streamed']);
    Object.defineProperty(b, 'arrayBuffer', { value: () => { throw new Error('arrayBuffer must not be used'); } });
    const out = await collect(writeCpio([file('/s', '')].map((e) => ({ ...e, data: b }))));
    expect(ascii(out.subarray(112, 120))).toBe('streamed');
  });

  it('fails when a file’s content is not as long as its Blob said', async () => {
    const liar = new Blob(['four']);
    Object.defineProperty(liar, 'size', { value: 10 });
    const err = await errorOf(() => collect(writeCpio([{ ...file('/x', ''), data: liar }])));
    expect(err).toBeInstanceOf(BootsmithError);
    expect(err.message).toMatch(/\/x: the content changed while it was being read \(expected 10 bytes, got 4\)/);
  });
});

describe('writeCpio: values the format cannot hold', () => {
  it('rejects files of 4 GiB or more, negative or fractional times, and huge ids', async () => {
    const huge = new Blob(['']);
    Object.defineProperty(huge, 'size', { value: 2 ** 32 });
    const cases: [Entry, RegExp][] = [
      [{ ...file('/big', ''), data: huge }, /^cpio: \/big: filesize 4294967296 does not fit the newc format .* — newc stores files of at most 4 GiB/],
      [file('/old', '', { mtime: -1 }), /^cpio: \/old: mtime -1 does not fit .* clamp the timestamp/],
      [file('/frac', '', { mtime: 1.5 }), /mtime 1.5 does not fit/],
      [file('/uid', '', { uid: 2 ** 32 }), /uid 4294967296 does not fit/],
      [node('/dev/x', 'char', { major: -1 }), /rdevmajor -1 does not fit/],
    ];
    for (const [e, re] of cases) {
      const err = await errorOf(() => collect(writeCpio([e])));
      expect(err).toBeInstanceOf(BootsmithError);
      expect(err.message).toMatch(re);
    }
    expect((await errorOf(() => collect(writeCpio([dir('relative')])))).message).toMatch(/not an absolute path/);
  });

  it('encodeHeader accepts the largest 32-bit values', () => {
    const h = encodeHeader({ ino: 1, mode: 0o100644, uid: 0xffffffff, gid: 0, nlink: 1, mtime: 0xffffffff, filesize: 0,
      devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: 2, check: 0 }, text('a'));
    expect(ascii(h.subarray(22, 30))).toBe('FFFFFFFF');
    expect(h.length).toBe(112);
  });
});

let canMknod = false;
try {
  const d = tmp.make('probe');
  run('mknod', [join(d, 'c'), 'c', '1', '3']);
  canMknod = true;
} catch { /* not permitted here */ }
const isRoot = process.getuid?.() === 0;

describe.skipIf(!has('cpio'))('writeCpio: GNU cpio reads our archives', () => {
  const entries: Entry[] = [
    dir('/bin', { mtime: 1_000_000_000 }),
    file('/bin/busybox', new Uint8Array(5000).map((_, i) => i * 7), { mode: 0o4755, uid: 1000, gid: 100, mtime: 1_234_567_890 }),
    symlink('/bin/sh', 'busybox', { mtime: 1_111_111_111 }),
    dir('/etc', { mode: 0o700 }),
    file('/etc/empty', ''),
    file('/etc/' + 'long-'.repeat(40) + 'name', 'long\n'),
    file('/init', '#!/bin/sh\necho hi\n', { mode: 0o755, mtime: 42 }),
    node('/fifo', 'fifo', { mode: 0o640, uid: 5, gid: 6 }),
    ...(canMknod ? [dir('/dev'), node('/dev/console', 'char', { major: 5, minor: 1 }), node('/dev/loop0', 'block', { major: 7, minor: 0 })] : []),
  ];

  it('lists every entry with `cpio -tv` in order', async () => {
    const d = tmp.make('cpio-t');
    writeFileSync(join(d, 'a.cpio'), await collect(writeCpio(entries)));
    const names = run('cpio', ['-it', '--quiet', '-F', 'a.cpio'], { cwd: d }).toString().trim().split('\n');
    expect(names).toEqual(entries.map((e) => e.path.slice(1)));
    const long = run('cpio', ['-itv', '--quiet', '--numeric-uid-gid', '-F', 'a.cpio'], { cwd: d }).toString();
    expect(long).toMatch(/^-rwsr-xr-x\s+1\s+1000\s+100\s+5000 .* bin\/busybox$/m);
    expect(long).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
  });

  it('writes the same bytes as GNU cpio --renumber-inodes --ignore-devno, inodes aside', async () => {
    // GNU numbers inodes from 0, we from 1: shift GNU's by one, then the archives must be identical.
    const d = tmp.make('cpio-gnu');
    sh(`mkdir -p r/bin r/etc && cd r && printf hello > init && chown 1000:100 init && chmod 4750 init
        printf '' > etc/empty && ln -s busybox bin/sh && mkfifo -m 0640 etc/fifo && chmod 700 etc
        ${canMknod ? 'mknod -m 0600 console c 5 1 &&' : ''} touch -h -d @1700000000 init etc/empty bin/sh etc/fifo bin etc ${canMknod ? 'console' : ''}`, d);
    const names = ['bin', 'bin/sh', 'etc', 'etc/empty', 'etc/fifo', 'init', ...(canMknod ? ['console'] : [])];
    const gnu = run('cpio', ['-o', '-H', 'newc', '--quiet', '--renumber-inodes', '--ignore-devno'], { cwd: join(d, 'r'), input: names.join('\n') + '\n' });
    const t = 1_700_000_000;
    const ours = await collect(writeCpio([
      dir('/bin', { mtime: t }), symlink('/bin/sh', 'busybox', { mtime: t }), dir('/etc', { mode: 0o700, mtime: t }),
      file('/etc/empty', '', { mtime: t }), node('/etc/fifo', 'fifo', { mode: 0o640, mtime: t }),
      file('/init', 'hello', { mode: 0o4750, uid: 1000, gid: 100, mtime: t }),
      ...(canMknod ? [node('/console', 'char', { major: 5, minor: 1, mtime: t })] : []),
    ]));
    const shifted = Uint8Array.from(gnu);
    for (let at = 0, i = 0; i < names.length; i++) {
      const f = (k: number) => parseInt(ascii(shifted.subarray(at + 6 + 8 * k, at + 14 + 8 * k)), 16);
      shifted.set(text((f(0) + 1).toString(16).toUpperCase().padStart(8, '0')), at + 6);
      const dataAt = at + Math.ceil((110 + f(11)) / 4) * 4;
      at = dataAt + Math.ceil(f(6) / 4) * 4;
    }
    expect(ascii(ours)).toBe(ascii(shifted));
  });

  it.skipIf(!isRoot)('extracts with the right content, modes, owners, times, links and devices', async () => {
    const d = tmp.make('cpio-x');
    writeFileSync(join(d, 'a.cpio'), await collect(writeCpio(entries)));
    const root = join(d, 'root');
    run('mkdir', [root]);
    run('cpio', ['-idm', '--quiet', '-F', '../a.cpio'], { cwd: root });
    for (const e of entries) {
      const p = join(root, e.path);
      const st = lstatSync(p);
      expect([e.path, st.mode & 0o7777]).toEqual([e.path, e.mode]);
      expect([e.path, st.uid, st.gid]).toEqual([e.path, e.uid, e.gid]);
      if (e.type === 'file') {
        expect(st.isFile()).toBe(true);
        expect(new Uint8Array(readFileSync(p))).toEqual(new Uint8Array(await e.data!.arrayBuffer()));
        expect(st.mtimeMs / 1000).toBe(e.mtime);
      }
      if (e.type === 'symlink') expect(readlinkSync(p)).toBe(e.target);
      if (e.type === 'fifo') expect(st.isFIFO()).toBe(true);
      if (e.type === 'char' || e.type === 'block') {
        expect(e.type === 'char' ? st.isCharacterDevice() : st.isBlockDevice()).toBe(true);
        expect(Number(st.rdev)).toBe((e.major! << 8) | e.minor!);
      }
    }
  });
});
