// Shared helpers for the image, CLI and boot tiers. Everything here checks Bootsmith from the
// outside: the CLI runs as a separate process, archives are unpacked by GNU cpio, and trees are
// compared through lstat. The small newc header dump below is written independently of
// workers/cpio so that a bug there cannot hide itself.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(REPO, 'bin', 'bootsmith.mjs');
export const CACHE = process.env.BOOTSMITH_CACHE || join(process.env.HOME || '/root', '.cache', 'bootsmith');
export const X86 = join(CACHE, 'x86-debian');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// ---------------------------------------------------------------------------------------------
// Temporary folders

const made: string[] = [];

/** A fresh temporary folder; removed by cleanupTemp() (call it from afterAll). */
export async function tempDir(prefix = 'bootsmith-test-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export async function cleanupTemp(): Promise<void> {
  if (process.env.KEEP_TEST_FILES) return;
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeout?: number;
  input?: string | Uint8Array;
}

/** Runs a program; never throws for a non-zero exit (the code is in the result). */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, timeout: opts.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) code = typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1;
        if (err && (err as { killed?: boolean }).killed) code = 124;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs the bootsmith CLI (bin/bootsmith.mjs, tsx on the fly). SOURCE_DATE_EPOCH is removed from
 *  the environment unless `env` sets it, so a test decides it explicitly. */
export function cli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { ...opts, env: { SOURCE_DATE_EPOCH: undefined, ...opts.env } });
}

/** Like run(), but throws with the program's stderr when it fails. */
export async function must(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r;
}

