// Deflate threads for Node (the CLI, the bench, tests): node:worker_threads running
// deflate-thread.mjs, plain JavaScript that needs no tsx.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ThreadPool, createThreadPool } from './pool.ts';

/** A pool of `threads` worker threads (started when first needed). Idle threads do not keep the
 *  process alive, so a CLI need not close it; close() ends them at once. */
export function createNodeDeflatePool(threads = availableParallelism()): ThreadPool {
  return createThreadPool(threads, (onReply, onFailure) => {
    // execArgv []: not the parent's loader flags (tsx), which the plain-JS thread does not need.
    const w = new Worker(new URL('./deflate-thread.mjs', import.meta.url), { execArgv: [] });
    w.on('message', onReply);
    w.on('error', (e) => onFailure(e instanceof Error ? e : new Error(String(e))));
    w.on('messageerror', (e) => onFailure(e instanceof Error ? e : new Error(String(e))));
    w.on('exit', (code) => onFailure(new Error(`the deflate thread exited (code ${code})`)));
    return {
      post: (task, transfer) => w.postMessage(task, transfer),
      terminate: () => void w.terminate(),
      ref: () => w.ref(),
      unref: () => w.unref(),
    };
  });
}
