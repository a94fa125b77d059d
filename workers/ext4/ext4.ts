// The ext4 root file system: sized ahead of time (planExt4), made by our WASM mke2fs -d from an
// entry manifest that carries the exact Unix metadata (buildExt4), and checked by our WASM
// e2fsck -fn (checkExt4). Runs in Node and in a browser Web Worker; no Node-only APIs.
//
// How an image is made:
//  1. planExt4 works out the blocks and inodes the tree needs and the size (auto: just enough
//     for the content plus the headroom; or the size the user set, which must be big enough).
//  2. Every distinct regular file's content is read from its Blob into memory and laid out in
//     the in-memory WASI tree as /src/<n>; the manifest (workers/wasi/manifest.ts) names each
//     entry with its type, mode, uid, gid, mtime, target or device numbers, and src=<n>. Files
//     that share one Blob object (what the tar, cpio and list readers give hard links) and have
//     the same metadata become one inode with several names (manifest `ino=` keys).
//  3. mke2fs writes the image into a sparse ChunkedFile: a 4 GiB image holding 100 MB keeps
//     about 100 MB of chunks in memory.
// Peak memory: every file's content is read into memory before mke2fs runs, and each is let go
// once mke2fs has copied it, so the peak is about the content (or the image's stored chunks,
// about the same plus metadata, whichever is larger) plus the mke2fs instance; measured for 109 MB
// in a 4 GiB image by tests/ext4.
//
// Determinism: the file-system UUID and directory hash seed come from the project seed and the
// epoch; E2FSPROGS_FAKE_TIME fixes every time mke2fs writes; the features, block size, inode
// size, inode count and reserved ratio are all given explicitly, so the image depends on nothing
// but the input (not on mke2fs.conf defaults).

import type { Entry } from '../model/entry.ts';
import type { Ext4Options } from '../model/project.ts';
import { projectSeed } from '../model/project.ts';
import { BootsmithError, throwIfAborted } from '../model/problems.ts';
import { buildManifest, comparePaths, type ManifestEntry } from '../wasi/manifest.ts';
import { type ByteStore, ChunkedFile, runWasi, WasiTrap } from '../wasi/runner.ts';
import { loadTool } from '../wasi/tools.ts';
import { BLOCK_SIZE } from './geometry.ts';
import { type Ext4Plan, MiB, RESERVED_PERCENT, ext4Features, mib, planImage } from './plan.ts';

/** File contents being read at once while the image's inputs are gathered. */
const READ_AHEAD = 16;

export { type Ext4Plan, planExt4, ext4Features, MAX_EXT4_BYTES, MAX_LABEL_BYTES, MODERN_FEATURES } from './plan.ts';

export interface ImageCheck {
  tool: string;
  clean: boolean;
  summary: string;
  output: string;
}

