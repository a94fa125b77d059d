// Planning a FAT image: which entries go in, what their names need, how big the image must be,
// FAT16 or FAT32, and the cluster size. Pure (no I/O), so the UI's budget bar can call it on
// every edit.
//
// The layout is computed exactly as mkfs.fat 4.2 computes it (setup_tables in mkfs.fat.c) for
// the options buildFat passes: 512-byte sectors, 2 FATs, geometry 64 heads / 32 sectors per
// track (so a size in whole MiB is used to the last sector), 1 reserved sector (FAT16) or 32
// (FAT32), the root directory size (FAT16) and the sectors per cluster given explicitly, data
// structures aligned to the cluster size (mkfs.fat's default above 8192 sectors).
// workers/fat/fat.test.ts checks this against mkfs.fat.wasm's boot sectors.
//
// FAT16 or FAT32 ("auto"):
//  - FAT16 must have 4087–65524 clusters (mkfs.fat refuses fewer: Windows would misread 4085
//    and 4086 as FAT12), and we keep clusters at most 32 KiB (64 KiB clusters are outside the
//    FAT specification and not read by every system). So FAT16 works from 3 MiB to 2047 MiB.
//  - FAT32 needs at least 65525 clusters, else Windows and Linux take it for FAT16 (mkfs.fat
//    only warns); with 512-byte clusters that is 33 MiB at least.
//  - The Raspberry Pi boot ROM / bootcode.bin and the Pi 4/5 EEPROM bootloader read FAT16 and
//    FAT32, but Raspberry Pi's engineers advise FAT32 with 1 or 4 sectors per cluster "for
//    maximum compatibility" — what Raspberry Pi OS ships — and some early CM3 boards boot from
//    eMMC only with FAT32 (raspberrypi/firmware#1738).
//  - So auto is FAT32 wherever FAT32 is possible (from 33 MiB) and holds the content, FAT16
//    otherwise (below 33 MiB, or just above it when FAT16's smaller tables make the difference).
//
// Cluster size: FAT32 takes 2 KiB (4 sectors, Raspberry Pi OS's choice) where that gives 65525
// clusters (from 129 MiB), 512 bytes (1 sector) below; above 32 GiB mkfs.fat's (Microsoft's)
// choice, 16 or 32 KiB, keeps the FAT small; smaller clusters if the content only fits that way
// (many small files). FAT16 takes the smallest cluster (512 B … 32 KiB) that keeps the count at
// or below 65524, which wastes the least space. Clusters are at least 1 KiB when a name is over
// 195 UTF-16 units (see Need.minSpc).
//
// Space the content needs, per cluster size: every file takes whole clusters (an empty file
// none); every folder takes whole clusters for its entries: ".", "..", and per child one short
// entry plus one long-name entry per 13 UTF-16 units (counted even when mtools needs none, so the
// estimate errs on the safe side), plus one spare slot. The FAT16 root directory has a fixed
// size, so it is made as big as the top folder needs (at least mkfs.fat's 512 entries).
//
// Sizes ("auto"): minBytes is the smallest whole number of MiB that holds the content; the image
// is the smallest size that fits at or above minBytes + headroomPercent of the content (free
// room for later additions), rounded up to a whole MiB. (Headroom on the content, not on
// minBytes: FAT32's 33 MiB floor needs no 20 % on top for 3 MB of files.)

import type { Entry } from '../model/entry.ts';
import type { FatOptions } from '../model/project.ts';
import { BootsmithError, type Problem } from '../model/problems.ts';
import { CODEPAGES, type Codepage, DEFAULT_CODEPAGE, codepageFor, fatNameFix, fatNameProblem, foldKey, isTildeShortName, needsOwnRun, needsPlainTail, normalizeLabel } from './names.ts';

export interface FatPlan {
  /** Bytes of file content (the sum of file sizes). */
  contentBytes: number;
  /** The smallest size (whole MiB) that holds the content with this FAT type choice. */
  minBytes: number;
  /** The image's size in bytes. */
  sizeBytes: number;
  fatType: 16 | 32;
  clusterBytes: number;
}

