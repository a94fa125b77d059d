// Import: a project file becomes a new project; an initramfs, tar or gen_init_cpio list becomes a
// new project or is merged into the open one, as the user chooses.
import type { Entry } from '../../workers/model/entry.ts';
import { blankProject } from '../../workers/model/project.ts';
import { addEntries } from '../../workers/model/tree.ts';
import { engine } from '../lib/engine.ts';
import { projects } from './projects.svelte.ts';
import { notices } from '../app/notices.svelte.ts';
import type { PickedFile } from '../lib/dropped.ts';

const ARCHIVE = /\.(bootsmith|cpio|cpio\.gz|img|gz|tgz|tar|tar\.gz|list|txt)$/i;

const FORMAT_NAMES: Record<string, string> = { cpio: 'initramfs', tar: 'tar archive', list: 'gen_init_cpio list', project: 'project file' };

class Importer {
  busy = $state(false);
  progress = $state<{ done: number; total: number } | null>(null);
  /** Entries read from an archive, waiting for the user to choose where they go. */
  pending = $state.raw<{ name: string; format: string; entries: Entry[] } | null>(null);

  async importFiles(picked: PickedFile[]): Promise<void> {
    if (!picked.length) return;
    const main = picked.find((f) => ARCHIVE.test(f.path)) ?? picked[0];
    const others = picked.filter((f) => f !== main).map((f) => ({ path: f.path, data: f.file as Blob }));
    this.busy = true;
    try {
      const r = await engine.call('importFile', { file: main.file, name: main.file.name, files: others });
      if (r.project) {
        await projects.adopt(r.project);
        notices.push('info', `Imported the project "${r.project.name}".`);
      } else if (r.entries) {
        this.pending = { name: main.file.name.replace(/\.(cpio\.gz|tar\.gz|tgz|cpio|tar|gz|list|txt)$/i, ''), format: r.format, entries: r.entries };
      }
    } catch (err) {
      notices.error(err);
    } finally {
      this.busy = false;
    }
  }

  describe(): string {
    const p = this.pending;
    return p ? `${FORMAT_NAMES[p.format] ?? p.format} with ${p.entries.length} entr${p.entries.length === 1 ? 'y' : 'ies'}` : '';
  }

  async asNewProject(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    const project = blankProject(p.name || 'Imported');
    try {
      project.entries = addEntries([], p.entries, { replace: true });
    } catch (err) { notices.error(err); return; }
    await projects.adopt(project);
  }

  async intoCurrent(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (await projects.edit((entries) => addEntries(entries, p.entries, { replace: true }))) {
      notices.push('info', `Added ${p.entries.length} entries from ${p.name}.`);
    }
  }

  cancel() { this.pending = null; }
}

export const importer = new Importer();
