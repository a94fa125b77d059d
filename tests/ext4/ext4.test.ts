// ext4 images from workers/ext4, checked from the outside with the NATIVE e2fsprogs: e2fsck -fn
// must pass, dumpe2fs -h shows the features, label and UUID, and a tree read back through debugfs
// (tests/ext4/readback.ts) must equal the input in every entry's type, mode, uid, gid, mtime,
// device numbers, link target, content and hard links. Random trees (fast-check, fixed seed),
// determinism, a sparse 4 GiB image, and our WASM e2fsck's verdict on good and broken images.
//
// Skipped only when the WASM tools or the native e2fsprogs are missing and CI is unset.

import { createHash, randomFillSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, EntryType } from '../../workers/model/entry.ts';
import { ancestorsOf, byteLength } from '../../workers/model/path.ts';
import { BootsmithError, CancelledError } from '../../workers/model/problems.ts';
import { DEFAULT_EXT4, type Ext4Options, projectSeed } from '../../workers/model/project.ts';
import { sortEntries } from '../../workers/model/tree.ts';
import { errorsOf, validateTree } from '../../workers/model/validate.ts';
import { buildExt4, checkExt4, type Ext4Plan, formatUuid, planExt4 } from '../../workers/ext4/ext4.ts';
import { geometry } from '../../workers/ext4/geometry.ts';
import { ChunkedFile } from '../../workers/wasi/runner.ts';
import { toolPath, useToolsFromDisk } from '../../workers/wasi/node-tools.ts';
import { cleanup, hasNative, native, pseudoRandom, tempDir, writeHostFile } from '../../workers/wasi/test-helpers.ts';
import { type ReadEntry, readImage } from './readback.ts';

const MiB = 1024 * 1024;
const EPOCH = 1_700_000_000;
const SEED = '5eed5eed5eed5eed5eed5eed5eed5eed';

const haveWasm = ['mke2fs', 'e2fsck'].every((t) => toolPath(t as 'mke2fs') !== undefined);
const haveNative = ['e2fsck', 'debugfs', 'dumpe2fs', 'mke2fs'].every(hasNative);
/** Skip only when something is missing outside CI; in CI a missing tool must fail the tests. */
const skip = !process.env.CI && (!haveWasm || !haveNative);

beforeAll(() => useToolsFromDisk());
afterAll(cleanup);

// ---------------------------------------------------------------------------------------------
// Trees

const utf8 = (s: string) => new TextEncoder().encode(s);
const blob = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]);

function entry(path: string, type: EntryType, mode: number, extra: Partial<Entry> = {}): Entry {
  return { path, type, mode, uid: 0, gid: 0, mtime: EPOCH - 1000, ...extra };
}

/** What the pipeline's imageEntries does: mtimes clamped, implied parents added, sorted; and
 *  the tree validated. (Written here so these tests do not depend on the pipeline.) */
