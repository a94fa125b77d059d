// Image tier: initramfs archives built by the CLI, checked by GNU cpio (extracted as root so owners,
// modes, devices and mtimes come back), by an independent newc header dump, and by our own reader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmod, lchown, lutimes, mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  byteOrder, cleanupTemp, clampMtimes, cli, cpioList, describeEntries, describeTree, dropMtimes, extractCpio,
  headersByPath, isRoot, must, mustCli, newcHeaders, type NodeInfo, plainArchive, rebase, run, sha256, sha256File, tempDir,
} from '../helpers.ts';
import { readCpio } from '../../workers/cpio/read.ts';

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A small seeded PRNG (mulberry32) so content is the same on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytesOf(size: number, seed: number): Uint8Array {
  const r = prng(seed);
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (r() * 256) | 0;
  return b;
}

type Kind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

interface Spec {
  path: string; // relative, no leading "/"
  kind: Kind;
  data?: Uint8Array | string;
  target?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime: number;
  major?: number;
  minor?: number;
}

const servers: Server[] = [];

/** Creates the nodes on disk, then sets owners, modes (after chown, which clears set-id bits) and
 *  times (directories last, deepest first, since creating entries changes a folder's mtime).
 *  Device nodes that cannot be made (no CAP_MKNOD) are left out; returns what was made. */
async function makeTree(root: string, specs: Spec[]): Promise<Spec[]> {
  const madeSpecs: Spec[] = [];
  await mkdir(root, { recursive: true });
  for (const s of [...specs].sort((a, b) => a.path.split('/').length - b.path.split('/').length)) {
    const p = join(root, s.path);
    switch (s.kind) {
      case 'dir': await mkdir(p, { recursive: true }); break;
      case 'file': await writeFile(p, s.data ?? ''); break;
      case 'symlink': await symlink(s.target!, p); break;
      case 'fifo': await must('mkfifo', [p]); break;
      case 'socket': {
        const srv = createServer();
        await new Promise<void>((res, rej) => { srv.once('error', rej); srv.listen(p, () => res()); });
        servers.push(srv);
        break;
      }
      case 'char': case 'block': {
        const r = await run('mknod', [p, s.kind === 'char' ? 'c' : 'b', String(s.major), String(s.minor)]);
        if (r.code !== 0) continue;
        break;
      }
    }
    madeSpecs.push(s);
  }
  for (const s of madeSpecs) {
    const p = join(root, s.path);
    if (isRoot) await lchown(p, s.uid ?? 0, s.gid ?? 0);
    if (s.kind !== 'symlink') await chmod(p, s.mode ?? (s.kind === 'dir' ? 0o755 : 0o644));
  }
  const byDepth = [...madeSpecs].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  for (const s of byDepth.filter((x) => x.kind !== 'dir')) await lutimes(join(root, s.path), s.mtime, s.mtime);
  for (const s of byDepth.filter((x) => x.kind === 'dir')) await utimes(join(root, s.path), s.mtime, s.mtime);
  return madeSpecs;
}

const T0 = 1_500_000_000;
const SIZES = [0, 1, 3, 4, 511, 512, 513, 1024 * 1024 + 1];