export const MiB = 1024 * 1024;
export const SECTOR = 512;
/** Sectors per track passed to mkfs.fat (-g 64/32): mkfs.fat rounds the sector count down to it. */
export const SECTORS_PER_TRACK = 32;
export const HEADS = 64;
const MIN_CLUST_16 = 4087;
const MAX_CLUST_16 = 65524;
const MIN_CLUST_32 = 65525;
const MAX_CLUST_32 = 268435446;
/** FAT with 512-byte sectors counts sectors in 32 bits. */
export const MAX_SIZE = 0xffffffff * SECTOR;
/** mkfs.fat -r accepts 16–32768. */
const MAX_ROOT_ENTRIES = 32768;
/** A FAT folder holds at most 65536 entries (the Linux driver and mtools stop there). */
const MAX_DIR_SLOTS = 65536;
const MAX_FILE = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// The tree as it goes into FAT.

export interface FatNode {
  /** The name in its folder ("" for the root). */
  name: string;
  /** The entry's path ("" for the root). */
  path: string;
  dir: boolean;
  /** File size in bytes (0 for folders). */
  size: number;
  data?: Blob;
  /** Folders: children in the order they are created (see orderChildren). */
  children: FatNode[];
  /** Directory slots this name takes in its parent (short entry + long-name entries). */
  slots: number;
  /** The code page mtools must run under when creating this name (see names.ts). */
  codepage: Codepage;
  /** false: create this name with MTOOLS_NAME_NUMERIC_TAIL=0 (see needsPlainTail). */
  numericTail: boolean;
  /** Create this name as the first of an mtools run of its own (see needsOwnRun). */
  ownRun: boolean;
  /** The folder holding it (undefined for the root). */
  parent?: FatNode;
}

export interface FatTree {
  root: FatNode;
  /** Every folder below the root and every file, parents before children. */
  nodes: FatNode[];
  /** Paths of entries FAT cannot hold (symlinks, devices, FIFOs, sockets). */
  skipped: string[];
  contentBytes: number;
}

/** String order by UTF-16 units: the same as UTF-8 byte order for the names FAT takes (no
 *  characters outside the BMP), and much cheaper than encoding every name. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function slotsFor(name: string): number {
  return 1 + Math.ceil(name.length / 13);
}

/** Children in creation order: names that may be a bare short name containing "~" first (so
 *  they never meet an alias mtools made for an earlier long name), then by the mtools settings
 *  they need (code page 850 and numeric tails first: fewer mtools runs), then by name. */
function orderChildren(children: FatNode[]): FatNode[] {
  const rank = (c: FatNode) => (isTildeShortName(c.name) ? 0 : 1);
  const env = (c: FatNode) => CODEPAGES.indexOf(c.codepage) * 2 + (c.numericTail ? 0 : 1);
  return children.sort((a, b) => rank(a) - rank(b) || env(a) - env(b) || byCodeUnits(a.name, b.name));
}

function fail(problems: Problem[]): never {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new BootsmithError(`FAT partition: ${first.path ? first.path + ': ' : ''}${first.message}${more}. ${first.fix ?? ''}`.trim(), problems);
}

/** Builds the tree of files and folders (adding folders the paths imply), checking every name.
 *  Throws a BootsmithError listing every name FAT cannot hold, before any work is done. */
