import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_TYPES, type Entry } from '../model/entry.ts';
import { BootsmithError, CancelledError } from '../model/problems.ts';
import { byPath, collect, dir, errorOf, file, has, node, plain, run, symlink, tempDirs, text, walk } from '../compress/test-helpers.ts';
import { readTar } from './read.ts';
import { splitName, tarSize, writeTar } from './write.ts';

const tmp = tempDirs();
afterAll(tmp.cleanup);
const ascii = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

let canMknod = true;
try { run('mknod', [join(tmp.make('probe'), 'c'), 'c', '1', '3']); } catch { canMknod = false; }
const isRoot = process.getuid?.() === 0;

/** The 512-byte ustar header we expect, field by field (checksum computed separately). */
function expectedHeader(f: { name: string; mode: string; uid: string; gid: string; size: string; mtime: string; type: string; link?: string; dev?: [string, string]; prefix?: string }): string {
  const field = (s: string, n: number) => (s + '\0'.repeat(n)).slice(0, n);
  const head = field(f.name, 100) + f.mode + '\0' + f.uid + '\0' + f.gid + '\0' + f.size + '\0' + f.mtime + '\0';
  const rest = f.type + field(f.link ?? '', 100) + 'ustar\0' + '00' + field('', 64) + (f.dev?.[0] ?? '0000000') + '\0' + (f.dev?.[1] ?? '0000000') + '\0' + field(f.prefix ?? '', 155) + field('', 12);
  let sum = 0;
  for (const c of head + '        ' + rest) sum += c.charCodeAt(0);
  return head + sum.toString(8).padStart(6, '0') + '\0 ' + rest;
}