function directorySpecs(): Spec[] {
  let n = 0;
  const t = () => T0 + 1000 * n++;
  const specs: Spec[] = [];
  for (const size of SIZES) specs.push({ path: `sizes/f${size}`, kind: 'file', data: bytesOf(size, size + 1), mtime: t() });
  specs.push(
    { path: 'sizes', kind: 'dir', mtime: t() },
    { path: 'nested', kind: 'dir', mtime: t() },
    { path: 'nested/a', kind: 'dir', mode: 0o750, uid: 1000, gid: 100, mtime: t() },
    { path: 'nested/a/b', kind: 'dir', mode: 0o700, mtime: t() },
    { path: 'nested/a/b/c', kind: 'dir', mtime: t() },
    { path: 'nested/a/b/c/deep.txt', kind: 'file', data: 'deep down\n', mtime: t() },
    { path: 'nested/empty-dir', kind: 'dir', mode: 0o555, mtime: t() },
    { path: 'bin', kind: 'dir', mtime: t() },
    { path: 'bin/tool', kind: 'file', data: '#!/bin/sh\necho tool\n', mode: 0o755, mtime: t() },
    { path: 'bin/suid', kind: 'file', data: 'setuid root\n', mode: 0o4755, mtime: t() },
    { path: 'bin/sgid', kind: 'file', data: 'setgid staff\n', mode: 0o2711, gid: 50, mtime: t() },
    { path: 'tmp', kind: 'dir', mode: 0o1777, mtime: t() },
    { path: 'shared', kind: 'dir', mode: 0o2775, gid: 100, mtime: t() },
    { path: 'owners', kind: 'dir', mtime: t() },
    { path: 'owners/user', kind: 'file', data: 'user 1000:100\n', uid: 1000, gid: 100, mode: 0o640, mtime: t() },
    { path: 'owners/root', kind: 'file', data: 'root 0:0\n', uid: 0, gid: 0, mode: 0o600, mtime: t() },
    { path: 'owners/nobody', kind: 'file', data: 'nobody\n', uid: 65534, gid: 65534, mode: 0o444, mtime: t() },
    { path: 'owners/none', kind: 'file', data: 'mode 0000\n', mode: 0o000, mtime: t() },
    { path: 'owners/link', kind: 'symlink', target: 'user', uid: 1000, gid: 100, mtime: t() },
    { path: 'with space', kind: 'dir', mtime: t() },
    { path: 'with space/a file name.txt', kind: 'file', data: 'spaces\n', mtime: t() },
    { path: 'ünïcødé-文件', kind: 'dir', mtime: t() },
    { path: 'ünïcødé-文件/😀 smile.txt', kind: 'file', data: 'unicode ✓\n', mtime: t() },
    { path: 'link-rel', kind: 'symlink', target: 'nested/a/b/c/deep.txt', mtime: t() },
    { path: 'link-abs', kind: 'symlink', target: '/bin/tool', mtime: t() },
    { path: 'link-dir', kind: 'symlink', target: 'nested/a', mtime: t() },
    { path: 'dangling', kind: 'symlink', target: '/does/not/exist', mtime: t() },
    { path: 'special', kind: 'dir', mtime: t() },
    { path: 'special/fifo', kind: 'fifo', mode: 0o620, uid: 1000, gid: 100, mtime: t() },
    { path: 'special/sock', kind: 'socket', mode: 0o755, mtime: t() },
    { path: 'special/null', kind: 'char', major: 1, minor: 3, mode: 0o666, mtime: t() },
    { path: 'special/sda1', kind: 'block', major: 8, minor: 1, mode: 0o660, gid: 6, mtime: t() },
    { path: 'special/big-dev', kind: 'char', major: 4095, minor: 0xfffff, mode: 0o600, mtime: t() },
    { path: 'times', kind: 'dir', mtime: t() },
    { path: 'times/epoch0', kind: 'file', data: 'from 1970\n', mtime: 0 },
    { path: 'times/y2100', kind: 'file', data: 'after 2038\n', mtime: 4_000_000_000 },
  );
  return specs;
}

// ---------------------------------------------------------------------------------------------

let work: string;
let src: string;
let srcTree: NodeInfo[];
let made: Spec[];

beforeAll(async () => {
  work = await tempDir();
  src = join(work, 'src');
  made = await makeTree(src, directorySpecs());
  srcTree = await describeTree(src);
});

afterAll(async () => {
  for (const s of servers) await new Promise<void>((res) => s.close(() => res()));
  await cleanupTemp();
});

describe('the test fixture itself', () => {
  it('has the metadata the tests rely on', () => {
    const by = new Map(srcTree.map((n) => [n.path, n]));
    expect(by.get('/bin/suid')?.mode).toBe(0o4755);
    expect(by.get('/tmp')?.mode).toBe(0o1777);
    expect(by.get('/times/y2100')?.mtime).toBe(4_000_000_000);
    expect(by.get('/sizes/f1048577')?.size).toBe(1024 * 1024 + 1);
    expect(by.get('/special/sock')?.type).toBe('socket');
    if (isRoot) expect(by.get('/owners/nobody')).toMatchObject({ uid: 65534, gid: 65534 });
  });
});

