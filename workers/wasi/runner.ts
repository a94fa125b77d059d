// runWasi: runs one wasm32-wasi command (mke2fs, e2fsck, mkfs.fat, mtools, ...) against an
// in-memory directory tree, in Node 20 or in a browser Web Worker. No Node-only APIs.
//
// Built on @bjorn3/browser_wasi_shim (see docs/wasm-tools.md, "WASI runtime", for why not
// @wasmer/wasi), with our own file and directory classes:
//  - files are ByteStores (store.ts): a growable buffer, or a ChunkedFile for disk images, so a
//    multi-GiB image holds only the chunks that contain data;
//  - directory listings are snapshotted once per scan (the shim's is quadratic);
//  - argv sizes are counted in UTF-8 bytes (the shim counts UTF-16 units and overruns the
//    buffer for non-ASCII arguments).

import {
  ConsoleStdout,
  Directory,
  Fd,
  Inode,
  OpenDirectory,
  WASI,
  wasi,
} from '@bjorn3/browser_wasi_shim';
import { type ByteStore, GrowableBytes } from './store.ts';

export { ChunkedFile, GrowableBytes, type ByteStore, CHUNK_SIZE } from './store.ts';

/** A file's content: bytes (copied on first write, never changed in place) or a ByteStore
 *  (used and changed in place: pass a ChunkedFile for a disk image). */
export type FileData = Uint8Array | ByteStore;

export interface RunWasiOptions {
  /** argv, including argv[0] (mtools dispatches on it: "mcopy", "mmd", ...). */
  args: string[];
  env?: Record<string, string>;
  /** The file system: absolute guest paths ("/work/disk.img") to contents. Parent directories
   *  are created as needed. */
  files?: Map<string, FileData>;
  /** Further directories to create (absolute guest paths), for empty ones. */
  dirs?: string[];
  /** Directories the program may reach (WASI preopens), e.g. ["/work", "/src"]. Default: the
   *  first component of every path in files and dirs (so files must sit in a directory, not
   *  directly in "/"). Paths outside every preopen are unreachable (the program sees
   *  ENOTCAPABLE, errno 76). Must not nest. */
  preopens?: string[];
  /** Standard input (default: empty). */
  stdin?: Uint8Array;
  /** Called with each chunk the program writes to stdout / stderr, as it writes it. */
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
}

export interface RunWasiResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Every file in the tree after the run, by absolute guest path: a Uint8Array for files that
   *  were given as bytes or created by the program, the same ByteStore object for those given
   *  as one. */
  files: Map<string, FileData>;
  /** Every directory in the tree after the run (preopens included). */
  dirs: string[];
}

/** Thrown when the program traps (not for a non-zero exit, which is returned). */
export class WasiTrap extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'WasiTrap';
  }
}

const FILE_RIGHTS = BigInt(
  wasi.RIGHTS_FD_DATASYNC | wasi.RIGHTS_FD_READ | wasi.RIGHTS_FD_SEEK |
    wasi.RIGHTS_FD_FDSTAT_SET_FLAGS | wasi.RIGHTS_FD_SYNC | wasi.RIGHTS_FD_TELL |
    wasi.RIGHTS_FD_WRITE | wasi.RIGHTS_FD_ADVISE | wasi.RIGHTS_FD_ALLOCATE |
    wasi.RIGHTS_FD_FILESTAT_GET | wasi.RIGHTS_FD_FILESTAT_SET_SIZE |
    wasi.RIGHTS_FD_FILESTAT_SET_TIMES | wasi.RIGHTS_POLL_FD_READWRITE,
);

/** A regular file backed by a ByteStore. */
export class MemFile extends Inode {
  constructor(public store: ByteStore) {
    super();
  }

  path_open(oflags: number, _rights: bigint, fdFlags: number): { ret: number; fd_obj: Fd | null } {
    if (oflags & wasi.OFLAGS_TRUNC) this.store.truncate(0);
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: new OpenMemFile(this, fdFlags) };
  }

  stat(): wasi.Filestat {
    return new wasi.Filestat(this.ino, wasi.FILETYPE_REGULAR_FILE, BigInt(this.store.size));
  }
}

class OpenMemFile extends Fd {
  private pos = 0;

  constructor(
    readonly file: MemFile,
    private flags: number,
  ) {
    super();
  }

  private get store(): ByteStore {
    return this.file.store;
  }

