import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_TYPES, type Entry } from '../model/entry.ts';
import { FormatError } from '../model/problems.ts';
import { concatBytes, gzipBytes } from '../compress/gzip.ts';
import { collect, dir, errorOf, file, has, node, plain, run, sh, symlink, tempDirs, text } from '../compress/test-helpers.ts';
import { readCpio } from './read.ts';
import { encodeHeader, writeCpio } from './write.ts';
import type { Header } from './newc.ts';

const tmp = tempDirs();
afterAll(tmp.cleanup);

const cpio = (entries: Entry[]) => collect(writeCpio(entries));
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A hand-made record: header fields over defaults, name, data (padding added). */
function record(name: string, over: Partial<Header> = {}, data = new Uint8Array(0)): Uint8Array {
  const n = text(name);
  const h: Header = { ino: 1, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: data.length,
    devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: n.length + 1, check: 0, ...over };
  const padded = new Uint8Array(Math.ceil(data.length / 4) * 4);
  padded.set(data);
  return concatBytes([encodeHeader(h, n), padded]);
}
const trailer = () => record('TRAILER!!!', { ino: 0, mode: 0 });

async function fromGnu(tag: string, setup: string, names: string[], format = 'newc'): Promise<Uint8Array> {
  const d = tmp.make(tag);
  sh(`mkdir r && cd r && ${setup}`, d);
  return run('cpio', ['-o', '-H', format, '--quiet'], { cwd: join(d, 'r'), input: names.join('\n') + '\n' });
}

let canMknod = true;
try { run('mknod', [join(tmp.make('probe'), 'c'), 'c', '1', '3']); } catch { canMknod = false; }

describe('readCpio: our archives', () => {
  const tree: Entry[] = [
    dir('/bin', { mtime: 5 }),
    file('/bin/busybox', new Uint8Array(3001).map((_, i) => i), { mode: 0o4755, uid: 1000, gid: 100, mtime: 0xffffffff }),
    symlink('/bin/sh', 'busybox'),
    dir('/dev', { mode: 0o700 }),
    node('/dev/console', 'char', { major: 5, minor: 1 }),
    node('/dev/sda', 'block', { major: 8, minor: 0, uid: 0xffffffff }),
    node('/dev/initctl', 'fifo', { mode: 0o600 }),
    node('/dev/log', 'socket', { mode: 0o666 }),
    file('/empty', ''),
    file('/ünïcødé', 'x'),
  ];

  it('reads back every field of every type', async () => {
    expect(await plain(readCpio(await cpio(tree)))).toEqual(await plain(tree));
  });

  it('reads gzip-compressed archives', async () => {
    expect(await plain(readCpio(await gzipBytes(await cpio(tree))))).toEqual(await plain(tree));
  });

  it('round-trips random trees (fast-check, fixed seed)', async () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const arbEntry = fc.record({
      type: fc.constantFrom(...ENTRY_TYPES),
      mode: fc.integer({ min: 0, max: 0o7777 }),
      uid: u32, gid: u32, mtime: u32, major: u32, minor: u32,
      content: fc.uint8Array({ maxLength: 300 }),
      target: fc.string({ minLength: 1, maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(name, arbEntry), { maxLength: 25, selector: ([n]) => n }), async (list) => {
        const entries: Entry[] = list.map(([n, r]) => {
          const e: Entry = { path: '/' + n, type: r.type, mode: r.mode, uid: r.uid, gid: r.gid, mtime: r.mtime };
          if (r.type === 'file') e.data = new Blob([r.content]);
          if (r.type === 'symlink') e.target = r.target;
          if (r.type === 'char' || r.type === 'block') { e.major = r.major; e.minor = r.minor; }
          return e;
        });
        const bytes = await cpio(entries);
        expect(await plain(readCpio(bytes))).toEqual(await plain(entries));
        expect(await plain(readCpio(await gzipBytes(bytes, { level: 1 })))).toEqual(await plain(entries));
      }),
      { seed: 20240607, numRuns: 60 },
    );
  });

  it('skips the root entry and normalises names', async () => {
    const bytes = concatBytes([
      record('.', { mode: 0o40755 }), record('./bin', { mode: 0o40700 }), record('bin//x/', { mode: 0o100600 }, text('x')),
      record('/abs', { mode: 0o100644 }), trailer(),
    ]);
    expect((readCpio(bytes)).map((e) => [e.path, e.type, e.mode])).toEqual([
      ['/bin', 'dir', 0o700], ['/bin/x', 'file', 0o600], ['/abs', 'file', 0o644],
    ]);
  });
});

