// File contents for the in-memory WASI file system: a growable contiguous buffer for ordinary
// files, and a sparse chunked file for disk images, which may be several GiB and are mostly
// zeros (an ext4 image is written at a few hundred scattered offsets). No Node-only APIs: this
// runs in Node and in a browser Web Worker alike.

/** Random-access bytes behind one WASI file. Offsets and sizes are byte counts below 2^53. */
export interface ByteStore {
  readonly size: number;
  /** Up to `length` bytes from `offset`, fewer at the end of the file, none past it. */
  read(offset: number, length: number): Uint8Array;
  /** Writes `data` at `offset`, growing the file (with zeros) as needed. */
  write(offset: number, data: Uint8Array): void;
  /** Sets the size: shrinking drops the tail, growing adds zeros. */
  truncate(size: number): void;
}

/** A contiguous file whose capacity doubles as it grows, so appends are amortised O(1). */
export class GrowableBytes implements ByteStore {
  private buf: Uint8Array;
  private length: number;
  /** False while `buf` is the caller's array: the first write or truncate copies it. */
  private owned: boolean;

  /** Wraps `initial` without copying it, and never changes it: writing copies it first. */
  constructor(initial?: Uint8Array) {
    this.buf = initial ?? new Uint8Array(0);
    this.length = this.buf.byteLength;
    this.owned = !initial;
  }

  get size(): number {
    return this.length;
  }

  /** The file's bytes (a view, not a copy: later writes may or may not show through). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  read(offset: number, length: number): Uint8Array {
    if (offset >= this.length) return new Uint8Array(0);
    return this.buf.slice(offset, Math.min(this.length, offset + length));
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.byteLength;
    this.own();
    this.reserve(end);
    if (offset > this.length) this.buf.fill(0, this.length, offset);
    this.buf.set(data, offset);
    if (end > this.length) this.length = end;
  }

  truncate(size: number): void {
    this.own();
    if (size > this.length) {
      this.reserve(size);
      this.buf.fill(0, this.length, size);
    }
    this.length = size;
  }

  private own(): void {
    if (this.owned) return;
    this.buf = this.buf.slice(0, this.length);
    this.owned = true;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.buf.byteLength) return;
    const next = new Uint8Array(Math.max(capacity, Math.min(this.buf.byteLength * 2, capacity + (64 << 20)), 4096));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

export const CHUNK_SIZE = 64 * 1024;

/**
 * A sparse file stored as 64 KiB chunks in a Map keyed by chunk index. Chunks never written, or
 * written only with zeros, are absent and read as zeros, so a 4 GiB image that holds 60 MB of
 * data takes about 60 MB of memory.
 */
export class ChunkedFile implements ByteStore {
  private readonly chunks = new Map<number, Uint8Array>();
  private length: number;

  constructor(size = 0) {
    this.length = size;
  }

  /** A chunked copy of `bytes` (all-zero chunks are not stored). */
  static from(bytes: Uint8Array): ChunkedFile {
    const f = new ChunkedFile(0);
    f.write(0, bytes);
    return f;
  }

  get size(): number {
    return this.length;
  }

  /** Bytes held in memory: 64 KiB per chunk that holds data. */
  get storedBytes(): number {
    return this.chunks.size * CHUNK_SIZE;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.length, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    let pos = offset;
    while (pos < end) {
      const index = Math.floor(pos / CHUNK_SIZE);
      const within = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, end - pos);
      const chunk = this.chunks.get(index);
      if (chunk) out.set(chunk.subarray(within, within + n), pos - offset);
      pos += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.byteLength;
    let pos = offset;
    while (pos < end) {
      const index = Math.floor(pos / CHUNK_SIZE);
      const within = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, end - pos);
      const part = data.subarray(pos - offset, pos - offset + n);
      let chunk = this.chunks.get(index);
      if (chunk) {
        chunk.set(part, within);
        // A chunk overwritten whole with zeros is dropped again.
        if (n === CHUNK_SIZE && isZero(part)) this.chunks.delete(index);
      } else if (!isZero(part)) {
        chunk = new Uint8Array(CHUNK_SIZE);
        chunk.set(part, within);
        this.chunks.set(index, chunk);
      }
      pos += n;
    }
    if (end > this.length) this.length = end;
  }

  truncate(size: number): void {
    if (size < this.length) {
      const keep = Math.ceil(size / CHUNK_SIZE);
      for (const index of [...this.chunks.keys()]) if (index >= keep) this.chunks.delete(index);
      const within = size % CHUNK_SIZE;
      const last = this.chunks.get(Math.floor(size / CHUNK_SIZE));
      if (within && last) last.fill(0, within);
    }
    this.length = size;
  }

  /** The stored (non-zero) chunks in offset order; everything else in [0, size) is zero. */
  *extents(): Generator<{ offset: number; data: Uint8Array }> {
    const indices = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const index of indices) {
      const offset = index * CHUNK_SIZE;
      const data = this.chunks.get(index)!;
      yield { offset, data: data.subarray(0, Math.min(CHUNK_SIZE, this.length - offset)) };
    }
  }

  /** The whole file as one array: only for images small enough to hold twice. */
  toUint8Array(): Uint8Array {
    const out = new Uint8Array(this.length);
    for (const { offset, data } of this.extents()) out.set(data, offset);
    return out;
  }

  /** The whole file as a Blob, built from the chunks and one shared zero chunk. */
  toBlob(type = 'application/octet-stream'): Blob {
    const parts: Uint8Array[] = [];
    const zero = new Uint8Array(CHUNK_SIZE);
    for (let offset = 0; offset < this.length; offset += CHUNK_SIZE) {
      const n = Math.min(CHUNK_SIZE, this.length - offset);
      const chunk = this.chunks.get(offset / CHUNK_SIZE);
      parts.push(chunk ? chunk.subarray(0, n) : zero.subarray(0, n));
    }
    return new Blob(parts as BlobPart[], { type });
  }
}

function isZero(bytes: Uint8Array): boolean {
  let i = 0;
  // Four bytes at a time where the view is aligned.
  if (bytes.byteOffset % 4 === 0 && bytes.byteLength >= 64) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    for (let w = 0; w < words.length; w++) if (words[w] !== 0) return false;
    i = words.length << 2;
  }
  for (; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false;
  return true;
}
