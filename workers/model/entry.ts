// The one metadata record for every entry of a root filesystem. The cpio writer, the ext4 and FAT
// steps, tar import and the gen_init_cpio list all read and write this shape.

export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export const ENTRY_TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket'];

/** Content of a regular file. A Blob in the browser (often backed by IndexedDB) and in Node
 *  (`fs.openAsBlob` or an in-memory Blob), so large trees are read lazily in both places. */
export type Content = Blob;

export interface Entry {
  /** Absolute, normalised path: "/" separated, starts with "/", no trailing "/", no "." or ".."
   *  components. The root directory itself is never an entry. */
  path: string;
  type: EntryType;
  /** Permission bits and setuid/setgid/sticky (0o7777); the file-type bits live in `type`. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Regular files only. */
  data?: Content;
  /** Symlinks only: the link target, stored as written. */
  target?: string;
  /** Character and block devices only. */
  major?: number;
  minor?: number;
}

export const S_IFMT = 0o170000;
const TYPE_BITS: Record<EntryType, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
};

/** The st_mode value (type bits | permission bits) of an entry. */
export function statMode(e: Pick<Entry, 'type' | 'mode'>): number {
  return TYPE_BITS[e.type] | (e.mode & 0o7777);
}

/** The entry type encoded in a st_mode value, or undefined for an unknown type. */
export function typeFromMode(mode: number): EntryType | undefined {
  const bits = mode & S_IFMT;
  for (const t of ENTRY_TYPES) if (TYPE_BITS[t] === bits) return t;
  return undefined;
}

/** Default permission bits for a new entry of each type. */
export function defaultMode(type: EntryType): number {
  switch (type) {
    case 'dir': return 0o755;
    case 'symlink': return 0o777;
    case 'char': case 'block': return 0o600;
    case 'fifo': case 'socket': return 0o644;
    default: return 0o644;
  }
}

export function entrySize(e: Entry): number {
  if (e.type === 'file') return e.data?.size ?? 0;
  if (e.type === 'symlink') return new TextEncoder().encode(e.target ?? '').length;
  return 0;
}

/** "rwxr-xr-x"-style rendering of permission bits, with s/S/t/T for the special bits. */
export function modeString(mode: number): string {
  const r = (bit: number, ch: string) => (mode & bit ? ch : '-');
  const x = (exec: number, special: number, on: string, off: string) =>
    mode & special ? (mode & exec ? on : off) : mode & exec ? 'x' : '-';
  return (
    r(0o400, 'r') + r(0o200, 'w') + x(0o100, 0o4000, 's', 'S') +
    r(0o040, 'r') + r(0o020, 'w') + x(0o010, 0o2000, 's', 'S') +
    r(0o004, 'r') + r(0o002, 'w') + x(0o001, 0o1000, 't', 'T')
  );
}

/** Parses "0755", "755", "rwxr-xr-x" (optionally with a leading type letter); undefined if invalid. */
export function parseMode(text: string): number | undefined {
  const t = text.trim();
  if (/^0?[0-7]{1,4}$/.test(t)) return parseInt(t, 8);
  const m = /^[-dlcbps]?([r-][w-][xsS-][r-][w-][xsS-][r-][w-][xtT-])$/.exec(t);
  if (!m) return undefined;
  const s = m[1];
  let mode = 0;
  const bits = [0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001];
  for (let i = 0; i < 9; i++) {
    const c = s[i];
    if (c === '-' || c === 'S' || c === 'T') continue;
    mode |= bits[i];
  }
  if (s[2] === 's' || s[2] === 'S') mode |= 0o4000;
  if (s[5] === 's' || s[5] === 'S') mode |= 0o2000;
  if (s[8] === 't' || s[8] === 'T') mode |= 0o1000;
  return mode;
}
