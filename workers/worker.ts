// The Web Worker entry: runs engine calls off the page's thread so the page never freezes.
/// <reference lib="webworker" />
import type { EngineCalls, Request, Response } from './api.ts';
import { BootsmithError, CancelledError } from './model/problems.ts';
import { buildProject } from './pipeline.ts';
import { writeProjectFile } from './projectfile/projectfile.ts';
import { importBytes } from './import/import.ts';
import { baseName } from './model/path.ts';
import { setDefaultDeflatePool } from './compress/gzip.ts';
import { createWebDeflatePool } from './compress/web-pool.ts';
import { kitSource } from './kits/kit.ts';
import { unzipSync } from 'fflate';
import { testBootInputs } from './boot/inputs.ts';
import { newBoardProject, readBoardSettings, setExt4Root, setModuleGroups } from './kits/project.ts';

// Nested workers compress gzip blocks in parallel where the browser offers them.
if (typeof Worker !== 'undefined') setDefaultDeflatePool(createWebDeflatePool());

const running = new Map<number, AbortController>();
const post = (m: Response) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

type Handler<K extends keyof EngineCalls> = (
  args: EngineCalls[K]['args'],
  ctx: { signal: AbortSignal; progress: (stage: string, done: number, total: number) => void },
) => Promise<EngineCalls[K]['result']>;

const handlers: { [K in keyof EngineCalls]: Handler<K> } = {
  async build({ project }, { signal, progress }) {
    const outputs = await buildProject(project, { signal, onProgress: (p) => progress(p.stage, p.done, p.total) });
    return outputs.map((o) => ({ ...o, data: o.data instanceof Blob ? o.data : o.data.toBlob() }));
  },
  async exportProject({ project }, { signal, progress }) {
    const chunks = await writeProjectFile(project, { signal, onProgress: (d, t) => progress('export', d, t) });
    return new Blob(chunks as Uint8Array<ArrayBuffer>[], { type: 'application/zip' });
  },
  listKits: () => kitSource().list(),
  kit: ({ id }) => kitSource().kit(id),
  newBoardProject: (args, { progress }) => newBoardProject({ ...args, onProgress: (d, t) => progress('kit', d, t) }),
  boardSettings: ({ project }) => readBoardSettings(project),
  setModuleGroups: ({ project, groups }) => setModuleGroups(project, groups),
  setExt4Root: ({ project, enabled }) => setExt4Root(project, enabled),
  testBootInputs: ({ project, disk }, { signal, progress }) => testBootInputs(project, kitSource(), { disk, signal, onProgress: (p) => progress(p.stage, p.done, p.total) }),
  async unzipFiles({ zip }) {
    const all = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    return Object.entries(all).filter(([name]) => !name.endsWith('/')).map(([path, data]) => ({ path, data: new Blob([data as Uint8Array<ArrayBuffer>]) }));
  },
  async importFile({ file, name, files = [] }) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // A list names files by the path it was written with; match on the whole relative path first,
    // then on the trailing components, so "rootfs/init" finds a dropped "rootfs/init" or "init".
    const resolve = async (location: string) => {
      const want = location.replace(/^\.\//, '');
      const hit = files.find((f) => f.path === want) ??
        files.find((f) => f.path.endsWith('/' + want) || want.endsWith('/' + f.path)) ??
        files.find((f) => baseName('/' + f.path) === baseName('/' + want));
      return hit?.data;
    };
    const imported = await importBytes(bytes, name, { resolve, mtime: Math.floor(Date.now() / 1000) });
    return imported.format === 'project'
      ? { format: imported.format, project: imported.project }
      : { format: imported.format, entries: imported.entries };
  },
};

self.onmessage = async (ev: MessageEvent<Request>) => {
  const req = ev.data;
  if (req.call === 'cancel') {
    running.get(req.id)?.abort();
    return;
  }
  const ctrl = new AbortController();
  running.set(req.id, ctrl);
  let last = 0;
  const progress = (stage: string, done: number, total: number) => {
    // At most ~20 messages a second: enough for a smooth bar, cheap for the page.
    const now = performance.now();
    if (now - last < 50 && done < total) return;
    last = now;
    post({ id: req.id, kind: 'progress', progress: { stage, done, total } });
  };
  try {
    const handler = handlers[req.call] as Handler<typeof req.call>;
    const result = await handler(req.args as never, { signal: ctrl.signal, progress });
    post({ id: req.id, kind: 'done', result });
  } catch (err) {
    const cancelled = err instanceof CancelledError;
    post({
      id: req.id,
      kind: 'error',
      message: cancelled ? 'Cancelled' : err instanceof BootsmithError ? err.message : `Internal error: ${(err as Error).message}`,
      cancelled,
      problems: err instanceof BootsmithError ? err.problems : [],
    });
  } finally {
    running.delete(req.id);
  }
};
