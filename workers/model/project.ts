// A project: the root filesystem a user composes plus what to build from it. The same record is
// kept in IndexedDB by the app and written to a project file by the app and the CLI.
import type { Entry } from './entry.ts';

export const PROJECT_FORMAT = 'bootsmith-project';
export const PROJECT_VERSION = 1;

export interface InitramfsOptions {
  enabled: boolean;
  /** gzip is what every kernel unpacks; "none" gives a plain newc archive. */
  compression: 'gzip' | 'none';
}

export interface Ext4Options {
  enabled: boolean;
  /** "auto": the content plus `headroomPercent`; otherwise the size in bytes. */
  size: 'auto' | number;
  headroomPercent: number;
  journal: boolean;
  label: string;
  /** Leave out features old kernels cannot mount (metadata_csum, 64bit, orphan_file,
   *  metadata_csum_seed). */
  compat: boolean;
}

export interface FatOptions {
  enabled: boolean;
  /** "auto": the content plus `headroomPercent`; otherwise the size in bytes. */
  size: 'auto' | number;
  headroomPercent: number;
  /** "auto" picks by size (see workers/fat/plan.ts). */
  fatType: 'auto' | 16 | 32;
  label: string;
}

/** A project made from a board kit (workers/kits/). */
export interface BoardSettings {
  /** Kit id (workers/kits/boards.ts), e.g. "pi4b". */
  kit: string;
  /** The kernel release the kit's kernel and modules were made for (`uname -r`). */
  kernel: string;
}

export interface OutputSwitch {
  enabled: boolean;
}

export const DEFAULT_EXT4: Ext4Options = { enabled: false, size: 'auto', headroomPercent: 20, journal: true, label: 'rootfs', compat: false };
export const DEFAULT_FAT: FatOptions = { enabled: false, size: 'auto', headroomPercent: 20, fatType: 'auto', label: 'BOOT' };

export interface Project {
  id: string;
  /** 32 hex digits, random at creation and kept by export and import (unlike the id): the
   *  source of filesystem UUIDs and hash seeds, so a project file builds the same bytes anywhere. */
  seed: string;
  name: string;
  /** Milliseconds since the epoch. */
  created: number;
  modified: number;
  /** Seconds since the epoch: builds clamp every timestamp to it, so a project builds the same
   *  bytes tomorrow. SOURCE_DATE_EPOCH in the environment overrides it. */
  sourceDateEpoch: number;
  /** The root filesystem, kept sorted by path (see tree.ts). */
  entries: Entry[];
  initramfs: InitramfsOptions;
  ext4: Ext4Options;
  fat: FatOptions;
  /** Set for projects made from a board kit; blank projects have none. */
  board?: BoardSettings;
  /** The boot partition (for a Pi: the boot folder with firmware, kernel, DTBs, config.txt and
   *  cmdline.txt), kept sorted like `entries`. With a board, boot.vfat, boot.zip and sdcard.img
   *  hold this tree plus the initramfs; blank projects leave it empty and their FAT image holds
   *  the root tree. */
  boot: Entry[];
  /** boot.zip: the boot folder, to unpack onto any FAT-formatted SD card (board projects). */
  zip: OutputSwitch;
  /** sdcard.img: MBR with the boot partition and, when the ext4 root is on, the root (board projects). */
  sdcard: OutputSwitch;
}

export function newProjectId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function blankProject(name: string, now = Date.now()): Project {
  return {
    id: newProjectId(),
    seed: newProjectId() + newProjectId(),
    name,
    created: now,
    modified: now,
    sourceDateEpoch: Math.floor(now / 1000),
    entries: [],
    initramfs: { enabled: true, compression: 'gzip' },
    ext4: { ...DEFAULT_EXT4 },
    fat: { ...DEFAULT_FAT },
    boot: [],
    zip: { enabled: false },
    sdcard: { enabled: false },
  };
}

/** Fills in options that projects saved by an older Bootsmith do not have. */
type Defaulted = 'ext4' | 'fat' | 'seed' | 'boot' | 'zip' | 'sdcard';
export function withDefaults<P extends Omit<Project, Defaulted> & Partial<Pick<Project, Defaulted>>>(p: P): P & Project {
  const seed = typeof p.seed === 'string' && /^[0-9a-f]{32}$/.test(p.seed) ? p.seed : (p.id + '0'.repeat(32)).slice(0, 32).replace(/[^0-9a-f]/g, '0');
  return {
    ...p, seed, ext4: { ...DEFAULT_EXT4, ...p.ext4 }, fat: { ...DEFAULT_FAT, ...p.fat },
    boot: p.boot ?? [], zip: { enabled: false, ...p.zip }, sdcard: { enabled: false, ...p.sdcard },
  };
}

/** 16 bytes for one use ("ext4-uuid", "ext4-hash-seed", "fat-volume-id", …) of a project's seed at
 *  an epoch: a rebuild gives the same bytes, two projects (or two epochs) differ. */
export async function projectSeed(seed: string, epoch: number, purpose: string): Promise<Uint8Array> {
  const data = new TextEncoder().encode(`bootsmith:${purpose}:${seed}:${epoch}`);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data)).subarray(0, 16);
}

/** Reads SOURCE_DATE_EPOCH's value (a decimal count of seconds); undefined when unset or empty. */
export function parseSourceDateEpoch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not "${value}"`);
  }
  return Number(value.trim());
}
