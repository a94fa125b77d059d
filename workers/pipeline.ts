// The one pipeline: a project in, the outputs it asks for out. Used unchanged by the Web Worker
// and the CLI, so both produce the same bytes for the same project.
import type { Entry } from './model/entry.ts';
import type { Project } from './model/project.ts';
import { BootsmithError, throwIfAborted } from './model/problems.ts';
import { errorsOf, validateTree } from './model/validate.ts';
import { sortEntries } from './model/tree.ts';
import { ancestorsOf } from './model/path.ts';
import { cpioSize, writeCpio } from './cpio/write.ts';
import { gzipChunks } from './compress/gzip.ts';
import { type ImageCheck, buildExt4, checkExt4, planExt4 } from './ext4/ext4.ts';
import { buildFat, checkFat, planFat } from './fat/fat.ts';
import type { ChunkedFile } from './wasi/store.ts';
import { sha256Sparse } from './hash/sha256.ts';
import { formatSize } from './model/size.ts';
import { boardById } from './kits/boards.ts';
import { BOOT_INITRAMFS } from './kits/project.ts';
import { boardProblems } from './kits/checks.ts';
import { zipEntries } from './zip/zip.ts';
import { buildSdCard } from './mbr/sdcard.ts';
import type { Problem } from './model/problems.ts';
import { describeProblem } from './model/problems.ts';
import { projectSeed } from './model/project.ts';

export interface BuildProgress {
  /** What is being made, e.g. "initramfs.cpio.gz". */
  stage: string;
  done: number;
  total: number;
}

export interface BuildOptions {
  /** Overrides the project's sourceDateEpoch (the CLI passes SOURCE_DATE_EPOCH here). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
  /** An uncompressed initramfs whatever the project says (a test boot in v86: unpacking gzip in the
   *  emulated CPU costs about a third of the instructions to /init with a small kernel). */
  uncompressedInitramfs?: boolean;
}

export interface BuildOutput {
  name: string;
  /** A Blob, or for a disk image the sparse file itself: the worker turns it into a Blob for the
   *  page, the CLI writes it to disk sparsely (a 4 GiB image is never held whole). */
  data: Blob | ChunkedFile;
  size: number;
  sha256: string;
  /** For filesystem images: the verdict of our WASM e2fsck -fn / fsck.fat -n on the result. */
  check?: ImageCheck;
  /** One-line facts worth showing: sizes, what a format could not hold. */
  notes: string[];
}

export const EXT4_NAME = 'rootfs.ext4';
export const FAT_NAME = 'boot.vfat';

export const INITRAMFS_NAME = { gzip: 'initramfs.cpio.gz', none: 'initramfs.cpio' } as const;

/** Validates the tree; throws one BootsmithError listing every error (warnings pass). */
export function assertBuildable(entries: readonly Entry[]): void {
  const errors = errorsOf(validateTree(entries));
  if (errors.length) {
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
    throw new BootsmithError(`Cannot build: ${first.path ? first.path + ': ' : ''}${first.message}${more}. ${first.fix ?? ''}`.trim(), errors);
  }
}

/** Entries as they go into an image: timestamps clamped to the epoch, a folder for every parent
 *  the input only implies (a tar or list may name /usr/bin/x without /usr; the kernel's unpacker
 *  then drops the file), sorted by path so that parents come first. */
export function imageEntries(entries: readonly Entry[], epoch: number): Entry[] {
  const out = entries.map((e) => (e.mtime > epoch ? { ...e, mtime: epoch } : e));
  const have = new Set(out.map((e) => e.path));
  for (const e of entries) {
    for (const dir of ancestorsOf(e.path)) {
      if (have.has(dir)) continue;
      have.add(dir);
      out.push({ path: dir, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: Math.min(epoch, e.mtime) });
    }
  }
  return sortEntries(out);
}

export async function sha256Hex(data: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await data.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function collect(chunks: AsyncIterable<Uint8Array>, type = 'application/octet-stream'): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for await (const c of chunks) parts.push(c as Uint8Array<ArrayBuffer>);
  return new Blob(parts, { type });
}

/** Builds the initramfs (newc cpio, gzip unless the project says otherwise). */
export async function buildInitramfs(project: Project, opts: BuildOptions = {}): Promise<BuildOutput> {
  const epoch = opts.sourceDateEpoch ?? project.sourceDateEpoch;
  // Validate what goes into the image: the epoch may clamp a time that newc could not store.
  const entries = imageEntries(project.entries, epoch);
  assertBuildable(entries);
  return initramfsOutput(project, entries, { epoch, signal: opts.signal, onProgress: opts.onProgress });
}