describe('writeTar: bytes', () => {
  it('writes the exact ustar header for a file, then its data padded to 512, then the end marker and record padding', async () => {
    const out = await collect(writeTar([file('/etc/hostname', 'box\n', { mode: 0o640, uid: 1000, gid: 100, mtime: 1_700_000_000 })]));
    expect(ascii(out.subarray(0, 512))).toBe(expectedHeader({
      name: 'etc/hostname', mode: '0000640', uid: '0001750', gid: '0000144', size: '00000000004', mtime: '14524770400', type: '0',
    }));
    expect(ascii(out.subarray(512, 1024))).toBe('box\n' + '\0'.repeat(508));
    expect(out.length).toBe(10240);
    expect(out.subarray(1024).every((b) => b === 0)).toBe(true);
  });

  it('writes directories with a slash, symlinks, devices and fifos', async () => {
    const out = await collect(writeTar([
      dir('/bin', { mtime: 8 }), symlink('/bin/sh', 'busybox', { mtime: 8 }),
      node('/dev/console', 'char', { major: 5, minor: 1, mtime: 8 }), node('/dev/sda', 'block', { major: 8, minor: 16, mode: 0o660, mtime: 8 }),
      node('/run/fifo', 'fifo', { mode: 0o644, mtime: 8 }),
    ]));
    const base = { uid: '0000000', gid: '0000000', size: '00000000000', mtime: '00000000010' };
    expect(ascii(out.subarray(0, 512))).toBe(expectedHeader({ ...base, name: 'bin/', mode: '0000755', type: '5' }));
    expect(ascii(out.subarray(512, 1024))).toBe(expectedHeader({ ...base, name: 'bin/sh', mode: '0000777', type: '2', link: 'busybox' }));
    expect(ascii(out.subarray(1024, 1536))).toBe(expectedHeader({ ...base, name: 'dev/console', mode: '0000600', type: '3', dev: ['0000005', '0000001'] }));
    expect(ascii(out.subarray(1536, 2048))).toBe(expectedHeader({ ...base, name: 'dev/sda', mode: '0000660', type: '4', dev: ['0000010', '0000020'] }));
    expect(ascii(out.subarray(2048, 2560))).toBe(expectedHeader({ ...base, name: 'run/fifo', mode: '0000644', type: '6' }));
  });

  it('splits names over 100 bytes into prefix and name, and uses pax only when that is impossible', async () => {
    const mid = '/' + 'p'.repeat(120) + '/' + 'n'.repeat(90);
    const out = await collect(writeTar([file(mid, '', { mtime: 0 })]));
    expect(ascii(out.subarray(0, 512))).toBe(expectedHeader({
      name: 'n'.repeat(90), prefix: 'p'.repeat(120), mode: '0000644', uid: '0000000', gid: '0000000', size: '00000000000', mtime: '00000000000', type: '0',
    }));
    expect(splitName(text('a'.repeat(101)))).toBeUndefined(); // no slash
    expect(splitName(text('a/' + 'b'.repeat(101)))).toBeUndefined(); // name part too long
    expect(splitName(text('a'.repeat(156) + '/b'))).toBeUndefined(); // prefix too long

    const longName = '/' + 'x'.repeat(300);
    const pax = await collect(writeTar([file(longName, 'data', { mtime: 0 })]));
    // "<len> path=<300 x>\n": 1 + 5 + 300 + 1 = 307 bytes after the length, 3 digits → 310
    expect(pax[156]).toBe('x'.charCodeAt(0));
    expect(ascii(pax.subarray(0, 25))).toBe('PaxHeaders/' + 'x'.repeat(14));
    expect(ascii(pax.subarray(124, 136))).toBe('00000000466\0'); // 310 = 0o466
    expect(ascii(pax.subarray(512, 512 + 310))).toBe('310 path=' + 'x'.repeat(300) + '\n');
    expect(ascii(pax.subarray(1024, 1124))).toBe('x'.repeat(100)); // the header keeps a truncated name
    expect(ascii(pax.subarray(1536, 1540))).toBe('data');
  });

  it('gets pax record lengths right where the digit count changes', async () => {
    // The record length L counts its own digits: L = digits(L) + 7 + n (" path=", the name, "\n").
    // No record can be 1000 bytes long: 997 + 3 digits = 1000, which has 4.
    for (const [n, len] of [[989, 999], [990, 1001], [991, 1002], [992, 1003]] as const) {
      const out = await collect(writeTar([file('/' + 'x'.repeat(n), '', { mtime: 0 })]));
      const rec = ascii(out.subarray(512, 512 + len));
      expect(rec).toBe(`${len} path=${'x'.repeat(n)}\n`);
      expect(out[512 + len]).toBe(0);
    }
  });

  it('puts big ids, sizes out of range and negative or huge times in pax records', async () => {
    const out = await collect(writeTar([file('/f', 'q', { uid: 3_000_000, gid: 2_097_151, mtime: -5 }), file('/g', 'r', { mtime: 9_000_000_000 })]));
    expect(ascii(out.subarray(512, 1024)).replace(/\0+$/, '')).toBe('15 uid=3000000\n12 mtime=-5\n');
    const h = ascii(out.subarray(1024, 1536));
    expect(h.slice(108, 116)).toBe('0000000\0'); // uid: in the pax record
    expect(h.slice(116, 124)).toBe('7777777\0'); // gid 2097151 still fits
    expect(h.slice(136, 148)).toBe('00000000000\0'); // mtime clamped, real value in pax
    expect(ascii(out.subarray(2048 + 512, 3072)).replace(/\0+$/, '')).toBe('20 mtime=9000000000\n');
    const got = readTar(out);
    expect(got.map((e) => [e.path, e.uid, e.gid, e.mtime])).toEqual([['/f', 3_000_000, 2_097_151, -5], ['/g', 0, 0, 9_000_000_000]]);
  });

  it('is deterministic, matches tarSize and pads to 10240-byte records', async () => {
    const trees: Entry[][] = [
      [],
      [file('/a', new Uint8Array(10_000).fill(3))],
      [dir('/d'), file('/d/' + 'n'.repeat(300), 'x'), symlink('/l', 'ü'.repeat(80)), node('/s', 'socket')],
    ];
    for (const t of trees) {
      const a = await collect(writeTar(t));
      expect(await collect(writeTar(t, { chunkSize: 777 }))).toEqual(a);
      expect(a.length).toBe(tarSize(t));
      expect(a.length % 10240).toBe(0);
    }
  });

  it('leaves sockets out and says so; rejects invalid values; honours abort', async () => {
    const skipped: string[] = [];
    const out = await collect(writeTar([node('/run/sock', 'socket'), dir('/x')], { onSkip: (e, why) => skipped.push(`${e.path}: ${why}`) }));
    expect(skipped).toEqual(['/run/sock: tar cannot store sockets (GNU tar leaves them out too)']);
    expect(readTar(out).map((e) => e.path)).toEqual(['/x']);
    const err = await errorOf(() => collect(writeTar([file('/f', '', { uid: -1 })])));
    expect(err).toBeInstanceOf(BootsmithError);
    expect(err.message).toBe('tar: /f: uid -1 is not a valid whole number');
    const ac = new AbortController();
    ac.abort();
    expect(await errorOf(() => collect(writeTar([dir('/x')], { signal: ac.signal })))).toBeInstanceOf(CancelledError);
  });
});