describe('initramfs from a directory', () => {
  let gz: string;
  let result: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    gz = join(work, 'dir.cpio.gz');
    result = await cli(['initramfs', src, '-o', gz]);
  });

  it('succeeds, prints the output and warns about the dangling symlink on stderr', async () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(gz);
    expect(result.stdout).toContain(await sha256File(gz));
    expect(result.stderr).toMatch(/warning/i);
    expect(result.stderr).toContain('/dangling');
    expect(result.stderr).toContain('/does/not/exist');
    // only the dangling link is worth a warning: link-rel, link-abs, link-dir and owners/link resolve
    expect(result.stderr).not.toMatch(/link-rel|link-abs|link-dir|owners\/link/);
  });

  it('is valid gzip (gzip -t)', async () => {
    const r = await run('gzip', ['-t', gz]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('GNU cpio extracts it as root with every type, mode, owner, mtime, device and content intact', async () => {
    const out = await extractCpio(gz);
    const got = await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] });
    expect(got).toEqual(dropMtimes(srcTree));
  });

  it('stores directory and symlink mtimes too (independent header dump)', async () => {
    const headers = headersByPath(newcHeaders(await plainArchive(gz)));
    for (const n of srcTree) {
      const h = headers.get(n.path);
      expect(h, n.path).toBeDefined();
      expect({ path: n.path, mtime: h!.mtime }).toEqual({ path: n.path, mtime: n.mtime });
    }
    expect(headers.size).toBe(srcTree.length);
  });

  it('writes parents before children, unique inode numbers and a 512-byte padded archive', async () => {
    const plain = await plainArchive(gz);
    const headers = newcHeaders(plain);
    const names = headers.slice(0, -1).map((h) => h.name);
    const seen = new Set<string>();
    for (const name of names) {
      const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
      if (parent) expect(seen.has(parent), `${parent} before ${name}`).toBe(true);
      seen.add(name);
    }
    const inos = headers.slice(0, -1).map((h) => h.ino);
    expect(new Set(inos).size).toBe(inos.length);
    // non-directories must have nlink 1, or the kernel would try to hard-link equal inode numbers
    for (const h of headers.slice(0, -1)) if ((h.mode & 0o170000) !== 0o040000) expect(h.nlink, h.name).toBe(1);
    expect(plain.length % 512).toBe(0);
  });

  it('cpio -it lists exactly the tree and cpio -itv succeeds', async () => {
    const { names, verbose } = await cpioList(gz);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout.trim().split('\n')).toHaveLength(srcTree.length);
    expect([...names].sort(byteOrder)).toEqual(srcTree.map((n) => n.path.slice(1)));
    // the verbose listing shows the device numbers and link targets as GNU cpio decoded them
    if (made.some((s) => s.path === 'special/big-dev')) expect(verbose.stdout).toMatch(/4095,\s*1048575\s.*special\/big-dev/);
    expect(verbose.stdout).toMatch(/link-abs -> \/bin\/tool/);
  });

  it('round-trips through our reader (readCpio) with every field, directory mtimes included', async () => {
    const entries = readCpio(new Uint8Array(await plainArchive(gz)));
    expect(await describeEntries(entries)).toEqual(srcTree);
  });

  it('--no-gzip writes exactly the gunzipped bytes of the gzip output', async () => {
    const env = { SOURCE_DATE_EPOCH: '1600000000' };
    const a = join(work, 'nogz.cpio');
    const b = join(work, 'gz-for-nogz.cpio.gz');
    await mustCli(['initramfs', src, '-o', a, '--no-gzip'], { env });
    await mustCli(['initramfs', src, '-o', b], { env });
    const plain = await readFile(a);
    expect(plain.subarray(0, 6).toString('latin1')).toBe('070701');
    expect(sha256(plain)).toBe(sha256(gunzipSync(await readFile(b))));
  });
});

describe('determinism and SOURCE_DATE_EPOCH', () => {
  it('two builds with the same SOURCE_DATE_EPOCH are byte-identical, also from a copy elsewhere', async () => {
    const env = { SOURCE_DATE_EPOCH: '1500020000' };
    const a = join(work, 'det-a.cpio.gz');
    const b = join(work, 'det-b.cpio.gz');
    const c = join(work, 'det-c.cpio.gz');
    await mustCli(['initramfs', src, '-o', a], { env });
    await mustCli(['initramfs', src, '-o', b], { env: { ...env, TZ: 'Asia/Kolkata' }, cwd: work });
    const copy = join(work, 'copy', 'of', 'src');
    await mkdir(join(work, 'copy', 'of'), { recursive: true });
    await must('cp', ['-a', src, copy]);
    await mustCli(['initramfs', copy, '-o', c], { env });
    const [ha, hb, hc] = await Promise.all([sha256File(a), sha256File(b), sha256File(c)]);
    expect(hb).toBe(ha);
    expect(hc).toBe(ha);
  });

  it('SOURCE_DATE_EPOCH clamps later mtimes and keeps earlier ones', async () => {
    const epoch = T0 + 20_500; // in the middle of the fixture's times
    const gz = join(work, 'clamped.cpio.gz');
    await mustCli(['initramfs', src, '-o', gz], { env: { SOURCE_DATE_EPOCH: String(epoch) } });
    const expected = clampMtimes(srcTree, epoch);
    // sanity: the epoch really splits the tree
    expect(expected.filter((n) => n.mtime === epoch).length).toBeGreaterThan(5);
    expect(expected.filter((n) => n.mtime! < epoch).length).toBeGreaterThan(5);
    const out = await extractCpio(gz);
    expect(await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] })).toEqual(dropMtimes(expected));
    const headers = headersByPath(newcHeaders(await plainArchive(gz)));
    expect(srcTree.map((n) => [n.path, headers.get(n.path)?.mtime])).toEqual(expected.map((n) => [n.path, n.mtime]));
    // the clamped build differs from an unclamped one
    expect(await sha256File(gz)).not.toBe(await sha256File(join(work, 'dir.cpio.gz')));
  });

  it('a different SOURCE_DATE_EPOCH below some mtimes gives different bytes', async () => {
    const a = join(work, 'e1.cpio.gz');
    const b = join(work, 'e2.cpio.gz');
    await mustCli(['initramfs', src, '-o', a], { env: { SOURCE_DATE_EPOCH: '1500000000' } });
    await mustCli(['initramfs', src, '-o', b], { env: { SOURCE_DATE_EPOCH: '1500000001' } });
    expect(await sha256File(a)).not.toBe(await sha256File(b));
  });
});

