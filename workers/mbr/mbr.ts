// The classic MBR partition table: sector 0 of a disk, four 16-byte entries at byte 446 and the
// 0x55 0xAA signature at 510. What the Pi's boot ROM, Linux and QEMU read on an SD card.
//
// CHS fields: nothing we care about reads them, but fdisk and sfdisk fill them, and some tools
// complain when they disagree with the LBA fields. We write what util-linux 2.38 (sfdisk) writes
// for an image file: geometry 255 heads × 63 sectors per track; an address past cylinder 1023 is
// saturated to cylinder 1023, head 254, sector 63 (bytes FE FF FF). The unit test compares our
// sector with one sfdisk wrote for the same table.

import { BootsmithError } from '../model/problems.ts';

export const SECTOR = 512;
/** Byte offset of the first partition entry. */
export const TABLE_OFFSET = 446;
const ENTRY_SIZE = 16;
/** Byte offset of the 32-bit disk signature (Linux shows it as the "disk identifier"). */
export const SIGNATURE_OFFSET = 440;

/** CHS geometry used for the CHS fields (what fdisk assumes for disks and image files). */
export const HEADS = 255;
export const SECTORS_PER_TRACK = 63;

/** Partition type bytes Bootsmith uses. */
export const TYPE_FAT32_LBA = 0x0c;
export const TYPE_FAT16_LBA = 0x0e;
export const TYPE_LINUX = 0x83;

export interface MbrPartition {
  /** Partition type byte (1–255), e.g. 0x0c FAT32 LBA, 0x83 Linux. */
  type: number;
  /** First sector (512 bytes each), counted from the start of the disk. */
  startLba: number;
  /** Length in sectors. */
  sectors: number;
  /** The "active" flag (status byte 0x80). Linux and the Pi ignore it. */
  bootable?: boolean;
}

export interface ParsedMbr {
  diskSignature: number;
  /** The used entries (type ≠ 0), with their slot number 1–4 (Linux's partition number). */
  partitions: (MbrPartition & { index: number })[];
}

const MAX32 = 0xffffffff;

function mbrError(what: string, fix?: string): BootsmithError {
  const message = `MBR: ${what}`;
  return new BootsmithError(fix ? `${message} — ${fix}` : message, [{ severity: 'error', message: what, fix }]);
}

/** The three CHS bytes (head, sector | cylinder high bits, cylinder low byte) for an LBA. */
export function chsBytes(lba: number): [number, number, number] {
  const perCylinder = HEADS * SECTORS_PER_TRACK;
  let c = Math.floor(lba / perCylinder);
  let h = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  let s = (lba % SECTORS_PER_TRACK) + 1;
  if (c > 1023) {
    c = 1023;
    h = HEADS - 1;
    s = SECTORS_PER_TRACK;
  }
  return [h, s | ((c >> 2) & 0xc0), c & 0xff];
}

function checkPartition(p: MbrPartition, n: number): void {
  const where = `partition ${n}`;
  if (!Number.isInteger(p.type) || p.type < 1 || p.type > 255) {
    throw mbrError(`${where} has type ${p.type}; a type is a byte from 1 to 255 (0 marks an unused entry)`);
  }
  if (!Number.isInteger(p.startLba) || p.startLba < 1) {
    throw mbrError(`${where} starts at sector ${p.startLba}; it must start at sector 1 or later (sector 0 holds the table)`);
  }
  if (!Number.isInteger(p.sectors) || p.sectors < 1) {
    throw mbrError(`${where} is ${p.sectors} sectors long; it must hold at least one sector`);
  }
  if (p.startLba + p.sectors - 1 > MAX32) {
    throw mbrError(`${where} ends past sector 2^32 − 1 (2 TiB): an MBR cannot address it`, 'use a smaller image');
  }
}

/** Sector 0 of a disk holding `partitions` (at most four, in slot order), no boot code. */
export function encodeMbr(partitions: MbrPartition[], diskSignature: number): Uint8Array {
  if (partitions.length > 4) throw mbrError(`${partitions.length} partitions asked for; an MBR holds four`);
  if (!Number.isInteger(diskSignature) || diskSignature < 0 || diskSignature > MAX32) {
    throw mbrError(`disk signature ${diskSignature} is not a 32-bit unsigned number`);
  }
  partitions.forEach((p, i) => checkPartition(p, i + 1));
  checkOverlaps(partitions.map((p, i) => ({ ...p, index: i + 1 })));

  const out = new Uint8Array(SECTOR);
  const view = new DataView(out.buffer);
  view.setUint32(SIGNATURE_OFFSET, diskSignature, true);
  // bytes 444–445: 0x0000, "not copy-protected"
  partitions.forEach((p, i) => {
    const at = TABLE_OFFSET + i * ENTRY_SIZE;
    out[at] = p.bootable ? 0x80 : 0x00;
    out.set(chsBytes(p.startLba), at + 1);
    out[at + 4] = p.type;
    out.set(chsBytes(p.startLba + p.sectors - 1), at + 5);
    view.setUint32(at + 8, p.startLba, true);
    view.setUint32(at + 12, p.sectors, true);
  });
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
}

