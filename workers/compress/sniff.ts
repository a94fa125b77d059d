// Recognises compressed data we do not decompress, so an error can say what the file really is.

const SIGNATURES: [name: string, magic: number[], tool: string][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz -d'],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd], 'zstd -d'],
  ['bzip2', [0x42, 0x5a, 0x68], 'bzip2 -d'],
  ['lz4', [0x02, 0x21, 0x4c, 0x18], 'lz4 -d'],
  ['lz4', [0x04, 0x22, 0x4d, 0x18], 'lz4 -d'],
  ['lzop', [0x89, 0x4c, 0x5a, 0x4f], 'lzop -d'],
  ['lzma', [0x5d, 0x00, 0x00], 'unlzma'],
];

/** If the bytes at `pos` start a compressed stream other than gzip: its name and the command that
 *  decompresses it. */
export function otherCompressionAt(bytes: Uint8Array, pos = 0): { name: string; tool: string } | undefined {
  for (const [name, magic, tool] of SIGNATURES) {
    if (magic.every((b, i) => bytes[pos + i] === b)) return { name, tool };
  }
  return undefined;
}