export function fatTree(entries: readonly Entry[]): FatTree {
  const root: FatNode = { name: '', path: '', dir: true, size: 0, children: [], slots: 0, codepage: DEFAULT_CODEPAGE, numericTail: true, ownRun: false };
  const byPath = new Map<string, FatNode>([['', root]]);
  const skipped: string[] = [];
  const problems: Problem[] = [];
  const err = (path: string, message: string, fix?: string) => problems.push({ severity: 'error', path, message, fix });
  let contentBytes = 0;

  const sorted = [...entries].sort((a, b) => byCodeUnits(a.path, b.path));
  const nonFat = new Map<string, string>();
  for (const e of sorted) if (e.type !== 'file' && e.type !== 'dir') nonFat.set(e.path, e.type);

  const node = (path: string, dir: boolean, size = 0, data?: Blob): FatNode | undefined => {
    const existing = byPath.get(path);
    if (existing) {
      if (existing.dir && dir) return existing; // an implied folder named again
      err(path, 'this path appears more than once', 'Rename or delete one of them.');
      return undefined;
    }
    const slash = path.lastIndexOf('/');
    const parentPath = path.slice(0, Math.max(0, slash));
    let parent = byPath.get(parentPath);
    if (!parent) {
      if (nonFat.has(parentPath)) {
        err(path, `its parent ${parentPath} is a ${nonFat.get(parentPath)}, not a folder`, `Move it elsewhere or replace ${parentPath} with a folder.`);
        return undefined;
      }
      parent = node(parentPath, true);
      if (!parent) return undefined;
    }
    if (!parent.dir) {
      err(path, `its parent ${parentPath} is a file, not a folder`, `Move it elsewhere or replace ${parentPath} with a folder.`);
      return undefined;
    }
    const name = path.slice(slash + 1);
    const n: FatNode = {
      name, path, dir, size, data, children: [], slots: slotsFor(name),
      codepage: codepageFor(name) ?? DEFAULT_CODEPAGE, numericTail: !needsPlainTail(name), ownRun: needsOwnRun(name), parent,
    };
    const why = fatNameProblem(name);
    if (why) err(path, why, fatNameFix(name));
    byPath.set(path, n);
    parent.children.push(n);
    return n;
  };

  for (const e of sorted) {
    if (e.type === 'dir') node(e.path, true);
    else if (e.type === 'file') {
      const size = e.data?.size ?? 0;
      if (size > MAX_FILE) err(e.path, `the file is ${formatSize(size)}; a FAT file holds at most 4 GiB − 1 byte`, 'Put it on the ext4 root instead, or split it.');
      contentBytes += size;
      node(e.path, false, size, e.data);
    } else skipped.push(e.path);
  }

  const nodes: FatNode[] = [];
  const walk = (d: FatNode) => {
    d.children = orderChildren(d.children);
    const seen = new Map<string, FatNode>();
    let slots = 0;
    for (const c of d.children) {
      const key = foldKey(c.name);
      const other = seen.get(key);
      if (other) {
        err(c.path, `"${c.name}" and "${other.name}" in ${d.path || '/'} differ only in letter case, and FAT folders ignore case, so one would replace the other`, 'Rename one of them.');
      } else seen.set(key, c);
      slots += c.slots;
    }
    if (slots + 3 > MAX_DIR_SLOTS) {
      err(d.path || '/', `the folder has ${d.children.length} entries, which need ${slots} FAT directory slots; a FAT folder holds at most ${MAX_DIR_SLOTS}`, 'Spread the entries over several folders (shorter names also take fewer slots).');
    }
    for (const c of d.children) {
      nodes.push(c);
      if (c.dir) walk(c);
    }
  };
  walk(root);
  if (problems.length) fail(problems);
  return { root, nodes, skipped, contentBytes };
}

// ---------------------------------------------------------------------------------------------
// mkfs.fat's layout.

export interface Layout {
  fatType: 16 | 32;
  /** Sectors per cluster. */
  spc: number;
  clusters: number;
  /** Sectors per FAT. */
  fatSectors: number;
  reservedSectors: number;
  /** FAT16: root directory entries as mkfs.fat sets them (after alignment); FAT32: 0. */
  rootEntries: number;
  /** Sectors the file system uses (mkfs.fat rounds down to whole tracks). */
  totalSectors: number;
}

