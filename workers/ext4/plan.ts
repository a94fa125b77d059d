// Sizing an ext4 root before any work: the blocks and inodes a tree needs, the smallest image
// that holds it, and the size it will have (auto: content plus headroom; or the size the user
// set, which must be big enough). Pure and synchronous, with no WASM or WASI imports, so the page
// uses it for the budget bar and the engine (ext4.ts) for the build.
//
// The estimate errs on the generous side by design, and only slightly: files are counted dense
// (mke2fs turns all-zero blocks into holes, which only saves), folders as if filled one block
// after another (mke2fs fills gaps first), and every file or folder gets the extent-tree blocks
// its worst layout could need. Measured: at the planned minimum, mke2fs leaves 0.1-0.9 MiB free.

import type { Entry } from '../model/entry.ts';
import type { Ext4Options } from '../model/project.ts';
import { BootsmithError } from '../model/problems.ts';
import {
  BLOCK_SIZE,
  BLOCKS_PER_GROUP,
  FIRST_INO,
  MIN_JOURNAL_FS_BLOCKS,
  extentTreeBlocks,
  geometry,
  type FeatureSet,
  type Geometry,
} from './geometry.ts';

export interface Ext4Plan {
  /** Bytes of file content (each hard-linked file once). */
  contentBytes: number;
  /** The smallest size (a whole MiB) that holds the tree. */
  minBytes: number;
  /** The size the image will have. */
  sizeBytes: number;
  blockSize: number;
  /** Inodes in the file system (as mke2fs rounds the requested count). */
  inodes: number;
}

export const MiB = 1024 * 1024;
/** Without 64bit, ext4 addresses 2^32 blocks (16 TiB at 4 KiB); we keep every image below that. */
export const MAX_EXT4_BYTES = (2 ** 32 - 1) * BLOCK_SIZE;
/** ext4 keeps 16 bytes of label. */
export const MAX_LABEL_BYTES = 16;
/** Inodes per byte for an explicit size, as mke2fs's default inode_ratio (16 KiB). */
const BYTES_PER_INODE = 16384;
/** Spare inodes on top of the tree's own and the headroom, for what the system makes at run time:
 *  a board kit's /init runs `busybox --install -s` on the root, about 400 links, and programs make
 *  files too. 1024 inodes cost 256 KiB of inode table. */
const SPARE_INODES = 1024;
/** Percent of blocks reserved for root (mke2fs's default; not counted against the content:
 *  mke2fs -d may fill them, the kernel keeps them for root at run time). */
export const RESERVED_PERCENT = 5;
/** Symlink targets of up to this many bytes live in the inode ("fast" symlinks). */
const FAST_SYMLINK_MAX = 59;

const BASE_FEATURES = ['sparse_super', 'large_file', 'filetype', 'resize_inode', 'dir_index', 'ext_attr', 'extent', 'huge_file', 'flex_bg', 'dir_nlink', 'extra_isize'];
/** What old kernels (before 3.x/4.x/5.15) or bootloaders may not read; left out in compat mode. */
export const MODERN_FEATURES = ['metadata_csum', '64bit', 'metadata_csum_seed', 'orphan_file'];

/** The `-O` list: everything named explicitly ("none" first), so mke2fs.conf defaults do not
 *  matter. Modern images get e2fsprogs 1.47's full ext4 set (orphan_file needs a journal). */
export function ext4Features(o: Pick<Ext4Options, 'journal' | 'compat'>): string[] {
  const f = [...BASE_FEATURES];
  if (o.journal) f.push('has_journal');
  if (!o.compat) f.push('metadata_csum', '64bit', 'metadata_csum_seed', ...(o.journal ? ['orphan_file'] : []));
  return f;
}

function featureSet(o: Pick<Ext4Options, 'journal' | 'compat'>): FeatureSet {
  return { journal: o.journal, is64bit: !o.compat, orphanFile: !o.compat && o.journal };
}

// ---------------------------------------------------------------------------------------------
// Sizes as the messages write them

const roundUpMiB = (n: number) => Math.ceil(n / MiB) * MiB;

/** An exact size: "37 MiB", "32.5 MiB", "33280 KiB" or "33554433 bytes" (never rounded, since the
 *  messages tell the user what to set). */