export async function mustCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await cli(args, opts);
  if (r.code !== 0) throw new Error(`bootsmith ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------------------------------------
// Archives

export const isGzip = (b: Uint8Array) => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

/** The archive's bytes, gunzipped (by Node's zlib, not by Bootsmith) when they are gzip. */
export async function plainArchive(fileOrBytes: string | Uint8Array): Promise<Buffer> {
  const raw = typeof fileOrBytes === 'string' ? await readFile(fileOrBytes) : Buffer.from(fileOrBytes);
  return isGzip(raw) ? gunzipSync(raw) : raw;
}

/** Unpacks a (possibly gzipped) newc archive with GNU cpio as the current user (root: owners are
 *  kept) into `dest`, which is created if needed. */
export async function extractCpio(archive: string | Uint8Array, dest?: string): Promise<string> {
  const out = dest ?? (await tempDir('bootsmith-x-'));
  await mkdir(out, { recursive: true });
  const bytes = await plainArchive(archive);
  const r = spawnSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: out, input: bytes, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`cpio -idm failed (${r.status ?? r.error}): ${r.stderr}`);
  return out;
}

/** GNU cpio's listing: names (`cpio -it`) and the verbose listing (`cpio -itv`). */
export async function cpioList(archive: string | Uint8Array): Promise<{ names: string[]; verbose: RunResult }> {
  const bytes = await plainArchive(archive);
  const names = spawnSync('cpio', ['-it', '--quiet'], { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  if (names.status !== 0) throw new Error(`cpio -it failed: ${names.stderr}`);
  const v = spawnSync('cpio', ['-itv'], { input: bytes, maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });
  return {
    names: names.stdout.toString('utf8').split('\n').filter((l) => l !== ''),
    verbose: { code: v.status ?? 1, stdout: v.stdout.toString('utf8'), stderr: v.stderr.toString('utf8') },
  };
}

export interface NewcHeader {
  offset: number;
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
  check: number;
}

/** Every header of a plain newc archive, trailer included; throws on anything malformed. An
 *  independent reader for what GNU cpio does not show (directory and symlink mtimes). */
export function newcHeaders(bytes: Uint8Array): NewcHeader[] {
  const out: NewcHeader[] = [];
  const fields = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'] as const;
  const a4 = (n: number) => Math.ceil(n / 4) * 4;
  let pos = 0;
  for (;;) {
    const magic = Buffer.from(bytes.subarray(pos, pos + 6)).toString('latin1');
    if (magic !== '070701') throw new Error(`no newc magic at byte ${pos}: ${JSON.stringify(magic)}`);
    const h = { offset: pos } as NewcHeader;
    fields.forEach((f, i) => {
      const t = Buffer.from(bytes.subarray(pos + 6 + 8 * i, pos + 14 + 8 * i)).toString('latin1');
      if (!/^[0-9A-F]{8}$/.test(t)) throw new Error(`bad ${f} field ${JSON.stringify(t)} at byte ${pos}`);
      (h as unknown as Record<string, number>)[f] = parseInt(t, 16);
    });
    h.name = Buffer.from(bytes.subarray(pos + 110, pos + 110 + h.namesize - 1)).toString('utf8');
    if (bytes[pos + 110 + h.namesize - 1] !== 0) throw new Error(`name at byte ${pos} is not NUL-terminated`);
    out.push(h);
    pos = a4(pos + 110 + h.namesize);
    pos = a4(pos + h.filesize);
    if (h.name === 'TRAILER!!!') return out;
    if (pos >= bytes.length) throw new Error('archive ends without TRAILER!!!');
  }
}

// ---------------------------------------------------------------------------------------------
// Trees

export type NodeType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface NodeInfo {
  /** "/a/b", relative to the tree's root. */
  path: string;
  type: NodeType;
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds; null when the caller chose not to compare it. */
  mtime: number | null;
  major?: number;
  minor?: number;
  target?: string;
  size?: number;
  sha256?: string;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  return sha256(await readFile(file));
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
export function splitRdev(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n)),
  };
}

/** Byte-wise (UTF-8) order, the order Bootsmith writes archives in. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface DescribeOptions {
  /** Types whose mtime is not compared (set to null): GNU cpio restores neither directory times
   *  (their contents come after them) nor symlink times. */
  ignoreMtimeOf?: NodeType[];
}

/** Every node below `dir` (not `dir` itself), sorted by path, as plain data to compare. */
export async function describeTree(dir: string, opts: DescribeOptions = {}): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  const ignore = new Set(opts.ignoreMtimeOf ?? []);
  async function walk(abs: string, rel: string) {
    const names = (await readdir(abs)).sort(byteOrder);
    for (const name of names) {
      const p = join(abs, name);
      const st = await lstat(p, { bigint: true });
      const type: NodeType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink'
        : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'socket';
      const info: NodeInfo = {
        path: `${rel}/${name}`,
        type,
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: ignore.has(type) ? null : Number(st.mtimeMs / 1000n),
      };
      if (type === 'file') {
        const data = await readFile(p);
        info.size = data.length;
        info.sha256 = sha256(data);
      } else if (type === 'symlink') info.target = await readlink(p);
      else if (type === 'char' || type === 'block') Object.assign(info, splitRdev(st.rdev));
      out.push(info);
      if (type === 'dir') await walk(p, info.path);
    }
  }
  await walk(dir, '');
  return out.sort((a, b) => byteOrder(a.path, b.path));
}

/** The same description for Bootsmith entries (e.g. what readCpio returns). */
export async function describeEntries(
  entries: { path: string; type: string; mode: number; uid: number; gid: number; mtime: number; data?: Blob; target?: string; major?: number; minor?: number }[],
  opts: DescribeOptions = {},
): Promise<NodeInfo[]> {
  const ignore = new Set(opts.ignoreMtimeOf ?? []);
  const out: NodeInfo[] = [];
  for (const e of entries) {
    const type = e.type as NodeType;
    const info: NodeInfo = { path: e.path, type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: ignore.has(type) ? null : e.mtime };
    if (type === 'file') {
      const data = new Uint8Array(e.data ? await e.data.arrayBuffer() : new ArrayBuffer(0));
      info.size = data.length;
      info.sha256 = sha256(data);
    } else if (type === 'symlink') info.target = e.target;
    else if (type === 'char' || type === 'block') { info.major = e.major; info.minor = e.minor; }
    out.push(info);
  }
  return out.sort((a, b) => byteOrder(a.path, b.path));
}

/** Sets mtime to null for the given types (to compare against a GNU cpio extraction). */
export function dropMtimes(nodes: NodeInfo[], types: NodeType[] = ['dir', 'symlink']): NodeInfo[] {
  return nodes.map((n) => (types.includes(n.type) ? { ...n, mtime: null } : n));
}

/** Clamps every mtime to `epoch`, as SOURCE_DATE_EPOCH does. */
export function clampMtimes(nodes: NodeInfo[], epoch: number): NodeInfo[] {
  return nodes.map((n) => (n.mtime !== null && n.mtime > epoch ? { ...n, mtime: epoch } : n));
}

/** Places a description under another folder: "/a" → "/opt/a". */
export function rebase(nodes: NodeInfo[], prefix: string): NodeInfo[] {
  return nodes.map((n) => ({ ...n, path: prefix + n.path }));
}

/** What a node looks like given its header, for comparing with the header dump. */
export function headersByPath(headers: NewcHeader[]): Map<string, NewcHeader> {
  return new Map(headers.filter((h) => h.name !== 'TRAILER!!!').map((h) => ['/' + h.name, h]));
}

export function kernelAssets(): { vmlinuz: string; busybox: string; present: boolean } {
  const vmlinuz = join(X86, 'vmlinuz');
  const busybox = join(X86, 'busybox');
  return { vmlinuz, busybox, present: existsSync(vmlinuz) && existsSync(busybox) };
}
