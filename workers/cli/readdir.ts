// Reads a directory on disk into entries, keeping what lstat says: type, permission bits, owner,
// mtime, symlink targets and device numbers. Node only (the CLI). File content stays on disk as
// file-backed Blobs until a build reads it.
import { lstat, opendir, readlink } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import type { Entry, EntryType } from '../model/entry.ts';
import { BootsmithError } from '../model/problems.ts';

/** Linux's dev_t layout: 12 bits of major and 20 of minor, split across the word. */
const utf8 = new TextDecoder();

export function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

function typeOf(st: import('node:fs').BigIntStats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return undefined;
}

/** Hard links on disk: one Blob per inode, so the engine sees names that share one Blob object
 *  (what the tar and cpio readers give hard links) and the ext4 image links them. */
export type InodeBlobs = Map<string, Blob>;

/** One file or symlink or device on disk as an entry at `dest`. */
export async function readDiskEntry(src: string, dest: string, inodes?: InodeBlobs): Promise<Entry> {
  const st = await lstat(src, { bigint: true });
  const type = typeOf(st);
  if (!type) throw new BootsmithError(`${src}: unsupported file type`);
  const e: Entry = {
    path: dest,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: Number(st.mtimeMs / 1000n),
  };
  if (type === 'file') {
    const key = `${st.dev}:${st.ino}`;
    const seen = st.nlink > 1n ? inodes?.get(key) : undefined;
    e.data = seen ?? await openAsBlob(src);
    if (st.nlink > 1n && !seen) inodes?.set(key, e.data);
  }
  else if (type === 'symlink') e.target = await readlink(src);
  else if (type === 'char' || type === 'block') Object.assign(e, splitDev(st.rdev));
  return e;
}

/** Every entry below `dir` (not `dir` itself), placed under `dest` ("" for the root). */
export async function readDirectory(dir: string, dest = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  const inodes: InodeBlobs = new Map();
  async function walk(abs: string, rel: string): Promise<void> {
    let handle;
    try {
      handle = await opendir(abs, { encoding: 'buffer' as BufferEncoding });
    } catch (err) {
      throw new BootsmithError(`Cannot read the folder ${abs}: ${(err as Error).message}`);
    }
    const names: string[] = [];
    // Read names as bytes: Node would silently replace invalid UTF-8 and then fail to find the file.
    for await (const d of handle) {
      const raw = d.name as unknown as Buffer;
      const name = utf8.decode(raw, { stream: false });
      if (name.includes('\uFFFD') && !Buffer.from(name).equals(raw)) {
        throw new BootsmithError(`${join(abs, raw.toString('latin1'))}: the name is not valid UTF-8; rename the file (Bootsmith stores names as UTF-8)`);
      }
      names.push(name);
    }
    names.sort();
    for (const name of names) {
      const child = join(abs, name);
      const e = await readDiskEntry(child, `${rel}/${name}`, inodes);
      out.push(e);
      if (e.type === 'dir') await walk(child, e.path);
    }
  }
  await walk(dir, dest);
  return out;
}
