// The WASM tools under runWasi, checked by the native tools: mke2fs -d with a manifest gives an
// image that native e2fsck accepts and whose debugfs stat shows the exact metadata; mkfs.fat +
// mmd + mcopy give an image that native fsck.fat accepts and mdir/mcopy read back.
// Skipped when wasm-tools/dist is not built, except in CI (CI=1), where that is a failure.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildManifest, type ManifestEntry } from './manifest.ts';
import { ChunkedFile, type FileData, runWasi } from './runner.ts';
import {
  cleanup,
  DIST,
  hasNative,
  missing,
  native,
  pseudoRandom,
  tempDir,
  tool,
  utf8,
  writeHostFile,
} from './test-helpers.ts';

afterAll(cleanup);

const wasm = (...names: string[]) => names.map((n) => join(DIST, `${n}.wasm`));
const UUID = '0b5e7c1d-2f3a-4b5c-8d9e-0f1a2b3c4d5e';
const EPOCH = 1700000000;

/** A root tree with every entry type, odd names, big and hard-linked files. */
function sampleTree(): { manifest: ManifestEntry[]; files: Map<string, FileData> } {
  const big = pseudoRandom(300_000, 7);
  const content: Record<string, Uint8Array> = {
    '/etc/passwd': utf8('root:x:0:0:root:/root:/bin/sh\n'),
    '/etc/a file with spaces': utf8('spaces\n'),
    '/etc/ünïcödé 名前': utf8('unicode\n'),
    '/etc/100%25 percent': utf8('percent\n'),
    '/usr/bin/app': big,
    '/empty': new Uint8Array(0),
  };
  const m: ManifestEntry[] = [
    { path: '/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH },
    { path: '/etc', type: 'dir', mode: 0o750, uid: 0, gid: 42, mtime: EPOCH + 1 },
    { path: '/etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: EPOCH + 2 },
    { path: '/etc/a file with spaces', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtime: EPOCH + 3 },
    { path: '/etc/ünïcödé 名前', type: 'file', mode: 0o600, uid: 70000, gid: 80000, mtime: 4102444800 },
    { path: '/etc/100%25 percent', type: 'file', mode: 0o640, uid: 1, gid: 2, mtime: EPOCH + 4 },
    { path: '/dev', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH + 5 },
    { path: '/dev/console', type: 'char', mode: 0o600, uid: 0, gid: 5, mtime: EPOCH + 6, major: 5, minor: 1 },
    { path: '/dev/sda1', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: EPOCH + 7, major: 8, minor: 1 },
    { path: '/dev/big', type: 'char', mode: 0o620, uid: 0, gid: 0, mtime: EPOCH + 8, major: 300, minor: 70000 },
    { path: '/dev/initctl', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: EPOCH + 9 },
    { path: '/dev/log', type: 'socket', mode: 0o666, uid: 0, gid: 0, mtime: EPOCH + 10 },
    { path: '/bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: EPOCH + 11, target: 'usr/bin' },
    { path: '/etc/long link', type: 'symlink', mode: 0o777, uid: 3, gid: 4, mtime: EPOCH + 12, target: '/a/b c/' + 'x'.repeat(100) },
    { path: '/usr', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH + 13 },
    { path: '/usr/bin', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH + 14 },
    { path: '/usr/bin/app', type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH + 15, link: 'app' },
    { path: '/usr/bin/app-alias', type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: EPOCH + 15, link: 'app' },
    { path: '/usr/bin/copy', type: 'file', mode: 0o700, uid: 9, gid: 9, mtime: EPOCH + 16, src: 'usr/bin/app' },
    { path: '/empty', type: 'file', mode: 0o400, uid: 0, gid: 0, mtime: EPOCH + 17 },
    { path: '/lost+found', type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: EPOCH + 18 },
  ];
  const files = new Map<string, FileData>();
  for (const [p, data] of Object.entries(content)) files.set('/src' + p, data);
  return { manifest: m, files };
}

async function makeExt4(manifest: ManifestEntry[], files: Map<string, FileData>, size = 32 << 20) {
  const image = new ChunkedFile(size);
  const all = new Map(files);
  all.set('/work/manifest', utf8(buildManifest(manifest)));
  all.set('/work/rootfs.ext4', image);
  const r = await runWasi(await tool('mke2fs'), {
    args: ['mke2fs', '-q', '-F', '-t', 'ext4', '-b', '4096', '-U', UUID, '-E', `hash_seed=${UUID}`, '-L', 'rootfs', '-d', '/src', '/work/rootfs.ext4'],
    env: { E2FS_MANIFEST: '/work/manifest', E2FSPROGS_FAKE_TIME: String(EPOCH) },
    files: all,
    dirs: ['/src'],
  });
  return { r, image };
}

function stat(img: string, path: string): string {
  const r = native('debugfs', ['-R', `stat "${path}"`, img]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('mke2fs.wasm -d with a manifest', () => {
  it.skipIf(missing(...wasm('mke2fs', 'e2fsck')))('gives an image native e2fsck accepts, with exact metadata', async () => {
    const { manifest, files } = sampleTree();
    const { r, image } = await makeExt4(manifest, files);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(image.storedBytes).toBeLessThan(image.size / 2); // sparse: most of the image is zeros

    const dir = tempDir();
    const img = join(dir, 'rootfs.ext4');
    writeHostFile(img, image);
    const fsck = native('e2fsck', ['-fn', img]);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);

    for (const e of manifest) {
      const out = stat(img, e.path);
      const typeWord = { file: 'regular', dir: 'directory', symlink: 'symlink', char: 'character special', block: 'block special', fifo: 'FIFO', socket: 'socket' }[e.type];
      expect(out, e.path).toMatch(new RegExp(`Type: ${typeWord}\\s+Mode:\\s+0?${e.mode.toString(8).padStart(4, '0')}\\s`));
      expect(out, e.path).toMatch(new RegExp(`User:\\s+${e.uid}\\s+Group:\\s+${e.gid}\\s`));
      const lo = (e.mtime >>> 0).toString(16).padStart(8, '0');
      const epoch = (e.mtime - (e.mtime | 0)) / 2 ** 32; // ext4 keeps bits 32-33 in the extra field
      expect(out, e.path).toMatch(new RegExp(`mtime: 0x${lo}:0000000${epoch}`));
      if (e.type === 'char' || e.type === 'block') {
        expect(out, e.path).toMatch(new RegExp(`[Dd]evice major/minor number: 0*${e.major}:0*${e.minor} `));
      }
      if (e.type === 'symlink' && e.target!.length < 60) expect(out, e.path).toContain(`Fast link dest: "${e.target}"`);
    }
    expect(stat(img, '/usr/bin/app')).toMatch(/Links: 2\s/);
    expect(stat(img, '/usr/bin/app')).toMatch(/Inode: (\d+)/);
    const ino = (p: string) => stat(img, p).match(/Inode: (\d+)/)![1];
    expect(ino('/usr/bin/app-alias')).toBe(ino('/usr/bin/app'));
    expect(ino('/usr/bin/copy')).not.toBe(ino('/usr/bin/app'));

    const long = native('debugfs', ['-R', 'cat "/etc/long link"', img]);
    expect(long.stdout).toBe('/a/b c/' + 'x'.repeat(100));
    for (const [guest, src] of [['/usr/bin/copy', '/usr/bin/app'], ['/etc/ünïcödé 名前', '/etc/ünïcödé 名前'], ['/empty', '/empty']]) {
      const out = join(dir, 'dump');
      const d = native('debugfs', ['-R', `dump "${guest}" ${out}`, img]);
      expect(d.code).toBe(0);
      const { readFileSync } = await import('node:fs');
      expect(Buffer.compare(readFileSync(out), Buffer.from(files.get('/src' + src) as Uint8Array)), guest).toBe(0);
    }
    const ls = native('debugfs', ['-R', 'ls -p /etc', img]).stdout;
    for (const name of ['a file with spaces', 'ünïcödé 名前', '100%25 percent', 'long link']) expect(ls).toContain(`/${name}/`);

    // Our own e2fsck.wasm agrees.
    const check = await runWasi(await tool('e2fsck'), { args: ['e2fsck', '-fn', '/work/rootfs.ext4'], files: new Map([['/work/rootfs.ext4', image]]) });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  });

  it.skipIf(missing(...wasm('mke2fs')))('is byte-identical for the same input', async () => {
    const a = sampleTree();
    const b = sampleTree();
    const one = (await makeExt4(a.manifest, a.files, 8 << 20)).image.toUint8Array();
    const two = (await makeExt4(b.manifest, b.files, 8 << 20)).image.toUint8Array();
    expect(Buffer.compare(Buffer.from(one), Buffer.from(two))).toBe(0);
  });

  it.skipIf(missing(...wasm('mke2fs', 'e2fsck')))('makes a 4 GiB image while holding only the chunks with data', async () => {
    const image = new ChunkedFile(4 * 2 ** 30);
    const { manifest, files } = sampleTree();
    const all = new Map(files);
    all.set('/work/manifest', utf8(buildManifest(manifest)));
    all.set('/work/big.ext4', image);
    const r = await runWasi(await tool('mke2fs'), {
      args: ['mke2fs', '-q', '-F', '-t', 'ext4', '-U', UUID, '-E', `hash_seed=${UUID}`, '-d', '/src', '/work/big.ext4'],
      env: { E2FS_MANIFEST: '/work/manifest', E2FSPROGS_FAKE_TIME: String(EPOCH) },
      files: all,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(image.size).toBe(4 * 2 ** 30);
    expect(image.storedBytes).toBeLessThan(16 << 20); // about 3 MB measured
    const check = await runWasi(await tool('e2fsck'), { args: ['e2fsck', '-fn', '/work/big.ext4'], files: new Map([['/work/big.ext4', image]]) });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  });

  it.skipIf(missing(...wasm('mke2fs')))('rejects a bad manifest line with its line number', async () => {
    const files = new Map<string, FileData>([
      ['/work/manifest', utf8('/ dir 755 0 0 0\n/dev dir 755 0 0 0\n/dev/null char 666 0 0 0 1\n')],
      ['/work/img', new ChunkedFile(4 << 20)],
    ]);
    const r = await runWasi(await tool('mke2fs'), {
      args: ['mke2fs', '-q', '-F', '-d', '/src', '/work/img'],
      env: { E2FS_MANIFEST: '/work/manifest' },
      files,
      dirs: ['/src'],
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('line 3: missing fields for: char');
  });
});

describe('mkfs.fat.wasm + mtools.wasm', () => {
  const enabled = hasNative('fsck.fat') && hasNative('mdir');
  it.skipIf(missing(...wasm('mkfs.fat', 'fsck.fat', 'mtools')) || (!enabled && !process.env.CI))(
    'give an image native fsck.fat accepts and mdir/mcopy read back',
    async () => {
      const image = new ChunkedFile(16 << 20);
      const big = pseudoRandom(200_000, 3); // over the 64 KB that broke mcopy with a small stack
      const names = {
        'config.txt': utf8('arm_64bit=1\nenable_uart=1\n'),
        'Überlänge Datei mit einem sehr langen Namen.txt': utf8('long unicode name\n'),
        'kernel8.img': big,
      };
      const files = new Map<string, FileData>([['/work/boot.vfat', image]]);
      for (const [n, d] of Object.entries(names)) files.set(`/src/${n}`, d);
      files.set('/src/overlays/disable-bt.dtbo', utf8('dtbo'));
      const env = { MTOOLS_SKIP_CHECK: '1', SOURCE_DATE_EPOCH: String(EPOCH), LANG: 'C.UTF-8' };

      const mkfs = await runWasi(await tool('mkfs.fat'), {
        args: ['mkfs.fat', '-i', '12345678', '-n', 'BOOT', '--invariant', '/work/boot.vfat'],
        files,
        env,
      });
      expect(mkfs.exitCode, mkfs.stderr).toBe(0);
      const mtools = await tool('mtools');
      const mmd = await runWasi(mtools, { args: ['mmd', '-i', '/work/boot.vfat', '::/overlays'], files: mkfs.files, env });
      expect(mmd.exitCode, mmd.stderr).toBe(0);
      const cp = await runWasi(mtools, {
        args: ['mcopy', '-i', '/work/boot.vfat', ...Object.keys(names).map((n) => `/src/${n}`), '::/'],
        files: mmd.files,
        env,
      });
      expect(cp.exitCode, cp.stderr).toBe(0);
      const cp2 = await runWasi(mtools, {
        args: ['mcopy', '-i', '/work/boot.vfat', '/src/overlays/disable-bt.dtbo', '::/overlays/'],
        files: cp.files,
        env,
      });
      expect(cp2.exitCode, cp2.stderr).toBe(0);
      expect(cp2.files.get('/work/boot.vfat')).toBe(image); // written in place

      const dir = tempDir();
      const img = join(dir, 'boot.vfat');
      writeHostFile(img, image);
      const fsck = native('fsck.fat', ['-n', img]);
      expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
      const mdir = native('mdir', ['-i', img, '-/', '-b', '::/'], env);
      expect(mdir.code, mdir.stderr).toBe(0);
      expect(mdir.stdout.split('\n').filter(Boolean).sort()).toEqual(
        ['::/overlays/', '::/overlays/disable-bt.dtbo', ...Object.keys(names).map((n) => `::/${n}`)].sort(),
      );
      expect(native('mlabel', ['-i', img, '-s', '::'], env).stdout).toContain('BOOT');
      for (const [n, d] of Object.entries(names)) {
        const back = native('sh', ['-c', `mcopy -n -i "$0" "::/$1" - | od -An -v -tx1`, img, n], env);
        expect(back.code, back.stderr).toBe(0);
        expect(back.stdout.replace(/\s+/g, ''), n).toBe(Buffer.from(d).toString('hex'));
      }

      // Our own fsck.fat.wasm and mdir (mtools.wasm) agree.
      const wfsck = await runWasi(await tool('fsck.fat'), { args: ['fsck.fat', '-n', '/work/boot.vfat'], files: new Map([['/work/boot.vfat', image]]) });
      expect(wfsck.exitCode, wfsck.stdout + wfsck.stderr).toBe(0);
      const wdir = await runWasi(mtools, { args: ['mdir', '-i', '/work/boot.vfat', '::/'], files: new Map([['/work/boot.vfat', image]]), env });
      expect(wdir.exitCode, wdir.stderr).toBe(0);
      expect(wdir.stdout).toContain('Überlänge Datei mit einem sehr langen Namen.txt');
    },
  );
});
