// boot.zip checked from the outside: Info-ZIP's unzip -t, zipinfo and unzip (and Python's
// zipfile, when present) read what zipEntries wrote.
import { openAsBlob } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../../workers/model/entry.ts';
import { zipEntries } from '../../workers/zip/zip.ts';
import { cleanupTemp, describeTree, hasCommand, must, type NodeInfo, run, sha256, tempDir } from '../helpers.ts';

const EPOCH = 1_700_000_000; // 2023-11-14 22:13:20 UTC
const MiB = 1024 * 1024;
const ENV = { LC_ALL: 'C.UTF-8', TZ: 'UTC' };
const missing = ['zip', 'unzip', 'zipinfo'].filter((t) => !hasCommand(t));

const text = (s: string) => new TextEncoder().encode(s);

/** Deterministic bytes: a kernel-like mix of repeated structure and noise (compresses ~2–3:1). */
function kernelLike(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    // runs of instruction-like words with a random byte here and there
    out[i] = (i & 7) < 5 ? (i >> 3) & 0x3f : x >>> 24;
  }
  return out;
}

const f = (path: string, data: Uint8Array | Blob, mode = 0o644): Entry => ({
  path, type: 'file', mode, uid: 0, gid: 0, mtime: EPOCH - 1000, data: data instanceof Uint8Array ? new Blob([data as Uint8Array<ArrayBuffer>]) : data,
});
const d = (path: string, mode = 0o755): Entry => ({ path, type: 'dir', mode, uid: 0, gid: 0, mtime: EPOCH - 1000 });

/** A Blob that can only be streamed or sliced: zipEntries must never read it whole. */
function streamOnly(blob: Blob): Blob {
  return {
    size: blob.size,
    type: '',
    stream: () => blob.stream(),
    slice: (a?: number, b?: number) => {
      if ((b ?? blob.size) - (a ?? 0) > MiB) throw new Error('read more than 1 MiB at once');
      return blob.slice(a, b);
    },
    arrayBuffer: () => { throw new Error('read whole'); },
    text: () => { throw new Error('read whole'); },
  } as unknown as Blob;
}