  fd_allocate(offset: bigint, len: bigint): number {
    const end = Number(offset + len);
    if (end > this.store.size) this.store.truncate(end);
    return wasi.ERRNO_SUCCESS;
  }
  fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_REGULAR_FILE, this.flags);
    fdstat.fs_rights_base = FILE_RIGHTS;
    return { ret: wasi.ERRNO_SUCCESS, fdstat };
  }
  fd_fdstat_set_flags(flags: number): number {
    this.flags = flags;
    return wasi.ERRNO_SUCCESS;
  }
  fd_filestat_get(): { ret: number; filestat: wasi.Filestat } {
    return { ret: wasi.ERRNO_SUCCESS, filestat: this.file.stat() };
  }
  fd_filestat_set_size(size: bigint): number {
    this.store.truncate(Number(size));
    return wasi.ERRNO_SUCCESS;
  }
  fd_filestat_set_times(): number {
    return wasi.ERRNO_SUCCESS;
  }
  fd_read(size: number): { ret: number; data: Uint8Array } {
    const data = this.store.read(this.pos, size);
    this.pos += data.byteLength;
    return { ret: wasi.ERRNO_SUCCESS, data };
  }
  fd_pread(size: number, offset: bigint): { ret: number; data: Uint8Array } {
    return { ret: wasi.ERRNO_SUCCESS, data: this.store.read(Number(offset), size) };
  }
  fd_seek(offset: bigint, whence: number): { ret: number; offset: bigint } {
    let base: number;
    if (whence === wasi.WHENCE_SET) base = 0;
    else if (whence === wasi.WHENCE_CUR) base = this.pos;
    else if (whence === wasi.WHENCE_END) base = this.store.size;
    else return { ret: wasi.ERRNO_INVAL, offset: 0n };
    const next = base + Number(offset);
    if (next < 0) return { ret: wasi.ERRNO_INVAL, offset: 0n };
    this.pos = next;
    return { ret: wasi.ERRNO_SUCCESS, offset: BigInt(next) };
  }
  fd_tell(): { ret: number; offset: bigint } {
    return { ret: wasi.ERRNO_SUCCESS, offset: BigInt(this.pos) };
  }
  fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (this.flags & wasi.FDFLAGS_APPEND) this.pos = this.store.size;
    this.store.write(this.pos, data);
    this.pos += data.byteLength;
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.byteLength };
  }
  fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
    this.store.write(Number(offset), data);
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.byteLength };
  }
  fd_sync(): number {
    return wasi.ERRNO_SUCCESS;
  }
}

/** A directory whose new entries are MemFiles and MemDirs. */
export class MemDir extends Directory {
  constructor(contents: Map<string, Inode> = new Map()) {
    super(contents);
  }

  path_open(): { ret: number; fd_obj: OpenDirectory } {
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: new OpenMemDir(this) };
  }

  create_entry_for_path(pathStr: string, isDir: boolean): { ret: number; entry: Inode | null } {
    const parts = splitRelative(pathStr);
    if (typeof parts === 'number') return { ret: parts, entry: null };
    const name = parts.pop();
    if (name === undefined) return { ret: wasi.ERRNO_EXIST, entry: null };
    let dir: Inode = this;
    for (const part of parts) {
      if (!(dir instanceof Directory)) return { ret: wasi.ERRNO_NOTDIR, entry: null };
      const next = dir.contents.get(part);
      if (!next) return { ret: wasi.ERRNO_NOENT, entry: null };
      dir = next;
    }
    if (!(dir instanceof Directory)) return { ret: wasi.ERRNO_NOTDIR, entry: null };
    if (dir.contents.has(name)) return { ret: wasi.ERRNO_EXIST, entry: null };
    const entry = isDir ? new MemDir() : new MemFile(new GrowableBytes());
    if (entry instanceof MemDir) (entry as unknown as { parent: Directory }).parent = dir;
    dir.contents.set(name, entry);
    return { ret: wasi.ERRNO_SUCCESS, entry };
  }
}

/** The shim's path rules: relative, "." skipped, ".." may not leave the directory. */
function splitRelative(path: string): string[] | number {
  if (path.startsWith('/')) return wasi.ERRNO_NOTCAPABLE;
  if (path.includes('\0')) return wasi.ERRNO_INVAL;
  const parts: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (parts.pop() === undefined) return wasi.ERRNO_NOTCAPABLE;
      continue;
    }
    parts.push(c);
  }
  return parts;
}

/** Lists a directory from one snapshot per scan instead of copying the entries per entry. */
class OpenMemDir extends OpenDirectory {
  private snapshot: [string, Inode][] | null = null;

  fd_readdir_single(cookie: bigint): { ret: number; dirent: wasi.Dirent | null } {
    if (cookie < 2n) {
      if (cookie === 0n) this.snapshot = null;
      return super.fd_readdir_single(cookie);
    }
    if (!this.snapshot) this.snapshot = [...this.dir.contents.entries()];
    const i = Number(cookie - 2n);
    if (i >= this.snapshot.length) return { ret: wasi.ERRNO_SUCCESS, dirent: null };
    const [name, entry] = this.snapshot[i];
    return {
      ret: wasi.ERRNO_SUCCESS,
      dirent: new wasi.Dirent(cookie + 1n, entry.ino, name, entry.stat().filetype),
    };
  }
}

class PreopenMemDir extends OpenMemDir {
  constructor(
    dir: MemDir,
    private readonly name: string,
  ) {
    super(dir);
  }
  fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    return { ret: wasi.ERRNO_SUCCESS, prestat: wasi.Prestat.dir(this.name) };
  }
}

