// The FAT boot partition (boot.vfat): mkfs.fat.wasm makes the file system, mtools.wasm (mmd,
// mcopy) fills it, fsck.fat.wasm checks it. Runs in a Web Worker and in Node alike.
//
// How the tree goes in (few runs of mtools, since each run re-reads the FAT and costs a few
// milliseconds; see planRuns):
//  - One `mcopy -s` per batch of up to BATCH_WEIGHT (content bytes + ENTRY_WEIGHT per entry) of
//    sibling files and whole folders: mcopy copies folders recursively — with the mtools.wasm of
//    today only folders without sub-folders (no fchdir under WASI), with a fixed build whole
//    trees, so a typical boot folder is one or two runs. Other folders are made with `mmd` (in
//    one run) and their children batched in turn.
//  - Care: a name that needs a code page other than 850, or no numeric tail (see names.ts), is
//    created in a run with those settings; one with ; + = [ ] ' , in a run of its own (mtools
//    bug, see needsOwnRun); a folder holding a bare short name with "~" is filled in creation
//    order.
//  - Target folders are passed to mtools with "[" and "]" escaped (mtools matches target paths
//    as patterns).
//  - Cancellation is checked, and progress reported, between runs; the next batch's files are
//    read (Blob.arrayBuffer, 16 at a time) while the current run works.
//
// Determinism: mkfs.fat --invariant with -i <volume id from the project seed>; every timestamp
// mtools writes is SOURCE_DATE_EPOCH (the build's epoch, clamped to FAT's 1980–2107). Entry
// mtimes are not kept: mcopy -m would need the source files' mtimes, which our WASI runtime does
// not report (see the note in the report / docs/wasm-tools.md); FAT keeps names and content.

import type { Entry } from '../model/entry.ts';
import type { FatOptions } from '../model/project.ts';
import { projectSeed } from '../model/project.ts';
import { BootsmithError, throwIfAborted } from '../model/problems.ts';
import { ChunkedFile, type FileData, runWasi } from '../wasi/runner.ts';
import { loadTool } from '../wasi/tools.ts';
import { DEFAULT_CODEPAGE, LFN_MAX, foldKey, isTildeShortName, type Codepage } from './names.ts';
import { type FatNode, type FatPlan, HEADS, SECTORS_PER_TRACK, formatSize, planFatDetails } from './plan.ts';

export { planFat, type FatPlan, formatSize } from './plan.ts';

export interface ImageCheck {
  tool: string;
  clean: boolean;
  summary: string;
  output: string;
}

export interface BuildFatOptions extends FatOptions {
  /** Seconds since 1970: every timestamp in the image. */
  epoch: number;
  /** The project's seed (32 hex digits): the volume id comes from it. */
  seed: string;
  signal?: AbortSignal;
  /** Work done and to do, in bytes of content plus ENTRY_WEIGHT per entry and for mkfs. */
  onProgress?: (done: number, total: number) => void;
  /** The partition's first sector on its disk, for the boot sector's "hidden sectors" field
   *  (mkfs.fat -h), as mkfs.fat sets it when formatting a partition device. Default 0 (a
   *  stand-alone image). Linux ignores it. */
  hiddenSectors?: number;
  /** Tests only: copy nested folders with mcopy -s (true) or not (false) instead of asking the
   *  mtools build (mcopyRecurses). */
  mcopyRecursion?: boolean;
}

export interface BuildFatResult {
  image: ChunkedFile;
  plan: FatPlan;
  /** Entries FAT cannot hold (symlinks, devices, FIFOs, sockets): not in the image. */
  skipped: string[];
}

const IMAGE = '/work/boot.vfat';
/** Progress weight of one entry (and of mkfs.fat), in bytes. */
export const ENTRY_WEIGHT = 4096;
/** Most weight in one mtools run: bounds the memory a batch holds and the time between checks
 *  for cancellation (mcopy.wasm copies roughly 100 MB/s). */
export const BATCH_WEIGHT = 32 * 1024 * 1024;
/** FAT dates run from 1980-01-01 to 2107-12-31 (UTC). */
const FAT_EPOCH_MIN = 315532800;
const FAT_EPOCH_MAX = 4354819199;