// ---------------------------------------------------------------------------------------------

describe('initramfs from a gen_init_cpio list', () => {
  const EPOCH = 1_234_567_890;
  let dir: string;
  let expected: NodeInfo[];
  const big = bytesOf(70_001, 7);

  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(join(dir, 'hello.sh'), '#!/bin/sh\necho hello\n');
    await writeFile(join(dir, 'empty.bin'), '');
    await writeFile(join(dir, 'big.bin'), big);
    await writeFile(join(dir, 'suid.bin'), 'suid\n');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'three'), 'abc');
    const list = [
      '# a gen_init_cpio list, as the kernel documents it',
      '',
      'dir /dev 0755 0 0',
      'nod /dev/console 0600 0 0 c 5 1',
      'nod /dev/null 0666 0 0 c 1 3',
      'nod /dev/sda1 0660 0 6 b 8 1',
      'nod /dev/maxdev 0600 0 0 c 4095 1048575',
      'nod /dev/loop0 0660 0 6 b 7 0',
      'dir /bin 0755 0 0',
      'file /bin/hello hello.sh 0755 1000 100',
      'file /bin/empty empty.bin 0644 0 0',
      'file /bin/big big.bin 0600 65534 65534',
      'file /bin/three sub/three 0400 0 0',
      'slink /bin/sh hello 0777 0 0',
      'slink /bin/abs /bin/hello 0777 1000 100',
      'dir /run 1777 0 0',
      'pipe   /run/fifo\t0620 1000 100   ',
      'sock /run/sock 0755 0 0',
      'dir /sbin 0700 0 0',
      'file /sbin/suid suid.bin 4755 0 0',
      '# the end',
    ].join('\n') + '\n';
    await writeFile(join(dir, 'list.txt'), list);
    const f = (path: string, data: string | Uint8Array, mode: number, uid = 0, gid = 0): NodeInfo => {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      return { path, type: 'file', mode, uid, gid, mtime: EPOCH, size: b.length, sha256: sha256(b) };
    };
    const d = (path: string, mode: number): NodeInfo => ({ path, type: 'dir', mode, uid: 0, gid: 0, mtime: EPOCH });
    const dev = (path: string, type: 'char' | 'block', mode: number, gid: number, major: number, minor: number): NodeInfo =>
      ({ path, type, mode, uid: 0, gid, mtime: EPOCH, major, minor });
    expected = ([
      d('/dev', 0o755),
      dev('/dev/console', 'char', 0o600, 0, 5, 1),
      dev('/dev/null', 'char', 0o666, 0, 1, 3),
      dev('/dev/sda1', 'block', 0o660, 6, 8, 1),
      dev('/dev/maxdev', 'char', 0o600, 0, 4095, 1048575),
      dev('/dev/loop0', 'block', 0o660, 6, 7, 0),
      d('/bin', 0o755),
      f('/bin/hello', '#!/bin/sh\necho hello\n', 0o755, 1000, 100),
      f('/bin/empty', '', 0o644),
      f('/bin/big', big, 0o600, 65534, 65534),
      f('/bin/three', 'abc', 0o400),
      { path: '/bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: EPOCH, target: 'hello' },
      { path: '/bin/abs', type: 'symlink', mode: 0o777, uid: 1000, gid: 100, mtime: EPOCH, target: '/bin/hello' },
      d('/run', 0o1777),
      { path: '/run/fifo', type: 'fifo', mode: 0o620, uid: 1000, gid: 100, mtime: EPOCH },
      { path: '/run/sock', type: 'socket', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH },
      d('/sbin', 0o700),
      f('/sbin/suid', 'suid\n', 0o4755),
    ] as NodeInfo[]).sort((a, b) => byteOrder(a.path, b.path));
  });

  it('builds, and GNU cpio extracts every node (char and block devices included) exactly', async () => {
    const gz = join(dir, 'list.cpio.gz');
    const r = await cli(['initramfs', 'list.txt', '-o', gz], { cwd: dir, env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await run('gzip', ['-t', gz])).code).toBe(0);
    const out = await extractCpio(gz);
    expect(await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] })).toEqual(dropMtimes(expected));
    const { verbose } = await cpioList(gz);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toMatch(/^crw-------\s+1\s+root\s+root\s+5,\s+1 .*dev\/console$/m);
    expect(verbose.stdout).toMatch(/^brw-rw----\s+1\s+root\s+\S+\s+8,\s+1 .*dev\/sda1$/m);
    expect(verbose.stdout).toMatch(/^prw--w----\s.*run\/fifo$/m);
    expect(verbose.stdout).toMatch(/^srwxr-xr-x\s.*run\/sock$/m);
    expect(verbose.stdout).toMatch(/^-rwsr-xr-x\s.*sbin\/suid$/m);
    // every header, directories and symlinks included, carries the epoch as its mtime
    const headers = newcHeaders(await plainArchive(gz));
    expect(headers.slice(0, -1).map((h) => h.mtime)).toEqual(expected.map(() => EPOCH));
    expect(await describeEntries(readCpio(new Uint8Array(await plainArchive(gz))))).toEqual(expected);
  });

  it('resolves file locations against the list\'s own folder when run from elsewhere', async () => {
    const gz = join(dir, 'list-elsewhere.cpio.gz');
    const r = await cli(['initramfs', join(dir, 'list.txt'), '-o', gz], { cwd: '/', env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await describeEntries(readCpio(new Uint8Array(await plainArchive(gz))))).toEqual(expected);
    // and the bytes are the same as when run from the list's folder
    expect(await sha256File(gz)).toBe(await sha256File(join(dir, 'list.cpio.gz')));
  });

  it('without SOURCE_DATE_EPOCH every entry gets the list\'s mtime (the sources share it)', async () => {
    const t = 1_300_000_000;
    for (const f of ['list.txt', 'hello.sh', 'empty.bin', 'big.bin', 'suid.bin', 'sub/three']) await utimes(join(dir, f), t, t);
    const gz = join(dir, 'list-nosde.cpio.gz');
    await mustCli(['initramfs', 'list.txt', '-o', gz], { cwd: dir });
    const headers = newcHeaders(await plainArchive(gz));
    expect(headers.slice(0, -1).map((h) => [h.name, h.mtime])).toEqual(expected.map((n) => [n.path.slice(1), t]));
  });
});