function prepare(entries: Entry[], epoch = EPOCH): Entry[] {
  const out = entries.map((e) => (e.mtime > epoch ? { ...e, mtime: epoch } : e));
  const have = new Set(out.map((e) => e.path));
  for (const e of entries) {
    for (const d of ancestorsOf(e.path)) {
      if (have.has(d)) continue;
      have.add(d);
      out.push({ path: d, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: Math.min(epoch, e.mtime) });
    }
  }
  const errors = errorsOf(validateTree(out));
  if (errors.length) throw new Error(`test tree is invalid: ${errors.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return sortEntries(out);
}

/** Content with all-zero blocks between data (mke2fs leaves those as holes). */
function holey(size: number, seed: number): Uint8Array {
  const b = pseudoRandom(size, seed);
  for (let off = 4096; off < size; off += 3 * 4096) b.fill(0, off, Math.min(size, off + 4096));
  return b;
}

/** Every entry type and the edge cases named in the requirements. */
function edgeTree(): Entry[] {
  const busybox = blob(pseudoRandom(MiB + 1, 11));
  const shared = blob(utf8('linked\n'));
  const e: Entry[] = [
    entry('/bin', 'dir', 0o755),
    entry('/bin/busybox', 'file', 0o755, { data: busybox }),
    entry('/bin/sh', 'file', 0o755, { data: busybox }), // hard links: one Blob object
    entry('/bin/ls', 'file', 0o755, { data: busybox }),
    entry('/bin/not-a-link', 'file', 0o700, { data: busybox }), // same Blob, other mode: a copy
    // Hard links whose byte order ("/hl/a b" < "/hl/a/") differs from a folder-first order.
    entry('/hl/a b/one', 'file', 0o644, { data: shared }),
    entry('/hl/a/two', 'file', 0o644, { data: shared }),
    entry('/etc', 'dir', 0o750, { gid: 42 }),
    entry('/etc/passwd', 'file', 0o644, { data: blob(utf8('root:x:0:0:root:/root:/bin/sh\n')) }),
    entry('/etc/empty', 'file', 0o600, { data: blob(new Uint8Array(0)) }),
    entry('/etc/no-data', 'file', 0o600),
    entry('/etc/b4095', 'file', 0o644, { data: blob(pseudoRandom(4095, 1)) }),
    entry('/etc/b4096', 'file', 0o644, { data: blob(pseudoRandom(4096, 2)) }),
    entry('/etc/b4097', 'file', 0o644, { data: blob(pseudoRandom(4097, 3)) }),
    entry('/etc/1MiB+1', 'file', 0o644, { data: blob(pseudoRandom(MiB + 1, 4)) }),
    entry('/etc/holes', 'file', 0o644, { data: blob(holey(100_000, 5)) }),
    entry('/etc/zeros', 'file', 0o644, { data: blob(new Uint8Array(50_000)) }),
    entry('/etc/a file with spaces', 'file', 0o640, { uid: 1000, gid: 1001, data: blob(utf8('spaces\n')) }),
    entry('/etc/new\nline', 'file', 0o644, { data: blob(utf8('newline\n')) }),
    entry('/etc/100% sure %41', 'file', 0o644, { data: blob(utf8('percent\n')) }),
    entry('/etc/ünïcödé 名前 😀', 'file', 0o644, { uid: 70000, gid: 80000, data: blob(utf8('unicode\n')) }),
    entry(`/etc/"quoted" 'single' \\back\ttab`, 'file', 0o644, { data: blob(utf8('quotes\n')) }),
    entry('/etc/-dash', 'file', 0o644, { data: blob(utf8('dash\n')) }),
    entry('/etc/.hidden', 'file', 0o644, { data: blob(utf8('hidden\n')) }),
    entry(`/etc/${'n'.repeat(250)}.conf`, 'file', 0o644, { data: blob(utf8('255 bytes\n')) }),
    entry(`/etc/${'é'.repeat(127)}x`, 'file', 0o644, { data: blob(utf8('255 bytes of UTF-8\n')) }),
    entry('/etc/mode0', 'file', 0o000, { data: blob(utf8('x')) }),
    entry('/etc/old', 'file', 0o644, { mtime: 0, data: blob(utf8('1970\n')) }),
    entry('/usr', 'dir', 0o755),
    entry('/usr/bin', 'dir', 0o755),
    entry('/usr/bin/su', 'file', 0o4755, { data: blob(utf8('#!/bin/sh\n')) }),
    entry('/usr/bin/wall', 'file', 0o2755, { gid: 5, data: blob(utf8('#!/bin/sh\n')) }),
    entry('/usr/bin/all', 'file', 0o7777, { data: blob(utf8('#!/bin/sh\n')) }),
    entry('/tmp', 'dir', 0o1777),
    entry('/home', 'dir', 0o755),
    entry('/home/big', 'dir', 0o700, { uid: 70000, gid: 80000 }),
    entry('/home/big/max-ids', 'file', 0o600, { uid: 0xfffffffe, gid: 0xfffffffe, data: blob(utf8('max\n')) }),
    entry('/home/big/65536', 'file', 0o600, { uid: 65536, gid: 65535, data: blob(utf8('ids\n')) }),
    entry('/dev', 'dir', 0o755),
    entry('/dev/console', 'char', 0o600, { gid: 5, major: 5, minor: 1 }),
    entry('/dev/null', 'char', 0o666, { major: 1, minor: 3 }),
    entry('/dev/sda1', 'block', 0o660, { gid: 6, major: 8, minor: 1 }),
    entry('/dev/big', 'char', 0o620, { major: 300, minor: 70000 }),
    entry('/dev/max', 'block', 0o600, { major: 4095, minor: 0xfffff }),
    entry('/dev/zero0', 'char', 0o600, { major: 0, minor: 0 }),
    entry('/dev/initctl', 'fifo', 0o600),
    entry('/dev/log', 'socket', 0o666),
    entry('/lib', 'symlink', 0o777, { target: 'usr/lib' }),
    entry('/etc/link59', 'symlink', 0o777, { target: 'x'.repeat(59) }),
    entry('/etc/link60', 'symlink', 0o777, { target: 'y'.repeat(60) }),
    entry('/etc/long link', 'symlink', 0o777, { uid: 3, gid: 4, target: '/a/b c/ünï/' + 'z'.repeat(200) }),
    entry('/etc/longest', 'symlink', 0o777, { target: ('/' + 'd'.repeat(99)).repeat(40) + '/' + 'e'.repeat(94) }),
    entry('/etc/odd target', 'symlink', 0o777, { target: 'new\nline "q" 100%' }),
    entry('/etc/dangling', 'symlink', 0o777, { target: '/nowhere/at/all' }),
  ];
  let deep = '/deep';
  for (let i = 0; i < 40; i++) {
    deep += `/level ${i}`;
    e.push(entry(deep, 'dir', 0o755 - (i % 3)));
  }
  e.push(entry(`${deep}/bottom`, 'file', 0o644, { data: blob(utf8('deep\n')) }));
  for (let i = 0; i < 300; i++) e.push(entry(`/many/file-${String(i).padStart(4, '0')}-${'p'.repeat(i % 50)}`, 'file', 0o644, { mtime: EPOCH - i, data: blob(utf8(`${i}\n`)) }));
  return prepare(e);
}

// ---------------------------------------------------------------------------------------------
// Building and comparing

interface Built {
  image: ChunkedFile;
  plan: Ext4Plan;
  img: string;
  dir: string;
}

async function build(entries: Entry[], o: Partial<Ext4Options> = {}, epoch = EPOCH, seed = SEED): Promise<Built> {
  const { image, plan } = await buildExt4(entries, { ...DEFAULT_EXT4, enabled: true, ...o, epoch, seed });
  const dir = tempDir();
  const img = join(dir, 'rootfs.ext4');
  writeHostFile(img, image);
  return { image, plan, img, dir };
}

function fsck(img: string, epoch = EPOCH): void {
  // E2FSCK_TIME: images made for a future epoch are checked as of that time.
  const env: Record<string, string> = epoch > Date.now() / 1000 ? { E2FSCK_TIME: String(epoch) } : {};
  const r = native('e2fsck', ['-fn', img], env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

function superblock(img: string): Record<string, string> {
  const r = native('dumpe2fs', ['-h', img]);
  expect(r.code, r.stderr).toBe(0);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const features = (img: string) => superblock(img)['Filesystem features'].split(/\s+/);

async function bytesOf(e: Entry): Promise<Buffer> {
  return e.data ? Buffer.from(await e.data.arrayBuffer()) : Buffer.alloc(0);
}

/** The image holds exactly the tree: the same paths (plus lost+found), and for each the same
 *  type, mode, owner, mtime, content, target, device numbers; files that share a Blob object and
 *  metadata share one inode, and nothing else does. */
async function expectSameTree(read: Map<string, ReadEntry>, entries: Entry[], epoch = EPOCH): Promise<void> {
  const want = new Map(entries.map((e) => [e.path, e]));
  const root = read.get('/')!;
  expect({ type: root.type, mode: root.mode, uid: root.uid, gid: root.gid, mtime: root.mtime }).toEqual({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: epoch });
  if (!want.has('/lost+found')) {
    const lf = read.get('/lost+found')!;
    expect({ type: lf.type, mode: lf.mode, uid: lf.uid, mtime: lf.mtime }).toEqual({ type: 'dir', mode: 0o700, uid: 0, mtime: epoch });
  }
  const got = [...read.keys()].filter((p) => p !== '/' && (p !== '/lost+found' || want.has(p))).sort();
  expect(got).toEqual([...want.keys()].sort());

  const groupKey = new Map<Blob, Entry[]>();
  const inodeOf = new Map<string, number>();
  for (const e of entries) {
    const r = read.get(e.path)!;
    const what = { type: r.type, mode: r.mode.toString(8), uid: r.uid, gid: r.gid, mtime: r.mtime };
    expect(what, e.path).toEqual({ type: e.type, mode: e.mode.toString(8), uid: e.uid, gid: e.gid, mtime: e.mtime });
    if (e.type === 'file') {
      const want = await bytesOf(e);
      expect(r.size, e.path).toBe(want.length);
      expect(r.content && Buffer.compare(r.content, want), `${e.path} content`).toBe(0);
      // The expected inode: the first earlier file with the same Blob and metadata.
      let twin: Entry | undefined;
      if (e.data) {
        const same = groupKey.get(e.data) ?? [];
        twin = same.find((o) => o.mode === e.mode && o.uid === e.uid && o.gid === e.gid && o.mtime === e.mtime);
        same.push(e);
        groupKey.set(e.data, same);
      }
      if (twin) expect(r.ino, `${e.path} is a hard link of ${twin.path}`).toBe(inodeOf.get(twin.path));
      else expect([...inodeOf.values()], `${e.path} has its own inode`).not.toContain(r.ino);
      inodeOf.set(e.path, r.ino);
    } else {
      if (e.type !== 'dir') expect(r.links, e.path).toBe(1);
      expect([...inodeOf.values()], `${e.path} has its own inode`).not.toContain(r.ino);
      inodeOf.set(e.path, r.ino);
    }
    if (e.type === 'symlink') expect(r.target, e.path).toBe(e.target);
    if (e.type === 'char' || e.type === 'block') expect({ major: r.major, minor: r.minor }, e.path).toEqual({ major: e.major, minor: e.minor });
  }
  // Link counts: every name of an inode counted.
  const names = new Map<number, number>();
  for (const e of entries) if (e.type === 'file') names.set(inodeOf.get(e.path)!, (names.get(inodeOf.get(e.path)!) ?? 0) + 1);
  for (const e of entries) if (e.type === 'file') expect(read.get(e.path)!.links, `${e.path} links`).toBe(names.get(inodeOf.get(e.path)!));
}

const sha256 = (image: ChunkedFile) => createHash('sha256').update(image.toUint8Array()).digest('hex');

// ---------------------------------------------------------------------------------------------

describe.skipIf(skip)('ext4 images checked with native e2fsprogs', () => {
  it('hold every entry type and edge case exactly (journal, modern features)', async () => {
    const entries = edgeTree();
    const b = await build(entries, { label: 'rootfs' });
    fsck(b.img);
    await expectSameTree(readImage(b.img, b.dir), entries);

    const sb = superblock(b.img);
    const f = sb['Filesystem features'].split(/\s+/);
    for (const x of ['has_journal', 'extent', 'flex_bg', 'metadata_csum', '64bit', 'orphan_file', 'metadata_csum_seed', 'dir_index', 'filetype']) expect(f).toContain(x);
    expect(sb['Filesystem volume name']).toBe('rootfs');
    expect(sb['Filesystem UUID']).toBe(formatUuid(await projectSeed(SEED, EPOCH, 'ext4-uuid')));
    expect(sb['Directory Hash Seed']).toBe(formatUuid(await projectSeed(SEED, EPOCH, 'ext4-hash-seed')));
    expect(Number(sb['Block size'])).toBe(4096);
    expect(Number(sb['Block count']) * 4096).toBe(b.plan.sizeBytes);
    expect(Number(sb['Inode count'])).toBe(b.plan.inodes);
    expect(b.image.size).toBe(b.plan.sizeBytes);
    expect((await checkExt4(b.image)).clean).toBe(true);
  });

  it('leaves the journal out when asked, and old-kernel features out in compat mode', async () => {
    const entries = edgeTree();
    const b = await build(entries, { journal: false, compat: true, label: 'USB root ünï' });
    fsck(b.img);
    await expectSameTree(readImage(b.img, b.dir), entries);
    const sb = superblock(b.img);
    const f = sb['Filesystem features'].split(/\s+/);
    for (const x of ['has_journal', 'metadata_csum', '64bit', 'orphan_file', 'metadata_csum_seed']) expect(f).not.toContain(x);
    for (const x of ['extent', 'flex_bg', 'huge_file', 'dir_nlink', 'extra_isize']) expect(f).toContain(x);
    expect(sb['Filesystem volume name']).toBe('USB root ünï');
    const check = await checkExt4(b.image);
    expect(check.clean, check.output).toBe(true);
    // e2fsck writes the label with spaces made underscores.
    expect(check.summary).toMatch(/^USB_root_ünï: \d+\/\d+ files \([\d.]+% non-contiguous\), \d+\/\d+ blocks$/);
  });

  it('journal on with compat; journal off with modern features; no label', async () => {
    const entries = prepare([
      entry('/init', 'file', 0o755, { data: blob(utf8('#!/bin/sh\nexec sh\n')) }),
      // An input that has its own lost+found (a tar of an ext4 root): its metadata is kept.
      entry('/lost+found', 'dir', 0o750, { uid: 5, gid: 6, mtime: EPOCH - 7 }),
      entry('/lost+found/#1234', 'file', 0o600, { data: blob(utf8('recovered\n')) }),
    ]);
    const a = await build(entries, { journal: true, compat: true });
    fsck(a.img);
    const fa = features(a.img);
    expect(fa).toContain('has_journal');
    for (const x of ['metadata_csum', '64bit', 'orphan_file', 'metadata_csum_seed']) expect(fa).not.toContain(x);
    const b = await build(entries, { journal: false, compat: false, label: '' });
    fsck(b.img);
    const fb = features(b.img);
    expect(fb).not.toContain('has_journal');
    expect(fb).not.toContain('orphan_file'); // needs a journal
    for (const x of ['metadata_csum', '64bit', 'metadata_csum_seed']) expect(fb).toContain(x);
    expect(superblock(b.img)['Filesystem volume name']).toBe('<none>');
    await expectSameTree(readImage(b.img, b.dir), entries);
    await expectSameTree(readImage(a.img, a.dir), entries);
  });

  it('keeps times past 2038 and up to 2106', async () => {
    const epoch = 4_294_967_295; // the largest time an entry can carry
    const entries = prepare(
      [
        entry('/y2038', 'file', 0o644, { mtime: 2 ** 31 + 5, data: blob(utf8('a')) }),
        entry('/y2100', 'dir', 0o755, { mtime: 4_102_444_800 }),
        entry('/y2106', 'symlink', 0o777, { mtime: 4_294_967_295, target: 'y2100' }),
        entry('/y1970', 'fifo', 0o644, { mtime: 0 }),
      ],
      epoch,
    );
    const b = await build(entries, {}, epoch);
    fsck(b.img, epoch);
    await expectSameTree(readImage(b.img, b.dir), entries, epoch);
    expect((await checkExt4(b.image)).clean).toBe(true); // checked as of the image's own time
  });

  it('builds at exactly the planned minimum, and an explicit size below it fails before any work', async () => {
    const entries = edgeTree();
    for (const o of [{ journal: true }, { journal: false, compat: true }]) {
      const min = planExt4(entries, { ...DEFAULT_EXT4, ...o }).minBytes;
      const b = await build(entries, { ...o, size: min });
      expect(b.image.size).toBe(min);
      fsck(b.img);
      await expectSameTree(readImage(b.img, b.dir), entries);
      let progressed = false;
      const err = await buildExt4(entries, { ...DEFAULT_EXT4, ...o, size: min - MiB, epoch: EPOCH, seed: SEED, onProgress: () => (progressed = true) }).catch((e) => e);
      expect(err).toBeInstanceOf(BootsmithError);
      expect(err.message).toContain(`needs at least ${min / MiB} MiB`);
      expect(progressed).toBe(false);
    }
  });

  it('random trees come back exactly (fast-check, 200 trees, fixed seed)', async () => {
    const started = Date.now();
    let images = 0;
    let totalBytes = 0;
    let totalEntries = 0;
    await fc.assert(
      fc.asyncProperty(randomTree(), async (t) => {
        const entries = t.entries();
        const o: Partial<Ext4Options> = { journal: t.journal, compat: t.compat, headroomPercent: t.headroom, label: t.label };
        if (t.exactMin) o.size = planExt4(entries, { ...DEFAULT_EXT4, ...o }).minBytes;
        const b = await build(entries, o);
        images++;
        totalBytes += b.image.size;
        totalEntries += entries.length;
        fsck(b.img);
        if (!t.exactMin) {
          // Auto: the free space is at least the headroom (a share of the content).
          const free = Number(superblock(b.img)['Free blocks']) * 4096;
          expect(free).toBeGreaterThanOrEqual(Math.floor((b.plan.contentBytes * t.headroom) / 100));
        }
        await expectSameTree(readImage(b.img, b.dir), entries);
        const check = await checkExt4(b.image);
        expect(check.clean, check.output).toBe(true);
        cleanup();
      }),
      { seed: 20240607, numRuns: 200, endOnFailure: true },
    );
    console.log(`ext4 random trees: ${images} images, ${totalEntries} entries, ${(totalBytes / MiB).toFixed(0)} MiB of images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('is byte-identical for the same input and epoch, and differs for another epoch or seed', async () => {
    const make = async (epoch: number, seed = SEED) => (await buildExt4(edgeTree(), { ...DEFAULT_EXT4, epoch, seed })).image;
    const one = sha256(await make(EPOCH));
    const two = sha256(await make(EPOCH));
    expect(two).toBe(one);
    expect(sha256(await make(EPOCH + 1))).not.toBe(one);
    expect(sha256(await make(EPOCH, 'f'.repeat(32)))).not.toBe(one);
    const compat = async () => sha256((await buildExt4(edgeTree(), { ...DEFAULT_EXT4, journal: false, compat: true, epoch: EPOCH, seed: SEED })).image);
    expect(await compat()).toBe(await compat());
  });

  it('reports progress up to the total, and stops when cancelled', async () => {
    const entries = edgeTree();
    const seen: [number, number][] = [];
    await buildExt4(entries, { ...DEFAULT_EXT4, epoch: EPOCH, seed: SEED, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const total = seen[0][1];
    expect(seen.every(([, t]) => t === total)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    expect(seen[0][0]).toBe(0);
    expect(seen.at(-1)![0]).toBe(total);

    const already = new AbortController();
    already.abort();
    await expect(buildExt4(entries, { ...DEFAULT_EXT4, epoch: EPOCH, seed: SEED, signal: already.signal })).rejects.toBeInstanceOf(CancelledError);
    // Cancelled while the content is being read.
    const midway = new AbortController();
    let calls = 0;
    const p = buildExt4(entries, { ...DEFAULT_EXT4, epoch: EPOCH, seed: SEED, signal: midway.signal, onProgress: () => { if (++calls === 2) midway.abort(); } });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });

  it('turns an mke2fs failure into a BootsmithError that quotes it', async () => {
    // Not what the pipeline passes (its entries always have their parents): mke2fs rejects it.
    const orphan = [entry('/missing/parent/file', 'file', 0o644, { data: blob(utf8('x')) })];
    const err = await buildExt4(orphan, { ...DEFAULT_EXT4, epoch: EPOCH, seed: SEED }).catch((e) => e);
    expect(err).toBeInstanceOf(BootsmithError);
    expect(err.message).toMatch(/^mke2fs could not make the ext4 image \(exit 1\): .*manifest line \d+: parent directory not found: \/missing\/parent/);
  });

  it('our e2fsck.wasm passes good images and fails broken ones', async () => {
    const entries = edgeTree();
    for (const o of [{}, { journal: false, compat: true }]) {
      const { image } = await buildExt4(entries, { ...DEFAULT_EXT4, ...o, epoch: EPOCH, seed: SEED });
      const good = await checkExt4(image);
      expect(good.clean, good.output).toBe(true);
      expect(good.tool).toBe('e2fsck -fn');
      expect(good.summary).toMatch(/^rootfs: \d+\/\d+ files \([\d.]+% non-contiguous\), \d+\/\d+ blocks$/);

      // Damage that e2fsck must not pass: the superblock's inode count, a group descriptor's
      // block bitmap location, the root inode's type (found through the descriptor).
      const desc = image.read(4096, 64);
      const inodeTable = new DataView(desc.buffer, desc.byteOffset).getUint32(8, true);
      const damage: [string, number, number[]][] = [
        ['superblock inode count', 1024 + 0x00, [0x01, 0x00, 0x00, 0x00]],
        ['group descriptor', 4096 + 0x00, [0x05, 0x00, 0x00, 0x00]],
        ['root inode type', inodeTable * 4096 + 256, [0xa4, 0x81]],
        ['superblock magic', 1024 + 0x38, [0x00, 0x00]],
      ];
      const said: Record<string, RegExp> = {
        'superblock inode count': /superblock/i,
        'group descriptor': /.+; rootfs: \d+\/\d+ files/,
        'root inode type': /^Root inode is not a directory$/,
        'superblock magic': /^Bad magic number in super-block while trying to open the image$/,
      };
      for (const [what, offset, bytes] of damage) {
        const broken = ChunkedFile.from(image.toUint8Array());
        broken.write(offset, Uint8Array.from(bytes));
        const bad = await checkExt4(broken);
        expect(bad.clean, `${what}: ${bad.output}`).toBe(false);
        expect(bad.summary, what).toMatch(said[what]);
        // The native tool agrees.
        const dir = tempDir();
        writeHostFile(join(dir, 'broken.ext4'), broken);
        expect(native('e2fsck', ['-fn', join(dir, 'broken.ext4')]).code, what).not.toBe(0);
      }
    }
  });

  it('the layout model matches native mke2fs on many sizes', () => {
    const dir = tempDir();
    const img = join(dir, 'layout.img');
    const sizes = [1, 2, 3, 7, 8, 9, 16, 31, 64, 127, 128, 129, 200, 256, 257, 513, 1024, 1025, 2047, 4096, 8192, 16400].map((m) => m * MiB).concat([128 * MiB + 50 * 4096, 128 * MiB + 300 * 4096]);
    let compared = 0;
    for (const compat of [false, true]) {
      for (const journal of [true, false]) {
        for (const size of sizes) {
          for (const inodes of [20, 5000, Math.floor(size / 16384)]) {
            const fd = openSync(img, 'w');
            ftruncateSync(fd, size);
            closeSync(fd);
            const feats = ['sparse_super', 'large_file', 'filetype', 'resize_inode', 'dir_index', 'ext_attr', 'extent', 'huge_file', 'flex_bg', 'dir_nlink', 'extra_isize'];
            if (journal) feats.push('has_journal');
            if (!compat) feats.push('metadata_csum', '64bit', 'metadata_csum_seed', ...(journal ? ['orphan_file'] : []));
            const r = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-T', 'default', '-b', '4096', '-I', '256', '-N', String(inodes), '-O', 'none,' + feats.join(','), '-E', 'lazy_itable_init=1,nodiscard', img], { encoding: 'utf8' });
            const g = geometry(size, inodes, { journal, is64bit: !compat, orphanFile: !compat });
            if (r.status !== 0) {
              expect(typeof g, `mke2fs refused ${size / MiB} MiB / ${inodes} inodes: ${r.stderr}`).toBe('string');
              continue;
            }
            expect(typeof g, `${size} bytes`).toBe('object');
            if (typeof g === 'string') continue;
            const sb = superblock(img);
            const what = `${compat ? 'compat' : 'modern'} ${journal ? 'journal' : 'no journal'} ${size / MiB} MiB ${inodes} inodes`;
            expect({ blocks: g.blocks, free: g.freeBlocks, inodes: g.inodes }, what).toEqual({
              blocks: Number(sb['Block count']),
              free: Number(sb['Free blocks']),
              inodes: Number(sb['Inode count']),
            });
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(200);
  }, 120_000);

  it('makes a 4 GiB image with ~100 MB of content without holding 4 GiB', async () => {
    const files: Entry[] = [];
    for (let i = 0; i < 50; i++) {
      const b = new Uint8Array(2 * MiB);
      randomFillSync(b);
      files.push(entry(`/data/part-${i}.bin`, 'file', 0o644, { data: blob(b) }));
    }
    for (let i = 0; i < 2000; i++) files.push(entry(`/small/${i % 20}/f${i}`, 'file', 0o644, { data: blob(pseudoRandom(1000 + i, i + 1)) }));
    const entries = prepare(files);
    const content = entries.reduce((n, e) => n + (e.data?.size ?? 0), 0);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
    const timer = setInterval(sample, 20);
    const started = Date.now();
    let image: ChunkedFile;
    try {
      ({ image } = await buildExt4(entries, { ...DEFAULT_EXT4, size: 4 * 1024 * MiB, epoch: EPOCH, seed: SEED, onProgress: sample }));
      sample();
    } finally {
      clearInterval(timer);
    }
    const took = Date.now() - started;
    expect(image.size).toBe(4 * 1024 * MiB);
    expect(image.storedBytes).toBeLessThan(content + 64 * MiB);
    expect(image.storedBytes).toBeGreaterThan(content);
    console.log(
      `ext4 4 GiB image: ${(content / 1e6).toFixed(1)} MB of content in ${entries.length} entries; built in ${took} ms; ` +
        `chunks held ${(image.storedBytes / MiB).toFixed(1)} MiB; RSS before ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB ` +
        `(+${((peak - before) / MiB).toFixed(0)} MiB)`,
    );
    const dir = tempDir();
    const img = join(dir, 'big.ext4');
    writeHostFile(img, image);
    expect(statSync(img).blocks * 512).toBeLessThan(content + 128 * MiB); // sparse on disk too
    fsck(img);
    const read = readImage(img, dir);
    await expectSameTree(read, entries);
    const check = await checkExt4(image);
    expect(check.clean, check.output).toBe(true);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// Random trees

const NAME_CHARS = ['a', 'b', 'c', 'x', 'Z', '0', '9', ' ', '\n', '\t', '\r', '%', '"', "'", '\\', '-', '_', '.', 'ü', 'ß', '名', '😀', '*', '?', '$', '#', '~', '=', ':', ';', '[', ']'];

const nameArb = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 12 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 255 }).map((n) => 'L'.repeat(n)) },
).filter((n) => n !== '.' && n !== '..' && byteLength(n) <= 255);

const targetArb = fc.oneof(
  fc.array(fc.constantFrom(...NAME_CHARS, '/', '/', '..'), { minLength: 1, maxLength: 30 }).map((a) => a.join('')),
  fc.integer({ min: 55, max: 400 }).map((n) => '/t'.repeat(n).slice(0, n)),
);

const idArb = fc.oneof(fc.constantFrom(0, 1, 1000, 65535, 65536, 0xfffffffe), fc.integer({ min: 0, max: 0xfffffffe }));

const nodeArb = fc.record({
  kind: fc.constantFrom('file', 'file', 'file', 'dir', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket', 'link'),
  name: nameArb,
  parent: fc.nat(),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: idArb,
  gid: idArb,
  mtime: fc.integer({ min: 0, max: EPOCH + 100 }),
  size: fc.oneof(fc.constantFrom(0, 1, 59, 60, 4095, 4096, 4097, 8191, 8192, 8193, 65537), fc.integer({ min: 0, max: 150_000 })),
  fill: fc.constantFrom('random', 'random', 'zeros', 'holes'),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  target: targetArb,
  major: fc.integer({ min: 0, max: 4095 }),
  minor: fc.integer({ min: 0, max: 0xfffff }),
  linkTo: fc.nat(),
});

function randomTree() {
  return fc
    .record({
      nodes: fc.array(nodeArb, { maxLength: 60, size: 'medium' }), // about 30 entries on average
      journal: fc.boolean(),
      compat: fc.boolean(),
      headroom: fc.constantFrom(0, 20, 50),
      exactMin: fc.boolean(),
      label: fc.constantFrom('', 'rootfs', 'ünï root'),
    })
    .map((t) => ({
      ...t,
      // Entries are made afresh per run (Blobs are objects: hard links share one).
      entries: () => {
        const dirs = [''];
        const files: Entry[] = [];
        const out = new Map<string, Entry>();
        for (const n of t.nodes) {
          const parent = dirs[n.parent % dirs.length];
          const path = `${parent}/${n.name}`;
          if (out.has(path) || byteLength(path) > 4000) continue;
          const base = { path, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime };
          let e: Entry;
          switch (n.kind) {
            case 'link': {
              if (!files.length) continue;
              e = { ...files[n.linkTo % files.length], path };
              break;
            }
            case 'file': {
              const bytes = n.fill === 'zeros' ? new Uint8Array(n.size) : n.fill === 'holes' ? holey(n.size, n.seed) : pseudoRandom(n.size, n.seed);
              e = { ...base, type: 'file', data: blob(bytes) };
              files.push(e);
              break;
            }
            case 'symlink':
              e = { ...base, type: 'symlink', target: n.target };
              break;
            case 'char':
            case 'block':
              e = { ...base, type: n.kind, major: n.major, minor: n.minor };
              break;
            default:
              e = { ...base, type: n.kind as EntryType };
          }
          if (e.type === 'dir') dirs.push(path);
          out.set(path, e);
        }
        return prepare([...out.values()]);
      },
    }));
}
