// planFat and the FAT name rules, without running any tool. The images themselves are checked
// with the native tools in tests/fat/fat.test.ts.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../model/entry.ts';
import { DEFAULT_FAT, type FatOptions } from '../model/project.ts';
import { BootsmithError } from '../model/problems.ts';
import { planFat, planRuns } from './fat.ts';
import { codepageFor, codepageKeepsName, fatNameProblem, foldKey, isTildeShortName, needsPlainTail, normalizeLabel } from './names.ts';
import { MiB, fatTree, layout16, layout32, planFatDetails } from './plan.ts';

const T = 1_700_000_000;
/** planFat only reads a file's size: a stand-in Blob of any size costs nothing. */
const sized = (size: number) => ({ size }) as Blob;
const file = (path: string, size = 0): Entry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, data: sized(size) });
const dir = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T });
const opts = (o: Partial<FatOptions> = {}): FatOptions => ({ ...DEFAULT_FAT, enabled: true, ...o });

function thrown(f: () => unknown): BootsmithError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BootsmithError);
    return e as BootsmithError;
  }
  throw new Error('expected a BootsmithError');
}

describe('planFat: sizes and FAT type', () => {
  it('auto-sizes a small boot folder as FAT16 with headroom', () => {
    const entries = [file('/kernel8.img', 9_000_000), file('/config.txt', 120), file('/overlays/disable-bt.dtbo', 1_200)];
    const p = planFat(entries, opts());
    expect(p.fatType).toBe(16);
    expect(p.contentBytes).toBe(9_001_320);
    expect(p.minBytes % MiB).toBe(0);
    expect(p.minBytes).toBeGreaterThanOrEqual(p.contentBytes);
    expect(p.minBytes).toBeLessThanOrEqual(p.contentBytes + 2 * MiB);
    expect(p.sizeBytes % MiB).toBe(0);
    // minBytes plus 20 % of the content, rounded up to a MiB
    expect(p.sizeBytes).toBe(Math.ceil((p.minBytes + p.contentBytes * 0.2) / MiB) * MiB);
    // the smallest cluster that keeps FAT16 at or under 65524 clusters
    expect(p.clusterBytes).toBe(512);
  });

  it('gives an empty tree the smallest FAT16 image', () => {
    const p = planFat([], opts({ headroomPercent: 0 }));
    expect(p).toMatchObject({ contentBytes: 0, fatType: 16, clusterBytes: 512 });
    expect(p.minBytes).toBe(3 * MiB);
    expect(p.sizeBytes).toBe(3 * MiB);
  });

  it('grows the headroom with the percentage', () => {
    const entries = [file('/a', 50 * MiB)];
    const a = planFat(entries, opts({ headroomPercent: 0 }));
    const b = planFat(entries, opts({ headroomPercent: 100 }));
    expect(a.sizeBytes).toBe(a.minBytes);
    expect(b.sizeBytes).toBe(a.minBytes + 50 * MiB);
    // FAT32's floor: 33 MiB, and headroom on the content only
    expect(planFat([file('/a', MiB)], opts({ fatType: 32 })).sizeBytes).toBe(34 * MiB);
  });

  it('picks FAT32 wherever it can have 65525 clusters (auto), FAT16 below', () => {
    const entries = [file('/kernel', 10 * MiB)];
    expect(planFat(entries, opts({ size: 32 * MiB }))).toMatchObject({ fatType: 16, clusterBytes: 512 });
    expect(planFat(entries, opts({ size: 33 * MiB }))).toMatchObject({ fatType: 32, clusterBytes: 512 });
    // 2 KiB clusters (4 sectors, as Raspberry Pi OS) from where they give 65525 clusters
    expect(planFat(entries, opts({ size: 128 * MiB }))).toMatchObject({ fatType: 32, clusterBytes: 512 });
    expect(planFat(entries, opts({ size: 129 * MiB }))).toMatchObject({ fatType: 32, clusterBytes: 2048 });
    expect(planFat(entries, opts({ size: 8 * 1024 * MiB }))).toMatchObject({ fatType: 32, clusterBytes: 2048 });
    expect(planFat(entries, opts({ size: 64 * 1024 * MiB }))).toMatchObject({ fatType: 32, clusterBytes: 32768 });
    // auto size: a Pi boot folder of 40 MB becomes FAT32
    const pi = planFat([file('/kernel8.img', 33 * MiB), file('/initramfs.gz', 7 * MiB)], opts());
    expect(pi).toMatchObject({ fatType: 32, clusterBytes: 512 });
    expect(pi.minBytes).toBe(41 * MiB);
    expect(pi.sizeBytes).toBe(49 * MiB); // 41 MiB + 20 % of 40 MiB, rounded up
    const big = planFat([file('/rootfs.img', 600 * MiB)], opts());
    expect(big).toMatchObject({ fatType: 32, clusterBytes: 2048 });
  });

  it('uses FAT16 just above 33 MiB when only its smaller tables hold the content', () => {
    const entries = [file('/big', 32 * MiB + 600 * 1024)];
    const p = planFat(entries, opts({ size: 33 * MiB }));
    expect(p.fatType).toBe(16);
    expect(() => planFat(entries, opts({ size: 33 * MiB, fatType: 32 }))).toThrow(/needs at least 34 MiB/);
  });

  it('picks FAT32 with small clusters for that many small files, which FAT16 cannot hold', () => {
    // 70 000 one-byte files take 70 000 clusters: more than FAT16 can ever have (65 524).
    const entries: Entry[] = [];
    for (let d = 0; d < 70; d++) for (let i = 0; i < 1000; i++) entries.push(file(`/d${d}/f${i}`, 1));
    const p = planFat(entries, opts());
    expect(p.fatType).toBe(32);
    expect(p.clusterBytes).toBe(512);
    expect(p.sizeBytes).toBeLessThan(100 * MiB);
    const e = thrown(() => planFat(entries, opts({ fatType: 16 })));
    expect(e.message).toMatch(/does not fit in FAT16/);
    expect(e.message).toMatch(/Choose FAT32 or auto/);
  });

  it('honours an explicit FAT type and size', () => {
    const p = planFat([file('/k', MiB)], opts({ fatType: 32, size: 64 * MiB }));
    expect(p).toMatchObject({ fatType: 32, sizeBytes: 64 * MiB, clusterBytes: 512 });
    const q = planFat([file('/k', MiB)], opts({ fatType: 16, size: 1024 * MiB }));
    expect(q).toMatchObject({ fatType: 16, sizeBytes: 1024 * MiB, clusterBytes: 16384 });
    // explicit type, auto size: the smallest size that type allows
    const r = planFat([file('/k', MiB)], opts({ fatType: 32, headroomPercent: 0 }));
    expect(r.fatType).toBe(32);
    expect(r.minBytes).toBe(33 * MiB);
    expect(r.sizeBytes).toBe(33 * MiB);
  });

  it('refuses an explicit size below what the content needs, naming both sizes', () => {
    const entries = [file('/kernel8.img', 38 * MiB + 100 * 1024)];
    const need = planFat(entries, opts()).minBytes;
    expect(need).toBe(39 * MiB);
    const e = thrown(() => planFat(entries, opts({ size: 32 * MiB })));
    expect(e.message).toBe(
      'The FAT partition needs at least 39 MiB for this content (38.1 MiB of files), but its size is set to 32 MiB. Set the size to 39 MiB or more, or choose auto.',
    );
    // just enough works
    expect(planFat(entries, opts({ size: need })).sizeBytes).toBe(need);
  });

  it('refuses FAT32 where it cannot have 65525 clusters, saying which sizes work', () => {
    const e = thrown(() => planFat([file('/a', 10)], opts({ fatType: 32, size: 32 * MiB })));
    expect(e.message).toMatch(/^FAT32 needs at least 65525 clusters, so a partition of at least 33 MiB .*size is set to 32 MiB\. Set the size to 33 MiB or more, or choose FAT16 or auto\.$/);
  });

  it('refuses FAT16 beyond its range, saying which sizes work', () => {
    const e = thrown(() => planFat([file('/a', 10)], opts({ fatType: 16, size: 4096 * MiB })));
    expect(e.message).toMatch(/^FAT16 can address at most 65524 clusters of 32 KiB, so it works from 3 MiB up to (\d+) MiB, but the size is set to 4 GiB\. Choose FAT32 or auto, or set the size to 3 MiB–\1 MiB\.$/);
    const hi = Number(/up to (\d+) MiB/.exec(e.message)![1]);
    expect(hi).toBe(2047); // 2048 MiB would need 65532 clusters of 32 KiB
    expect(planFat([], opts({ fatType: 16, size: hi * MiB })).clusterBytes).toBe(32768);
    expect(() => planFat([], opts({ fatType: 16, size: (hi + 1) * MiB }))).toThrow(/FAT16 can address/);
    const small = thrown(() => planFat([], opts({ fatType: 16, size: MiB })));
    expect(small.message).toMatch(/^FAT16 needs a partition of at least 3 MiB, but the size is set to 1 MiB\./);
  });

  it('refuses nonsense sizes and types', () => {
    expect(thrown(() => planFat([], opts({ size: -5 }))).message).toMatch(/whole number of bytes/);
    expect(thrown(() => planFat([], opts({ size: 2 ** 42 }))).message).toMatch(/ends at 2 TiB/);
    expect(thrown(() => planFat([], opts({ fatType: 12 as 16 }))).message).toMatch(/16, 32 or auto/);
  });

  it('sizes the FAT16 root directory for a crowded top folder', () => {
    const entries = Array.from({ length: 600 }, (_, i) => file(`/file number ${i}.txt`, 1));
    const d = planFatDetails(entries, opts());
    expect(d.fatType).toBe(16);
    // 600 names of 19–21 characters: 3 slots each, plus the label and a spare
    expect(d.rootEntries).toBe(1808);
    const huge = Array.from({ length: 12000 }, (_, i) => file(`/a rather long file name number ${i}.txt`, 1));
    expect(thrown(() => planFat(huge, opts({ fatType: 16 }))).message).toMatch(/root directory holds at most 32768\. Move some of them into a folder, or choose FAT32 or auto\./);
    expect(planFat(huge, opts()).fatType).toBe(32);
  });

  it('uses clusters of at least 1 KiB when a name needs more than 16 directory slots', () => {
    // mtools grows a folder by one cluster per name at most: 16 slots with 512-byte clusters
    const long = file('/' + 'n'.repeat(196), 1);
    expect(planFat([file('/' + 'n'.repeat(195), 1)], opts()).clusterBytes).toBe(512);
    expect(planFat([long], opts()).clusterBytes).toBe(1024);
    const e = thrown(() => planFat([long], opts({ fatType: 32, size: 40 * MiB })));
    expect(e.message).toMatch(/^FAT32 needs at least 65525 clusters, so a partition of at least 65 MiB \(with 1024-byte clusters\)/);
    expect(planFat([long], opts({ fatType: 32, size: 65 * MiB })).clusterBytes).toBe(1024);
  });

  it('counts folders, long names and implied parents', () => {
    const p = planFatDetails([file('/a/b/c/d.txt', 1)], opts());
    expect(p.tree.nodes.map((n) => n.path)).toEqual(['/a', '/a/b', '/a/b/c', '/a/b/c/d.txt']);
    expect(p.tree.contentBytes).toBe(1);
  });

  it('skips symlinks, devices, FIFOs and sockets', () => {
    const other = (path: string, type: Entry['type']): Entry => ({ path, type, mode: 0o777, uid: 0, gid: 0, mtime: T, target: 'x', major: 1, minor: 3 });
    const d = planFatDetails([file('/a', 5), other('/l', 'symlink'), other('/null', 'char'), other('/sda', 'block'), other('/p', 'fifo'), other('/s', 'socket')], opts());
    expect(d.tree.skipped).toEqual(['/l', '/null', '/p', '/s', '/sda']);
    expect(d.tree.nodes.map((n) => n.path)).toEqual(['/a']);
  });

  it('keeps its layout maths in the ranges mkfs.fat allows', () => {
    for (const mib of [3, 4, 8, 31, 32, 33, 64, 255, 256, 511, 1024, 2047]) {
      const p = planFatDetails([], opts({ size: mib * MiB, fatType: 16 }));
      expect(p.layout.clusters).toBeGreaterThanOrEqual(4087);
      expect(p.layout.clusters).toBeLessThanOrEqual(65524);
    }
    expect(layout16(2 * MiB, 1, 512)).toBeUndefined(); // too few clusters
    expect(layout16(128 * MiB, 1, 512)).toBeUndefined(); // too many
    expect(layout32(32 * MiB, 1)).toBeUndefined();
    expect(layout32(33 * MiB, 1)?.clusters).toBeGreaterThanOrEqual(65525);
  });
});

