import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../model/problems.ts';
import { concatBytes, gzipBytes } from '../compress/gzip.ts';
import { byPath, errorOf, has, plain, run, sh, tempDirs, text, walk } from '../compress/test-helpers.ts';
import { readTar } from './read.ts';
import { type HeaderFields, headerBlock } from './write.ts';
import { checksums } from './ustar.ts';

const tmp = tempDirs();
afterAll(tmp.cleanup);

let canMknod = true;
try { run('mknod', [join(tmp.make('probe'), 'c'), 'c', '1', '3']); } catch { canMknod = false; }

const long = (c: string, n: number) => c.repeat(n);
const LONG_DIR = long('d', 60);
const LONG_FILE = long('f', 150); // > 100: GNU 'L' record, pax path
const LONG_TARGET = long('t', 120); // > 100: GNU 'K' record, pax linkpath

/** A tree every format can hold (ustar: names ≤ 255 split at a slash, ids ≤ 2097151). */
const COMMON = `mkdir -p etc bin dev ${LONG_DIR}/sub
  printf 'root:x:0:0:root:/root:/bin/sh\\n' > etc/passwd && chown 1000:100 etc/passwd && chmod 640 etc/passwd
  ln etc/passwd etc/passwd.hard
  ln -s ../etc/passwd bin/pw
  printf x > bin/suid && chmod 4755 bin/suid && printf '' > bin/empty && chmod 2711 bin/empty
  head -c 70000 /dev/urandom > bin/random
  printf deep > ${LONG_DIR}/sub/${long('n', 90)}
  mkfifo -m 0620 dev/fifo
  ${canMknod ? 'mknod -m 0600 dev/null c 1 3 && mknod -m 0660 dev/sda b 8 16 && mknod dev/big c 300 70000 &&' : ''}
  find . -mindepth 1 ! -type d -exec touch -h -d @1600000000 {} + && find . -mindepth 1 -type d -exec touch -d @1500000000 {} +`;

/** What only GNU and pax can hold: long names and targets, big ids, times out of ustar's range. */
const EXTENDED = `${COMMON}
  printf long > ${LONG_DIR}/${LONG_FILE} && touch -d @1600000000 ${LONG_DIR}/${LONG_FILE}
  ln -s ${LONG_TARGET} bin/longlink && touch -h -d @1600000000 bin/longlink
  printf big > bin/bigid && chown 3000000:4000000 bin/bigid && touch -d @-5 bin/bigid
  printf future > bin/future && touch -d @9000000000 bin/future
  touch -d @1500000000 ${LONG_DIR} bin`;

function tree(tag: string, script: string): string {
  const d = tmp.make(tag);
  sh(`mkdir r && cd r && ${script}`, d);
  return d;
}

function tar(dir: string, args: string[]): Uint8Array {
  return run('tar', [...args, '--sort=name', '--numeric-owner', '-cf', '-', '-C', join(dir, 'r'), '.']);
}

