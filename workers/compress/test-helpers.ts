// Helpers for the format tests (Node only: temp dirs and native tools). Not used by the engine.

import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../model/entry.ts';
import { concatBytes } from './gzip.ts';

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return concatBytes(parts.length ? parts : [new Uint8Array(0)]);
}

export const text = (s: string) => new TextEncoder().encode(s);
export const blob = (s: string | Uint8Array) => new Blob([typeof s === 'string' ? s : (s as Uint8Array<ArrayBuffer>)]);

/** Runs a program (no shell) and returns its stdout as a Buffer. */
export function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): Buffer {
  return execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...opts }) as Buffer;
}

export function sh(script: string, cwd?: string): Buffer {
  return run('sh', ['-ec', script], { cwd });
}

export function has(tool: string): boolean {
  try { run('sh', ['-c', `command -v ${tool}`]); return true; } catch { return false; }
}

/** A fresh temp dir and a function that removes every dir made so far. */
export function tempDirs(): { make: (tag: string) => string; cleanup: () => void } {
  const made: string[] = [];
  return {
    make: (tag) => { const d = mkdtempSync(join(tmpdir(), `bootsmith-${tag}-`)); made.push(d); return d; },
    cleanup: () => { for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true }); },
  };
}

/** Entries with their content as text (or hex if not UTF-8), so `toEqual` compares everything. */
export async function plain(entries: Entry[]): Promise<Record<string, unknown>[]> {
  const out = [];
  for (const e of entries) {
    const { data, ...rest } = e;
    const o: Record<string, unknown> = { ...rest };
    if (data) o.data = Buffer.from(await data.arrayBuffer()).toString('hex');
    out.push(o);
  }
  return out;
}

export function file(path: string, content: string | Uint8Array, over: Partial<Entry> = {}): Entry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, data: blob(content), ...over };
}
export function dir(path: string, over: Partial<Entry> = {}): Entry {
  return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000, ...over };
}
export function symlink(path: string, target: string, over: Partial<Entry> = {}): Entry {
  return { path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_000, target, ...over };
}
export function node(path: string, type: 'char' | 'block' | 'fifo' | 'socket', over: Partial<Entry> = {}): Entry {
  const e: Entry = { path, type, mode: 0o600, uid: 0, gid: 0, mtime: 1_700_000_000, ...over };
  if (type === 'char' || type === 'block') { e.major ??= 0; e.minor ??= 0; }
  return e;
}

/** Catches a thrown error (sync or async) so its message can be asserted. */
export async function errorOf(f: () => unknown): Promise<Error> {
  try { await f(); } catch (e) { return e as Error; }
  throw new Error('expected an error, none was thrown');
}

/** Reads a directory tree from disk into entries (independently of the format code), sorted by
 *  path. Hard links come out as plain files, as the readers return them. */
export function walk(root: string): Entry[] {
  const out: Entry[] = [];
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel + '/' + name;
      const p = join(root, r);
      const st = lstatSync(p);
      const e: Entry = { path: r, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) e.type = 'dir';
      else if (st.isSymbolicLink()) { e.type = 'symlink'; e.target = readlinkSync(p); }
      else if (st.isFIFO()) e.type = 'fifo';
      else if (st.isSocket()) e.type = 'socket';
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        e.type = st.isCharacterDevice() ? 'char' : 'block';
        e.major = (st.rdev >> 8) & 0xfff;
        e.minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      } else e.data = new Blob([readFileSync(p)]);
      out.push(e);
      if (e.type === 'dir') visit(r);
    }
  };
  visit('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export const byPath = (entries: Entry[]) => [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