describe('readCpio: concatenated archives, as the kernel accepts them', () => {
  it('reads a plain archive followed by a gzip one (early microcode + main), later entries replacing earlier', async () => {
    const early = await cpio([dir('/kernel'), file('/kernel/ucode.bin', 'UCODE'), file('/init', 'old')]);
    const main = await cpio([dir('/bin'), file('/init', 'new', { mode: 0o755 })]);
    const entries = readCpio(concatBytes([early, await gzipBytes(main)]));
    expect(entries.map((e) => e.path)).toEqual(['/kernel', '/kernel/ucode.bin', '/init', '/bin']);
    const init = entries.find((e) => e.path === '/init')!;
    expect([init.mode, await init.data!.text()]).toEqual([0o755, 'new']);
  });

  it('reads archives separated by zero padding, multi-member gzip, and archives inside one gzip member', async () => {
    const a = await cpio([file('/a', 'A')]);
    const b = await cpio([file('/b', 'B')]);
    const c = await cpio([file('/c', 'C')]);
    // two archives back to back inside one member, a second member, zeros up to a multiple of 4 (the
    // kernel wants each archive 4-aligned in the file), then a plain archive: /a again, replacing the first
    const gz = concatBytes([await gzipBytes(concatBytes([a, new Uint8Array(8), b])), await gzipBytes(c)]);
    const bytes = concatBytes([gz, new Uint8Array(8 + ((4 - (gz.length % 4)) % 4)), await cpio([file('/a', 'A2')])]);
    const got = readCpio(bytes);
    expect(got.map((e) => e.path)).toEqual(['/a', '/b', '/c']);
    expect(await got[0].data!.text()).toBe('A2');
  });

  it('accepts an archive whose final padding is missing', async () => {
    const bytes = concatBytes([record('f', {}, text('abc')), trailer()]);
    expect(readCpio(bytes.subarray(0, bytes.length - 3)).map((e) => e.path)).toEqual(['/f']);
  });

  it('gives every name of a hard-link group the content carried by the last one', async () => {
    const bytes = concatBytes([
      record('l1', { ino: 7, nlink: 3 }), record('other', { ino: 8 }, text('other')), record('l2', { ino: 7, nlink: 3 }),
      record('l3', { ino: 7, nlink: 3 }, text('shared')), trailer(),
      // same inode number in the next archive is a different file
      record('l4', { ino: 7, nlink: 2 }), trailer(),
    ]);
    const got = readCpio(bytes);
    expect(await Promise.all(got.map(async (e) => [e.path, e.type, await e.data!.text()]))).toEqual([
      ['/l1', 'file', 'shared'], ['/other', 'file', 'other'], ['/l2', 'file', 'shared'], ['/l3', 'file', 'shared'], ['/l4', 'file', ''],
    ]);
  });
});

