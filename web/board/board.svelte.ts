// The Board screen's state: the open project's kit, the settings /init reads, and the boot folder
// checks, kept in step with the project. Edits go through projects (saved at once); the ones that
// need kit files (modules, the ext4 root) run in the engine's worker.
import type { Kit } from '../../workers/kits/kit.ts';
import type { Problem } from '../../workers/model/problems.ts';
import type { Project } from '../../workers/model/project.ts';
import type { Entry } from '../../workers/model/entry.ts';
import { type BoardSettingsForm, readBoardSettings, setAfter, setStart } from '../../workers/kits/project.ts';
import type { AfterExit } from '../../workers/kits/init.ts';
import { boardById } from '../../workers/kits/boards.ts';
import { boardProblems } from '../../workers/kits/checks.ts';
import { findEntry, updateEntry, addEntries, newEntry } from '../../workers/model/tree.ts';
import { engine } from '../lib/engine.ts';
import { projects } from '../projects/projects.svelte.ts';
import { notices } from '../app/notices.svelte.ts';

export async function textOf(entries: readonly Entry[], path: string): Promise<string | undefined> {
  const e = findEntry(entries, path);
  return e?.type === 'file' ? (e.data ? e.data.text() : '') : undefined;
}

/** Every problem a build would stop on (errors) or mention (warnings), for the board screen. */
export async function projectProblems(p: Project): Promise<Problem[]> {
  const board = p.board && boardById(p.board.kit);
  return board ? boardProblems(board, p.entries, p.boot, p.ext4.enabled) : [];
}

class BoardState {
  kit = $state.raw<Kit | null>(null);
  settings = $state<BoardSettingsForm | null>(null);
  configTxt = $state('');
  cmdlineTxt = $state('');
  problems = $state.raw<Problem[]>([]);
  busy = $state<string | null>(null);
  private seen: Project | null = null;

  /** Re-reads everything from the project when it changed (called from an effect). */
  async refresh(p: Project): Promise<void> {
    if (p === this.seen) return;
    this.seen = p;
    if (p.board && this.kit?.id !== p.board.kit) {
      try {
        this.kit = await engine.call('kit', { id: p.board.kit });
      } catch (err) {
        this.kit = null;
        notices.error(err);
      }
    }
    const [settings, config, cmdline, problems] = await Promise.all([
      readBoardSettings(p), textOf(p.boot, '/config.txt'), textOf(p.boot, '/cmdline.txt'), projectProblems(p),
    ]);
    if (this.seen !== p) return;
    this.settings = settings;
    this.configTxt = config ?? '';
    this.cmdlineTxt = cmdline ?? '';
    this.problems = problems;
  }

  setStart(start: string) {
    return projects.transform(async (p) => setStart(p, start));
  }

  setAfter(after: AfterExit) {
    return projects.transform(async (p) => setAfter(p, after));
  }

  /** Writes a boot folder text file (config.txt, cmdline.txt), creating it if missing. */
  writeBootText(name: string, text: string) {
    const now = Math.floor(Date.now() / 1000);
    return projects.edit((entries) => {
      const path = '/' + name;
      const data = new Blob([text], { type: 'text/plain' });
      return findEntry(entries, path)
        ? updateEntry(entries, path, { data, mtime: now })
        : addEntries(entries, [newEntry('file', path, now, { data })]);
    }, 'boot');
  }

  async setModules(groups: string[]) {
    this.busy = 'modules';
    try {
      await projects.transform((p) => engine.call('setModuleGroups', { project: p, groups }));
    } finally {
      this.busy = null;
    }
  }

  async setExt4Root(enabled: boolean) {
    this.busy = 'ext4';
    try {
      await projects.transform((p) => engine.call('setExt4Root', { project: p, enabled }));
    } finally {
      this.busy = null;
    }
  }
}

export const boardState = new BoardState();
