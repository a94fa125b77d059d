import { lstatSync, readFileSync, readlinkSync, type Stats, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_TYPES, type Entry } from '../model/entry.ts';
import { BootsmithError, FormatError } from '../model/problems.ts';
import { readCpio } from '../cpio/read.ts';
import { writeCpio } from '../cpio/write.ts';
import { blob, collect, dir, errorOf, file, has, node, plain, run, symlink, tempDirs } from '../compress/test-helpers.ts';
import { parseCpioList } from './parse.ts';
import { writeCpioList } from './write.ts';

const tmp = tempDirs();
afterAll(tmp.cleanup);

/** A resolver over a fixed set of locations; records what it was asked. */
function files(map: Record<string, string>) {
  const asked: string[] = [];
  const resolve = async (loc: string) => { asked.push(loc); return loc in map ? blob(map[loc]) : undefined; };
  return { resolve, asked };
}

describe('parseCpioList', () => {
  it('reads the example from gen_init_cpio’s usage text', async () => {
    const list = `# A simple initramfs
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /root 0700 0 0
dir /sbin 0755 0 0
file /sbin/kinit /usr/src/klibc/kinit/kinit 0755 0 0
`;
    const { resolve, asked } = files({ '/usr/src/klibc/kinit/kinit': 'ELF' });
    const got = await parseCpioList(list, resolve);
    expect(asked).toEqual(['/usr/src/klibc/kinit/kinit']);
    expect(await plain(got)).toEqual(await plain([
      dir('/dev', { mtime: 0 }),
      node('/dev/console', 'char', { mode: 0o600, major: 5, minor: 1, mtime: 0 }),
      dir('/root', { mode: 0o700, mtime: 0 }),
      dir('/sbin', { mtime: 0 }),
      file('/sbin/kinit', 'ELF', { mode: 0o755, mtime: 0 }),
    ]));
  });

  it('reads every keyword, hard links, and the kernel tool’s number rules', async () => {
    // mode is octal with or without a leading 0 (sscanf %o); ids and device numbers are decimal
    // (sscanf %d), so "010" is ten; a leading "/" on names is optional (gen_init_cpio strips it).
    const list = [
      'dir\tbin 755 010 0100',
      'file /bin/busybox  ./busybox   4755 0 0 /bin/sh bin/ls  ',
      'slink /linuxrc bin/busybox 0777 0 0',
      'nod /dev/sda 0660 0 6 b 8 0',
      'nod dev/ttyS0 0600 0 0 c 4 64',
      'pipe /run/initctl 0600 0 0',
      'sock /run/log 0666 0 0',
      '',
      '\t  ',
      '   # indented comment',
      '#file /not/this one 0 0 0',
    ].join('\r\n');
    const { resolve } = files({ './busybox': 'BB' });
    const got = await parseCpioList(list, resolve, { mtime: 1_700_000_000 });
    const t = { mtime: 1_700_000_000 };
    expect(await plain(got)).toEqual(await plain([
      dir('/bin', { uid: 10, gid: 100, ...t }),
      file('/bin/busybox', 'BB', { mode: 0o4755, ...t }),
      file('/bin/sh', 'BB', { mode: 0o4755, ...t }),
      file('/bin/ls', 'BB', { mode: 0o4755, ...t }),
      symlink('/linuxrc', 'bin/busybox', t),
      node('/dev/sda', 'block', { mode: 0o660, gid: 6, major: 8, minor: 0, ...t }),
      node('/dev/ttyS0', 'char', { major: 4, minor: 64, ...t }),
      node('/run/initctl', 'fifo', { mode: 0o600, ...t }),
      node('/run/log', 'socket', { mode: 0o666, ...t }),
    ]));
    // the hard links share one content
    expect(got[1].data).toBe(got[2].data);
  });

  it('skips "dir /" and refuses a name listed twice, naming both lines', async () => {
    const got = await parseCpioList('dir / 0755 0 0\ndir /a 0700 0 0\ndir /b 0755 0 0\n', files({}).resolve);
    expect(got.map((e) => [e.path, e.mode, e.uid])).toEqual([['/a', 0o700, 0], ['/b', 0o755, 0]]);
    await expect(parseCpioList('dir / 0755 0 0\ndir /a 0700 0 0\ndir /b 0755 0 0\ndir a/ 0711 1 1\n', files({}).resolve))
      .rejects.toThrow('cpio list: line 4: /a is already listed on line 2 — remove one of the two lines');
  });

  const bad: [string, string][] = [
    ['dir /a 0755 0 0\nfoo /x 0 0 0', 'cpio list: line 2: unknown keyword "foo" — use file, dir, nod, slink, pipe or sock'],
    ['dir /a 0755 0', 'cpio list: line 1: dir needs 4 fields, <name> <mode> <uid> <gid>, but has 3 — write it as: dir <name> <mode> <uid> <gid>'],
    ['dir /a 0755 0 0 extra', 'cpio list: line 1: dir needs 4 fields, <name> <mode> <uid> <gid>, but has 5 — write it as: dir <name> <mode> <uid> <gid>'],
    ['\n\nfile /a loc 0644 0', 'cpio list: line 3: file needs 5 fields, <name> <location> <mode> <uid> <gid> [<hard links>], but has 4 — write it as: file <name> <location> <mode> <uid> <gid> [<hard links>]'],
    ['nod /dev/x 0600 0 0 c 1', 'cpio list: line 1: nod needs 7 fields, <name> <mode> <uid> <gid> <dev_type> <maj> <min>, but has 6 — write it as: nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>'],
    ['slink /a 0777 0 0', 'cpio list: line 1: slink needs 5 fields, <name> <target> <mode> <uid> <gid>, but has 4 — write it as: slink <name> <target> <mode> <uid> <gid>'],
    ['pipe /p 0644 0', 'cpio list: line 1: pipe needs 4 fields, <name> <mode> <uid> <gid>, but has 3 — write it as: pipe <name> <mode> <uid> <gid>'],
    ['sock /s 0644 0 0 0', 'cpio list: line 1: sock needs 4 fields, <name> <mode> <uid> <gid>, but has 5 — write it as: sock <name> <mode> <uid> <gid>'],
    ['dir /a 0789 0 0', 'cpio list: line 1: mode "0789" is not an octal permission value (0000 to 7777) — write the permission bits in octal, e.g. 0755'],
    ['dir /a 0x1ed 0 0', 'cpio list: line 1: mode "0x1ed" is not an octal permission value (0000 to 7777) — write the permission bits in octal, e.g. 0755'],
    ['dir /a 100755 0 0', 'cpio list: line 1: mode "100755" is not an octal permission value (0000 to 7777) — write the permission bits in octal, e.g. 0755'],
    ['dir /a 0755 root 0', 'cpio list: line 1: uid "root" is not a whole number from 0 to 4294967295 — write the uid in decimal'],
    ['dir /a 0755 0 -1', 'cpio list: line 1: gid "-1" is not a whole number from 0 to 4294967295 — write the gid in decimal'],
    ['dir /a 0755 4294967296 0', 'cpio list: line 1: uid "4294967296" is not a whole number from 0 to 4294967295 — write the uid in decimal'],
    ['nod /dev/x 0600 0 0 x 1 3', 'cpio list: line 1: device type "x" is neither b (block) nor c (character) — write b or c'],
    ['nod /dev/x 0600 0 0 c 1e3 3', 'cpio list: line 1: major number "1e3" is not a whole number from 0 to 4294967295 — write the major number in decimal'],
    ['nod /dev/x 0600 0 0 b 1 0x3', 'cpio list: line 1: minor number "0x3" is not a whole number from 0 to 4294967295 — write the minor number in decimal'],
    ['  dir /a 0755 0 0', 'cpio list: line 1: "dir" is indented; gen_init_cpio ignores lines that do not start with the keyword — remove the leading spaces or tabs'],
    ['file / x 0644 0 0', 'cpio list: line 1: "/" names the root directory, which can only be a dir — give the entry a name below /'],
    ['# ok\ndir /a 0755 0 0\nfile /init ./init 0755 0 0', 'cpio list: line 3: the file "./init" for /init cannot be found — correct the location or add the file'],
  ];
  for (const [list, message] of bad) {
    it(`rejects ${JSON.stringify(list.trim().split('\n').at(-1))}`, async () => {
      const err = await errorOf(() => parseCpioList(list, files({}).resolve));
      expect(err).toBeInstanceOf(FormatError);
      expect(err.message).toBe(message);
    });
  }
});