function checkOverlaps(parts: (MbrPartition & { index: number })[]): void {
  const sorted = [...parts].sort((a, b) => a.startLba - b.startLba);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1], b = sorted[i];
    if (a.startLba + a.sectors > b.startLba) {
      throw mbrError(`partitions ${a.index} (sectors ${a.startLba}–${a.startLba + a.sectors - 1}) and ${b.index} (from sector ${b.startLba}) overlap`);
    }
  }
}

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/**
 * Reads the partition table in sector 0. Checks the signature, the status bytes, that partitions
 * do not overlap and, when `diskBytes` is given, that they lie within the disk. Extended
 * partitions are returned as entries; their logical partitions are not followed.
 */
export function parseMbr(bytes: Uint8Array, diskBytes?: number): ParsedMbr {
  if (bytes.length < SECTOR) throw mbrError(`${bytes.length} bytes is shorter than one 512-byte sector; this is not a disk image`);
  if (bytes[510] !== 0x55 || bytes[511] !== 0xaa) {
    const got = `${bytes[510].toString(16).padStart(2, '0')} ${bytes[511].toString(16).padStart(2, '0')}`;
    throw mbrError(`sector 0 does not end with the boot signature 55 aa (it has ${got}); the disk has no partition table`,
      'give a whole-disk image (e.g. sdcard.img), not a partition or filesystem image');
  }
  // A filesystem's own boot sector also ends in 55 aa; say so rather than report garbage entries.
  const fs = latin1(bytes.subarray(82, 90)) === 'FAT32   ' ? 'FAT32' : /^FAT1[26] {3}$/.test(latin1(bytes.subarray(54, 62))) ? 'FAT12/16'
    : latin1(bytes.subarray(3, 11)) === 'NTFS    ' ? 'NTFS' : latin1(bytes.subarray(3, 11)) === 'EXFAT   ' ? 'exFAT' : undefined;
  if (fs && (bytes[0] === 0xeb || bytes[0] === 0xe9)) {
    throw mbrError(`sector 0 is the boot sector of a ${fs} filesystem, not a partition table`,
      'this is a filesystem image without a partition table; give the whole-disk image');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const partitions: ParsedMbr['partitions'] = [];
  for (let i = 0; i < 4; i++) {
    const at = TABLE_OFFSET + i * ENTRY_SIZE;
    const index = i + 1;
    const status = bytes[at];
    const type = bytes[at + 4];
    const startLba = view.getUint32(at + 8, true);
    const sectors = view.getUint32(at + 12, true);
    if (status !== 0x00 && status !== 0x80) {
      throw mbrError(`entry ${index} has status byte 0x${status.toString(16).padStart(2, '0')} (only 0x00 and 0x80 are valid); sector 0 is not a partition table or is damaged`);
    }
    if (type === 0) continue;
    if (type === 0xee) {
      throw mbrError('the disk has a GPT partition table (this MBR is only its protective entry)', 'read it with a GPT tool such as sfdisk or gdisk');
    }
    if (startLba === 0) throw mbrError(`partition ${index} starts at sector 0, which holds the table itself`);
    if (sectors === 0) throw mbrError(`partition ${index} has type 0x${type.toString(16)} but a length of 0 sectors`);
    if (diskBytes !== undefined && (startLba + sectors) * SECTOR > diskBytes) {
      throw mbrError(`partition ${index} (sectors ${startLba}–${startLba + sectors - 1}) runs past the end of the ${diskBytes}-byte disk`,
        'the image is truncated, or the table belongs to a larger disk');
    }
    const p: MbrPartition & { index: number } = { index, type, startLba, sectors };
    if (status === 0x80) p.bootable = true;
    partitions.push(p);
  }
  checkOverlaps(partitions);
  return { diskSignature: view.getUint32(SIGNATURE_OFFSET, true), partitions };
}