export function mib(n: number): string {
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if ((n * 10) % MiB === 0) return `${(n / MiB).toFixed(1)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** "35.2 MiB", "0.3 MiB", "12 KiB", "0 bytes": the content's size, approximately. */
function approx(n: number): string {
  if (n >= MiB / 10) return `${(n / MiB).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

// ---------------------------------------------------------------------------------------------
// The tree as ext4 sees it

export interface Inode {
  /** Every name of this inode (more than one for hard links), in input order. */
  entries: Entry[];
}

export interface Tally {
  inodes: Inode[];
  /** Regular files' bytes, each inode once. */
  contentBytes: number;
  /** Blocks the tree takes beyond the empty file system (data, folders, long symlinks, extent
   *  tree blocks). */
  blocks: number;
}

const utf8 = new TextEncoder();
const dirent = (name: string) => (8 + utf8.encode(name).length + 3) & ~3;

/** The usable bytes of a directory block (a 12-byte checksum tail with metadata_csum; always
 *  counted, which is at worst slightly generous). */
const DIR_BLOCK = BLOCK_SIZE - 12;

/** Groups entries into inodes and counts the blocks they need. Over-estimates rather than
 *  under: files are counted dense (mke2fs leaves all-zero blocks as holes, which only saves),
 *  folders as if filled one block after another (mke2fs fills gaps first), and every file or
 *  folder gets the extent-tree blocks its worst layout could need. */
function tally(entries: readonly Entry[]): Tally {
  const inodes: Inode[] = [];
  const byBlob = new Map<Blob, Inode[]>();
  const dirs = new Map<string, string[]>([['', ['lost+found']]]);
  let contentBytes = 0;
  let blocks = 0;
  for (const e of entries) {
    if (e.path === '/' || e.path === '') continue;
    const slash = e.path.lastIndexOf('/');
    const parent = e.path.slice(0, slash);
    const name = e.path.slice(slash + 1);
    if (e.path === '/lost+found') {
      if (e.type !== 'dir') {
        throw new BootsmithError(`/lost+found is a ${e.type}, but on ext4 it must be a folder (e2fsck puts recovered files there). Rename or delete it.`);
      }
    } else {
      let siblings = dirs.get(parent);
      if (!siblings) dirs.set(parent, (siblings = []));
      siblings.push(name);
    }
    if (e.type === 'dir') {
      if (!dirs.has(e.path)) dirs.set(e.path, []);
      // (lost+found exists already; its line sets the metadata. Counting it as an inode too
      // only asks for one inode more.)
      inodes.push({ entries: [e] });
      continue;
    }
    if (e.type === 'file' && e.data) {
      const same = byBlob.get(e.data);
      const twin = same?.find((i) => sameMetadata(i.entries[0], e));
      if (twin) {
        twin.entries.push(e);
        continue;
      }
      const inode: Inode = { entries: [e] };
      if (same) same.push(inode);
      else byBlob.set(e.data, [inode]);
      inodes.push(inode);
      const size = e.data.size;
      contentBytes += size;
      const b = Math.ceil(size / BLOCK_SIZE);
      // Dense: one extent per group at most, plus one for every group's metadata it steps over.
      blocks += b + (b ? extentTreeBlocks(2 * Math.ceil(b / BLOCKS_PER_GROUP) + 2) : 0);
      continue;
    }
    inodes.push({ entries: [e] });
    if (e.type === 'symlink' && utf8.encode(e.target ?? '').length > FAST_SYMLINK_MAX) blocks += 1;
  }
  for (const [path, names] of dirs) {
    let n = 1;
    let free = DIR_BLOCK - 24; // "." and ".."
    for (const name of names) {
      const need = dirent(name);
      if (need > free) {
        n++;
        free = DIR_BLOCK;
      }
      free -= need;
    }
    // The root's first block and lost+found's four are counted with the empty file system.
    blocks += Math.max(0, n - (path === '' ? 1 : path === '/lost+found' ? 4 : 0)) + extentTreeBlocks(n);
  }
  return { inodes, contentBytes, blocks };
}

function sameMetadata(a: Entry, b: Entry): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.mtime === b.mtime;
}

// ---------------------------------------------------------------------------------------------
// Planning

function headroomOf(opts: Ext4Options): number {
  const h = Number(opts.headroomPercent);
  return Number.isFinite(h) && h > 0 ? Math.min(h, 10_000) : 0;
}

/** Inodes asked of mke2fs for the tree: its own, the orphan file's, the headroom and a few spare. */
function treeInodes(t: Tally, opts: Ext4Options): number {
  return FIRST_INO + 1 + Math.ceil(t.inodes.length * (1 + headroomOf(opts) / 100)) + SPARE_INODES;
}

/** The smallest whole-MiB size from `fromBytes` on whose free blocks reach `need`. */
function smallestFit(need: number, inodes: number, f: FeatureSet, fromBytes: number): { bytes: number; g: Geometry } | undefined {
  let bytes = roundUpMiB(Math.max(fromBytes, MiB));
  for (;;) {
    if (bytes > MAX_EXT4_BYTES) return undefined;
    const g = geometry(bytes, inodes, f);
    const deficit = typeof g === 'string' ? 1 : need - g.freeBlocks;
    if (typeof g !== 'string' && deficit <= 0) return { bytes, g };
    // A block more adds at most a block of room (give or take the 50 blocks of a last group
    // that mke2fs keeps only from a certain size on): no size in between can fit.
    bytes += Math.max(MiB, Math.floor((Math.max(0, deficit - 64) * BLOCK_SIZE) / MiB) * MiB);
  }
}

function checkLabel(label: string): void {
  const n = utf8.encode(label).length;
  if (n > MAX_LABEL_BYTES) {
    throw new BootsmithError(`The ext4 label "${label}" is ${n} bytes long, but ext4 keeps at most ${MAX_LABEL_BYTES} bytes. Shorten the label.`);
  }
  if (label.includes('\0')) throw new BootsmithError('The ext4 label contains a NUL character. Remove it.');
}

export interface FullPlan extends Ext4Plan {
  tally: Tally;
  /** The -N given to mke2fs. */
  requestedInodes: number;
  geometry: Geometry;
}

/** planExt4 with what buildExt4 needs besides: the inodes to make and the -N to ask for. */
export function planImage(entries: readonly Entry[], opts: Ext4Options): FullPlan {
  checkLabel(opts.label ?? '');
  const f = featureSet(opts);
  const t = tally(entries);
  const inodes = treeInodes(t, opts);
  const floor = opts.journal ? MIN_JOURNAL_FS_BLOCKS * BLOCK_SIZE : MiB;
  const min = smallestFit(t.blocks, inodes, f, floor);
  if (!min) {
    throw new BootsmithError(`The ext4 root would need more than ${mib(MAX_EXT4_BYTES)} for this content (${approx(t.contentBytes)} of files), the most Bootsmith makes. Put less into the root file system.`);
  }
  const base = { contentBytes: t.contentBytes, minBytes: min.bytes, blockSize: BLOCK_SIZE, tally: t };
  if (opts.size === 'auto') {
    const h = headroomOf(opts);
    const fit = h ? smallestFit(Math.ceil(t.blocks * (1 + h / 100)), inodes, f, min.bytes) : min;
    if (!fit) {
      throw new BootsmithError(`The ext4 root with ${h}% headroom would need more than ${mib(MAX_EXT4_BYTES)}. Lower the headroom or put less into the root file system.`);
    }
    return { ...base, sizeBytes: fit.bytes, inodes: fit.g.inodes, requestedInodes: inodes, geometry: fit.g };
  }
  const size = opts.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    throw new BootsmithError(`The ext4 size ${String(size)} is not a whole number of bytes. Set a size such as 64 MiB, or choose auto.`);
  }
  if (size > MAX_EXT4_BYTES) {
    throw new BootsmithError(`The ext4 size ${mib(size)} is more than the ${mib(MAX_EXT4_BYTES)} Bootsmith makes. Set a smaller size, or choose auto.`);
  }
  const g = size >= min.bytes ? geometry(size, inodes, f) : undefined;
  if (g && (typeof g === 'string' || g.freeBlocks < t.blocks)) {
    // Bigger than the minimum and still too small: the journal grows in steps (4 MiB below
    // 128 MiB, 16 MiB from there, ...), so a slightly bigger image can hold less.
    const next = smallestFit(t.blocks, inodes, f, size);
    throw new BootsmithError(
      `This content (${approx(t.contentBytes)} of files) does not fit in an ext4 root of ${mib(size)}: at that size the journal and file-system metadata take more room than at ${mib(min.bytes)}. ` +
        `Set the size to ${mib(min.bytes)}${next ? `, or to ${mib(next.bytes)} or more` : ''}, or choose auto.`,
    );
  }
  if (!g || typeof g === 'string') {
    const why = opts.journal && min.bytes === floor ? ' (an ext4 journal needs 8 MiB at least)' : '';
    const journalFix = why ? ', turn the journal off' : '';
    throw new BootsmithError(
      `The ext4 root needs at least ${mib(min.bytes)} for this content (${approx(t.contentBytes)} of files)${why}, but its size is set to ${mib(size)}. ` +
        `Set the size to ${mib(min.bytes)} or more${journalFix}, or choose auto.`,
    );
  }
  // An explicit size gets mke2fs's usual inode density when there is room for it, so that the
  // free space can be used by files made at run time.
  const dense = Math.max(inodes, Math.min(Math.floor(size / BYTES_PER_INODE), 2 ** 32 - 1));
  const gd = dense > inodes ? geometry(size, dense, f) : g;
  if (typeof gd !== 'string' && gd.freeBlocks >= t.blocks) {
    return { ...base, sizeBytes: size, inodes: gd.inodes, requestedInodes: dense, geometry: gd };
  }
  return { ...base, sizeBytes: size, inodes: g.inodes, requestedInodes: inodes, geometry: g };
}

/** Pure: the size the image needs and will have. Throws a BootsmithError, before any work, when
 *  an explicit size is too small for the tree (naming both sizes), or the label is too long. */
export function planExt4(entries: readonly Entry[], opts: Ext4Options): Ext4Plan {
  const { contentBytes, minBytes, sizeBytes, blockSize, inodes } = planImage(entries, opts);
  return { contentBytes, minBytes, sizeBytes, blockSize, inodes };
}
