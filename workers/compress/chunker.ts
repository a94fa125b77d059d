// Byte-stream plumbing shared by the archive writers: fixed-size output chunks and lazy Blob reads.

import { BootsmithError, throwIfAborted } from '../model/problems.ts';

export const MiB = 1024 * 1024;

/** Zeros for padding; consumers must copy (rechunk does), never keep or modify them. */
export const ZEROS = new Uint8Array(64 * 1024);

/** Re-cuts a stream of byte pieces into chunks of exactly `size` bytes (the last may be shorter).
 *  Pieces are always copied, so callers may pass shared or reused buffers. `onProgress` gets the
 *  number of bytes yielded so far, after each chunk. */
export async function* rechunk(
  pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  onProgress?: (bytesDone: number) => void,
): AsyncGenerator<Uint8Array> {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`chunk size must be a positive integer, not ${size}`);
  let buf = new Uint8Array(size);
  let len = 0;
  let done = 0;
  for await (const piece of pieces) {
    let off = 0;
    while (off < piece.length) {
      const n = Math.min(size - len, piece.length - off);
      buf.set(piece.subarray(off, off + n), len);
      len += n;
      off += n;
      if (len === size) {
        const full = buf;
        buf = new Uint8Array(size);
        len = 0;
        done += size;
        yield full;
        onProgress?.(done);
      }
    }
  }
  if (len > 0) {
    done += len;
    yield buf.subarray(0, len);
    onProgress?.(done);
  }
}

/** `n` zero bytes as pieces of ZEROS. */
export function* zeros(n: number): Generator<Uint8Array> {
  while (n > 0) {
    const k = Math.min(n, ZEROS.length);
    yield ZEROS.subarray(0, k);
    n -= k;
  }
}

/** Reads a Blob piece by piece through its stream, so a large file is never held twice. Throws if
 *  the content turns out longer or shorter than `expected` bytes (the header is already written),
 *  and between pieces if `signal` is aborted. */
export async function* blobPieces(blob: Blob, expected: number, path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  let got = 0;
  let finished = false;
  try {
    for (;;) {
      throwIfAborted(signal);
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
      if (got > expected) break;
      yield value;
    }
    finished = true;
  } finally {
    if (!finished || got > expected) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (got !== expected) {
    throw new BootsmithError(`${path}: the content changed while it was being read (expected ${expected} bytes, ${got > expected ? 'got more' : `got ${got}`})`, [
      { severity: 'error', path, message: 'the file changed while the archive was being written', fix: 'build again once the file is no longer being modified' },
    ]);
  }
}