describe.skipIf(!has('cpio'))('readCpio: archives made by GNU cpio', () => {
  const setup = `mkdir -p bin etc/deep && printf 'hello\\n' > bin/busybox && chown 1000:100 bin/busybox && chmod 4755 bin/busybox
    ln -s busybox bin/sh && ln bin/busybox bin/ls && ln bin/busybox etc/deep/link && mkfifo -m 0620 etc/fifo
    printf '' > etc/empty && chown 7:8 etc && chmod 0711 etc && chown -h 3:4 bin/sh
    ${canMknod ? 'mknod -m 0600 console c 5 1 && mknod -m 0660 sda b 8 16 &&' : ''}
    touch -h -d @1600000000 bin/busybox bin/sh etc/fifo etc/empty ${canMknod ? 'console sda' : ''} && touch -d @1500000000 etc bin etc/deep`;
  const names = ['.', './bin', './bin/busybox', './bin/sh', './bin/ls', './etc', './etc/deep', './etc/deep/link', './etc/fifo', './etc/empty',
    ...(canMknod ? ['./console', './sda'] : [])];
  const t = 1_600_000_000;
  const linked = { mode: 0o4755, uid: 1000, gid: 100, mtime: t };
  // GNU cpio holds hard links back and writes the whole group when it meets the last name.
  const expected: Entry[] = [
    dir('/bin', { mtime: 1_500_000_000 }),
    symlink('/bin/sh', 'busybox', { uid: 3, gid: 4, mtime: t }),
    dir('/etc', { mode: 0o711, uid: 7, gid: 8, mtime: 1_500_000_000 }),
    dir('/etc/deep', { mtime: 1_500_000_000 }),
    file('/bin/ls', 'hello\n', linked),
    file('/bin/busybox', 'hello\n', linked),
    file('/etc/deep/link', 'hello\n', { mode: 0o4755, uid: 1000, gid: 100, mtime: t }),
    node('/etc/fifo', 'fifo', { mode: 0o620, mtime: t }),
    file('/etc/empty', '', { mtime: t }),
    ...(canMknod ? [node('/console', 'char', { major: 5, minor: 1, mtime: t }), node('/sda', 'block', { mode: 0o660, major: 8, minor: 16, mtime: t })] : []),
  ];

  for (const format of ['newc', 'crc']) {
    it(`reads every field from -H ${format}, hard links included, plain and gzipped`, async () => {
      const bytes = await fromGnu(`gnu-${format}`, setup, names, format);
      expect(await plain(readCpio(bytes))).toEqual(await plain(expected));
      const gz = run('gzip', ['-9nc'], { input: bytes });
      expect(await plain(readCpio(gz))).toEqual(await plain(expected));
    });
  }

  it('explains old odc and binary archives', async () => {
    for (const [format, what] of [['odc', 'old portable \\(odc\\)'], ['bin', 'old binary']]) {
      const bytes = await fromGnu(`gnu-${format}`, 'echo x > f', ['f'], format);
      const err = await errorOf(() => readCpio(bytes));
      expect(err).toBeInstanceOf(FormatError);
      expect(err.message).toMatch(new RegExp(`^cpio: at byte 0: this is an ${what} cpio archive; only the newc format is supported — re-create it in the newc format: \`find \\. \\| cpio -o -H newc > archive\\.cpio\`$`));
    }
  });
});