describe.skipIf(!has('tar'))('readTar: archives made by GNU tar', () => {
  let common: string;
  let extended: string;
  beforeAll(() => {
    common = tree('common', COMMON);
    extended = tree('extended', EXTENDED);
  });

  const cases: [string, () => string, string[]][] = [
    ['gnu', () => extended, ['--format=gnu']],
    ['posix (pax)', () => extended, ['--format=posix']],
    ['ustar', () => common, ['--format=ustar']],
    ['gnu, gzip', () => extended, ['--format=gnu', '-z']],
    ['posix, gzip', () => extended, ['--format=posix', '-z']],
  ];
  for (const [name, dir, args] of cases) {
    it(`reads every entry and field from --format=${name}`, async () => {
      const bytes = tar(dir(), args);
      const got = readTar(bytes);
      expect(await plain(byPath(got))).toEqual(await plain(walk(join(dir(), 'r'))));
      // archive order is kept: compare with GNU's own listing
      const listing = run('tar', [...args.filter((a) => a === '-z'), '-tf', '-'], { input: bytes }).toString().trim().split('\n')
        .map((n) => '/' + n.replace(/^\.\//, '').replace(/\/$/, '')).filter((n) => n !== '/');
      expect(got.map((e) => e.path)).toEqual(listing);
    });
  }

  it('reads the ids GNU tar was told to write with --owner/--group', async () => {
    const bytes = run('tar', ['--format=posix', '--owner=1000', '--group=100', '-cf', '-', '-C', join(common, 'r'), '.']);
    const got = readTar(bytes);
    expect(got.length).toBe(walk(join(common, 'r')).length);
    expect(got.every((e) => e.uid === 1000 && e.gid === 100)).toBe(true);
  });

  it('turns a hard link into a regular file with the content of the entry it names', async () => {
    const got = readTar(tar(common, ['--format=gnu']));
    const [a, b] = ['/etc/passwd', '/etc/passwd.hard'].map((p) => got.find((e) => e.path === p)!);
    expect(b.type).toBe('file');
    expect(await b.data!.text()).toBe('root:x:0:0:root:/root:/bin/sh\n');
    expect({ ...b, path: a.path }).toEqual(a);
  });

  it('reads the extended values GNU stores in base-256 and pax stores as records', async () => {
    for (const format of ['gnu', 'posix']) {
      const got = readTar(tar(extended, [`--format=${format}`]));
      const get = (p: string) => got.find((e) => e.path === p)!;
      expect([get('/bin/bigid').uid, get('/bin/bigid').gid, get('/bin/bigid').mtime]).toEqual([3000000, 4000000, -5]);
      expect(get('/bin/future').mtime).toBe(9000000000);
      expect(get('/bin/longlink').target).toBe(LONG_TARGET);
      expect(await get(`/${LONG_DIR}/${LONG_FILE}`).data!.text()).toBe('long');
    }
  });

  it('reads v7 archives (no magic: no prefix, no device fields)', async () => {
    const d = tree('v7', 'mkdir d && printf x > d/f && ln -s f d/s && ln d/f d/h && touch -h -d @1600000000 d/f d/s d/h d');
    const bytes = run('tar', ['--format=v7', '--sort=name', '-cf', '-', '-C', join(d, 'r'), '.']);
    expect(await plain(byPath(readTar(bytes)))).toEqual(await plain(walk(join(d, 'r'))));
  });
});

/** A header block built by our writer's encoder, with `patch` applied and the checksum redone. */
function block(over: Partial<Omit<HeaderFields, 'name'>> & { name: string }, patch?: (b: Uint8Array) => void): Uint8Array {
  const { name, ...rest } = over;
  const b = headerBlock({ name: text(name), prefix: new Uint8Array(0), mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, type: '0',
    linkname: new Uint8Array(0), devmajor: 0, devminor: 0, ...rest });
  if (patch) {
    patch(b);
    b.set(text(checksums(b).unsigned.toString(8).padStart(6, '0') + '\0 '), 148);
  }
  return b;
}
const dataBlocks = (s: string) => { const t = text(s); const b = new Uint8Array(Math.ceil(t.length / 512) * 512); b.set(t); return b; };
const paxData = (records: string) => dataBlocks(records);
const END = new Uint8Array(1024);

describe('readTar: header details', () => {
  it('applies global pax headers to later entries and lets per-entry records override or cancel them', async () => {
    const g = '12 uid=4242\n';
    const x = '7 uid=\n'; // empty value: back to the header's own uid
    const bytes = concatBytes([
      block({ name: 'a', uid: 1 }),
      block({ name: 'g', type: 'g', size: g.length }), paxData(g),
      block({ name: 'b', uid: 2 }),
      block({ name: 'x', type: 'x', size: x.length }), paxData(x),
      block({ name: 'c', uid: 3 }),
      block({ name: 'x', type: 'x', size: 16 }), paxData('8 uid=7\n8 gid=8\n'),
      block({ name: 'd', uid: 4 }),
      END,
    ]);
    expect(readTar(bytes).map((e) => [e.path, e.uid, e.gid])).toEqual([['/a', 1, 0], ['/b', 4242, 0], ['/c', 3, 0], ['/d', 7, 8]]);
  });

  it('truncates fractional pax times and reads negative ones', () => {
    const recs = '30 mtime=1700000000.987654321\n';
    const neg = '16 mtime=-12.75\n';
    const bytes = concatBytes([
      block({ name: 'x', type: 'x', size: recs.length }), paxData(recs), block({ name: 'a' }),
      block({ name: 'x', type: 'x', size: neg.length }), paxData(neg), block({ name: 'b' }), END,
    ]);
    expect(readTar(bytes).map((e) => e.mtime)).toEqual([1700000000, -12]);
  });

  it('reads space-led octal fields, GNU base-256 numbers and signed-char checksums', async () => {
    const b = block({ name: 'f', size: 3 }, (h) => {
      h.set(text('   644 \0'), 100); // old-style mode
      h.set([0x80, 0, 0, 0, 0, 0, 0x30, 0x39], 108); // uid 12345 in base-256
      h.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], 116); // gid −2
      h.set(text('é'), 265); // a non-ASCII uname makes signed and unsigned sums differ
    });
    const { signed, unsigned } = checksums(b);
    expect(signed).not.toBe(unsigned);
    b.set(text(signed.toString(8).padStart(6, '0') + '\0 '), 148);
    const [e] = readTar(concatBytes([b, dataBlocks('abc'), END]));
    expect([e.mode, e.uid, e.gid, await e.data!.text()]).toEqual([0o644, 12345, -2, 'abc']);
  });

  it('joins the ustar prefix, reads old directories marked by a slash, skips the root, and lets later entries win', async () => {
    const bytes = concatBytes([
      block({ name: './' , type: '5' }),
      block({ name: 'name', prefix: text('some/prefix') , size: 1 }), dataBlocks('1'),
      block({ name: 'olddir/' }),
      block({ name: './some/prefix/name', size: 1, mode: 0o600 }), dataBlocks('2'),
      END,
    ]);
    const got = readTar(bytes);
    expect(got.map((e) => [e.path, e.type, e.mode])).toEqual([['/some/prefix/name', 'file', 0o600], ['/olddir', 'dir', 0o644]]);
    expect(await got[0].data!.text()).toBe('2');
  });

  it('stops at the end-of-archive block, and accepts archives that just end', () => {
    const junk = new Uint8Array(512).fill(0x41);
    expect(readTar(concatBytes([block({ name: 'a' }), END, junk])).map((e) => e.path)).toEqual(['/a']);
    expect(readTar(block({ name: 'a' })).map((e) => e.path)).toEqual(['/a']);
  });
});