/** The sector count mkfs.fat uses for an image of `sizeBytes`. */
export function fsSectors(sizeBytes: number): number {
  const n = Math.floor(sizeBytes / SECTOR);
  return Math.floor(n / SECTORS_PER_TRACK) * SECTORS_PER_TRACK;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** mkfs.fat's FAT16 layout with `spc` sectors per cluster and -r `rootEntries`, or undefined if
 *  mkfs.fat would refuse it (cluster count outside 4087–65524). */
export function layout16(sizeBytes: number, spc: number, rootEntries: number): Layout | undefined {
  const n = fsSectors(sizeBytes);
  const align = n > 8192;
  const a = (x: number) => (align ? cdiv(x, spc) * spc : x);
  const rootSectors = cdiv(rootEntries * 32, SECTOR);
  const fatdata = n - a(1) - a(rootSectors);
  if (fatdata <= 0) return undefined;
  let clusters = Math.floor((fatdata * SECTOR + 2 * 4) / (spc * SECTOR + 2 * 2));
  const fatSectors = a(cdiv((clusters + 2) * 2, SECTOR));
  clusters = Math.floor((fatdata - 2 * fatSectors) / spc);
  const max = Math.min(Math.floor((fatSectors * SECTOR) / 2), MAX_CLUST_16);
  if (clusters > max || clusters < MIN_CLUST_16) return undefined;
  const reservedSectors = a(1);
  const dataStart = reservedSectors + 2 * fatSectors + a(rootSectors);
  if (Math.floor(sizeBytes / 1024) < cdiv(dataStart, 2) + 32) return undefined;
  return { fatType: 16, spc, clusters, fatSectors, reservedSectors, rootEntries: a(rootSectors) * (SECTOR / 32), totalSectors: n };
}

/** mkfs.fat's FAT32 layout with `spc` sectors per cluster, or undefined if it would have fewer
 *  than 65525 clusters or too many. */
export function layout32(sizeBytes: number, spc: number): Layout | undefined {
  const n = fsSectors(sizeBytes);
  if (n > 0xffffffff) return undefined;
  const align = n > 8192;
  const a = (x: number) => (align ? cdiv(x, spc) * spc : x);
  const fatdata = n - a(32);
  if (fatdata <= 0) return undefined;
  let clusters = Math.floor((fatdata * SECTOR + 2 * 8) / (spc * SECTOR + 2 * 4));
  const fatSectors = a(cdiv((clusters + 2) * 4, SECTOR));
  clusters = Math.floor((fatdata - 2 * fatSectors) / spc);
  const max = Math.min(Math.floor((fatSectors * SECTOR) / 4), MAX_CLUST_32);
  if (clusters > max || clusters < MIN_CLUST_32) return undefined;
  return { fatType: 32, spc, clusters, fatSectors, reservedSectors: a(32), rootEntries: 0, totalSectors: n };
}

/** FAT32 cluster sizes to try at a size, in sectors, best first (see the top of this file). */
function spcs32(sizeBytes: number, minSpc: number): number[] {
  const sectors = Math.floor(sizeBytes / SECTOR);
  // mkfs.fat's (and Microsoft's) choice for large volumes
  const large = sectors > 32 * 1024 * 1024 * 2 ? 64 : sectors > 16 * 1024 * 1024 * 2 ? 32 : 4;
  const out: number[] = [];
  for (let spc = large; spc >= 4; spc /= 2) out.push(spc);
  out.push(minSpc > 1 ? 2 : 1);
  return out.filter((spc) => spc >= minSpc);
}

// ---------------------------------------------------------------------------------------------
// What the content needs.

/** Cluster sizes in sectors: 512 B to 32 KiB (64 KiB clusters are outside the FAT spec). */
const SPCS = [1, 2, 4, 8, 16, 32, 64];

/** Clusters the content needs at each cluster size, and the FAT16 root directory size. */
class Need {
  private readonly cache = new Map<string, number>();
  /** Root directory entries to ask mkfs.fat for (FAT16). */
  readonly rootEntries: number;
  /** Slots the top folder needs (its entries and the volume label). */
  readonly rootSlots: number;
  /** Smallest cluster size usable, in sectors: mtools grows a folder by one cluster at most per
   *  name it adds, so a name needing more than 16 slots (over 195 UTF-16 units) may not fit
   *  after one 512-byte cluster ("No directory slots"); 1 KiB clusters (32 slots) always do. */
  readonly minSpc: number;

  constructor(private readonly tree: FatTree) {
    this.rootSlots = 1 + tree.root.children.reduce((n, c) => n + c.slots, 0) + 1;
    this.rootEntries = Math.max(512, cdiv(this.rootSlots, 16) * 16);
    this.minSpc = tree.nodes.some((n) => n.slots > SECTOR / 32) ? 2 : 1;
  }

  get rootFitsFat16(): boolean {
    return this.rootEntries <= MAX_ROOT_ENTRIES;
  }

  /** Clusters needed with clusters of `spc` sectors, for FAT16 or FAT32. */
  clusters(spc: number, fatType: 16 | 32): number {
    const key = `${spc}/${fatType}`;
    let n = this.cache.get(key);
    if (n !== undefined) return n;
    const cb = spc * SECTOR;
    n = 0;
    for (const node of this.tree.nodes) {
      if (!node.dir) n += cdiv(node.size, cb);
      else n += Math.max(1, cdiv((2 + node.children.reduce((s, c) => s + c.slots, 0) + 1) * 32, cb));
    }
    if (fatType === 32) n += Math.max(1, cdiv(this.rootSlots * 32, cb));
    this.cache.set(key, n);
    return n;
  }
}

type Fit = { ok: true; layout: Layout } | { ok: false; why: 'range' | 'content' };

/** FAT16 at this size: the smallest valid cluster size, if the content fits with it. */
function fit16(size: number, need: Need): Fit {
  if (!need.rootFitsFat16) return { ok: false, why: 'content' };
  for (const spc of SPCS) {
    if (spc < need.minSpc) continue;
    const l = layout16(size, spc, need.rootEntries);
    if (!l) continue;
    return need.clusters(spc, 16) <= l.clusters ? { ok: true, layout: l } : { ok: false, why: 'content' };
  }
  return { ok: false, why: 'range' };
}

/** FAT32 at this size: the preferred cluster size, or the next one the content fits with. */
function fit32(size: number, need: Need): Fit {
  let valid = false;
  for (const spc of spcs32(size, need.minSpc)) {
    const l = layout32(size, spc);
    if (!l) continue;
    valid = true;
    if (need.clusters(spc, 32) <= l.clusters) return { ok: true, layout: l };
  }
  return { ok: false, why: valid ? 'content' : 'range' };
}

/** FAT32 where it holds the content, else FAT16 (below 33 MiB, or where FAT16's leaner layout
 *  holds what FAT32's does not). */
function fitAuto(size: number, need: Need): Fit {
  const f32 = fit32(size, need);
  if (f32.ok) return f32;
  const f16 = fit16(size, need);
  if (f16.ok) return f16;
  return f32.why === 'content' || f16.why === 'content' ? { ok: false, why: 'content' } : { ok: false, why: 'range' };
}

function fitter(type: FatOptions['fatType']): (size: number, need: Need) => Fit {
  return type === 16 ? fit16 : type === 32 ? fit32 : fitAuto;
}

/** The smallest size ≥ from (stepping in whole MiB) at which `fit` succeeds, or undefined. */
function firstFit(from: number, need: Need, fit: (size: number, need: Need) => Fit, limit = MAX_SIZE): number | undefined {
  let size = Math.max(MiB, Math.ceil(from / MiB) * MiB);
  for (let i = 0; size <= limit; i++) {
    if (fit(size, need).ok) return size;
    // Whole MiB steps; past 100 000 steps (~100 GiB) steps of 0.1 % keep the search short.
    size += i < 100_000 ? MiB : Math.max(MiB, Math.floor(size / 1024 / MiB) * MiB);
  }
  return undefined;
}

/** Range limits of a FAT type for messages: the smallest and largest valid sizes in whole MiB. */
function range16(need: Need): [number, number] {
  const ok = (s: number) => SPCS.some((spc) => spc >= need.minSpc && layout16(s, spc, need.rootEntries));
  let lo = MiB;
  while (!ok(lo)) lo += MiB;
  let hi = 2048 * MiB;
  while (ok(hi + MiB)) hi += MiB;
  while (!ok(hi)) hi -= MiB;
  return [lo, hi];
}

function min32(need: Need): number {
  let s = 32 * MiB;
  while (!layout32(s, need.minSpc)) s += MiB;
  return s;
}

/** "39 MiB", "38.1 MiB", "2 GiB", "2050 MiB": GiB only for whole GiB or from 10 GiB, so limits
 *  near 2 GiB read exactly. */
export function formatSize(bytes: number): string {
  const fmt = (v: number, unit: string) => `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
  const GiB = 2 ** 30, TiB = 2 ** 40;
  if (bytes >= TiB && (bytes % TiB === 0 || bytes >= 10 * TiB)) return fmt(bytes / TiB, 'TiB');
  if (bytes >= GiB && (bytes % GiB === 0 || bytes >= 10 * GiB)) return fmt(bytes / GiB, 'GiB');
  if (bytes >= MiB) return fmt(bytes / MiB, 'MiB');
  if (bytes >= 1024) return fmt(bytes / 1024, 'KiB');
  return `${bytes} bytes`;
}

export interface FatPlanDetails extends FatPlan {
  /** The label as mkfs.fat gets it ("" for none). */
  label: string;
  layout: Layout;
  /** -r for mkfs.fat (FAT16). */
  rootEntries: number;
  tree: FatTree;
}

/** planFat with what buildFat needs besides: the tree, the layout and mkfs.fat's -r. */
export function planFatDetails(entries: readonly Entry[], opts: FatOptions): FatPlanDetails {
  const label = normalizeLabel(opts.label ?? '');
  if ('problem' in label) throw new BootsmithError(label.problem);
  const tree = fatTree(entries);
  const need = new Need(tree);
  const type = opts.fatType;
  if (type !== 'auto' && type !== 16 && type !== 32) throw new BootsmithError(`The FAT type must be 16, 32 or auto, not ${String(type)}.`);
  const fit = fitter(type);
  const content = formatSize(tree.contentBytes);

  if (type === 16 && !need.rootFitsFat16) {
    throw new BootsmithError(
      `FAT partition: the top folder has ${tree.root.children.length} entries, which need ${need.rootSlots} root directory slots; FAT16's root directory holds at most ${MAX_ROOT_ENTRIES}. Move some of them into a folder, or choose FAT32 or auto.`,
    );
  }

  const explicit = opts.size !== 'auto';
  if (explicit && (typeof opts.size !== 'number' || !Number.isSafeInteger(opts.size) || opts.size <= 0)) {
    throw new BootsmithError(`The FAT partition size must be a whole number of bytes or auto, not ${String(opts.size)}.`);
  }
  if (explicit && (opts.size as number) > MAX_SIZE) {
    throw new BootsmithError(`The FAT partition size is set to ${formatSize(opts.size as number)}, but FAT with 512-byte sectors ends at 2 TiB. Set a smaller size, or choose auto.`);
  }

  // FAT16 ends near 2 GiB (4 GiB is a safe bound for the search).
  const limit = type === 16 ? 4 * 2 ** 30 : MAX_SIZE;
  const minBytes = firstFit(tree.contentBytes, need, fit, limit);
  if (minBytes === undefined) {
    if (type === 16) {
      const [, hi] = range16(need);
      throw new BootsmithError(`FAT partition: this content (${content} of files) does not fit in FAT16, which works up to ${formatSize(hi)}. Choose FAT32 or auto.`);
    }
    throw new BootsmithError(`FAT partition: this content (${content} of files) does not fit in the largest FAT partition (2 TiB). Leave some files out.`);
  }

  let sizeBytes: number;
  if (explicit) {
    sizeBytes = opts.size as number;
    const f = fit(sizeBytes, need);
    if (!f.ok) {
      const size = formatSize(sizeBytes);
      if (f.why === 'range' && type === 16) {
        const [lo, hi] = range16(need);
        if (sizeBytes < lo) {
          throw new BootsmithError(`FAT16 needs a partition of at least ${formatSize(Math.max(lo, minBytes))}${minBytes > lo ? ` for this content (${content} of files)` : ''}, but the size is set to ${size}. Set the size to ${formatSize(Math.max(lo, minBytes))} or more, or choose auto.`);
        }
        throw new BootsmithError(`FAT16 can address at most 65524 clusters of 32 KiB, so it works from ${formatSize(lo)} up to ${formatSize(hi)}, but the size is set to ${size}. Choose FAT32 or auto, or set the size to ${formatSize(Math.max(lo, minBytes))}–${formatSize(hi)}.`);
      }
      if (f.why === 'range' && type === 32) {
        const lo = Math.max(min32(need), minBytes);
        throw new BootsmithError(`FAT32 needs at least 65525 clusters, so a partition of at least ${formatSize(lo)} (with ${need.minSpc * SECTOR}-byte clusters), but the size is set to ${size}. Set the size to ${formatSize(lo)} or more, or choose FAT16 or auto.`);
      }
      if (sizeBytes < minBytes || f.why === 'range') {
        throw new BootsmithError(`The FAT partition needs at least ${formatSize(minBytes)} for this content (${content} of files), but its size is set to ${size}. Set the size to ${formatSize(minBytes)} or more, or choose auto.`);
      }
      // Above minBytes yet too small: the cluster size grows with the size (FAT16 at its
      // 65524-cluster limit, or FAT32 past 260 MiB), and many small files then take more room.
      const next = firstFit(sizeBytes, need, fit, limit);
      throw new BootsmithError(
        `The FAT partition does not hold this content (${content} of files) at ${size}: at that size the clusters must be larger, and the many small files then take more room. Set the size to ${formatSize(minBytes)}${next ? ` or to ${formatSize(next)} or more` : ''}, or choose ${type === 16 ? 'FAT32 or ' : ''}auto.`,
      );
    }
  } else {
    const headroom = Math.max(0, Number.isFinite(opts.headroomPercent) ? opts.headroomPercent : 0);
    const target = Math.ceil((minBytes + (tree.contentBytes * headroom) / 100) / MiB) * MiB;
    sizeBytes = firstFit(Math.min(target, MAX_SIZE), need, fit) ?? minBytes;
  }

  const f = fit(sizeBytes, need) as { ok: true; layout: Layout };
  const layout = f.layout;
  return {
    contentBytes: tree.contentBytes,
    minBytes,
    sizeBytes,
    fatType: layout.fatType,
    clusterBytes: layout.spc * SECTOR,
    label: label.label,
    layout,
    rootEntries: need.rootEntries,
    tree,
  };
}

/** The size the image needs and will have, FAT16 or FAT32 and the cluster size (see the rules at
 *  the top of this file). Throws a BootsmithError when the label or a name cannot go into FAT,
 *  when opts.size is smaller than the content needs, or when the FAT type chosen cannot be used
 *  at that size. Entries of other types (symlinks, devices, ...) are ignored. */
export function planFat(entries: readonly Entry[], opts: FatOptions): FatPlan {
  const { contentBytes, minBytes, sizeBytes, fatType, clusterBytes } = planFatDetails(entries, opts);
  return { contentBytes, minBytes, sizeBytes, fatType, clusterBytes };
}