describe('readCpio: errors name the byte offset and entry', () => {
  const init = () => concatBytes([record('bin/sh', {}, text('#!/bin/busybox\n'))]);

  it('reports truncated data with the numbers from the header', async () => {
    const bytes = concatBytes([record('init', {}, text('hello')), await cpio([])]);
    const e1 = await errorOf(() => readCpio(bytes.subarray(0, 118)));
    expect(e1).toBeInstanceOf(FormatError);
    expect(e1.message).toBe('cpio: at byte 0 (entry "init"): header says 5 bytes of data but the archive ends after 2 — the file is truncated; re-create or re-download it');
    const two = concatBytes([record('a', {}, text('1234')), init()]);
    expect((await errorOf(() => readCpio(two.subarray(0, 116 + 120 + 3)))).message)
      .toBe('cpio: at byte 116 (entry "bin/sh"): header says 15 bytes of data but the archive ends after 3 — the file is truncated; re-create or re-download it');
  });

  it('reports a cut header, a cut name and a missing trailer', async () => {
    const bytes = init();
    expect((await errorOf(() => readCpio(bytes.subarray(0, 50)))).message)
      .toBe('cpio: at byte 0: the archive ends inside an entry header (after 50 of 110 bytes) — the file is truncated; re-create or re-download it');
    expect((await errorOf(() => readCpio(bytes.subarray(0, 113)))).message)
      .toBe('cpio: at byte 0: header says the name is 7 bytes but the archive ends after 3 — the file is truncated; re-create or re-download it');
    expect((await errorOf(() => readCpio(bytes))).message)
      .toBe(`cpio: at byte ${bytes.length}: the archive ends without its TRAILER!!! entry — the file is truncated; re-create or re-download it`);
  });

  it('reports bad magic at the start and between entries', async () => {
    expect((await errorOf(() => readCpio(text('hello world, not an archive')))).message)
      .toBe('cpio: at byte 0: found "hello " where a cpio archive should start (expected "070701", newc) — this is not a newc cpio archive');
    const bytes = concatBytes([init(), text('0707X1'), new Uint8Array(200)]);
    expect((await errorOf(() => readCpio(bytes))).message)
      .toBe('cpio: at byte 136: found "0707X1" where the header after entry "bin/sh" should start (expected "070701", newc) — the archive is damaged; re-create or re-download it');
  });

  it('reports a non-hex field at its own offset', async () => {
    const bytes = concatBytes([record('f'), trailer()]);
    bytes.set(latin1('00000G44'), 6 + 8 * 6); // filesize
    expect((await errorOf(() => readCpio(bytes))).message)
      .toBe('cpio: at byte 54: the filesize field "00000G44" is not 8 hexadecimal digits — the archive is damaged; re-create or re-download it');
    bytes.set(latin1('\x00\x01      '), 6 + 8 * 6);
    expect((await errorOf(() => readCpio(bytes))).message).toContain('the filesize field "\\x00\\x01      " is not 8 hexadecimal digits');
  });

  it('reports a name without its NUL, a zero name size, bad UTF-8 and an unknown file type', async () => {
    const noNul = concatBytes([record('abc'), trailer()]);
    noNul[113] = 0x41; // the NUL after "abc"
    expect((await errorOf(() => readCpio(noNul))).message)
      .toBe('cpio: at byte 0 (entry "abcA"): the name is not NUL-terminated — the archive is damaged; re-create or re-download it');
    const zero = concatBytes([record('abc', { namesize: 0 }), trailer()]);
    expect((await errorOf(() => readCpio(zero))).message).toMatch(/^cpio: at byte 0: the name size is 0/);
    const badUtf8 = concatBytes([record('ab'), trailer()]);
    badUtf8[110] = 0xff;
    expect((await errorOf(() => readCpio(badUtf8))).message).toBe('cpio: at byte 0 (entry "\uFFFDb"): the name is not valid UTF-8 — rename it with a UTF-8 name and re-create the archive');
    const weird = concatBytes([record('x', { mode: 0o070644 }), trailer()]);
    expect((await errorOf(() => readCpio(weird))).message)
      .toBe('cpio: at byte 0 (entry "x"): mode 070644 has an unknown file type (070000) — the archive is damaged; re-create or re-download it');
  });

  it('checks the data sum of crc (070702) archives', async () => {
    const ok = concatBytes([record('f', { check: 0x61 + 0x62 }, text('ab')), trailer()]);
    ok.set(text('070702'), 0);
    expect(readCpio(ok).map((e) => e.path)).toEqual(['/f']);
    ok.set(text('00000001'), 6 + 8 * 12);
    expect((await errorOf(() => readCpio(ok))).message)
      .toBe('cpio: at byte 0 (entry "f"): the data sums to 195 but the header\'s checksum says 1 — the archive is damaged; re-create or re-download it');
  });

  it('says where inside gzip data an error is, and reports damaged gzip', async () => {
    const a = await cpio([file('/a', 'A')]);
    const bad = concatBytes([a, await gzipBytes(concatBytes([record('big', {}, text('12345678')).subarray(0, 120)]))]);
    expect((await errorOf(() => readCpio(bad))).message)
      .toBe('cpio: at byte 0 of the data gunzipped from byte 512 (entry "big"): header says 8 bytes of data but the archive ends after 4 — the file is truncated; re-create or re-download it');
    const gz = await gzipBytes(a);
    const err = await errorOf(() => readCpio(gz.subarray(0, gz.length - 4)));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(/^gzip: at byte 0: /);
  });

  it('names other compressions, tar archives, misaligned archives and empty files', async () => {
    const xz = Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
    expect((await errorOf(() => readCpio(xz))).message)
      .toBe('cpio: at byte 0: this is xz-compressed data; only gzip compression is supported — decompress it first (`xz -d`), optionally re-compress it with gzip');
    const zst = concatBytes([await cpio([]), Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0])]);
    expect((await errorOf(() => readCpio(zst))).message).toMatch(/^cpio: at byte 512: this is zstd-compressed data/);
    const tar = new Uint8Array(1024);
    tar.set(text('etc/passwd'), 0);
    tar.set(text('ustar'), 257);
    expect((await errorOf(() => readCpio(tar))).message).toBe('cpio: at byte 0: this is a tar archive, not cpio — import it as a tar archive');
    const shifted = concatBytes([new Uint8Array(2), await cpio([])]);
    expect((await errorOf(() => readCpio(shifted))).message).toMatch(/^cpio: at byte 2: a cpio archive starts at an offset that is not a multiple of 4/);
    expect((await errorOf(() => readCpio(new Uint8Array(0)))).message).toMatch(/^cpio: at byte 0: the file is empty/);
    expect((await errorOf(() => readCpio(new Uint8Array(1024)))).message).toMatch(/^cpio: at byte 0: the file holds only zero bytes/);
  });
});
