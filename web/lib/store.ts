// The IndexedDB store, behind this one module. Layout (idb-keyval, one object store):
//   "projects"        → ProjectMeta[]                    the list shown in the sidebar
//   "project:<id>"    → StoredProject                    metadata; file content by blob id
//   "blob:<blobId>"   → Blob                             file content, written once, never edited
// Content is written before the project record that refers to it, so a failure (a full quota, a
// closed tab) leaves the previously saved project intact. Unreferenced blobs are collected at start.
import { createStore, del, get, keys, set, setMany, delMany, type UseStore } from 'idb-keyval';
import type { Entry } from '../../workers/model/entry.ts';
import { type Project, withDefaults } from '../../workers/model/project.ts';
import { BootsmithError } from '../../workers/model/problems.ts';

export interface ProjectMeta {
  id: string;
  name: string;
  modified: number;
  entries: number;
}

type StoredEntry = Omit<Entry, 'data'> & { blob?: string };
type StoredProject = Omit<Project, 'entries' | 'boot'> & { entries: StoredEntry[]; boot?: StoredEntry[] };

const db: UseStore = createStore('bootsmith', 'kv');
/** Blobs known to be stored already, and under which id. */
const blobIds = new WeakMap<Blob, string>();
const EMPTY = new Blob([]);

function newBlobId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function isQuotaError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; inner?: { name?: string } };
  return e?.name === 'QuotaExceededError' || /quota/i.test(e?.message ?? '') || e?.inner?.name === 'QuotaExceededError';
}

/** A full-storage error that says how much was needed and what is free. */
async function quotaError(needed: number): Promise<BootsmithError> {
  let free = '';
  try {
    const est = await navigator.storage.estimate();
    // The estimate can be coarse (or padded, as Chromium's is): only quote it when it agrees.
    if (est.quota !== undefined && est.usage !== undefined && est.quota - est.usage < needed) {
      free = ` Only ${formatBytes(Math.max(0, est.quota - est.usage))} of this site's ${formatBytes(est.quota)} is free.`;
    }
  } catch { /* estimate is best effort */ }
  return new BootsmithError(
    `Browser storage is full: this change needs ${formatBytes(needed)}.${free} Nothing was lost — the project is as last saved. ` +
    'Free space by deleting projects you no longer need, or allow this site more storage in the browser\'s settings.',
  );
}

export async function listProjects(): Promise<ProjectMeta[]> {
  return (await get<ProjectMeta[]>('projects', db)) ?? [];
}

function metaOf(p: Project): ProjectMeta {
  return { id: p.id, name: p.name, modified: p.modified, entries: p.entries.length };
}

/** Saves a project: new content first, then the record, then the list. All or nothing for the
 *  record: if content cannot be stored, the old record stays. */
export async function saveProject(project: Project): Promise<void> {
  const fresh: [string, Blob][] = [];
  const store = (e: Entry): StoredEntry => {
    if (e.type !== 'file') return e;
    const { data, ...rest } = e;
    const blob = data ?? EMPTY;
    let id = blobIds.get(blob);
    if (!id) {
      id = newBlobId();
      fresh.push([`blob:${id}`, blob]);
      blobIds.set(blob, id); // names sharing a Blob (hard links) share its stored copy
    }
    return { ...rest, blob: id };
  };
  const record: StoredProject = { ...project, entries: project.entries.map(store), boot: project.boot.map(store) };
  try {
    if (fresh.length) await setMany(fresh, db);
    await set(`project:${project.id}`, record, db);
    const list = await listProjects();
    const i = list.findIndex((m) => m.id === project.id);
    if (i >= 0) list[i] = metaOf(project);
    else list.push(metaOf(project));
    await set('projects', list, db);
  } catch (err) {
    for (const [, b] of fresh) blobIds.delete(b);
    if (isQuotaError(err)) {
      // Best effort: drop content that no record refers to yet.
      await delMany(fresh.map(([k]) => k), db).catch(() => {});
      throw await quotaError(fresh.reduce((n, [, b]) => n + b.size, 0));
    }
    throw err;
  }
}

export async function loadProject(id: string): Promise<Project | undefined> {
  const rec = await get<StoredProject>(`project:${id}`, db);
  if (!rec) return undefined;
  const missing: string[] = [];
  const loaded = new Map<string, Blob>();
  const load = async (list: StoredEntry[]): Promise<Entry[]> => {
    const blobs = await Promise.all(list.map(async (e) => {
      if (!e.blob) return undefined;
      const b = loaded.get(e.blob) ?? await get<Blob>(`blob:${e.blob}`, db);
      if (b) loaded.set(e.blob, b);
      return b;
    }));
    return list.map((se, i) => {
      const { blob, ...e } = se;
      if (se.type !== 'file') return e;
      let data = blobs[i];
      if (!data) { missing.push(se.path); data = EMPTY; }
      else blobIds.set(data, blob!);
      return { ...e, data };
    });
  };
  const entries = await load(rec.entries);
  const boot = await load(rec.boot ?? []);
  if (missing.length) console.warn(`content missing for ${missing.length} file(s), e.g. ${missing[0]}`);
  return withDefaults({ ...rec, entries, boot });
}

export async function deleteProject(id: string): Promise<void> {
  await del(`project:${id}`, db);
  await set('projects', (await listProjects()).filter((m) => m.id !== id), db);
  await collectGarbage();
}

/** Deletes content no project refers to (left behind by edits, deletes or interrupted saves). */
export async function collectGarbage(): Promise<number> {
  const all = (await keys(db)) as string[];
  const used = new Set<string>();
  for (const k of all) {
    if (!k.startsWith('project:')) continue;
    const rec = await get<StoredProject>(k, db);
    for (const e of [...(rec?.entries ?? []), ...(rec?.boot ?? [])]) if (e.blob) used.add(`blob:${e.blob}`);
  }
  const unused = all.filter((k) => k.startsWith('blob:') && !used.has(k));
  if (unused.length) await delMany(unused, db);
  return unused.length;
}

/** Asks the browser not to evict our data under storage pressure. */
export async function requestPersistence(): Promise<void> {
  try { await navigator.storage?.persist?.(); } catch { /* optional */ }
}

export async function getSetting<T>(key: string): Promise<T | undefined> {
  return get<T>(`setting:${key}`, db);
}
export async function setSetting<T>(key: string, value: T): Promise<void> {
  await set(`setting:${key}`, value, db);
}