/** The volume id (mkfs.fat -i): 8 hex digits from the project's seed and the epoch. */
export async function fatVolumeId(seed: string, epoch: number): Promise<string> {
  const b = await projectSeed(seed, epoch, 'fat-volume-id');
  return Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join('');
}

/** One folder name as an mtools path pattern. mtools matches each component of a target path
 *  as a pattern ("[...]", "?", "*", "\\" escapes), converted to at most 255 characters: "[" and
 *  "]" are escaped, and when that makes the component too long, the last brackets become "?"
 *  instead, provided no sibling then matches too. */
function pathPattern(n: FatNode): string {
  const chars = [...n.name];
  const brackets = chars.filter((c) => c === '[' || c === ']').length;
  const over = Math.max(0, chars.length + brackets - LFN_MAX);
  if (over === 0) return n.name.replace(/[[\]]/g, '\\$&');
  let wild = 0;
  const out: string[] = [];
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i];
    if (c === '[' || c === ']') out.push(wild++ < over ? '?' : '\\' + c);
    else out.push(c);
  }
  const pattern = out.reverse();
  // Does the pattern (one entry per character) also match a sibling? mtools compares ignoring case.
  const matches = (name: string) => {
    const cs = [...name];
    return cs.length === pattern.length && pattern.every((p, i) => p === '?' || (p.length === 2 ? cs[i] === p[1] : foldKey(cs[i]) === foldKey(p)));
  };
  const other = n.parent?.children.find((c) => c !== n && matches(c.name));
  if (other) {
    throw new BootsmithError(
      `FAT partition: ${n.path}: mtools cannot address this folder: its name is long and has many "[" or "]", and it looks too much like ${other.path}. Rename one of them (e.g. shorten the name).`,
    );
  }
  return pattern.join('');
}

/** A FAT folder as an mtools target: "::/a/b" (each component a pattern, see pathPattern). */
function mtoolsPath(n: FatNode): string {
  const parts: string[] = [];
  for (let d: FatNode | undefined = n; d?.parent; d = d.parent) parts.push(pathPattern(d));
  return '::/' + parts.reverse().join('/');
}

interface CopyOp {
  kind: 'mcopy';
  codepage: Codepage;
  numericTail: boolean;
  alone: boolean;
  target: FatNode;
  items: FatNode[];
  weight: number;
}
interface MkdirOp {
  kind: 'mmd';
  codepage: Codepage;
  numericTail: boolean;
  /** Holds one name that needs a run of its own (see needsOwnRun): nothing joins it. */
  alone: boolean;
  dirs: FatNode[];
  weight: number;
}
type Op = CopyOp | MkdirOp;

interface Subtree {
  weight: number;
  /** Every name below is created under the default code page and in no particular order. */
  plain: boolean;
}

/** The mtools runs that create the tree below `root`, in order. Exported for tests.
 *
 *  `deep`: whether mcopy -s can copy nested folders. mtools 4.0.32 enters each source folder
 *  with chdir() and returns with fchdir(), which WASI lacks (our stub fails), so after a
 *  sub-folder every later relative name is looked up in the wrong folder — unless mtools is
 *  built without FCHDIR_MODE (a one-line change to unixdir.c; mcopyRecurses() tells). Without
 *  `deep` only leaf folders (files only) are copied whole; other folders are made with mmd — all
 *  of them in one run up front — and their children batched per folder. A folder holding a bare
 *  short name with "~" (isTildeShortName) has its children created strictly in order instead. */
