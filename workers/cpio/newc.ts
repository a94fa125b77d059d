// Layout of the "new ASCII" cpio format (newc, magic 070701; crc 070702 only adds a data checksum),
// the one the Linux kernel unpacks an initramfs from.
//
//   magic[6] ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
//   (13 fields of 8 hex digits), then the name and its NUL, padded to 4 bytes, then the data, padded
//   to 4 bytes. Offsets and padding count from the start of the archive.

export const HEADER_SIZE = 110;
export const MAGIC_NEWC = '070701';
export const MAGIC_CRC = '070702';
export const TRAILER = 'TRAILER!!!';
/** GNU cpio pads the archive to its 512-byte I/O block; so do we. */
export const BLOCK = 512;

export const FIELDS = [
  'ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize',
  'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check',
] as const;
export type Field = (typeof FIELDS)[number];
export type Header = Record<Field, number>;

/** Zero bytes needed after offset `n` to reach a multiple of 4 (arithmetic, not bit operations:
 *  archive offsets may exceed 2^31). */
export const pad4 = (n: number) => (4 - (n % 4)) % 4;
export const align4 = (n: number) => n + pad4(n);
