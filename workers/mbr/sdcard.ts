// The whole SD card image (sdcard.img): an MBR, the FAT boot partition and, optionally, the ext4
// root partition, assembled from images already built. The result is a sparse ChunkedFile: holes
// in the inputs stay holes, so a 4 GiB ext4 root holding 100 MB costs about 100 MB here.

import { BootsmithError, throwIfAborted } from '../model/problems.ts';
import { CHUNK_SIZE, ChunkedFile } from '../wasi/store.ts';
import { encodeMbr, SECTOR, TYPE_FAT16_LBA, TYPE_FAT32_LBA, TYPE_LINUX } from './mbr.ts';

export const MiB = 1024 * 1024;
/** Where partitions start and how their sizes round: 4 MiB, the erase-block alignment SD cards
 *  and Raspberry Pi OS images use (a multiple of every common erase block size). */
export const SD_ALIGN = 4 * MiB;
/** An MBR addresses 2^32 sectors of 512 bytes. */
export const MAX_DISK_BYTES = 2 ** 32 * SECTOR;

export interface SdCardPlanOptions {
  /** Size of the FAT boot image in bytes. */
  bootBytes: number;
  /** Size of the ext4 root image in bytes; none: a single partition. */
  rootBytes?: number;
  /** Partition alignment in bytes (a multiple of 512); default 4 MiB. */
  align?: number;
  /** Round the disk up to a power of two (default true): QEMU's SD card emulation refuses any
   *  other size ("Invalid SD card size"), and a real card takes the image either way. */
  powerOfTwo?: boolean;
  /** Type byte of the boot partition: 0x0c FAT32 LBA (default) or 0x0e FAT16 LBA. */
  bootType?: number;
}

export interface SdCardPartition {
  startBytes: number;
  sizeBytes: number;
  type: number;
}

export interface SdCardPlan {
  diskBytes: number;
  partitions: SdCardPartition[];
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

function sdError(what: string, fix?: string): BootsmithError {
  return new BootsmithError(`sdcard.img: ${what}${fix ? ` — ${fix}` : ''}`, [{ severity: 'error', message: what, fix }]);
}

/**
 * Where everything goes. Partition 1 (the boot FAT) starts at `align`; partition 2 (the ext4
 * root) follows it, aligned. Each partition is its image's size rounded up to `align`, never
 * smaller than the image; the filesystem inside keeps the size it was built with (resize2fs or
 * fatresize can grow it to the partition, or past it on a larger card, later). The disk ends
 * at the last partition, rounded up to `align` and then, by default, to a power of two.
 */
export function planSdCard(opts: SdCardPlanOptions): SdCardPlan {
  const align = opts.align ?? SD_ALIGN;
  if (!Number.isInteger(align) || align < SECTOR || align % SECTOR) {
    throw new RangeError(`alignment must be a positive multiple of ${SECTOR} bytes, not ${align}`);
  }
  const sizes: [number, number][] = [[opts.bootBytes, opts.bootType ?? TYPE_FAT32_LBA]];
  if (opts.rootBytes !== undefined) sizes.push([opts.rootBytes, TYPE_LINUX]);
  for (const [bytes] of sizes) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw sdError(`an image of ${bytes} bytes cannot be a partition`, 'build the filesystem image first');
  }
  const partitions: SdCardPartition[] = [];
  let at = align;
  for (const [bytes, type] of sizes) {
    const sizeBytes = roundUp(bytes, align);
    partitions.push({ startBytes: at, sizeBytes, type });
    at += sizeBytes;
  }
  const diskBytes = opts.powerOfTwo === false ? at : 2 ** Math.ceil(Math.log2(at));
  if (diskBytes > MAX_DISK_BYTES) {
    throw sdError(`the disk would be ${diskBytes} bytes; an MBR disk holds at most 2 TiB`, 'make the root filesystem smaller');
  }
  return { diskBytes, partitions };
}

