// The tar header block (POSIX ustar; GNU's variant differs only after byte 257), shared by the
// reader and the writer.

export const BLOCK = 512;
/** GNU tar writes in records of 20 blocks; we pad the same way. */
export const RECORD = 20 * BLOCK;

/** [offset, length] of each header field. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
export type FieldName = keyof typeof F;

export const MAGIC_USTAR = 'ustar\0'; // POSIX, version "00"
export const MAGIC_GNU = 'ustar '; // GNU, version " \0"

/** Header checksums: the byte sum with the checksum field counted as spaces. POSIX sums unsigned
 *  bytes; some old writers (Sun, early GNU) summed signed chars, so both are computed. */
export function checksums(block: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b < 128 ? b : b - 256;
  }
  return { unsigned, signed };
}

export const pad512 = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;