describe('readTar: errors name the byte offset and entry', () => {
  it('reports truncated data with the numbers from the header', async () => {
    const bytes = concatBytes([block({ name: 'etc/passwd', size: 2 }), dataBlocks('ab'), block({ name: 'bin/sh', size: 4096 }), dataBlocks('x'.repeat(120)).subarray(0, 120)]);
    const err = await errorOf(() => readTar(bytes));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toBe('tar: at byte 1024 (entry "bin/sh"): header says 4096 bytes of data but the archive ends after 120 — the file is truncated; re-create or re-download it');
    const gz = await gzipBytes(bytes);
    expect((await errorOf(() => readTar(gz))).message).toMatch(/^tar: at byte 1024 of the gunzipped data \(entry "bin\/sh"\): header says 4096/);
    expect((await errorOf(() => readTar(bytes.subarray(0, 1024 + 188)))).message)
      .toBe('tar: at byte 1024: the archive ends inside a header (after 188 of 512 bytes) — the file is truncated; re-create or re-download it');
  });

  it('reports a wrong checksum, a bad octal field and a bad pax record at their offsets', async () => {
    const good = block({ name: 'a' });
    const bad = block({ name: 'b' });
    bad[0] = 0x63; // "c": no longer matches its checksum
    expect((await errorOf(() => readTar(concatBytes([good, bad, END])))).message)
      .toMatch(/^tar: at byte 512: the header checksum is \d+ but the header sums to \d+ — the archive is damaged/);
    const octal = block({ name: 'm' }, (h) => h.set(text('0000x44\0'), 100));
    expect((await errorOf(() => readTar(concatBytes([good, octal, END])))).message)
      .toBe('tar: at byte 612 (entry "m"): the mode field "0000x44\\x00" is not an octal number — the archive is damaged; re-create or re-download it');
    const recs = '9 path=a\n' + 'nonsense\n';
    const pax = concatBytes([good, block({ name: 'x', type: 'x', size: recs.length }), paxData(recs), block({ name: 'b' }), END]);
    expect((await errorOf(() => readTar(pax))).message)
      .toBe('tar: at byte 1033: pax header record does not start with its length — the archive is damaged; re-create or re-download it');
  });

  it('reports hard links to entries that are not earlier, and sparse files', async () => {
    const link = block({ name: 'l', type: '1', linkname: text('missing') });
    expect((await errorOf(() => readTar(concatBytes([link, END])))).message)
      .toBe('tar: at byte 0 (entry "l"): hard link to "missing", which is not earlier in the archive — re-create the archive with the link target included');
    const sparse = block({ name: 's', type: 'S' });
    expect((await errorOf(() => readTar(concatBytes([sparse, END])))).message).toMatch(/^tar: at byte 0 \(entry "s"\): sparse files are not supported — re-create the archive without --sparse/);
  });

  it('says what a file is when it is not tar', async () => {
    expect((await errorOf(() => readTar(new Uint8Array(0)))).message).toMatch(/^tar: at byte 0: the file is empty/);
    expect((await errorOf(() => readTar(text('hello '.repeat(200))))).message)
      .toBe('tar: at byte 0: this is not a tar archive (its first block is not a valid tar header) — give a tar archive, plain or gzip-compressed');
    expect((await errorOf(() => readTar(text('070701' + '0'.repeat(600))))).message).toMatch(/^tar: at byte 0: this is a cpio archive, not tar/);
    expect((await errorOf(() => readTar(Uint8Array.from([0x42, 0x5a, 0x68, 0x39, 0, 0])))).message).toMatch(/^tar: at byte 0: this is bzip2-compressed data/);
    if (has('xz')) {
      const xz = run('xz', ['-c'], { input: readFileSync(new URL(import.meta.url)) });
      expect((await errorOf(() => readTar(xz))).message).toBe('tar: at byte 0: this is xz-compressed data; only gzip compression is supported — decompress it first (`xz -d`)');
    }
  });
});