/** The partition type for a FAT image, from its boot sector: FAT32 → 0x0c, FAT12/16 → 0x0e. */
export function fatPartitionType(bootSector: Uint8Array): number {
  const t = String.fromCharCode(...bootSector.subarray(82, 87));
  return t === 'FAT32' ? TYPE_FAT32_LBA : TYPE_FAT16_LBA;
}

export type DiskImage = Blob | ChunkedFile;

export interface BuildSdCardOptions {
  /** The FAT boot filesystem image. */
  boot: DiskImage;
  /** The ext4 root filesystem image, if any. */
  root?: DiskImage;
  /** Type byte of the boot partition; default: read from the FAT boot sector (0x0c for FAT32,
   *  0x0e for FAT12/16). */
  bootType?: number;
  /** The MBR disk signature (Linux's "disk identifier", and PARTUUID=<sig>-02): the caller
   *  derives it from the project seed, so the same project gives the same image. */
  diskSignature: number;
  signal?: AbortSignal;
  /** Bytes of the input images copied so far, out of their total size. */
  onProgress?: (done: number, total: number) => void;
  /** Overrides for planSdCard (alignment, power-of-two rounding). */
  align?: number;
  powerOfTwo?: boolean;
}

const sizeOf = (img: DiskImage) => img.size;

async function firstSector(img: DiskImage): Promise<Uint8Array> {
  return img instanceof ChunkedFile ? img.read(0, SECTOR) : new Uint8Array(await img.slice(0, SECTOR).arrayBuffer());
}

/** Blob slices read at a time: large enough to be fast, small enough to hold once. */
const READ_SLICE = 4 * MiB;

/** Copies `img` into `out` at `base`; only data is stored (zero chunks stay holes). */
async function copyInto(out: ChunkedFile, base: number, img: DiskImage, signal: AbortSignal | undefined, progress: (n: number) => void): Promise<void> {
  if (img instanceof ChunkedFile) {
    // Only the stored chunks exist to be copied; everything between them is zero already.
    let n = 0;
    for (const { offset, data } of img.extents()) {
      if ((++n & 63) === 0) {
        throwIfAborted(signal);
        progress(offset);
      }
      out.write(base + offset, data);
    }
  } else {
    for (let offset = 0; offset < img.size; offset += READ_SLICE) {
      throwIfAborted(signal);
      const bytes = new Uint8Array(await img.slice(offset, offset + READ_SLICE).arrayBuffer());
      // write() keeps all-zero 64 KiB pieces as holes; hand it whole chunks so it can.
      for (let o = 0; o < bytes.length; o += CHUNK_SIZE) out.write(base + offset + o, bytes.subarray(o, o + CHUNK_SIZE));
      progress(offset + bytes.length);
    }
  }
  progress(img.size);
}

/** Assembles the SD card image: MBR, boot partition, optional root partition, sized by planSdCard. */
export async function buildSdCard(opts: BuildSdCardOptions): Promise<ChunkedFile> {
  const bootType = opts.bootType ?? fatPartitionType(await firstSector(opts.boot));
  const plan = planSdCard({
    bootBytes: sizeOf(opts.boot), rootBytes: opts.root ? sizeOf(opts.root) : undefined,
    align: opts.align, powerOfTwo: opts.powerOfTwo, bootType,
  });
  const mbr = encodeMbr(plan.partitions.map((p) => ({ type: p.type, startLba: p.startBytes / SECTOR, sectors: p.sizeBytes / SECTOR })), opts.diskSignature);
  const out = new ChunkedFile(plan.diskBytes);
  out.write(0, mbr);

  const images = opts.root ? [opts.boot, opts.root] : [opts.boot];
  const total = images.reduce((n, img) => n + sizeOf(img), 0);
  let before = 0;
  opts.onProgress?.(0, total);
  for (let i = 0; i < images.length; i++) {
    await copyInto(out, plan.partitions[i].startBytes, images[i], opts.signal, (n) => opts.onProgress?.(before + n, total));
    before += sizeOf(images[i]);
  }
  throwIfAborted(opts.signal);
  return out;
}
