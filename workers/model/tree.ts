// Edits of a root filesystem as pure functions: each takes the entry list and returns a new,
// sorted one, or throws a BootsmithError that says what is wrong and leaves the input untouched.
import { type Entry, defaultMode } from './entry.ts';
import { ancestorsOf, baseName, comparePaths, isWithin, joinPath, normalizePath, parentOf } from './path.ts';
import { BootsmithError, describeProblem } from './problems.ts';
import { checkEntry, checkName, errorsOf } from './validate.ts';

export function sortEntries(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

export function findEntry(entries: readonly Entry[], path: string): Entry | undefined {
  // Entries are kept sorted, so a binary search would do; trees are small enough that a scan is
  // never the bottleneck next to the I/O of a build.
  return entries.find((e) => e.path === path);
}

function fail(message: string): never {
  throw new BootsmithError(message);
}

function assertValid(e: Entry): void {
  const errs = errorsOf(checkEntry(e));
  if (errs.length) fail(describeProblem(errs[0]));
}

/** Folder entries for every missing ancestor of `path`, owned by root, mode 0755. */
function missingParents(byPath: Map<string, Entry>, path: string, mtime: number): Entry[] {
  const out: Entry[] = [];
  for (const dir of ancestorsOf(path)) {
    const existing = byPath.get(dir);
    if (!existing) {
      const d: Entry = { path: dir, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime };
      byPath.set(dir, d);
      out.push(d);
    } else if (existing.type !== 'dir') {
      fail(`${path} cannot be added: ${dir} is a ${existing.type}, not a folder. Rename or delete ${dir} first.`);
    }
  }
  return out;
}

export interface AddOptions {
  /** Replace entries that already exist at the same path (a folder stays a folder and keeps its
   *  contents). Without it, a clash is an error naming the path. */
  replace?: boolean;
}

/** Adds entries (creating missing parent folders). All or nothing. */
export function addEntries(entries: readonly Entry[], added: readonly Entry[], opts: AddOptions = {}): Entry[] {
  const byPath = new Map(entries.map((e) => [e.path, e] as const));
  const seen = new Set<string>();
  for (const raw of added) {
    const e = { ...raw, path: normalizePath(raw.path) };
    assertValid(e);
    if (seen.has(e.path)) fail(`${e.path} is being added twice. Each path can hold one entry.`);
    seen.add(e.path);
    const old = byPath.get(e.path);
    if (old) {
      if (!opts.replace) fail(`${e.path} already exists. Delete or rename it first, or choose to replace it.`);
      if (old.type === 'dir' && e.type !== 'dir' && [...byPath.keys()].some((p) => p !== old.path && isWithin(p, old.path))) {
        fail(`${e.path} is a folder with contents and cannot be replaced by a ${e.type}. Delete the folder first.`);
      }
    }
    missingParents(byPath, e.path, e.mtime);
    byPath.set(e.path, e);
  }
  return sortEntries([...byPath.values()]);
}

export function newEntry(type: Entry['type'], path: string, mtime: number, extra: Partial<Entry> = {}): Entry {
  return { path: normalizePath(path), type, mode: defaultMode(type), uid: 0, gid: 0, mtime, ...extra };
}

/** Deletes an entry and, for a folder, everything in it. */
export function removeEntry(entries: readonly Entry[], path: string): Entry[] {
  if (!findEntry(entries, path)) fail(`${path} does not exist.`);
  return entries.filter((e) => !isWithin(e.path, path));
}

/** Moves (and/or renames) an entry with everything below it to `newPath`. */
export function moveEntry(entries: readonly Entry[], path: string, newPath: string): Entry[] {
  newPath = normalizePath(newPath);
  const e = findEntry(entries, path);
  if (!e) fail(`${path} does not exist.`);
  if (newPath === path) return [...entries];
  if (newPath === '') fail('Nothing can be moved to the root itself; choose a name inside it.');
  const why = checkName(baseName(newPath));
  if (why) fail(`Cannot rename ${path}: ${why}.`);
  if (isWithin(newPath, path)) fail(`Cannot move ${path} into itself.`);
  if (findEntry(entries, newPath)) fail(`${newPath} already exists. Delete or rename it first.`);
  const moved = entries.map((x) =>
    isWithin(x.path, path) ? { ...x, path: newPath + x.path.slice(path.length) } : x,
  );
  const byPath = new Map(moved.map((x) => [x.path, x] as const));
  const made = missingParents(byPath, newPath, e.mtime);
  const out = [...moved, ...made];
  for (const x of out) if (isWithin(x.path, newPath)) assertValid(x);
  return sortEntries(out);
}

export function renameEntry(entries: readonly Entry[], path: string, newName: string): Entry[] {
  const why = checkName(newName);
  if (why) fail(`Cannot rename ${path}: ${why}.`);
  return moveEntry(entries, path, joinPath(parentOf(path) || '/', newName));
}

/** Changes fields of one entry (mode, owner, time, target, device numbers, content). */
export function updateEntry(entries: readonly Entry[], path: string, patch: Partial<Omit<Entry, 'path' | 'type'>>): Entry[] {
  const i = entries.findIndex((e) => e.path === path);
  if (i < 0) fail(`${path} does not exist.`);
  const next = { ...entries[i], ...patch };
  assertValid(next);
  const out = [...entries];
  out[i] = next;
  return out;
}

export interface TreeTotals {
  files: number;
  dirs: number;
  others: number;
  bytes: number;
}

export function totals(entries: readonly Entry[]): TreeTotals {
  const t = { files: 0, dirs: 0, others: 0, bytes: 0 };
  for (const e of entries) {
    if (e.type === 'file') { t.files++; t.bytes += e.data?.size ?? 0; }
    else if (e.type === 'dir') t.dirs++;
    else t.others++;
  }
  return t;
}

/** Size of a folder's contents, recursively; a file's own size otherwise. */
export function sizeBelow(entries: readonly Entry[], path: string): number {
  let n = 0;
  for (const e of entries) if (e.type === 'file' && isWithin(e.path, path)) n += e.data?.size ?? 0;
  return n;
}
