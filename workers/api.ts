// The typed interface between the page and the engine's Web Worker. The page sends requests; the
// worker answers each with progress messages and then exactly one `done` or `error`.
import type { Entry } from './model/entry.ts';
import type { Project } from './model/project.ts';
import type { Problem } from './model/problems.ts';
import type { BuildOutput, BuildProgress } from './pipeline.ts';

/** An output as the page gets it: always a Blob (disk images are sparse inside the worker). */
export type PageOutput = Omit<BuildOutput, 'data'> & { data: Blob };

export interface EngineCalls {
  /** Builds every output the project asks for. */
  build: { args: { project: Project }; result: PageOutput[] };
  /** Writes a project file. */
  exportProject: { args: { project: Project }; result: Blob };
  /** Reads a file a user brought: a project file, initramfs, tar or gen_init_cpio list. `files`
   *  are the other files dropped with it, by relative path, for the `file` lines of a list. */
  importFile: {
    args: { file: Blob; name: string; files?: { path: string; data: Blob }[] };
    result: { format: string; project?: Project; entries?: Entry[] };
  };
}

export type CallName = keyof EngineCalls;

export type Request = {
  [K in CallName]: { id: number; call: K; args: EngineCalls[K]['args'] };
}[CallName] | { id: number; call: 'cancel' };

export type Response =
  | { id: number; kind: 'progress'; progress: BuildProgress }
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'error'; message: string; cancelled: boolean; problems: Problem[] };