function normalise(path: string): string {
  if (!path.startsWith('/')) throw new Error(`runWasi: path must be absolute: ${path}`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`runWasi: ".." in path: ${path}`);
  return '/' + parts.join('/');
}

function within(path: string, dir: string): string | null {
  if (dir === '/') return path.slice(1);
  if (path === dir) return '';
  return path.startsWith(dir + '/') ? path.slice(dir.length + 1) : null;
}

function ensureDir(root: MemDir, rel: string): MemDir {
  let dir = root;
  for (const part of rel.split('/').filter(Boolean)) {
    let next = dir.contents.get(part);
    if (!next) {
      next = new MemDir();
      (next as unknown as { parent: Directory }).parent = dir;
      dir.contents.set(part, next);
    }
    if (!(next instanceof MemDir)) throw new Error(`runWasi: not a directory: ${part} in ${rel}`);
    dir = next;
  }
  return dir;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Runs `module` (a wasm32-wasi command) to completion. */
export async function runWasi(module: WebAssembly.Module, options: RunWasiOptions): Promise<RunWasiResult> {
  const files = new Map<string, FileData>();
  for (const [p, data] of options.files ?? []) files.set(normalise(p), data);
  const extraDirs = (options.dirs ?? []).map(normalise);

  const preopens = (
    options.preopens ??
    [...new Set([...files.keys(), ...extraDirs].map((p) => '/' + (p.split('/')[1] ?? '')))]
  ).map(normalise);
  for (const a of preopens)
    for (const b of preopens)
      if (a !== b && within(b, a) !== null) throw new Error(`runWasi: preopens nest: ${a} and ${b}`);
  const roots = new Map(preopens.map((p) => [p, new MemDir()]));

  const place = (path: string): [MemDir, string] => {
    for (const [p, root] of roots) {
      const rel = within(path, p);
      if (rel !== null) return [root, rel];
    }
    throw new Error(`runWasi: ${path} is outside every preopened directory (${preopens.join(', ')})`);
  };
  for (const d of extraDirs) {
    const [root, rel] = place(d);
    ensureDir(root, rel);
  }
  for (const [path, data] of files) {
    const [root, rel] = place(path);
    if (rel === '') throw new Error(`runWasi: ${path} is a preopened directory, so it cannot be a file`);
    const slash = rel.lastIndexOf('/');
    const dir = ensureDir(root, slash < 0 ? '' : rel.slice(0, slash));
    const store = data instanceof Uint8Array ? new GrowableBytes(data) : data;
    dir.contents.set(rel.slice(slash + 1), new MemFile(store));
  }

  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const stdin = new MemFile(new GrowableBytes(options.stdin ?? new Uint8Array(0)));
  const fds: Fd[] = [
    new OpenMemFile(stdin, 0),
    new ConsoleStdout((chunk) => {
      out.push(chunk);
      options.onStdout?.(chunk);
    }),
    new ConsoleStdout((chunk) => {
      err.push(chunk);
      options.onStderr?.(chunk);
    }),
    ...[...roots].map(([p, root]) => new PreopenMemDir(root, p)),
  ];
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  // debug: false, or the shim logs every path it opens (its default is on).
  const shim = new WASI(options.args, env, fds, { debug: false });

  // The shim sizes argv in UTF-16 code units but writes UTF-8: count bytes instead.
  const encoder = new TextEncoder();
  shim.wasiImport.args_sizes_get = (argc: number, argvBufSize: number) => {
    const view = new DataView(shim.inst.exports.memory.buffer);
    view.setUint32(argc, shim.args.length, true);
    view.setUint32(argvBufSize, shim.args.reduce((n, a) => n + encoder.encode(a).byteLength + 1, 0), true);
    return wasi.ERRNO_SUCCESS;
  };

  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: shim.wasiImport });
  const decoder = () => new TextDecoder('utf-8', { fatal: false });
  let exitCode: number;
  try {
    exitCode = shim.start(instance as unknown as Parameters<WASI['start']>[0]);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new WasiTrap(
      `${options.args[0] ?? 'program'} trapped: ${message}`,
      decoder().decode(concat(out)),
      decoder().decode(concat(err)),
    );
  }

  const resultFiles = new Map<string, FileData>();
  const resultDirs: string[] = [];
  const walk = (dir: Directory, path: string) => {
    resultDirs.push(path || '/');
    for (const [name, entry] of dir.contents) {
      const full = `${path}/${name}`;
      if (entry instanceof Directory) walk(entry, full);
      else if (entry instanceof MemFile) {
        resultFiles.set(full, entry.store instanceof GrowableBytes ? entry.store.bytes() : entry.store);
      } else if ('data' in entry && entry.data instanceof Uint8Array) resultFiles.set(full, entry.data);
    }
  };
  for (const [p, root] of roots) walk(root, p === '/' ? '' : p);

  return {
    exitCode,
    stdout: decoder().decode(concat(out)),
    stderr: decoder().decode(concat(err)),
    files: resultFiles,
    dirs: resultDirs,
  };
}