describe('writeTar: round trip through readTar', () => {
  it('round-trips random trees (fast-check, fixed seed)', async () => {
    const seg = fc.stringMatching(/^[a-zA-Z0-9._ é-]{1,70}$/).filter((s) => s !== '.' && s !== '..');
    const arbEntry = fc.record({
      type: fc.constantFrom(...ENTRY_TYPES.filter((t) => t !== 'socket')),
      mode: fc.integer({ min: 0, max: 0o7777 }),
      uid: fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 0, max: 2 ** 40 })),
      gid: fc.integer({ min: 0, max: 2 ** 32 }),
      mtime: fc.oneof(fc.integer({ min: 0, max: 2 ** 33 - 1 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
      major: fc.integer({ min: 0, max: 4095 }),
      minor: fc.integer({ min: 0, max: 2 ** 20 - 1 }),
      content: fc.uint8Array({ maxLength: 1200 }),
      target: fc.string({ minLength: 1, maxLength: 150 }),
    });
    const names = fc.uniqueArray(fc.array(seg, { minLength: 1, maxLength: 4 }).map((parts) => '/' + parts.join('/')), { maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(names, fc.array(arbEntry, { minLength: 20, maxLength: 20 }), async (paths, records) => {
        const entries: Entry[] = paths.map((path, i) => {
          const r = records[i];
          const e: Entry = { path, type: r.type, mode: r.mode, uid: r.uid, gid: r.gid, mtime: r.mtime };
          if (r.type === 'file') e.data = new Blob([r.content]);
          if (r.type === 'symlink') e.target = r.target;
          if (r.type === 'char' || r.type === 'block') { e.major = r.major; e.minor = r.minor; }
          return e;
        });
        expect(await plain(readTar(await collect(writeTar(entries))))).toEqual(await plain(entries));
      }),
      { seed: 424242, numRuns: 60 },
    );
  });
});

describe.skipIf(!has('tar'))('writeTar: GNU tar reads our archives', () => {
  const deep = '/' + 'd'.repeat(60) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(150);
  const entries: Entry[] = [
    dir('/bin', { mtime: 1_500_000_000 }),
    file('/bin/busybox', new Uint8Array(3000).map((_, i) => i * 13), { mode: 0o4755, uid: 1000, gid: 100, mtime: 1_600_000_000 }),
    symlink('/bin/sh', 'busybox', { mtime: 1_600_000_000 }),
    symlink('/bin/far', 't'.repeat(130), { mtime: 1_600_000_000 }),
    dir('/' + 'd'.repeat(60)), dir('/' + 'd'.repeat(60) + '/' + 'e'.repeat(60)),
    file(deep, 'deep', { uid: 3_000_000, gid: 4_000_000, mtime: 1_600_000_001 }),
    file('/old', 'old', { mtime: -5 }),
    file('/ünï', 'utf8', { mode: 0o600 }),
    node('/fifo', 'fifo', { mode: 0o620, uid: 5, gid: 6, mtime: 1_600_000_000 }),
    ...(canMknod ? [node('/null', 'char', { major: 1, minor: 3, mtime: 1_600_000_000 }), node('/sda', 'block', { major: 8, minor: 16, mode: 0o660, mtime: 1_600_000_000 })] : []),
  ];

  it('lists our archive with `tar -tv`', async () => {
    const d = tmp.make('tar-t');
    writeFileSync(join(d, 'a.tar'), await collect(writeTar(entries)));
    const names = run('tar', ['-tf', 'a.tar'], { cwd: d }).toString().trim().split('\n');
    expect(names).toEqual(entries.map((e) => e.path.slice(1) + (e.type === 'dir' ? '/' : '')));
    const long = run('tar', ['-tvf', 'a.tar', '--numeric-owner'], { cwd: d }).toString();
    expect(long).toMatch(/^-rwsr-xr-x 1000\/100 +3000 \S+ \S+ bin\/busybox$/m);
    expect(long).toMatch(new RegExp(`^lrwxrwxrwx 0/0 +0 \\S+ \\S+ bin/far -> ${'t'.repeat(130)}$`, 'm'));
    expect(long).toMatch(/^-rw-r--r-- 3000000\/4000000 +4 /m);
  });

  it.skipIf(!isRoot)('extracts with GNU tar to exactly our entries', async () => {
    const d = tmp.make('tar-x');
    writeFileSync(join(d, 'a.tar'), await collect(writeTar(entries)));
    run('mkdir', ['r'], { cwd: d });
    run('tar', ['-xpf', '../a.tar', '--numeric-owner', '--same-owner'], { cwd: join(d, 'r') });
    // directory times change as their children are created; compare those separately
    const onDisk = walk(join(d, 'r'));
    const strip = (es: Entry[]) => es.map((e) => (e.type === 'dir' ? { ...e, mtime: 0 } : e));
    expect(await plain(strip(onDisk))).toEqual(await plain(strip(byPath(entries))));
    expect(onDisk.find((e) => e.path === '/bin')!.mtime).toBe(1_500_000_000);
  });
});