export function planRuns(root: FatNode, deep: boolean, budget = BATCH_WEIGHT): Op[] {
  /** Created with mtools' default settings (code page 850, numeric tails), in any run. */
  const usual = (c: FatNode) => c.codepage === DEFAULT_CODEPAGE && c.numericTail && !c.ownRun;
  const same = (op: { codepage: Codepage; numericTail: boolean }, c: FatNode) => op.codepage === c.codepage && op.numericTail === c.numericTail;
  const info = new Map<FatNode, Subtree>();
  const measure = (n: FatNode): Subtree => {
    let weight = ENTRY_WEIGHT + n.size;
    let plain = true;
    for (const c of n.children) {
      const s = measure(c);
      weight += s.weight;
      plain &&= s.plain && usual(c) && !isTildeShortName(c.name);
    }
    const s = { weight, plain };
    info.set(n, s);
    return s;
  };
  measure(root);
  const ordered = (d: FatNode) => d.children.some((c) => isTildeShortName(c.name));
  /** Files, and folders that can go into one batch whole: only leaf folders without `deep`,
   *  and then none holding a file named "-" (mtools opens a source named "-" as standard input,
   *  and without `deep` it opens the files of a folder by their bare names). */
  const whole = (c: FatNode) =>
    !c.dir || (usual(c) && info.get(c)!.plain && info.get(c)!.weight <= budget && (deep || c.children.every((x) => !x.dir && x.name !== '-')));

  const mkdirs: FatNode[] = [];
  const copies: Op[] = [];
  const mkdir = (c: FatNode, into: Op[]) => {
    const last = into[into.length - 1];
    if (last?.kind === 'mmd' && !last.alone && !c.ownRun && same(last, c)) {
      last.dirs.push(c);
      last.weight += ENTRY_WEIGHT;
    } else into.push({ kind: 'mmd', codepage: c.codepage, numericTail: c.numericTail, alone: c.ownRun, dirs: [c], weight: ENTRY_WEIGHT });
  };
  /** Batches d's children in order; calls `other` for each child that is not whole (after
   *  closing the running batch, when `inOrder`). */
  const batches = (d: FatNode, inOrder: boolean, other: (c: FatNode) => void) => {
    const open: { batch?: CopyOp } = {};
    const flush = () => {
      if (open.batch) copies.push(open.batch);
      open.batch = undefined;
    };
    for (const c of d.children) {
      if (!whole(c)) {
        if (inOrder) flush();
        other(c);
        continue;
      }
      const w = info.get(c)!.weight;
      if (open.batch && (open.batch.alone || c.ownRun || !same(open.batch, c) || open.batch.weight + w > budget)) flush();
      const batch = (open.batch ??= { kind: 'mcopy', codepage: c.codepage, numericTail: c.numericTail, alone: c.ownRun, target: d, items: [], weight: 0 });
      batch.items.push(c);
      batch.weight += w;
    }
    flush();
  };
  /** Strict creation order: each folder's mmd at its place among its siblings' batches. */
  const sequential = (d: FatNode) =>
    batches(d, true, (c) => {
      mkdir(c, copies);
      sequential(c);
    });
  /** Folders up front (in one mmd run), then the batches. */
  const fast = (d: FatNode) => {
    const later: FatNode[] = [];
    for (const c of d.children) if (!whole(c)) mkdirs.push(c);
    batches(d, false, (c) => later.push(c));
    for (const c of later) (ordered(c) ? sequential : fast)(c);
  };
  (ordered(root) ? sequential : fast)(root);

  const ops: Op[] = [];
  for (const d of mkdirs) mkdir(d, ops);
  return [...ops, ...copies];
}

const recursion = new WeakMap<WebAssembly.Module, Promise<boolean>>();

/** Whether this mtools.wasm copies nested folders with mcopy -s (see planRuns): tried once per
 *  module on a 1 MiB scratch image (a few milliseconds). */
export function mcopyRecurses(mkfs: WebAssembly.Module, mtools: WebAssembly.Module): Promise<boolean> {
  let p = recursion.get(mtools);
  if (!p) {
    p = (async () => {
      const img = '/work/probe.img';
      const image = new ChunkedFile(1024 * 1024);
      const made = await runWasi(mkfs, { args: ['mkfs.fat', '--invariant', img], files: new Map([[img, image]]) });
      if (made.exitCode !== 0) return false;
      const one = new Uint8Array([1]);
      const r = await runWasi(mtools, {
        args: ['mcopy', '-i', img, '-s', '-Q', '/src/a', '::/'],
        env: mtoolsEnv(FAT_EPOCH_MIN, DEFAULT_CODEPAGE),
        files: new Map<string, FileData>([[img, image], ['/src/a/b/x', one], ['/src/a/c/y', one], ['/src/a/z', one]]),
      });
      return r.exitCode === 0 && r.stderr === '';
    })();
    recursion.set(mtools, p);
  }
  return p;
}