// ---------------------------------------------------------------------------------------------

describe('initramfs from a tar made by GNU tar', () => {
  let tsrc: string;
  let tarTree: NodeInfo[];
  const longName = 'long-' + 'x'.repeat(140) + '/' + 'y'.repeat(120) + '.txt';

  beforeAll(async () => {
    tsrc = join(work, 'tar-src');
    let n = 0;
    const t = () => T0 + 77 * n++;
    await makeTree(tsrc, [
      { path: 'etc', kind: 'dir', mtime: t() },
      { path: 'etc/passwd', kind: 'file', data: 'root:x:0:0::/root:/bin/sh\n', mtime: t() },
      { path: 'etc/shadow', kind: 'file', data: 'root:*:1::::::\n', mode: 0o600, gid: 42, mtime: t() },
      { path: 'home', kind: 'dir', mtime: t() },
      { path: 'home/user', kind: 'dir', mode: 0o700, uid: 1000, gid: 100, mtime: t() },
      { path: 'home/user/big', kind: 'file', data: bytesOf(300_000, 3), uid: 1000, gid: 100, mtime: t() },
      { path: 'home/user/empty', kind: 'file', data: '', uid: 1000, gid: 100, mtime: t() },
      { path: 'usr', kind: 'dir', mtime: t() },
      { path: 'usr/bin', kind: 'dir', mtime: t() },
      { path: 'usr/bin/su', kind: 'file', data: 'su\n', mode: 0o4755, mtime: t() },
      { path: 'usr/bin/sh', kind: 'symlink', target: '../../bin/busybox', mtime: t() },
      { path: 'bin', kind: 'dir', mtime: t() },
      { path: 'bin/busybox', kind: 'file', data: bytesOf(5000, 5), mode: 0o755, mtime: t() },
      { path: 'tmp', kind: 'dir', mode: 0o1777, mtime: t() },
      { path: 'dev', kind: 'dir', mtime: t() },
      { path: 'dev/console', kind: 'char', major: 5, minor: 1, mode: 0o600, mtime: t() },
      { path: 'dev/vda', kind: 'block', major: 254, minor: 0, mode: 0o660, gid: 6, mtime: t() },
      { path: 'dev/initctl', kind: 'fifo', mode: 0o600, mtime: t() },
      { path: 'long-' + 'x'.repeat(140), kind: 'dir', mtime: t() },
      { path: longName, kind: 'file', data: 'a name longer than ustar\'s 100 bytes\n', mtime: t() },
      { path: 'ünï 文件', kind: 'file', data: 'unicode in tar\n', uid: 65534, gid: 65534, mtime: t() },
    ]);
    tarTree = await describeTree(tsrc);
  });

  for (const format of ['gnu', 'posix']) {
    it(`a plain ${format} tar keeps owners, modes, devices, links, long names and mtimes`, async () => {
      const tar = join(work, `t-${format}.tar`);
      await must('tar', ['--numeric-owner', `--format=${format}`, '-cf', tar, '-C', tsrc, '.']);
      const gz = join(work, `t-${format}.cpio.gz`);
      const r = await cli(['initramfs', tar, '-o', gz]);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code).toBe(0);
      const out = await extractCpio(gz);
      expect(await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] })).toEqual(dropMtimes(tarTree));
      expect(await describeEntries(readCpio(new Uint8Array(await plainArchive(gz))))).toEqual(tarTree);
    });
  }

  it('a gzip tar made with --owner/--group numeric gives every entry those ids', async () => {
    const tar = join(work, 't-owner.tar.gz');
    await must('tar', ['--numeric-owner', '--owner=1234', '--group=5678', '-czf', tar, '-C', tsrc, '.']);
    // cross-check with GNU tar itself: extract the tar as root and compare with our initramfs
    const viaTar = await tempDir();
    await must('tar', ['--numeric-owner', '--same-owner', '-xpzf', tar, '-C', viaTar]);
    const gz = join(work, 't-owner.cpio.gz');
    await mustCli(['initramfs', tar, '-o', gz]);
    const out = await extractCpio(gz);
    const got = await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] });
    expect(got).toEqual(await describeTree(viaTar, { ignoreMtimeOf: ['dir', 'symlink'] }));
    expect(got).toEqual(dropMtimes(tarTree).map((n) => ({ ...n, uid: 1234, gid: 5678 })));
  });
});