describe('writeCpioList', () => {
  const entries: Entry[] = [
    dir('/bin', { mtime: 0 }),
    file('/bin/busybox', 'BB', { mode: 0o4755, uid: 1000, gid: 100, mtime: 0 }),
    symlink('/bin/sh', 'busybox', { mtime: 0 }),
    node('/dev/console', 'char', { major: 5, minor: 1, mtime: 0 }),
    node('/dev/sda', 'block', { mode: 0o660, major: 8, minor: 0, mtime: 0 }),
    node('/run/fifo', 'fifo', { mode: 0o644, mtime: 0 }),
    node('/run/sock', 'socket', { mode: 0o755, mtime: 0 }),
  ];
  const locationOf = (e: Entry) => `/build/root${e.path}`;

  it('writes one line per entry in gen_init_cpio syntax', () => {
    expect(writeCpioList(entries, locationOf)).toBe([
      'dir /bin 0755 0 0',
      'file /bin/busybox /build/root/bin/busybox 4755 1000 100',
      'slink /bin/sh busybox 0777 0 0',
      'nod /dev/console 0600 0 0 c 5 1',
      'nod /dev/sda 0660 0 0 b 8 0',
      'pipe /run/fifo 0644 0 0',
      'sock /run/sock 0755 0 0',
    ].map((l) => l + '\n').join(''));
  });

  it('round-trips through parseCpioList', async () => {
    const contents = new Map(entries.filter((e) => e.data).map((e) => [locationOf(e), e.data!]));
    const got = await parseCpioList(writeCpioList(entries, locationOf), async (l) => contents.get(l));
    expect(await plain(got)).toEqual(await plain(entries));
  });

  it('round-trips random entries (fast-check, fixed seed)', async () => {
    const seg = fc.stringMatching(/^[a-zA-Z0-9._+-]{1,10}$/).filter((s) => s !== '.' && s !== '..');
    const arb = fc.record({
      type: fc.constantFrom(...ENTRY_TYPES), mode: fc.integer({ min: 0, max: 0o7777 }),
      uid: fc.nat({ max: 0xffffffff }), gid: fc.nat({ max: 0xffffffff }), major: fc.nat({ max: 4095 }), minor: fc.nat({ max: 0xfffff }),
      target: fc.stringMatching(/^[^\s]{1,30}$/),
    });
    await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.tuple(seg, arb), { selector: ([n]) => n, maxLength: 15 }), async (list) => {
      const es: Entry[] = list.map(([n, r]) => {
        const e: Entry = { path: '/' + n, type: r.type, mode: r.mode, uid: r.uid, gid: r.gid, mtime: 7 };
        if (r.type === 'file') e.data = blob(n);
        if (r.type === 'symlink') e.target = r.target;
        if (r.type === 'char' || r.type === 'block') { e.major = r.major; e.minor = r.minor; }
        return e;
      });
      const got = await parseCpioList(writeCpioList(es, (e) => 'src' + e.path), async (l) => blob(l.slice(4)), { mtime: 7 });
      expect(await plain(got)).toEqual(await plain(es));
    }), { seed: 7, numRuns: 80 });
  });

  it('refuses names, targets and locations the format cannot hold', async () => {
    for (const [e, what] of [
      [file('/my file', 'x'), 'the name "/my file" contains whitespace'],
      [symlink('/l', 'a\tb'), 'the link target "a\\tb" contains whitespace'],
      [symlink('/l', ''), 'the link target "" is empty'],
    ] as const) {
      const err = await errorOf(() => writeCpioList([e], () => 'loc'));
      expect(err).toBeInstanceOf(BootsmithError);
      expect(err.message).toBe(`cpio list: ${e.path}: ${what}, which a gen_init_cpio list cannot hold — rename it, or export as cpio or tar instead`);
    }
    expect((await errorOf(() => writeCpioList([file('/f', 'x')], () => 'a b'))).message).toMatch(/the location "a b" contains whitespace/);
  });
});