async function initramfsOutput(project: Project, entries: Entry[], stage: Stage): Promise<BuildOutput> {
  const gzip = !stage.uncompressed && (project.initramfs.compression === 'gzip' || !!project.board);
  const name = stage.uncompressed ? INITRAMFS_NAME.none : project.board ? BOOT_INITRAMFS : INITRAMFS_NAME[project.initramfs.compression];
  const total = cpioSize(entries);
  const report = (done: number) => stage.onProgress?.({ stage: name, done, total });
  report(0);
  let written = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const c of writeCpio(entries, { signal: stage.signal })) {
      written += c.length;
      report(written);
      yield c;
    }
  }
  const stream = gzip ? gzipChunks(counted()) : counted();
  const data = await collect(stream);
  throwIfAborted(stage.signal);
  return { name, data, size: data.size, sha256: await sha256Hex(data), notes: [] };
}

type Stage = Pick<BuildOptions, 'signal' | 'onProgress'> & { epoch: number; uncompressed?: boolean };

/** The ext4 root filesystem, checked with e2fsck -fn afterwards. */
export async function buildExt4Output(project: Project, entries: Entry[], stage: Stage): Promise<BuildOutput> {
  const report = (done: number, total: number) => stage.onProgress?.({ stage: EXT4_NAME, done, total });
  const { image, plan } = await buildExt4(entries, { ...project.ext4, epoch: stage.epoch, seed: project.seed, signal: stage.signal, onProgress: report });
  throwIfAborted(stage.signal);
  const check = await checkExt4(image);
  return {
    name: EXT4_NAME, data: image, size: image.size, sha256: sha256Sparse(image), check,
    notes: [`${formatSize(plan.contentBytes)} of content in ${formatSize(plan.sizeBytes)}${project.ext4.journal ? '' : ', no journal'}`],
  };
}

/** The FAT image (names and content only), checked with fsck.fat -n afterwards. */
export async function buildFatOutput(project: Project, entries: Entry[], stage: Stage): Promise<BuildOutput & { fatType: 12 | 16 | 32 }> {
  const report = (done: number, total: number) => stage.onProgress?.({ stage: FAT_NAME, done, total });
  const { image, plan, skipped } = await buildFat(entries, { ...project.fat, epoch: stage.epoch, seed: project.seed, signal: stage.signal, onProgress: report });
  throwIfAborted(stage.signal);
  const check = await checkFat(image);
  const notes = [`FAT${plan.fatType}, ${formatSize(plan.contentBytes)} of content in ${formatSize(plan.sizeBytes)}`];
  if (skipped.length) notes.push(`FAT cannot hold symlinks, devices, FIFOs or sockets: left out ${skipped.length} (e.g. ${skipped[0]})`);
  return { name: FAT_NAME, data: image, size: image.size, sha256: sha256Sparse(image), check, notes, fatType: plan.fatType };
}

/** Sizes every enabled image up front, so a tree that does not fit fails before any work. */
export function planOutputs(project: Project, entries: readonly Entry[]): void {
  if (project.ext4.enabled) planExt4(entries, project.ext4);
  if (project.fat.enabled) planFat(entries, project.fat);
}

/** Every output the project asks for. */
export async function buildProject(project: Project, opts: BuildOptions = {}): Promise<BuildOutput[]> {
  if (project.board) return buildBoardProject(project, opts);
  if (!project.initramfs.enabled && !project.ext4.enabled && !project.fat.enabled) {
    throw new BootsmithError('The project asks for no outputs. Turn on at least one output (initramfs, ext4 root or FAT image).');
  }
  const epoch = opts.sourceDateEpoch ?? project.sourceDateEpoch;
  const entries = imageEntries(project.entries, epoch);
  assertBuildable(entries);
  planOutputs(project, entries);
  const stage = { epoch, signal: opts.signal, onProgress: opts.onProgress, uncompressed: opts.uncompressedInitramfs };
  const outputs: BuildOutput[] = [];
  if (project.initramfs.enabled) outputs.push(await initramfsOutput(project, entries, stage));
  if (project.ext4.enabled) outputs.push(await buildExt4Output(project, entries, stage));
  if (project.fat.enabled) outputs.push(await buildFatOutput(project, entries, stage));
  return outputs;
}

// ---- board projects ---------------------------------------------------------------------------

export const ZIP_NAME = 'boot.zip';
export const SDCARD_NAME = 'sdcard.img';

/** With an ext4 root, the initramfs only has to reach it: /init, busybox, the settings and the
 *  modules. The rest of the tree lives on the ext4 partition. */