// ---------------------------------------------------------------------------------------------

describe('initramfs from a project file (new + add + build)', () => {
  it('builds what was added, with --mode/--uid/--gid applied and parents made', async () => {
    const dir = await tempDir();
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const proj = join(dir, 'p.bootsmith');
    await mustCli(['new', '--name', 'image test', '-o', proj], { env });
    const hello = join(dir, 'hello');
    await writeFile(hello, '#!/bin/sh\necho hi\n');
    await chmod(hello, 0o600);
    await utimes(hello, 1_600_000_000, 1_600_000_000);
    await mustCli(['add', proj, hello, '/usr/local/bin/hello', '--mode', '0755', '--uid', '1000', '--gid', '100'], { env });
    // a folder tree (with a symlink and a fifo) below /opt/app, owners defaulting to root
    const tree = join(dir, 'tree');
    await makeTree(tree, [
      { path: 'a', kind: 'dir', mode: 0o750, mtime: 1_600_000_100 },
      { path: 'a/data.bin', kind: 'file', data: bytesOf(4097, 9), mode: 0o640, mtime: 1_600_000_200 },
      { path: 'a/link', kind: 'symlink', target: 'data.bin', mtime: 1_600_000_300 },
      { path: 'fifo', kind: 'fifo', mode: 0o600, mtime: 1_600_000_400 },
      { path: 'later', kind: 'file', data: 'newer than the epoch\n', mode: 0o644, uid: 1000, gid: 100, mtime: 1_800_000_000 },
    ]);
    await chmod(tree, 0o711);
    await utimes(tree, 1_600_000_500, 1_600_000_500);
    await mustCli(['add', proj, tree, '/opt/app'], { env });
    const outDir = join(dir, 'out');
    const r = await mustCli(['build', proj, '-o', outDir], { env });
    const gz = join(outDir, 'initramfs.cpio.gz');
    expect(r.stdout).toContain(await sha256File(gz));
    const got = await describeTree(await extractCpio(gz), { ignoreMtimeOf: ['dir', 'symlink'] });

    const treeNodes = rebase(await describeTree(tree), '/opt/app').map((n) => ({ ...n, uid: 0, gid: 0 }));
    const expected: NodeInfo[] = ([
      { path: '/opt', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: null },
      { path: '/opt/app', type: 'dir', mode: 0o711, uid: 0, gid: 0, mtime: null },
      ...clampMtimes(dropMtimes(treeNodes), 1_700_000_000),
      { path: '/usr', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: null },
      { path: '/usr/local', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: null },
      { path: '/usr/local/bin', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: null },
      { path: '/usr/local/bin/hello', type: 'file', mode: 0o755, uid: 1000, gid: 100, mtime: 1_600_000_000, size: 18, sha256: sha256('#!/bin/sh\necho hi\n') },
    ] as NodeInfo[]).sort((a, b) => byteOrder(a.path, b.path));
    expect(got).toEqual(expected);
    // directory mtimes: /opt/app keeps its own, made parents are never later than the epoch
    const headers = headersByPath(newcHeaders(await plainArchive(gz)));
    expect(headers.get('/opt/app')?.mtime).toBe(1_600_000_500);
    expect(headers.get('/opt/app/a/link')?.mtime).toBe(1_600_000_300);
    for (const p of ['/opt', '/usr', '/usr/local', '/usr/local/bin']) expect(headers.get(p)!.mtime).toBeLessThanOrEqual(1_700_000_000);
    // the project file is an input of `initramfs` too, and gives the same bytes as `build`
    const viaInitramfs = join(dir, 'via-initramfs.cpio.gz');
    await mustCli(['initramfs', proj, '-o', viaInitramfs], { env });
    expect(await sha256File(viaInitramfs)).toBe(await sha256File(gz));
  });
});