describe.skipIf(missing.length > 0)(`boot.zip read by Info-ZIP${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`, () => {
  let dir: string;
  let entries: Entry[];
  let zipFile: string;
  let zipBytes: Uint8Array;
  let skipped: string[];
  const big = kernelLike(20 * MiB);

  beforeAll(async () => {
    dir = await tempDir('bootsmith-zip-');
    const bigFile = join(dir, 'vmlinuz.src');
    await writeFile(bigFile, big);
    entries = [
      f('/config.txt', text('arm_64bit=1\nenable_uart=1\nkernel=vmlinuz\ninitramfs initramfs.gz followkernel\n')),
      f('/cmdline.txt', text('console=tty0 console=ttyS1,115200 rdinit=/init\n')),
      // > 16 MB, file-backed and only streamable
      f('/vmlinuz', streamOnly(await openAsBlob(bigFile)), 0o755),
      f('/start4.elf', kernelLike(3 * MiB, 2), 0o755),
      f('/initramfs.gz', gzipSync(kernelLike(4 * MiB, 3))),
      f('/fixup4.dat', kernelLike(5399, 4), 0o600),
      d('/overlays'),
      f('/overlays/disable-bt.dtbo', kernelLike(1500, 5)),
      f('/overlays/ñandú-überlay.dtbo', kernelLike(900, 6)),
      d('/日本語', 0o700),
      f('/日本語/ファイル.txt', text('こんにちは\n')),
      f('/empty.dat', new Uint8Array(0)),
      d('/empty folder'),
      { path: '/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: EPOCH, target: 'vmlinuz' },
      { path: '/console', type: 'char', mode: 0o600, uid: 0, gid: 0, mtime: EPOCH, major: 5, minor: 1 },
    ];
    const r = await zipEntries(entries, { mtime: EPOCH });
    skipped = r.skipped;
    zipBytes = new Uint8Array(await r.blob.arrayBuffer());
    zipFile = join(dir, 'boot.zip');
    await writeFile(zipFile, zipBytes);
  });
  afterAll(cleanupTemp);

  it('skips the symlink and the device', () => {
    expect(skipped).toEqual(['/link', '/console']);
  });

  it('passes unzip -t', async () => {
    const t = await run('unzip', ['-t', zipFile], { env: ENV });
    expect(t.code, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).toContain('No errors detected in compressed data');
    expect(t.stdout.match(/ OK$/gm)?.length).toBe(13);
  });

  it('lists modes, methods and UTF-8 names in zipinfo', async () => {
    const lines = (await must('zipinfo', [zipFile], { env: ENV })).stdout.split('\n').filter((l) => /^[-d][rwx-]{9} /.test(l));
    const rows = Object.fromEntries(lines.map((l) => {
      const m = /^(\S+)\s+3\.0 unx\s+(\d+) b[x-] (defN|stor) 23-Nov-14 22:13 (.+)$/.exec(l);
      expect(m, l).not.toBeNull();
      return [m![4], { mode: m![1], size: Number(m![2]), method: m![3] }];
    }));
    expect(Object.keys(rows)).toEqual([
      'cmdline.txt', 'config.txt', 'empty folder/', 'empty.dat', 'fixup4.dat', 'initramfs.gz', 'overlays/',
      'overlays/disable-bt.dtbo', 'overlays/ñandú-überlay.dtbo', 'start4.elf', 'vmlinuz', '日本語/', '日本語/ファイル.txt',
    ]);
    expect(rows['vmlinuz']).toEqual({ mode: '-rwxr-xr-x', size: 20 * MiB, method: 'defN' });
    expect(rows['start4.elf']).toEqual({ mode: '-rwxr-xr-x', size: 3 * MiB, method: 'defN' });
    expect(rows['initramfs.gz'].method).toBe('stor');
    expect(rows['fixup4.dat'].mode).toBe('-rw-------');
    expect(rows['empty.dat']).toEqual({ mode: '-rw-r--r--', size: 0, method: 'stor' });
    expect(rows['empty folder/'].mode).toBe('drwxr-xr-x');
    expect(rows['日本語/'].mode).toBe('drwx------');
    const v = (await must('zipinfo', ['-v', zipFile], { env: ENV })).stdout;
    expect(v).toContain('file system or operating system of origin:      Unix');
    expect(v).toContain('file last modified on (UT extra field modtime): 2023 Nov 14 22:13:20 UTC');
    expect(v).not.toContain('extended local header:                          yes');
  });

  it.skipIf(!hasCommand('python3'))('flags every name as UTF-8 (bit 11), as Python\'s zipfile reads it', async () => {
    const py = 'import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\n' +
      'print(json.dumps([[i.filename, i.flag_bits & 0x800, i.create_system, i.external_attr >> 16] for i in z.infolist()]))\n' +
      'assert z.testzip() is None';
    const out = JSON.parse((await must('python3', ['-c', py, zipFile])).stdout) as [string, number, number, number][];
    expect(out.length).toBe(13);
    for (const [, utf8, system] of out) {
      expect(utf8).toBe(0x800);
      expect(system).toBe(3);
    }
    expect(out.find(([n]) => n === '日本語/ファイル.txt')?.[3]).toBe(0o100644);
  });

  it('unpacks with unzip to the same names, content, modes and times', async () => {
    const out = join(dir, 'out');
    await must('unzip', ['-q', zipFile, '-d', out], { env: ENV });
    const got = await describeTree(out);
    const want: NodeInfo[] = [];
    for (const e of entries.filter((x) => x.type === 'file' || x.type === 'dir')) {
      const n: NodeInfo = { path: e.path, type: e.type as 'file' | 'dir', mode: e.mode, uid: got[0].uid, gid: got[0].gid, mtime: EPOCH };
      if (e.type === 'file') {
        const bytes = e.path === '/vmlinuz' ? big : new Uint8Array(await e.data!.arrayBuffer());
        n.size = bytes.length;
        n.sha256 = sha256(bytes);
      }
      want.push(n);
    }
    const byPath = (a: NodeInfo, b: NodeInfo) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
    expect(got.sort(byPath)).toEqual(want.sort(byPath));
  });

  it('is byte-identical from run to run, and smaller than its content', async () => {
    const again = new Uint8Array(await (await zipEntries([...entries].reverse(), { mtime: EPOCH })).blob.arrayBuffer());
    expect(sha256(again)).toBe(sha256(zipBytes));
    const content = entries.reduce((n, e) => n + (e.data?.size ?? 0), 0);
    expect(zipBytes.length).toBeLessThan(content * 0.7);
  });

  it('compresses about as well as zip -6', async () => {
    const src = join(dir, 'src');
    await must('unzip', ['-q', zipFile, '-d', src], { env: ENV });
    const theirs = join(dir, 'native.zip');
    await must('sh', ['-c', `cd "${src}" && zip -q -r -6 -X "${theirs}" .`]);
    const native = (await readFile(theirs)).length;
    expect(zipBytes.length / native).toBeLessThan(1.05);
  });
});