describe('planFat: labels', () => {
  it('upper-cases and accepts FAT label characters', () => {
    expect(normalizeLabel('boot')).toEqual({ label: 'BOOT' });
    expect(normalizeLabel("RPI-BOOT_1!#$%&'()@^`{}~")).toMatchObject({ problem: expect.stringMatching(/at most 11/) });
    expect(normalizeLabel('my boot  ')).toEqual({ label: 'MY BOOT' });
    expect(normalizeLabel('')).toEqual({ label: '' });
    expect(planFatDetails([], opts({ label: 'bootfs' })).label).toBe('BOOTFS');
  });

  it('refuses a bad label, naming the character', () => {
    expect(thrown(() => planFat([], opts({ label: 'BOOT:1' }))).message).toBe(
      'The FAT label "BOOT:1" contains ":", which a FAT label cannot hold. Use up to 11 of A–Z, 0–9, space and ! # $ % & \' ( ) - @ ^ _ ` { } ~.',
    );
    expect(thrown(() => planFat([], opts({ label: 'Bööt' }))).message).toMatch(/contains "ö" \(U\+00F6\)/);
    expect(thrown(() => planFat([], opts({ label: 'A.B' }))).message).toMatch(/contains "\."/);
    expect(thrown(() => planFat([], opts({ label: 'TWELVE CHARS' }))).message).toMatch(/is 12 characters long; a FAT label holds at most 11/);
    expect(thrown(() => planFat([], opts({ label: ' LEAD' }))).message).toMatch(/starts with a space/);
    expect(thrown(() => planFat([], opts({ label: 'TAB\t' }))).message).toMatch(/control character U\+0009/);
  });
});

