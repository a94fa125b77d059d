// The layout mke2fs (e2fsprogs 1.47.0, lib/ext2fs/initialize.c and misc/mke2fs.c) gives an ext4
// file system of a given size, computed ahead of time so that a tree that does not fit is
// reported before any work, and an automatic size is just big enough. Pure; no I/O.
//
// Only what decides how many blocks are left for the content is modelled: block groups, group
// descriptors and their sparse_super backups, reserved GDT blocks (resize_inode), bitmaps, inode
// tables, the journal, the orphan file, the resize inode's block, the root folder and lost+found.
// workers/ext4/ext4.test.ts checks the figures against native mke2fs.

/** Block size of every image we make.
 *
 *  Always 4096, also for tiny images (mke2fs itself would take 1024 below 512 MiB): it is the page
 *  size of every kernel we boot, the size that Raspberry Pi and x86 kernels, U-Boot and GRUB all
 *  read well, the one e2fsprogs uses for anything of real size, and one block size keeps the
 *  planning exact. A tree of many tiny files wastes up to 4 KiB per file; the plan counts it. */
export const BLOCK_SIZE = 4096;
/** 256-byte inodes: extra fields for nanoseconds, creation time and dates after 2038. */
export const INODE_SIZE = 256;
export const BLOCKS_PER_GROUP = BLOCK_SIZE * 8;
/** Inodes 1..10 are reserved; 11 is lost+found. */
export const FIRST_INO = 11;
const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
const ADDR_PER_BLOCK = BLOCK_SIZE / 4;
/** A journal needs 2048 blocks (8 MiB) at least: below that mke2fs silently leaves it out. */
export const MIN_JOURNAL_FS_BLOCKS = 2048;
/** Without 64bit, block numbers are 32 bits. */
export const MAX_BLOCKS_32 = 2 ** 32 - 1;

export interface FeatureSet {
  journal: boolean;
  /** 64bit (64-byte group descriptors). */
  is64bit: boolean;
  orphanFile: boolean;
}

export interface Geometry {
  /** Blocks in the file system (the last, too-small group dropped as mke2fs does). */
  blocks: number;
  groups: number;
  inodesPerGroup: number;
  /** Inodes in the file system (what mke2fs makes of the requested count). */
  inodes: number;
  inodeTableBlocks: number;
  descBlocks: number;
  reservedGdtBlocks: number;
  journalBlocks: number;
  orphanFileBlocks: number;
  /** Blocks taken by everything but the content: metadata, journal, the empty root and
   *  lost+found. */
  overheadBlocks: number;
  /** Blocks left for content once mke2fs has made the empty file system. */
  freeBlocks: number;
}

/** Why a size cannot hold a file system at all. */
export type GeometryError = 'too-small' | 'too-many-inodes' | 'too-large';

const divCeil = (a: number, b: number) => Math.ceil(a / b);

function isPowerOf(n: number, base: number): boolean {
  if (n < 1) return false;
  while (n % base === 0) n /= base;
  return n === 1;
}

/** sparse_super: backups of the superblock and descriptors in groups 0, 1 and powers of 3, 5, 7. */
export function groupHasSuper(g: number): boolean {
  return g <= 1 || isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
}

/** ext2fs_default_journal_size: the journal's blocks for a file system of `blocks` blocks. */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/** ext2fs_default_orphan_file_blocks. */
export function defaultOrphanFileBlocks(blocks: number): number {
  if (blocks < 128 * 1024) return 32;
  if (blocks < 2 * 1024 * 1024) return Math.floor(blocks / 4096);
  return 512;
}

/** Blocks of extent tree beyond the four extents an inode holds itself, for `extents` extents
 *  (340 per 4 KiB tree block; a second level only for files of hundreds of GiB). */
export function extentTreeBlocks(extents: number): number {
  if (extents <= 4) return 0;
  const leaves = divCeil(extents, (BLOCK_SIZE - 12) / 12);
  return leaves <= 4 ? leaves : leaves + divCeil(leaves, (BLOCK_SIZE - 12) / 12);
}

/** The layout of a file system of `sizeBytes` bytes with at least `inodes` inodes, or why
 *  there is none. */
export function geometry(sizeBytes: number, inodes: number, f: FeatureSet): Geometry | GeometryError {
  let blocks = Math.floor(sizeBytes / BLOCK_SIZE);
  if (blocks < 16) return 'too-small';
  if (!f.is64bit && blocks > MAX_BLOCKS_32) return 'too-large';
  const bpg = BLOCKS_PER_GROUP;
  const descPerBlock = BLOCK_SIZE / (f.is64bit ? 64 : 32);
  inodes = Math.max(inodes, FIRST_INO + 1);
  for (;;) {
    const groups = divCeil(blocks, bpg);
    const descBlocks = divCeil(groups, descPerBlock);
    let ipg = divCeil(inodes, groups);
    if (ipg > BLOCK_SIZE * 8) return 'too-many-inodes';
    const itb = divCeil(ipg * INODE_SIZE, BLOCK_SIZE);
    ipg = ((itb * BLOCK_SIZE) / INODE_SIZE) & ~7;
    const inodeTableBlocks = divCeil(ipg * INODE_SIZE, BLOCK_SIZE);
    const maxBlocks = blocks < Math.floor(0xffffffff / 1024) ? blocks * 1024 : 0xffffffff;
    const reservedGdtBlocks = Math.min(ADDR_PER_BLOCK, divCeil(divCeil(maxBlocks, bpg), descPerBlock) - descBlocks);
    if (3 + inodeTableBlocks + reservedGdtBlocks + descBlocks > bpg) return 'too-many-inodes';
    // The last group must hold its own metadata and 50 blocks more, or it is dropped.
    let lastOverhead = 2 + inodeTableBlocks;
    if (groupHasSuper(groups - 1)) lastOverhead += 1 + descBlocks + reservedGdtBlocks;
    const rem = blocks % bpg;
    if (groups === 1 && rem && rem < lastOverhead) return 'too-small';
    if (rem && rem < lastOverhead + 50) {
      blocks -= rem;
      continue;
    }
    let overhead = 0;
    for (let g = 0; g < groups; g++) {
      if (groupHasSuper(g)) overhead += 1 + descBlocks + reservedGdtBlocks;
    }
    overhead += groups * (2 + inodeTableBlocks);
    const journalBlocks = f.journal ? defaultJournalBlocks(blocks) : 0;
    // The journal is one file of up to 32768-block extents; more than four need a tree block.
    overhead += journalBlocks + extentTreeBlocks(divCeil(journalBlocks, bpg) + 1);
    // mke2fs drops orphan_file along with a journal too small to make.
    const orphanFileBlocks = f.orphanFile && journalBlocks ? defaultOrphanFileBlocks(blocks) : 0;
    overhead += orphanFileBlocks;
    overhead += 1; // the resize inode's double-indirect block (there even with no reserved GDT)
    overhead += 1 + 4; // the root folder; lost+found (16 KiB)
    if (overhead >= blocks) return 'too-small';
    return {
      blocks,
      groups,
      inodesPerGroup: ipg,
      inodes: ipg * groups,
      inodeTableBlocks,
      descBlocks,
      reservedGdtBlocks,
      journalBlocks,
      orphanFileBlocks,
      overheadBlocks: overhead,
      freeBlocks: blocks - overhead,
    };
  }
}
