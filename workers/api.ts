// The typed interface between the page and the engine's Web Worker. The page sends requests; the
// worker answers each with progress messages and then exactly one `done` or `error`.
import type { Entry } from './model/entry.ts';
import type { Project } from './model/project.ts';
import type { Problem } from './model/problems.ts';
import type { BuildOutput, BuildProgress } from './pipeline.ts';
import type { Kit, KitSummary } from './kits/kit.ts';
import type { AfterExit } from './kits/init.ts';
import type { BoardSettingsForm } from './kits/project.ts';
import type { TestBootInputs } from './boot/inputs.ts';

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
  /** The board kits the app was set up with. */
  listKits: { args: Record<string, never>; result: KitSummary[] };
  /** One kit's kit.json. */
  kit: { args: { id: string }; result: Kit };
  /** A new project from a board kit (fetches the kit's files; the service worker keeps them). */
  newBoardProject: { args: { kit: string; name: string; start?: string; after?: AfterExit; moduleGroups?: string[] }; result: Project };
  /** The settings /init reads, from a board project's files. */
  boardSettings: { args: { project: Project }; result: BoardSettingsForm };
  /** Chooses kernel module groups: module files and modules.dep in, /etc/bootsmith/modules written. */
  setModuleGroups: { args: { project: Project; groups: string[] }; result: Project };
  /** The files of a zip (the boot folder), for writing them into a folder the user picked. */
  unzipFiles: { args: { zip: Blob }; result: { path: string; data: Blob }[] };
  /** The ext4 root on or off for a board project (cmdline.txt root= and the SD card modules follow). */
  setExt4Root: { args: { project: Project; enabled: boolean }; result: Project };
  /** Kernel, BIOS, initramfs and disk for a test boot in v86 (built with only what a boot reads). */
  testBootInputs: { args: { project: Project; disk?: boolean }; result: TestBootInputs };
}

export type CallName = keyof EngineCalls;

export type Request = {
  [K in CallName]: { id: number; call: K; args: EngineCalls[K]['args'] };
}[CallName] | { id: number; call: 'cancel' };

export type Response =
  | { id: number; kind: 'progress'; progress: BuildProgress }
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'error'; message: string; cancelled: boolean; problems: Problem[] };
