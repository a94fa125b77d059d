// Checks a root filesystem for what would make a broken or unbuildable image. Pure; no I/O.
import { type Entry } from './entry.ts';
import { NAME_MAX, PATH_MAX, byteLength, normalizePath, parentOf } from './path.ts';
import type { Problem } from './problems.ts';

/** Largest values the kernel's dev_t encoding (and so every filesystem we write) can carry. */
export const MAJOR_MAX = 4095;
export const MINOR_MAX = 0xfffff;
/** newc stores sizes, ids and times in 8 hex digits. */
export const U32_MAX = 0xffffffff;
/** uid/gid 2^32-1 is (uid_t)-1, "no owner", which chown and the kernel reject. */
export const ID_MAX = 0xfffffffe;

/** Problems with one name (a single path component). */
export function checkName(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name === '.' || name === '..') return `"${name}" cannot be used as a name`;
  if (name.includes('/')) return `the name "${name}" contains "/"; a name is one path component — create the folders first, or use a different character`;
  if (name.includes('\0')) return 'the name contains a NUL character, which no filesystem allows; remove it';
  const n = byteLength(name);
  if (n > NAME_MAX) return `the name is ${n} bytes long; the limit is ${NAME_MAX} bytes (UTF-8) — shorten it`;
  return undefined;
}

/** Problems with a whole path, or undefined. */
export function checkPath(path: string): string | undefined {
  if (!path.startsWith('/') || path === '/') return 'the path must start with "/" and name something below the root';
  if (normalizePath(path) !== path) return `the path "${path}" is not in normal form (no "//", ".", ".." or trailing "/")`;
  if (path.includes('\0')) return 'the path contains a NUL character, which no filesystem allows; remove it';
  const n = byteLength(path);
  if (n > PATH_MAX - 1) return `the path is ${n} bytes long; the limit is ${PATH_MAX - 1} bytes — use shorter names or fewer levels`;
  for (const part of path.split('/').slice(1)) {
    const why = checkName(part);
    if (why) return why;
  }
  return undefined;
}

function isWhole(n: unknown, max: number): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;
}

/** Problems with one entry's own fields (not its relation to others). */
export function checkEntry(e: Entry): Problem[] {
  const out: Problem[] = [];
  const err = (message: string, fix?: string) => out.push({ severity: 'error', path: e.path, message, fix });
  const why = checkPath(e.path);
  if (why) err(why);
  if (!isWhole(e.mode, 0o7777)) err(`mode ${e.mode} is not a permission value between 0000 and 7777 (octal)`, 'Set the mode in octal, e.g. 0755.');
  if (!isWhole(e.uid, ID_MAX)) err(`uid ${e.uid} is not a whole number between 0 and ${ID_MAX}`, 'Use a numeric user id, e.g. 0 for root.');
  if (!isWhole(e.gid, ID_MAX)) err(`gid ${e.gid} is not a whole number between 0 and ${ID_MAX}`, 'Use a numeric group id, e.g. 0 for root.');
  if (!isWhole(e.mtime, U32_MAX)) err(`modification time ${e.mtime} cannot be stored (it must be 0 to ${U32_MAX} seconds since 1970)`, 'Set a date between 1970 and 2106.');
  switch (e.type) {
    case 'file':
      if (e.data && e.data.size > U32_MAX) err(`the file is ${e.data.size} bytes; an initramfs entry can hold at most 4 GiB − 1`, 'Put large files on an ext4 root instead.');
      break;
    case 'symlink': {
      if (!e.target) err('the symlink has no target', 'Give the path it should point to, e.g. /bin/busybox.');
      else if (e.target.includes('\0')) err('the symlink target contains a NUL character', 'Remove it.');
      else if (byteLength(e.target) > PATH_MAX - 1) err(`the symlink target is ${byteLength(e.target)} bytes; the limit is ${PATH_MAX - 1}`, 'Shorten the target.');
      break;
    }
    case 'char': case 'block':
      if (!isWhole(e.major, MAJOR_MAX)) err(`device major number ${e.major} is out of range (0–${MAJOR_MAX})`, 'Use the major number from the kernel\'s devices.txt, e.g. 5 for /dev/console.');
      if (!isWhole(e.minor, MINOR_MAX)) err(`device minor number ${e.minor} is out of range (0–${MINOR_MAX})`, 'Use a minor number from 0 to 1048575.');
      break;
  }
  return out;
}

/** Resolves a symlink's target to an absolute path, relative to the link's own folder. */
export function resolveLinkTarget(linkPath: string, target: string): string {
  return normalizePath(target.startsWith('/') ? target : parentOf(linkPath) + '/' + target);
}

/** Every problem in a tree: each entry's own, duplicates, parents that are not folders, and
 *  symlinks whose target is not in the tree (a warning: it may be created at run time). */
export function validateTree(entries: readonly Entry[]): Problem[] {
  const out: Problem[] = [];
  const byPath = new Map<string, Entry>();
  for (const e of entries) {
    out.push(...checkEntry(e));
    if (byPath.has(e.path)) {
      out.push({ severity: 'error', path: e.path, message: 'this path appears more than once', fix: 'Rename or delete one of them.' });
    } else byPath.set(e.path, e);
  }
  for (const e of entries) {
    const parent = parentOf(e.path);
    if (parent && byPath.get(parent) && byPath.get(parent)!.type !== 'dir') {
      out.push({ severity: 'error', path: e.path, message: `its parent ${parent} is a ${byPath.get(parent)!.type}, not a folder`, fix: `Move it elsewhere or replace ${parent} with a folder.` });
    }
  }
  for (const e of entries) {
    if (e.type !== 'symlink' || !e.target) continue;
    if (!resolvesInTree(e.path, byPath)) {
      out.push({ severity: 'warning', path: e.path, message: `the symlink points to ${e.target}, which is not in the image`, fix: 'Add the target, or ignore this if it is created at run time (e.g. under /proc or /dev).' });
    }
  }
  return out;
}

/** Follows a chain of symlinks through the tree (also through symlinked folders on the way). */
function resolvesInTree(linkPath: string, byPath: Map<string, Entry>): boolean {
  let path = linkPath;
  for (let hops = 0; hops < 40; hops++) {
    const e = byPath.get(path);
    if (!e || e.type !== 'symlink') return e !== undefined;
    const resolved = resolveLinkTarget(path, e.target!);
    if (resolved === '') return true; // the root
    path = resolveThroughLinks(resolved, byPath);
  }
  return false; // a loop
}

/** Replaces symlinked folders among a path's ancestors by their targets. */
function resolveThroughLinks(path: string, byPath: Map<string, Entry>): string {
  const parts = path.split('/').slice(1);
  let cur = '';
  for (let i = 0; i < parts.length; i++) {
    cur = cur + '/' + parts[i];
    const e = byPath.get(cur);
    if (i < parts.length - 1 && e?.type === 'symlink' && e.target) {
      cur = resolveLinkTarget(cur, e.target);
    }
  }
  return cur;
}

export const errorsOf = (ps: Problem[]) => ps.filter((p) => p.severity === 'error');
export const warningsOf = (ps: Problem[]) => ps.filter((p) => p.severity === 'warning');
