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
}

export interface BuildOutput {
  name: string;
  data: Blob;
  size: number;
  sha256: string;
}

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
  const name = INITRAMFS_NAME[project.initramfs.compression];
  const total = cpioSize(entries);
  const report = (done: number) => opts.onProgress?.({ stage: name, done, total });
  report(0);
  let written = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const c of writeCpio(entries, { signal: opts.signal })) {
      written += c.length;
      report(written);
      yield c;
    }
  }
  const stream = project.initramfs.compression === 'gzip' ? gzipChunks(counted()) : counted();
  const data = await collect(stream);
  throwIfAborted(opts.signal);
  return { name, data, size: data.size, sha256: await sha256Hex(data) };
}

/** Every output the project asks for. */
export async function buildProject(project: Project, opts: BuildOptions = {}): Promise<BuildOutput[]> {
  const outputs: BuildOutput[] = [];
  if (project.initramfs.enabled) outputs.push(await buildInitramfs(project, opts));
  if (!outputs.length) throw new BootsmithError('The project asks for no outputs. Turn on at least one output (e.g. the initramfs).');
  return outputs;
}
