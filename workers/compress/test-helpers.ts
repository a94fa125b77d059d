// Helpers for the format tests (Node only: temp dirs and native tools). Not used by the engine.

import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