async function bytesOf(n: FatNode): Promise<Uint8Array> {
  if (!n.data || n.size === 0) return new Uint8Array(0);
  const b = new Uint8Array(await n.data.arrayBuffer());
  if (b.byteLength !== n.size) throw new Error(`${n.path}: read ${b.byteLength} bytes, expected ${n.size}`);
  return b;
}

/** Files read at once: Blob reads are asynchronous (a file on disk in Node, IndexedDB in the
 *  browser), and reading several at a time overlaps their latency. */
const READ_AHEAD = 16;

/** The guest file system for one mcopy: /src/<name> per item, folders recursively. */
async function sources(items: FatNode[], signal?: AbortSignal): Promise<{ files: Map<string, FileData>; dirs: string[] }> {
  const files = new Map<string, FileData>();
  const dirs: string[] = [];
  const toRead: [string, FatNode][] = [];
  const add = (n: FatNode, at: string) => {
    const p = `${at}/${n.name}`;
    if (!n.dir) {
      files.set(p, EMPTY); // keeps the order; filled in below
      if (n.size > 0) toRead.push([p, n]);
    } else if (n.children.length === 0) dirs.push(p);
    else for (const c of n.children) add(c, p);
  };
  for (const item of items) add(item, '/src');
  let next = 0;
  const worker = async () => {
    while (next < toRead.length) {
      throwIfAborted(signal);
      const [p, n] = toRead[next++];
      files.set(p, await bytesOf(n));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AHEAD, toRead.length) }, worker));
  return { files, dirs };
}

const EMPTY = new Uint8Array(0);

function mtoolsEnv(epoch: number, codepage: Codepage, numericTail = true): Record<string, string> {
  const t = Math.min(FAT_EPOCH_MAX, Math.max(FAT_EPOCH_MIN, Math.floor(epoch)));
  return {
    MTOOLS_SKIP_CHECK: '1', SOURCE_DATE_EPOCH: String(t), DEFAULT_CODEPAGE: String(codepage),
    MTOOLS_NAME_NUMERIC_TAIL: numericTail ? '1' : '0', LANG: 'C.UTF-8', TZ: 'UTC',
  };
}

function toolFailed(what: string, r: { exitCode: number; stdout: string; stderr: string }, plan: FatPlan): Error {
  const out = (r.stderr + r.stdout).trim();
  // WASI has no fchdir: mcopy -s reports that after every folder it copies; it is harmless there.
  const lines = out.split('\n').filter((l) => l && !l.startsWith('Could not chdir back'));
  const full = lines.find((l) => /disk full|no free clusters/i.test(l));
  if (full) {
    return new BootsmithError(
      `The FAT partition ran out of space while copying (${formatSize(plan.sizeBytes)} for ${formatSize(plan.contentBytes)} of files). Set a larger size, or choose auto. (${what}: ${full})`,
    );
  }
  return new Error(`${what} failed (exit ${r.exitCode}): ${lines.join('\n') || 'no output'}`);
}

/** Makes the FAT image from entries (imageEntries() output: sorted, mtimes clamped, parents
 *  present). FAT keeps names and content only: symlinks, devices, FIFOs and sockets are skipped
 *  and their paths returned in `skipped`. Throws a BootsmithError before any work for a bad
 *  label, a name FAT cannot hold, or a size too small; CancelledError when the signal aborts. */