// ---------------------------------------------------------------------------------------------

describe('an initramfs as input', () => {
  it('re-reading our own initramfs gives the same bytes (cpio.gz → cpio.gz)', async () => {
    const env = { SOURCE_DATE_EPOCH: '1500020000' };
    const a = join(work, 'reread-a.cpio.gz');
    const b = join(work, 'reread-b.cpio.gz');
    await mustCli(['initramfs', src, '-o', a], { env });
    await mustCli(['initramfs', a, '-o', b], { env });
    expect(await sha256File(b)).toBe(await sha256File(a));
  });

  it('an archive made by GNU cpio is read with every field', async () => {
    const dir = await tempDir();
    // GNU cpio writes directories, then their contents; `./` prefixes; plain (uncompressed)
    const names = spawnSync('sh', ['-c', 'find . | LC_ALL=C sort'], { cwd: src, encoding: 'utf8' }).stdout;
    const r = spawnSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: src, input: names, maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const plain = join(dir, 'gnu.cpio');
    await writeFile(plain, r.stdout);
    const gz = join(dir, 'from-gnu.cpio.gz');
    await mustCli(['initramfs', plain, '-o', gz]);
    const out = await extractCpio(gz);
    expect(await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] })).toEqual(dropMtimes(srcTree));
    expect(await describeEntries(readCpio(new Uint8Array(await plainArchive(gz))))).toEqual(srcTree);
  });
});

// ---------------------------------------------------------------------------------------------

describe('random trees (fast-check, fixed seed) through a gen_init_cpio list', () => {
  it('come back from GNU cpio exactly', async () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9._ äö文-]{1,12}$/).filter((s) => s !== '.' && s !== '..' && s.trim() === s);
    const node = fc.record({
      kind: fc.constantFrom('file', 'dir', 'slink', 'nod-c', 'nod-b', 'pipe', 'sock'),
      name,
      mode: fc.integer({ min: 0, max: 0o7777 }),
      uid: fc.oneof(fc.constantFrom(0, 1000, 65534), fc.integer({ min: 0, max: 0xfffffffe })),
      gid: fc.oneof(fc.constantFrom(0, 100, 65534), fc.integer({ min: 0, max: 0xfffffffe })),
      size: fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 511, 512, 513), fc.integer({ min: 0, max: 20_000 })),
      major: fc.integer({ min: 0, max: 4095 }),
      minor: fc.integer({ min: 0, max: 0xfffff }),
      parent: fc.nat(),
    });
    const dir = await tempDir();
    let runNo = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(node, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 1_700_000_000 }), async (nodes, epoch) => {
        const runDir = join(dir, String(runNo++));
        await mkdir(runDir);
        // gen_init_cpio names cannot hold spaces: the list is whitespace-separated
        const dirs = [''];
        const lines: string[] = [];
        const expected: NodeInfo[] = [];
        const used = new Set<string>();
        for (const [i, n] of nodes.entries()) {
          const parent = dirs[n.parent % dirs.length];
          const base = n.name.replace(/ /g, '_');
          const path = `${parent}/${base}`;
          if (used.has(path)) continue;
          used.add(path);
          const mode = n.mode.toString(8).padStart(4, '0');
          const common = { path, mode: n.mode, uid: n.uid, gid: n.gid, mtime: epoch };
          switch (n.kind) {
            case 'file': {
              const data = bytesOf(n.size, i + n.size);
              await writeFile(join(runDir, `c${i}`), data);
              lines.push(`file ${path} c${i} ${mode} ${n.uid} ${n.gid}`);
              expected.push({ ...common, type: 'file', size: data.length, sha256: sha256(data) });
              break;
            }
            case 'dir':
              lines.push(`dir ${path} ${mode} ${n.uid} ${n.gid}`);
              expected.push({ ...common, type: 'dir' });
              dirs.push(path);
              break;
            case 'slink':
              lines.push(`slink ${path} target-${i} 0777 ${n.uid} ${n.gid}`);
              expected.push({ ...common, mode: 0o777, type: 'symlink', target: `target-${i}` });
              break;
            case 'nod-c': case 'nod-b':
              lines.push(`nod ${path} ${mode} ${n.uid} ${n.gid} ${n.kind === 'nod-c' ? 'c' : 'b'} ${n.major} ${n.minor}`);
              expected.push({ ...common, type: n.kind === 'nod-c' ? 'char' : 'block', major: n.major, minor: n.minor });
              break;
            case 'pipe':
              lines.push(`pipe ${path} ${mode} ${n.uid} ${n.gid}`);
              expected.push({ ...common, type: 'fifo' });
              break;
            case 'sock':
              lines.push(`sock ${path} ${mode} ${n.uid} ${n.gid}`);
              expected.push({ ...common, type: 'socket' });
              break;
          }
        }
        await writeFile(join(runDir, 'list'), lines.join('\n') + '\n');
        const gz = join(runDir, 'out.cpio.gz');
        const r = await cli(['initramfs', 'list', '-o', gz], { cwd: runDir, env: { SOURCE_DATE_EPOCH: String(epoch) } });
        expect(r.stderr).not.toMatch(/error/);
        expect(r.code).toBe(0);
        expected.sort((a, b) => byteOrder(a.path, b.path));
        expect(await describeEntries(readCpio(new Uint8Array(await plainArchive(gz))))).toEqual(expected);
        // GNU cpio as root: a directory without x for its owner is still entered by root, so every
        // node lands; mtimes of directories and symlinks are not restored by cpio
        const out = await extractCpio(gz, join(runDir, 'x'));
        // a folder with mode 0000 cannot be walked by lstat from Node if not root
        if (isRoot) expect(await describeTree(out, { ignoreMtimeOf: ['dir', 'symlink'] })).toEqual(dropMtimes(expected));
      }),
      { seed: 20240601, numRuns: 25, endOnFailure: true },
    );
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------

