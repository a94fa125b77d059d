// Node-only helpers for the workers/wasi tests: loading the built tools, native checkers, and
// writing an in-memory image to a sparse temporary file. Not used by the engine.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FileData, GrowableBytes, ChunkedFile } from './runner.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = join(REPO, 'wasm-tools', 'dist');
export const REPRO = join(REPO, 'wasm-tools', 'repro', 'dist');

/** True when every named tool was built (wasm-tools/build.sh). */
export function haveTools(...names: string[]): boolean {
  return names.every((n) => existsSync(join(DIST, `${n}.wasm`)));
}

/** Skip a test whose wasm files are missing, except in CI, where missing files must fail. */
export function missing(...paths: string[]): boolean {
  return !process.env.CI && !paths.every((p) => existsSync(p));
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** The compiled module of a file (cached per path). */
export function loadModule(path: string): Promise<WebAssembly.Module> {
  let m = modules.get(path);
  if (!m) {
    m = WebAssembly.compile(readFileSync(path));
    modules.set(path, m);
  }
  return m;
}

export const tool = (name: string) => loadModule(join(DIST, `${name}.wasm`));

export interface Native {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a native program; never throws for a non-zero exit. */
export function native(cmd: string, args: string[], env: Record<string, string> = {}): Native {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function hasNative(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const temps: string[] = [];

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bootsmith-wasi-'));
  temps.push(d);
  return d;
}

export function cleanup(): void {
  if (process.env.KEEP_TEST_FILES) return;
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes file data to a host file; a ChunkedFile is written sparsely (only its chunks). */
export function writeHostFile(path: string, data: FileData): void {
  const fd = openSync(path, 'w');
  try {
    if (data instanceof Uint8Array) writeSync(fd, data);
    else if (data instanceof ChunkedFile) {
      for (const { offset, data: chunk } of data.extents()) writeSync(fd, chunk, 0, chunk.byteLength, offset);
      ftruncateSync(fd, data.size);
    } else if (data instanceof GrowableBytes) writeSync(fd, data.bytes());
    else writeSync(fd, data.read(0, data.size));
  } finally {
    closeSync(fd);
  }
}

/** A deterministic pseudo-random byte array (xorshift32). */
export function pseudoRandom(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export const utf8 = (s: string) => new TextEncoder().encode(s);
