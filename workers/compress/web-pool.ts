// Deflate threads for the browser: module workers running deflate-thread-web.ts, started from the
// engine's own Web Worker (nested workers). Vite bundles the thread through the `new Worker(new
// URL(...))` pattern below; keep that expression literal.
/// <reference lib="webworker" />
import { type ThreadPool, createThreadPool } from './pool.ts';

/** A pool of `threads` module workers (started when first needed). */
export function createWebDeflatePool(threads = defaultThreads()): ThreadPool {
  return createThreadPool(threads, (onReply, onFailure) => {
    const w = new Worker(new URL('./deflate-thread-web.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent) => onReply(e.data);
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      onFailure(new Error(`the deflate thread failed: ${e.message || 'could not start it'}`));
    };
    w.onmessageerror = () => onFailure(new Error('the deflate thread sent a message that could not be read'));
    return {
      post: (task, transfer) => w.postMessage(task, transfer),
      terminate: () => w.terminate(),
    };
  });
}

function defaultThreads(): number {
  const n = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0;
  return Number.isInteger(n) && n > 0 ? n : 2;
}
