// Builds run in the engine's worker; this module holds their progress, the Cancel handle and the
// latest outputs of each project (in memory: outputs are cheap to rebuild and large to store).
import type { BuildProgress } from '../../workers/pipeline.ts';
import type { PageOutput } from '../../workers/api.ts';
import { CancelledError } from '../../workers/model/problems.ts';
import { engine } from '../lib/engine.ts';
import { projects } from '../projects/projects.svelte.ts';
import { notices } from '../app/notices.svelte.ts';

export interface BuildResult {
  projectId: string;
  outputs: PageOutput[];
  seconds: number;
  finished: number;
}

class BuildState {
  running = $state(false);
  progress = $state<BuildProgress | null>(null);
  results = $state.raw<Record<string, BuildResult>>({});
  lastError = $state<string | null>(null);
  private ctrl: AbortController | null = null;

  get fraction(): number {
    const p = this.progress;
    return p && p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  }

  async start(): Promise<void> {
    const project = projects.current;
    if (!project || this.running) return;
    this.running = true;
    this.lastError = null;
    this.progress = null;
    this.ctrl = new AbortController();
    const t0 = performance.now();
    try {
      const outputs = await engine.call('build', { project }, {
        signal: this.ctrl.signal,
        onProgress: (p) => (this.progress = p),
      });
      this.results = {
        ...this.results,
        [project.id]: { projectId: project.id, outputs, seconds: (performance.now() - t0) / 1000, finished: Date.now() },
      };
    } catch (err) {
      if (err instanceof CancelledError) notices.push('info', 'Build cancelled.');
      else {
        this.lastError = (err as Error).message;
        notices.error(err);
      }
    } finally {
      this.running = false;
      this.progress = null;
      this.ctrl = null;
    }
  }

  cancel(): void {
    this.ctrl?.abort();
  }
}

export const build = new BuildState();