describe('parent folders an input does not list', () => {
  // The kernel's initramfs unpacker creates no missing parents: a file whose folder is not in the
  // archive is silently dropped at boot (GNU cpio -d would hide this by creating it). So either
  // Bootsmith writes every ancestor, or it refuses the input naming the missing folder.
  async function checkParents(input: string, cwd: string, missing: string) {
    const gz = join(cwd, `parents-${Math.random().toString(36).slice(2)}.cpio.gz`);
    const r = await cli(['initramfs', input, '-o', gz], { cwd });
    if (r.code !== 0) {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(missing);
      return;
    }
    const names = newcHeaders(await plainArchive(gz)).slice(0, -1).map((h) => h.name);
    for (const name of names) {
      const parts = name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const anc = parts.slice(0, i).join('/');
        expect(names.indexOf(anc), `${anc} (parent of ${name}) must come before it`).toBeGreaterThanOrEqual(0);
        expect(names.indexOf(anc)).toBeLessThan(names.indexOf(name));
      }
    }
  }

  it('a gen_init_cpio list with a file in an unlisted folder', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'tool'), 'tool\n');
    await writeFile(join(dir, 'list'), 'dir /dev 0755 0 0\nfile /opt/tools/tool tool 0755 0 0\n');
    await checkParents('list', dir, '/opt');
  });

  it('a tar without directory entries (tar -cf x.tar bin/busybox)', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'src', 'usr', 'bin'), { recursive: true });
    await writeFile(join(dir, 'src', 'usr', 'bin', 'tool'), 'tool\n');
    await must('tar', ['-cf', join(dir, 'x.tar'), '-C', join(dir, 'src'), 'usr/bin/tool']);
    await checkParents('x.tar', dir, '/usr');
  });
});

describe('SOURCE_DATE_EPOCH and times newc cannot store', () => {
  it('clamps a file dated after 2106 instead of refusing it', async () => {
    const dir = await tempDir();
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'future'), 'from the far future\n');
    await utimes(join(tree, 'future'), 5_000_000_000, 5_000_000_000);
    const gz = join(dir, 'future.cpio.gz');
    const r = await cli(['initramfs', tree, '-o', gz], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(newcHeaders(await plainArchive(gz)).find((h) => h.name === 'future')?.mtime).toBe(1_700_000_000);
  });

  it('without SOURCE_DATE_EPOCH a time after 2106 is a clear one-line error naming the file', async () => {
    const dir = await tempDir();
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'future'), 'x');
    await utimes(join(tree, 'future'), 5_000_000_000, 5_000_000_000);
    const gz = join(dir, 'future.cpio.gz');
    const r = await cli(['initramfs', tree, '-o', gz]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('/future');
    expect(r.stderr).toContain('5000000000');
  });
});
