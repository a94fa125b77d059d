// The projects and the one that is open. Every change is saved to IndexedDB before the page shows
// it, so what is on screen is what a reload brings back; a change that cannot be saved is undone.
import type { Entry } from '../../workers/model/entry.ts';
import { type Project, blankProject, newProjectId } from '../../workers/model/project.ts';
import * as store from '../lib/store.ts';
import { notices } from '../app/notices.svelte.ts';

const LAST_OPEN = 'lastOpen';

/** The project's two trees: the root filesystem, and (board projects) the boot partition. */
export type Tree = 'entries' | 'boot';

class Projects {
  list = $state<store.ProjectMeta[]>([]);
  /** Raw: entries are replaced, never mutated, and hold Blobs that must not be proxied. */
  current = $state.raw<Project | null>(null);
  loading = $state(true);
  /** Serialises saves so that a slow save never lands after a newer one. */
  private queue: Promise<unknown> = Promise.resolve();

  async init(): Promise<void> {
    try {
      await store.collectGarbage();
      this.list = await store.listProjects();
      const last = await store.getSetting<string>(LAST_OPEN);
      const id = this.list.find((m) => m.id === last)?.id ?? this.list[0]?.id;
      if (id) await this.open(id);
    } catch (err) {
      notices.error(err);
    } finally {
      this.loading = false;
    }
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => {});
    return run;
  }

  async open(id: string): Promise<void> {
    const p = await store.loadProject(id);
    if (!p) { notices.push('error', 'That project is no longer stored in this browser.'); return; }
    this.current = p;
    await store.setSetting(LAST_OPEN, id);
  }

  private async refreshList() {
    this.list = await store.listProjects();
  }

  /** Saves `next` and then shows it. Returns false (and says why) if it could not be saved. */
  save(next: Project): Promise<boolean> {
    return this.enqueue(async () => {
      try {
        await store.saveProject(next);
        if (this.current?.id === next.id || this.current === null) this.current = next;
        await this.refreshList();
        return true;
      } catch (err) {
        notices.error(err);
        return false;
      }
    });
  }

  /** Applies an edit of the open project's tree. The edit may throw a BootsmithError, which is
   *  shown; the project stays as it was. */
  async edit(change: (entries: Entry[]) => Entry[], tree: Tree = 'entries'): Promise<boolean> {
    const cur = this.current;
    if (!cur) return false;
    let entries: Entry[];
    try {
      entries = change(cur[tree]);
    } catch (err) {
      notices.error(err);
      return false;
    }
    return this.save({ ...cur, [tree]: entries, modified: Date.now() });
  }

  /** Applies an engine edit of the whole open project (board settings, modules): the engine
   *  returns the new project, which is saved like any edit. */
  async transform(change: (p: Project) => Promise<Project>): Promise<boolean> {
    const cur = this.current;
    if (!cur) return false;
    let next: Project;
    try {
      next = await change(cur);
    } catch (err) {
      notices.error(err);
      return false;
    }
    if (this.current?.id !== cur.id) return false;
    return this.save({ ...next, id: cur.id, modified: Date.now() });
  }

  async update(patch: Partial<Omit<Project, 'id' | 'entries'>>): Promise<boolean> {
    const cur = this.current;
    if (!cur) return false;
    return this.save({ ...cur, ...patch, modified: Date.now() });
  }

  async create(name = this.uniqueName('Untitled project')): Promise<void> {
    await this.add(blankProject(name));
  }

  /** Saves a newly made project (blank or from a kit) and opens it. */
  async add(p: Project): Promise<boolean> {
    if (!(await this.save(p))) return false;
    this.current = p;
    await store.setSetting(LAST_OPEN, p.id);
    return true;
  }

  /** Adds a project brought in from a file (import) and opens it. */
  async adopt(p: Project): Promise<void> {
    const named = { ...p, id: newProjectId(), name: this.uniqueName(p.name) };
    if (await this.save(named)) {
      this.current = named;
      await store.setSetting(LAST_OPEN, named.id);
    }
  }

  async duplicate(id: string): Promise<void> {
    const src = await store.loadProject(id);
    if (!src) return;
    await this.adopt({ ...src, name: `${src.name} copy`, created: Date.now(), modified: Date.now() });
  }

  async rename(id: string, name: string): Promise<void> {
    name = name.trim();
    if (!name) { notices.push('error', 'A project needs a name.'); return; }
    const p = this.current?.id === id ? this.current : await store.loadProject(id);
    if (p) await this.save({ ...p, name, modified: Date.now() });
  }

  async remove(id: string): Promise<void> {
    await this.enqueue(async () => {
      await store.deleteProject(id);
      await this.refreshList();
    });
    if (this.current?.id === id) {
      this.current = null;
      if (this.list[0]) await this.open(this.list[0].id);
    }
  }

  uniqueName(base: string): string {
    const names = new Set(this.list.map((m) => m.name));
    if (!names.has(base)) return base;
    for (let i = 2; ; i++) if (!names.has(`${base} ${i}`)) return `${base} ${i}`;
  }
}

export const projects = new Projects();