describe.skipIf(!has('cpio') || process.getuid?.() !== 0)('a list becomes the archive the kernel would unpack', () => {
  it('list → entries → newc → GNU cpio extraction gives the nodes, links and modes the list describes', async () => {
    const list = 'dir /dev 0755 0 0\nnod /dev/console 0600 0 5 c 5 1\nfile /init ./init 0755 0 0 /sbin/init\ndir /sbin 0700 0 0\nslink /bin busybox 0777 0 0\n';
    // /sbin/init is listed before its dir: gen_init_cpio keeps list order and so do we
    const entries = await parseCpioList(list, files({ './init': '#!/bin/sh\n' }).resolve);
    expect(readCpio(await collect(writeCpio(entries))).map((e) => e.path)).toEqual(['/dev', '/dev/console', '/init', '/sbin/init', '/sbin', '/bin']);
    const d = tmp.make('list');
    writeFileSync(join(d, 'a.cpio'), await collect(writeCpio(entries)));
    run('mkdir', ['r'], { cwd: d });
    run('cpio', ['-idm', '--quiet', '-F', '../a.cpio'], { cwd: join(d, 'r') });
    let console: Stats | undefined;
    try { console = lstatSync(join(d, 'r/dev/console')); } catch { /* mknod not permitted here */ }
    if (console) expect([console.isCharacterDevice(), Number(console.rdev), console.mode & 0o7777, console.gid]).toEqual([true, (5 << 8) | 1, 0o600, 5]);
    expect(readFileSync(join(d, 'r/sbin/init'), 'utf8')).toBe('#!/bin/sh\n');
    expect(lstatSync(join(d, 'r/sbin')).mode & 0o7777).toBe(0o700);
    expect(readlinkSync(join(d, 'r/bin'))).toBe('busybox');
  });
});
