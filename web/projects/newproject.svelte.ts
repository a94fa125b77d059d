// The New project dialog: a blank project, or one made from a board kit (which fetches the kit's
// firmware, kernel and busybox in the engine's worker, with progress).
import type { KitSummary } from '../../workers/kits/kit.ts';
import type { AfterExit } from '../../workers/kits/init.ts';
import { engine } from '../lib/engine.ts';
import { projects } from './projects.svelte.ts';
import { notices } from '../app/notices.svelte.ts';
import { files } from '../files/files.svelte.ts';
import { view } from '../app/view.svelte.ts';

class NewProjectState {
  open = $state(false);
  kits = $state<KitSummary[] | null>(null);
  kitError = $state<string | null>(null);
  busy = $state(false);
  done = $state(0);
  total = $state(0);

  async show(): Promise<void> {
    this.open = true;
    if (this.kits) return;
    try {
      this.kits = await engine.call('listKits', {});
      this.kitError = null;
    } catch (err) {
      this.kits = [];
      this.kitError = (err as Error).message;
    }
  }

  close(): void {
    if (!this.busy) this.open = false;
  }

  async create(kit: string, name: string, start: string, after: AfterExit): Promise<void> {
    if (!kit) {
      await projects.create(name.trim() || projects.uniqueName('Untitled project'));
      files.show('entries');
      view.show('files');
      this.open = false;
      return;
    }
    this.busy = true;
    this.done = 0;
    this.total = 0;
    try {
      const p = await engine.call('newBoardProject', { kit, name: name.trim() || projects.uniqueName('Untitled project'), start, after }, {
        onProgress: (pr) => { this.done = pr.done; this.total = pr.total; },
      });
      if (await projects.add({ ...p, name: projects.uniqueName(p.name) })) {
        view.show('board');
        this.open = false;
      }
    } catch (err) {
      notices.error(err);
    } finally {
      this.busy = false;
    }
  }
}

export const newProject = new NewProjectState();