const EARLY = new Set(['/init', '/bin', '/bin/busybox', '/bin/sh', '/dev', '/dev/console', '/etc', '/etc/bootsmith', '/lib', '/lib/modules',
  '/proc', '/sys', '/run', '/tmp', '/sbin', '/usr', '/usr/bin', '/usr/sbin', '/mnt', '/root']);
export function earlyEntries(entries: readonly Entry[]): Entry[] {
  return entries.filter((e) => EARLY.has(e.path) || e.path.startsWith('/etc/bootsmith/') || e.path.startsWith('/lib/modules/'));
}

/** Errors in the boot folder or the user's programs stop the build before any work; warnings
 *  come back to be shown with the outputs. */
export async function checkBoardProject(project: Project, root: readonly Entry[], boot: readonly Entry[]): Promise<Problem[]> {
  const board = boardById(project.board!.kit);
  if (!board) throw new BootsmithError(`This project is for the board kit "${project.board!.kit}", which this Bootsmith does not know. Update Bootsmith.`);
  const problems = await boardProblems(board, root, boot, project.ext4.enabled);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
    throw new BootsmithError(`Cannot build: ${describeProblem(errors[0])}${more}`, errors);
  }
  return problems;
}

async function diskSignature(project: Project, epoch: number): Promise<number> {
  const b = await projectSeed(project.seed, epoch, 'mbr-disk-signature');
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** A board project: the initramfs goes into the boot folder, which becomes boot.zip and boot.vfat;
 *  boot.vfat and the optional rootfs.ext4 become sdcard.img. A PC (family x86) always gets the
 *  initramfs on its own: that and vmlinuz are what the emulator boots. */
export async function buildBoardProject(project: Project, opts: BuildOptions = {}): Promise<BuildOutput[]> {
  const epoch = opts.sourceDateEpoch ?? project.sourceDateEpoch;
  const root = imageEntries(project.entries, epoch);
  assertBuildable(root);
  const bootTree = imageEntries(project.boot, epoch);
  assertBuildable(bootTree);
  const warnings = await checkBoardProject(project, root, bootTree);
  if (project.ext4.enabled) planExt4(root, project.ext4);
  const stage = { epoch, signal: opts.signal, onProgress: opts.onProgress, uncompressed: opts.uncompressedInitramfs };

  const initramfs = await initramfsOutput(project, project.ext4.enabled ? earlyEntries(root) : root, stage);
  if (warnings.length) initramfs.notes.push(...warnings.map((w) => `warning: ${describeProblem(w)}`));
  const boot = sortEntries([
    ...bootTree.filter((e) => e.path.toLowerCase() !== '/' + BOOT_INITRAMFS),
    { path: '/' + BOOT_INITRAMFS, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: epoch, data: initramfs.data as Blob },
  ]);

  const outputs: BuildOutput[] = [];
  if (project.zip.enabled) {
    const total = boot.reduce((n, e) => n + (e.data?.size ?? 0), 0);
    const { blob, skipped } = await zipEntries(boot, { mtime: epoch, signal: opts.signal, onProgress: (done) => opts.onProgress?.({ stage: ZIP_NAME, done, total }) });
    throwIfAborted(opts.signal);
    const notes = [`the boot folder: ${boot.filter((e) => e.type === 'file').length} files; unzip onto a FAT-formatted SD card`];
    if (skipped.length) notes.push(`a FAT boot folder cannot hold symlinks or devices: left out ${skipped.length} (e.g. ${skipped[0]})`);
    outputs.push({ name: ZIP_NAME, data: blob, size: blob.size, sha256: await sha256Hex(blob), notes });
  }
  const fat = project.fat.enabled || project.sdcard.enabled ? await buildFatOutput(project, boot, stage) : undefined;
  if (fat && project.fat.enabled) outputs.push(fat);
  const ext4 = project.ext4.enabled ? await buildExt4Output(project, root, stage) : undefined;
  if (fat && project.sdcard.enabled) {
    const image = await buildSdCard({
      boot: fat.data, root: ext4?.data, bootType: fat.fatType === 32 ? 0x0c : 0x0e,
      diskSignature: await diskSignature(project, epoch), signal: opts.signal,
      onProgress: (done: number, total: number) => opts.onProgress?.({ stage: SDCARD_NAME, done, total }),
    });
    throwIfAborted(opts.signal);
    const notes = [`MBR: boot partition FAT${fat.fatType}${ext4 ? ', root partition ext4' : ''}; ${formatSize(image.size)} (a power of two, as QEMU wants)`];
    outputs.push({ name: SDCARD_NAME, data: image, size: image.size, sha256: sha256Sparse(image), notes });
  }
  if (project.initramfs.enabled || boardById(project.board!.kit)?.family === 'x86') outputs.push(initramfs);
  if (ext4) outputs.push(ext4);
  return outputs;
}
