// Node's side of the v86 runner: v86's WebAssembly read from the v86 package in node_modules (the
// package has no "exports" map, so its build/ folder resolves like any file), and disk images
// read from files.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { DiskStore, V86Wasm } from './v86.ts';

export function v86WasmPath(): string {
  return createRequire(import.meta.url).resolve('v86/build/v86.wasm');
}

/** Pass as BootOptions.wasm in Node; compiled once per process. */
export const nodeV86Wasm: V86Wasm = async () => new Uint8Array(await readFile(v86WasmPath()));

const CHUNK = 64 * 1024;

/**
 * A disk image file as a v86 disk, read as the guest asks for it; what the guest writes is kept
 * in memory (copy on write, 64 KiB at a time) and never reaches the file. A multi-GiB sparse
 * sdcard.img costs only what the guest touches.
 */
export class FileOverlayDisk implements DiskStore {
  private readonly written = new Map<number, Uint8Array>();
  private constructor(private readonly fd: number, readonly size: number) {}

  static open(path: string): FileOverlayDisk {
    const fd = openSync(path, 'r');
    return new FileOverlayDisk(fd, fstatSync(fd).size);
  }

  private chunk(index: number): Uint8Array {
    const have = this.written.get(index);
    if (have) return have;
    const buf = new Uint8Array(CHUNK);
    readSync(this.fd, buf, 0, Math.max(0, Math.min(CHUNK, this.size - index * CHUNK)), index * CHUNK);
    return buf;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (let pos = offset; pos < end;) {
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, end - pos);
      const have = this.written.get(index);
      if (have) out.set(have.subarray(within, within + n), pos - offset);
      else readSync(this.fd, out, pos - offset, n, pos);
      pos += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    for (let pos = offset; pos < offset + data.length;) {
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, offset + data.length - pos);
      const c = this.chunk(index);
      c.set(data.subarray(pos - offset, pos - offset + n), within);
      this.written.set(index, c);
      pos += n;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
