// A browser module worker that compresses deflate blocks for web-pool.ts (bundled by Vite through
// the `new Worker(new URL(...))` in web-pool.ts).
/// <reference lib="webworker" />
import { type DeflateTask, runDeflateTask } from './deflate-block.mjs';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<DeflateTask>) => {
  const [reply, transfer] = runDeflateTask(e.data);
  scope.postMessage(reply, transfer);
};
