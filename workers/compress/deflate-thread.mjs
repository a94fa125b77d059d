// A Node worker thread that compresses deflate blocks for node-pool.ts. Plain JavaScript: it is
// loaded by Node itself, without tsx.
import { parentPort } from 'node:worker_threads';
import { runDeflateTask } from './deflate-block.mjs';

if (!parentPort) throw new Error('deflate-thread.mjs runs as a worker thread (see node-pool.ts)');
const port = parentPort;
port.on('message', (task) => {
  const [reply, transfer] = runDeflateTask(task);
  port.postMessage(reply, transfer);
});