export interface Ext4BuildOptions extends Ext4Options {
  /** Seconds since the epoch: every time in the image is at most this (mtimes arrive clamped). */
  epoch: number;
  /** The project's seed (32 hex digits): the UUID and hash seed derive from it. */
  seed: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

// ---------------------------------------------------------------------------------------------
// Building

/** 16 bytes as a UUID string, marked as a version-4 (random) UUID. */
export function formatUuid(bytes: Uint8Array): string {
  const b = Uint8Array.from(bytes.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Read-only content of one file for mke2fs, counting what mke2fs has read (for progress).
 *  mke2fs reads each file once, front to back (copy_file_chunk: pread in 64 KiB steps), so the
 *  bytes are let go as soon as the last of them has been read: the staged content then shrinks
 *  while the image grows, and the peak is about the larger of the two rather than their sum. A
 *  read after that fails loudly (a trap, reported as an error), never with wrong bytes. */
class SourceBytes implements ByteStore {
  private bytes: Uint8Array | null;
  readonly size: number;
  constructor(
    bytes: Uint8Array,
    private readonly onRead: (n: number) => void,
  ) {
    this.bytes = bytes;
    this.size = bytes.byteLength;
  }
  read(offset: number, length: number): Uint8Array {
    if (!this.bytes) throw new Error('file content read again after it was released');
    const end = Math.min(this.size, offset + length);
    const out = this.bytes.subarray(Math.min(offset, this.size), end);
    this.onRead(out.byteLength);
    if (end >= this.size) this.bytes = null;
    return out;
  }
  write(): void {
    throw new Error('file content is read-only');
  }
  truncate(): void {
    throw new Error('file content is read-only');
  }
}

const IMAGE = '/work/rootfs.ext4';
const MANIFEST = '/work/manifest';
/** Progress units for mke2fs's own work (metadata, journal), besides copying content. */
const FIXED_WORK = 4 * MiB;

/** Summarises mke2fs's complaints in one line. */
function summarise(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const text = lines.join('; ');
  return text.length > 400 ? text.slice(0, 397) + '...' : text || 'no message';
}

/** entries = imageEntries(...) output (sorted, clamped, parents present, validated). */
export async function buildExt4(entries: readonly Entry[], opts: Ext4BuildOptions): Promise<{ image: ChunkedFile; plan: Ext4Plan }> {
  const p = planImage(entries, opts);
  const { signal } = opts;
  throwIfAborted(signal);

  const total = 2 * p.contentBytes + FIXED_WORK;
  let done = 0;
  let shown = -1;
  const report = (force = false) => {
    if (!opts.onProgress) return;
    if (force || done - shown >= total / 100) {
      shown = done;
      opts.onProgress(Math.min(done, total), total);
    }
  };
  report(true);

  const [mke2fs, uuidBytes, hashBytes] = await Promise.all([
    loadTool('mke2fs'),
    projectSeed(opts.seed, opts.epoch, 'ext4-uuid'),
    projectSeed(opts.seed, opts.epoch, 'ext4-hash-seed'),
  ]);

  // Stage the content and write the manifest.
  const files = new Map<string, ByteStore | Uint8Array>();
  // The root and lost+found exist already; their lines set their metadata. (mke2fs itself would
  // give lost+found a time without the epoch bits, wrong for epochs past 2038.)
  const manifest: ManifestEntry[] = [{ path: '/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: opts.epoch }];
  if (!entries.some((e) => e.path === '/lost+found')) {
    manifest.push({ path: '/lost+found', type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: opts.epoch });
  }
  const onRead = (n: number) => {
    done += n;
    report();
  };
  // The manifest puts folders before their contents ("/a/x" before "/a b/y", unlike a byte
  // order): the name that comes first there creates the inode, so it carries the content.
  const inodes = p.tally.inodes.map((inode) => (inode.entries.length > 1 ? [...inode.entries].sort((a, b) => comparePaths(a.path, b.path)) : inode.entries));
  // Contents are read READ_AHEAD at a time: one await per file in turn left the CPU idle for
  // most of the time on a tree of many small files.
  const toRead = inodes.map((names) => names[0]).filter((e) => e.type === 'file' && (e.data?.size ?? 0) > 0);
  const contents = new Map<Entry, Uint8Array>();
  let next = 0;
  const reader = async () => {
    while (next < toRead.length) {
      const e = toRead[next++];
      throwIfAborted(signal);
      const size = e.data!.size;
      const bytes = new Uint8Array(await e.data!.arrayBuffer());
      if (bytes.byteLength !== size) throw new BootsmithError(`${e.path}: its content changed while the image was being made (${size} bytes before, ${bytes.byteLength} now). Build again.`);
      contents.set(e, bytes);
      done += size;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AHEAD, toRead.length) }, reader));
  throwIfAborted(signal);

  let n = 0;
  let hasEmpty = false;
  for (const names of inodes) {
    const first = names[0];
    let src: string | undefined;
    if (first.type === 'file') {
      const bytes = contents.get(first);
      if (!bytes) {
        src = 'empty';
        hasEmpty = true;
      } else {
        src = String(n++);
        files.set(`/src/${src}`, new SourceBytes(bytes, onRead));
      }
    }
    const link = names.length > 1 ? first.path : undefined;
    names.forEach((e, i) => {
      manifest.push({
        path: e.path,
        type: e.type,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        mtime: e.mtime,
        target: e.target,
        major: e.major,
        minor: e.minor,
        link,
        src: i === 0 ? src : undefined,
      });
    });
  }
  if (hasEmpty) files.set('/src/empty', new Uint8Array(0));
  files.set(MANIFEST, new TextEncoder().encode(buildManifest(manifest)));
  done = p.contentBytes;
  report(true);
  throwIfAborted(signal);

  const image = new ChunkedFile(p.sizeBytes);
  files.set(IMAGE, image);
  const uuid = formatUuid(uuidBytes);
  const hashSeed = formatUuid(hashBytes);
  const args = [
    'mke2fs', '-q', '-F',
    '-t', 'ext4', '-T', 'default',
    '-b', String(BLOCK_SIZE), '-I', '256', '-N', String(p.requestedInodes), '-m', String(RESERVED_PERCENT),
    '-O', ['none', ...ext4Features(opts)].join(','),
    '-U', uuid,
    '-E', `hash_seed=${hashSeed},lazy_itable_init=0,lazy_journal_init=0,nodiscard`,
    ...(opts.label ? ['-L', opts.label] : []),
    '-d', '/src', IMAGE,
  ];
  let result;
  try {
    result = await runWasi(mke2fs, {
      args,
      env: { E2FS_MANIFEST: MANIFEST, E2FSPROGS_FAKE_TIME: String(opts.epoch) },
      files,
      dirs: ['/src'],
    });
  } catch (e) {
    if (e instanceof WasiTrap) throw new BootsmithError(`mke2fs crashed while making the ext4 image: ${e.message}${e.stderr ? ` (${summarise(e.stderr)})` : ''}`);
    throw e;
  }
  files.clear();
  if (result.exitCode !== 0) {
    const said = summarise(result.stderr).replace(/\.+$/, '');
    const full = /allocate|no space|space left|ENOSPC|too small/i.test(said)
      ? ` The content did not fit in ${mib(p.sizeBytes)}; set a bigger size or choose auto.`
      : '';
    throw new BootsmithError(`mke2fs could not make the ext4 image (exit ${result.exitCode}): ${said}.${full}`);
  }
  throwIfAborted(signal);
  done = total;
  report(true);
  return { image, plan: { contentBytes: p.contentBytes, minBytes: p.minBytes, sizeBytes: p.sizeBytes, blockSize: p.blockSize, inodes: p.inodes } };
}

// ---------------------------------------------------------------------------------------------
// Checking

/** The superblock's last write time (s_wtime with its high byte), or 0. */
function lastWriteTime(image: ChunkedFile): number {
  const sb = image.read(1024, 1024);
  if (sb.byteLength < 1024) return 0;
  const v = new DataView(sb.buffer, sb.byteOffset, sb.byteLength);
  if (v.getUint16(0x38, true) !== 0xef53) return 0;
  return v.getUint32(0x30, true) + sb[0x274] * 2 ** 32;
}

/** One line for the verdict: e2fsck's closing line ("rootfs: 11/2048 files (0.0% non-contiguous),
 *  1290/8192 blocks") when clean; otherwise the first problem it names, then that line if any
 *  ("Root inode is not a directory; rootfs: ..."), or why it could not check at all ("Bad magic
 *  number in super-block while trying to open the image"). */
function checkSummary(clean: boolean, exitCode: number, stdout: string, stderr: string): string {
  const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
  const out = lines(stdout);
  const stats = out.filter((l) => /: \d+\/\d+ files .*, \d+\/\d+ blocks$/.test(l)).at(-1);
  if (clean) return stats ?? out.at(-1) ?? 'clean';
  const tidy = (l: string) => l.replaceAll(IMAGE, 'the image').replace(/\s+(IGNORED\.|[A-Z][\w -]*\? no)$/, '').replace(/\.$/, '');
  const fatal = lines(stderr).find((l) => l.startsWith('e2fsck: '));
  if (fatal) return tidy(fatal.slice('e2fsck: '.length));
  const skip = /^(Pass \d|Running additional passes|e2fsck \d|fatal error: longjmp|\(There are)|\*{5,}|: \*+ WARNING/;
  const problem = out.find((l) => !skip.test(l) && !l.includes('********** WARNING') && l !== stats);
  const first = problem ? tidy(problem) : `e2fsck -fn exited with ${exitCode}`;
  return stats ? `${first}; ${stats}` : first;
}

/** Runs our e2fsck.wasm -fn on the image (read-only); clean = exit code 0; summary = e2fsck's
 *  last line such as "rootfs: 11/2048 files (0.0% non-contiguous), 1290/8192 blocks", or for a
 *  broken image the first problem (see checkSummary); output = everything e2fsck printed.
 *  Never throws for a broken image (a crash of e2fsck itself is reported as not clean). */
export async function checkExt4(image: ChunkedFile): Promise<ImageCheck> {
  const tool = 'e2fsck -fn';
  const e2fsck = await loadTool('e2fsck');
  // An image made with an epoch ahead of this clock would be reported as written "in the
  // future"; check it as of its own time instead.
  const now = Math.floor(Date.now() / 1000);
  const written = lastWriteTime(image);
  const env: Record<string, string> = written > now ? { E2FSCK_TIME: String(written) } : {};
  // e2fsck opens /dev/null at start (to make sure fds 0-2 are open) and complains without one.
  const files = new Map<string, ByteStore | Uint8Array>([[IMAGE, image], ['/dev/null', new Uint8Array(0)]]);
  try {
    const r = await runWasi(e2fsck, { args: ['e2fsck', '-fn', IMAGE], env, files });
    const output = (r.stderr + r.stdout).trim();
    const clean = r.exitCode === 0;
    return { tool, clean, summary: checkSummary(clean, r.exitCode, r.stdout, r.stderr), output };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const output = e instanceof WasiTrap ? (e.stdout + e.stderr).trim() : '';
    return { tool, clean: false, summary: message, output };
  }
}
