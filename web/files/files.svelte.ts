// The file-tree editor's state: which entry is selected, which folders are open, and every edit
// of the open project's root filesystem (each goes through projects.edit, so it is saved at once).
import { type Entry, type EntryType } from '../../workers/model/entry.ts';
import { isWithin, joinPath, normalizePath, parentOf } from '../../workers/model/path.ts';
import { checkName } from '../../workers/model/validate.ts';
import { addEntries, moveEntry, newEntry, removeEntry, renameEntry, updateEntry } from '../../workers/model/tree.ts';
import { type Tree, projects } from '../projects/projects.svelte.ts';
import { notices } from '../app/notices.svelte.ts';
import type { Picked } from '../lib/dropped.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Programs must be executable: an ELF binary or a "#!" script gets 0755 instead of 0644. */
export async function modeForContent(data: Blob, name: string): Promise<number> {
  const head = new Uint8Array(await data.slice(0, 4).arrayBuffer());
  const elf = head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
  const script = head[0] === 0x23 && head[1] === 0x21;
  return elf || script || name === 'init' ? 0o755 : 0o644;
}

class FilesState {
  selected = $state<string | null>(null);
  open = $state<Record<string, boolean>>({});
  /** Which tree the editor shows: the root filesystem or the boot partition. */
  tree = $state<Tree>('entries');

  /** The tree edits go to: projects without a board have only the root filesystem. */
  get activeTree(): Tree {
    return projects.current?.board ? this.tree : 'entries';
  }

  /** The entries of the tree being edited. */
  get entries(): Entry[] {
    return projects.current?.[this.activeTree] ?? [];
  }

  show(tree: Tree) {
    if (tree === this.tree) return;
    this.tree = tree;
    this.selected = null;
  }

  /** The folder that new entries go into: the selected folder, the selected entry's folder, or the root. */
  get targetDir(): string {
    const sel = this.selected;
    const e = sel ? this.entries.find((x) => x.path === sel) : undefined;
    if (!e) return '';
    return e.type === 'dir' ? e.path : parentOf(e.path);
  }

  select(path: string | null) {
    this.selected = path;
    if (path) for (let p = parentOf(path); p; p = parentOf(p)) this.open[p] = true;
  }

  toggle(path: string) {
    this.open[path] = !this.open[path];
  }

  /** Adds dropped or picked files and folders below `dir` ("" = root). Existing entries at the
   *  same paths are replaced. */
  async addPicked(picked: Picked, dir = this.targetDir): Promise<boolean> {
    const now = nowSeconds();
    const added: Entry[] = [];
    for (const d of picked.dirs) added.push(newEntry('dir', `${dir}/${d}`, now));
    for (const f of picked.files) {
      added.push({
        ...newEntry('file', `${dir}/${f.path}`, Math.floor(f.file.lastModified / 1000) || now),
        mode: await modeForContent(f.file, f.path.split('/').pop()!),
        data: f.file,
      });
    }
    if (!added.length) return false;
    const existing = new Set(this.entries.map((e) => e.path));
    const replaced = added.filter((e) => existing.has(e.path) && e.type !== 'dir').length;
    const ok = await projects.edit((entries) => addEntries(entries, added.filter((e) => !(e.type === 'dir' && existing.has(e.path))), { replace: true }), this.activeTree);
    if (ok) {
      const first = added.find((e) => !picked.dirs.some((d) => e.path.startsWith(`${dir}/${d}/`))) ?? added[0];
      this.select(first.path);
      const n = picked.files.length;
      notices.push('info', `Added ${n} file${n === 1 ? '' : 's'}${picked.dirs.length ? ` and ${picked.dirs.length} folder${picked.dirs.length === 1 ? '' : 's'}` : ''}${replaced ? ` (${replaced} replaced)` : ''}.`);
    }
    return ok;
  }

  /** Creates a new entry named `name` in `dir`. */
  async create(dir: string, name: string, type: EntryType, extra: Partial<Entry> = {}): Promise<boolean> {
    const why = checkName(name);
    if (why) { notices.push('error', `Cannot create "${name}": ${why}.`); return false; }
    const path = joinPath(dir || '/', name);
    const e = newEntry(type, path, nowSeconds(), type === 'file' ? { data: new Blob([]), ...extra } : extra);
    const ok = await projects.edit((entries) => addEntries(entries, [e]), this.activeTree);
    if (ok) this.select(e.path);
    return ok;
  }

  async rename(path: string, name: string): Promise<boolean> {
    return this.move(path, joinPath(parentOf(path) || '/', name), (entries) => renameEntry(entries, path, name));
  }

  async move(path: string, newPath: string, change = (entries: Entry[]) => moveEntry(entries, path, newPath)): Promise<boolean> {
    const ok = await projects.edit(change, this.activeTree);
    if (!ok) return false;
    const dest = normalizePath(newPath);
    // Folders that were open stay open under their new path.
    for (const key of Object.keys(this.open)) {
      if (isWithin(key, path) && this.open[key]) this.open[dest + key.slice(path.length)] = true;
    }
    this.select(dest);
    return true;
  }

  async remove(path: string): Promise<boolean> {
    const ok = await projects.edit((entries) => removeEntry(entries, path), this.activeTree);
    if (ok && this.selected && isWithin(this.selected, path)) this.selected = parentOf(path) || null;
    return ok;
  }

  async update(path: string, patch: Partial<Omit<Entry, 'path' | 'type'>>): Promise<boolean> {
    return projects.edit((entries) => updateEntry(entries, path, patch), this.activeTree);
  }

  async setText(path: string, text: string): Promise<boolean> {
    return this.update(path, { data: new Blob([text], { type: 'text/plain' }), mtime: nowSeconds() });
  }
}

export const files = new FilesState();