export async function buildFat(entries: readonly Entry[], opts: BuildFatOptions): Promise<BuildFatResult> {
  const details = planFatDetails(entries, opts);
  const { tree, layout } = details;
  const plan: FatPlan = {
    contentBytes: details.contentBytes,
    minBytes: details.minBytes,
    sizeBytes: details.sizeBytes,
    fatType: details.fatType,
    clusterBytes: details.clusterBytes,
  };
  const { signal, onProgress } = opts;
  const hidden = opts.hiddenSectors ?? 0;
  if (!Number.isSafeInteger(hidden) || hidden < 0 || hidden > 0xffffffff) {
    throw new BootsmithError(`The FAT partition's start sector must be a whole number from 0 to 4294967295, not ${hidden}.`);
  }
  throwIfAborted(signal);

  const [mkfs, mtools] = await Promise.all([loadTool('mkfs.fat'), loadTool('mtools')]);
  const ops = planRuns(tree.root, opts.mcopyRecursion ?? (await mcopyRecurses(mkfs, mtools)));
  const total = ENTRY_WEIGHT + ops.reduce((n, op) => n + op.weight, 0);
  let done = 0;
  onProgress?.(0, total);

  const volumeId = await fatVolumeId(opts.seed, opts.epoch);
  throwIfAborted(signal);

  // Every mtools command line, worked out before any work (pathPattern may refuse a name).
  const argv = new Map<Op, string[]>();
  for (const op of ops) {
    if (op.kind === 'mmd') argv.set(op, ['mmd', '-i', IMAGE, ...op.dirs.map((d) => mtoolsPath(d.parent!).replace(/\/$/, '') + '/' + d.name)]);
    else argv.set(op, ['mcopy', '-i', IMAGE, '-s', '-Q', ...op.items.map((item) => `/src/${item.name}`), mtoolsPath(op.target).replace(/\/$/, '') + '/']);
  }

  const image = new ChunkedFile(plan.sizeBytes);
  const args = [
    'mkfs.fat', '--invariant', '-i', volumeId,
    '-F', String(layout.fatType), '-s', String(layout.spc), '-S', '512', '-f', '2',
    '-g', `${HEADS}/${SECTORS_PER_TRACK}`, '-h', String(hidden), '--mbr=no',
  ];
  if (layout.fatType === 16) args.push('-r', String(details.rootEntries));
  if (details.label) args.push('-n', details.label);
  args.push(IMAGE);
  const made = await runWasi(mkfs, { args, files: new Map([[IMAGE, image]]) });
  if (made.exitCode !== 0) throw toolFailed('mkfs.fat', made, plan);
  done += ENTRY_WEIGHT;
  onProgress?.(done, total);

  // The next copy's files are read while the current run works: Blob reads are asynchronous,
  // and the operating system carries on with those already asked for.
  type Sources = Awaited<ReturnType<typeof sources>>;
  const reads = new Map<Op, Promise<Sources>>();
  const readFor = (i: number) => {
    const op = ops[i];
    if (!op || op.kind !== 'mcopy' || reads.has(op)) return;
    const p = sources(op.items, signal);
    p.catch(() => {}); // awaited (and its error seen) when the op runs
    reads.set(op, p);
  };
  try {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      throwIfAborted(signal);
      readFor(i);
      const env = mtoolsEnv(opts.epoch, op.codepage, op.numericTail);
      let r;
      if (op.kind === 'mmd') {
        readFor(i + 1);
        r = await runWasi(mtools, { args: argv.get(op)!, env, files: new Map([[IMAGE, image]]) });
      } else {
        const { files, dirs } = await reads.get(op)!;
        reads.delete(op);
        throwIfAborted(signal);
        readFor(i + 1);
        files.set(IMAGE, image);
        r = await runWasi(mtools, { args: argv.get(op)!, env, files, dirs });
      }
      if (r.exitCode !== 0) throw toolFailed(op.kind, r, plan);
      done += op.weight;
      onProgress?.(done, total);
    }
  } finally {
    reads.clear();
  }
  return { image, plan, skipped: tree.skipped };
}

/** Runs fsck.fat.wasm -n (check only, never repair) on the image. clean = exit 0; summary = its
 *  last line ("boot.vfat: 12 files, 345/16320 clusters" when clean). */
export async function checkFat(image: ChunkedFile): Promise<ImageCheck> {
  const fsck = await loadTool('fsck.fat');
  const r = await runWasi(fsck, { args: ['fsck.fat', '-n', IMAGE], files: new Map([[IMAGE, image]]) });
  const output = (r.stdout + (r.stderr ? (r.stdout.endsWith('\n') || !r.stdout ? '' : '\n') + r.stderr : '')).trimEnd();
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const summary = (lines[lines.length - 1] ?? `fsck.fat exited with ${r.exitCode}`).replace(IMAGE, 'boot.vfat');
  return { tool: 'fsck.fat -n', clean: r.exitCode === 0, summary, output };
}