describe('planFat: names', () => {
  it('refuses names FAT cannot hold, naming the entry and the fix', () => {
    const cases: [string, RegExp][] = [
      ['/boot/a*b.txt', /\/boot\/a\*b\.txt: the name contains "\*", which FAT does not allow/],
      ['/x:y', /contains ":"/],
      ['/q?', /contains "\?"/],
      ['/p|ipe', /contains "\|"/],
      ['/"quoted"', /contains """/],
      ['/less<more>', /contains "<"/],
      ['/back\\slash', /contains "\\"/],
      ['/dots...', /\/dots\.\.\.: the name ends with a dot, which FAT drops/],
      ['/space ', /ends with a space/],
      ['/CON', /"CON" is a reserved DOS device name/],
      ['/dir/lpt1', /reserved DOS device name/],
      ['/tab\tname', /control character U\+0009/],
      ['/smile 😀.txt', /"😀" \(U\+1F600\), a character outside Unicode's Basic Multilingual Plane/],
      ['/' + 'x'.repeat(256), /256 UTF-16 units long; FAT long names hold at most 255/],
      ['/°', /would be stored as a DOS short name/],
      ['/ßzß8°~00;C', /first 8 characters end in "~00", for which our FAT writer \(mtools 4\.0\.32\) makes a broken short name\. Rename it, e\.g\. drop the zeros/],
      ['/abc~007 long.txt', /end in "~007"/],
    ];
    for (const [path, re] of cases) {
      const e = thrown(() => planFat([file(path, 1)], opts()));
      expect(e.message, path).toMatch(re);
      expect(e.message, path).toMatch(/^FAT partition: /);
      expect(e.message, path).toMatch(/Rename it/);
      expect(e.problems[0].path).toBe(path);
    }
  });

  it('accepts what VFAT holds: long, unicode, odd but legal names', () => {
    const names = [
      'bcm2710-rpi-zero-2-w.dtb', 'Überlänge Datei mit einem sehr langen Namen.txt', 'é.txt', 'Жж', 'ünï', '中文名字.txt',
      ' leading space', '.hidden', 'a+b,c;d=e[f]g', "it's (1) & {2} @ ^ ~ `", 'x'.repeat(255), 'con.txt', 'COM5', 'ß', 'Ω', '°°°°°°°°°.txt', 'abc~0 x.txt', 'file~1.txt', 'backup~',
    ];
    for (const n of names) expect(fatNameProblem(n), n).toBeUndefined();
    const p = planFat(names.map((n) => file('/' + n, 1)), opts());
    expect(p.contentBytes).toBe(names.length);
  });

  it('lists every bad name once, with a count', () => {
    const e = thrown(() => planFat([file('/a*'), file('/b?'), file('/c.')], opts()));
    expect(e.message).toMatch(/\(and 2 more problems\)/);
    expect(e.problems.map((p) => p.path)).toEqual(['/a*', '/b?', '/c.']);
  });

  it('refuses two names in one folder that differ only by case', () => {
    const e = thrown(() => planFat([file('/boot/config.txt'), file('/boot/Config.TXT'), file('/other/config.txt')], opts()));
    expect(e.message).toBe(
      'FAT partition: /boot/config.txt: "config.txt" and "Config.TXT" in /boot differ only in letter case, and FAT folders ignore case, so one would replace the other. Rename one of them.',
    );
    // also a folder against a file, and non-ASCII letters
    expect(() => planFat([file('/Boot/x'), file('/boot')], opts())).toThrow(/differ only in letter case/);
    expect(() => planFat([file('/Ärger'), file('/ärger')], opts())).toThrow(/differ only in letter case/);
    expect(() => planFat([file('/straße'), file('/STRAẞE')], opts())).toThrow(/differ only in letter case/);
  });

  it('folds case the way FAT compares names', () => {
    expect(foldKey('Kernel.IMG')).toBe(foldKey('kernel.img'));
    expect(foldKey('ÄÖÜ')).toBe(foldKey('äöü'));
    expect(foldKey('Ж')).toBe(foldKey('ж'));
    expect(foldKey('K')).toBe(foldKey('k')); // Kelvin sign
    expect(foldKey('a')).not.toBe(foldKey('b'));
  });

  it('picks a code page under which mtools writes a long name for short non-ASCII names', () => {
    expect(codepageFor('config.txt')).toBe(850);
    expect(codepageFor('Überlänge Datei.txt')).toBe(850); // long: mtools writes a long name anyway
    expect(codepageFor('Жж')).toBe(850); // Cyrillic is not in 850
    expect(codepageFor('é.txt')).toBe(866); // é is in 850 but not in 866
    expect(codepageFor('ünï')).toBe(866);
    expect(codepageFor('ÿ')).toBe(866);
    expect(codepageFor('¤')).toBe(437); // in 850 and 866, not in 437
    expect(codepageFor('■')).toBe(1252); // in the three DOS code pages, not in Windows-1252
    expect(codepageFor('°')).toBeUndefined(); // in all of them
    expect(codepageKeepsName('é.txt', 850)).toBe(false);
    expect(codepageKeepsName('µ', 850)).toBe(false); // µ is in 850 (upper-cased Μ is not: unsure, so no)
  });

  it('creates names whose short-name stem ends with "~" without numeric tails', () => {
    for (const n of ['a=b~~', '%=%0X~~', 'A=B~', '=~', 'abcdefg~xyz.txt', ' ~', '.~', 'a b~', 'x~', 'é~', 'abc d e~.txt', 'ab~.~']) expect(needsPlainTail(n), n).toBe(true);
    for (const n of ['ab~ c.txt', 'a=b~1', 'abcdefgh~.txt', 'x.y~', 'config.txt', 'LONGFI~1.TXT', '~a']) expect(needsPlainTail(n), n).toBe(false);
    const t = fatTree([file('/abcdefg~xyz.txt'), file('/b'), file('/c/d'), file('/a=b~~')]);
    // "a=b~~" could be a bare short name with "~": first; then default settings before no-tail
    expect(t.root.children.map((c) => [c.name, c.numericTail])).toEqual([['a=b~~', false], ['b', true], ['c', true], ['abcdefg~xyz.txt', false]]);
  });

  it('creates bare short names with "~" first in their folder', () => {
    expect(isTildeShortName('LONGFI~1.TXT')).toBe(true);
    expect(isTildeShortName('a~1')).toBe(true);
    expect(isTildeShortName('long~name.txt')).toBe(false);
    expect(isTildeShortName('é~1')).toBe(false);
    const t = fatTree([file('/longfilename.txt'), file('/LONGFI~1.TXT'), file('/b'), file('/A~2')]);
    expect(t.root.children.map((c) => c.name)).toEqual(['A~2', 'LONGFI~1.TXT', 'b', 'longfilename.txt']);
  });
});

describe('planRuns', () => {
  const tree = () =>
    fatTree([
      file('/config.txt', 10), file('/overlays/a.dtbo', 10), file('/overlays/b.dtbo', 10), file('/d/e/f', 10), file('/d/g', 10),
      file('/é.txt', 1), file('/Жж', 1), dir('/empty'), file('/big1', 20 * MiB), file('/big2', 20 * MiB), file('/t/a=b~~', 1),
    ]);
  const show = (ops: ReturnType<typeof planRuns>) =>
    ops.map((o) => {
      const env = `${o.codepage}${o.numericTail ? '' : ' no-tail'}${o.alone ? ' alone' : ''}`;
      return o.kind === 'mmd' ? `mmd ${env} ${o.dirs.map((d) => d.path).join(' ')}` : `mcopy ${env} ${o.items.map((i) => i.name).join(' ')} -> ${o.target.path || '/'}`;
    });

  it('copies whole folders when mcopy -s recurses, batching by weight and code page', () => {
    expect(show(planRuns(tree().root, true))).toEqual([
      'mmd 850 /t',
      'mcopy 850 big1 -> /',
      'mcopy 850 big2 config.txt d empty overlays Жж -> /',
      'mcopy 866 é.txt -> /',
      'mcopy 850 no-tail alone a=b~~ -> /t',
    ]);
  });

  it('makes folders with mmd first and fills leaf folders whole when it does not', () => {
    expect(show(planRuns(tree().root, false))).toEqual([
      'mmd 850 /d /t',
      'mcopy 850 big1 -> /',
      'mcopy 850 big2 config.txt empty overlays Жж -> /',
      'mcopy 866 é.txt -> /',
      'mcopy 850 e g -> /d',
      'mcopy 850 no-tail alone a=b~~ -> /t',
    ]);
  });

  it('gives each name with ; + = [ ] \' , a run of its own', () => {
    const t = fatTree([file('/a'), file('/b;c'), file('/d'), file('/e+f/g'), file('/h/i/j'), file('/k[1]/l/m'), file('/n/o/p')]);
    expect(show(planRuns(t.root, false))).toEqual([
      'mmd 850 alone /e+f',
      'mmd 850 /h',
      'mmd 850 alone /k[1]',
      'mmd 850 /n',
      'mcopy 850 a -> /',
      'mcopy 850 alone b;c -> /',
      'mcopy 850 d -> /',
      'mcopy 850 g -> /e+f',
      'mcopy 850 i -> /h',
      'mcopy 850 l -> /k[1]',
      'mcopy 850 o -> /n',
    ]);
    // with recursion, folders free of such names go whole
    expect(show(planRuns(t.root, true))).toEqual([
      'mmd 850 alone /e+f',
      'mmd 850 alone /k[1]',
      'mcopy 850 a -> /',
      'mcopy 850 alone b;c -> /',
      'mcopy 850 d h n -> /',
      'mcopy 850 g -> /e+f',
      'mcopy 850 l -> /k[1]',
    ]);
  });

  it('keeps creation order in a folder with a bare short name containing "~"', () => {
    const t = fatTree([file('/longfilename.txt'), file('/LONGFI~1.TXT'), file('/sub/x'), file('/sub/y/z')]);
    expect(show(planRuns(t.root, false))).toEqual(['mcopy 850 LONGFI~1.TXT longfilename.txt -> /', 'mmd 850 /sub', 'mcopy 850 x y -> /sub']);
    // a folder needing mmd comes at its place: after the batch of the names before it
    const u = fatTree([file('/A~1'), file('/m/n/o'), file('/z')]);
    expect(show(planRuns(u.root, false))).toEqual(['mcopy 850 A~1 -> /', 'mmd 850 /m', 'mcopy 850 n -> /m', 'mcopy 850 z -> /']);
  });
});
