// A pool of threads that compress deflate blocks (deflate-block.mjs) for gzipChunks. The threads
// themselves are platform-specific (node-pool.ts, web-pool.ts); the bookkeeping is here. Nothing in
// a block's bytes depends on the pool: it only decides where deflateBlock runs.

import type { DeflateReply, DeflateTask } from './deflate-block.mjs';

export interface DeflatePool {
  /** Raw deflate data for one block (see deflateBlock in deflate-block.mjs). The pool may take
   *  over `block` and `dictionary`: when a view covers its whole ArrayBuffer, that buffer is
   *  transferred to the thread (and detached here) rather than copied. */
  compress(block: Uint8Array, dictionary: Uint8Array | undefined, final: boolean, level: number): Promise<Uint8Array>;
  /** Ends the threads; pending and later calls fail. */
  close(): void;
  /** How many blocks it compresses at once (gzipChunks keeps twice as many in flight). */
  readonly threads?: number;
  /** Starts every thread now and has it compress a little made-up data, so that it runs at full
   *  speed from the first real block. Optional: compress() starts threads anyway; worth calling
   *  where the process would otherwise leave cores idle, e.g. before walking the input tree. */
  warmUp?(): void;
}

/** A pool of threads, as createThreadPool makes it. */
export type ThreadPool = DeflatePool & { readonly threads: number; warmUp(): void };

/** One thread, as the pool sees it. */
export interface DeflateThread {
  post(task: DeflateTask, transfer: ArrayBuffer[]): void;
  terminate(): void;
  /** Node: whether a thread keeps the process alive (only while it has work). */
  ref?(): void;
  unref?(): void;
}

/** Starts a thread that calls `onReply` with each answer and `onFailure` if it dies. */
export type SpawnDeflateThread = (onReply: (reply: DeflateReply) => void, onFailure: (error: Error) => void) => DeflateThread;

interface Task { resolve: (data: Uint8Array) => void; reject: (e: Error) => void; warm?: boolean }
/** `busy`: tasks other than warm-ups, the ones that keep the process alive. */
interface Slot { thread: DeflateThread; tasks: Map<number, Task>; busy: number }

/** A pool of up to `threads` threads, started when first needed. Each task goes to the thread with
 *  the fewest tasks; threads hold the process open only while they have some. */
export function createThreadPool(threads: number, spawn: SpawnDeflateThread): ThreadPool {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`a deflate pool needs at least one thread, not ${threads}`);
  const slots: Slot[] = [];
  let nextId = 0;
  let closed = false;

  function fail(slot: Slot, error: Error) {
    const i = slots.indexOf(slot);
    if (i < 0) return; // already dropped
    slots.splice(i, 1);
    slot.thread.terminate();
    for (const t of slot.tasks.values()) t.reject(error);
    slot.tasks.clear();
  }

  function start(): Slot {
    const slot: Slot = { thread: undefined as unknown as DeflateThread, tasks: new Map(), busy: 0 };
    slot.thread = spawn(
      (reply) => {
        const task = slot.tasks.get(reply.id);
        if (!task) return;
        forget(slot, reply.id, task);
        if ('error' in reply) task.reject(new Error(`deflate thread: ${reply.error}`));
        else task.resolve(reply.data);
      },
      (error) => fail(slot, error),
    );
    slots.push(slot);
    return slot;
  }

  function forget(slot: Slot, id: number, task: Task) {
    slot.tasks.delete(id);
    if (!task.warm && --slot.busy === 0) slot.thread.unref?.();
  }

  /** Posts a task to a thread; `settle` hears the answer. */
  function send(slot: Slot, task: DeflateTask, transfer: ArrayBuffer[], settle: Task) {
    slot.tasks.set(task.id, settle);
    if (!settle.warm && ++slot.busy === 1) slot.thread.ref?.();
    try {
      slot.thread.post(task, transfer);
    } catch {
      // A buffer that cannot be transferred (e.g. one Node marks untransferable): copy instead.
      try {
        slot.thread.post('block' in task ? { ...task, block: task.block.slice(), dictionary: task.dictionary?.slice() } : task, []);
      } catch (e) {
        forget(slot, task.id, settle);
        settle.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  function pick(): Slot {
    let best: Slot | undefined;
    for (const s of slots) if (!best || s.tasks.size < best.tasks.size) best = s;
    if (best && (best.tasks.size === 0 || slots.length >= threads)) return best;
    return start();
  }

  return {
    threads,
    compress(block, dictionary, final, level) {
      if (closed) return Promise.reject(new Error('the deflate pool is closed'));
      const task: DeflateTask = { id: nextId++, block: own(block), dictionary: dictionary && own(dictionary), final, level };
      const transfer = [task.block.buffer as ArrayBuffer];
      if (task.dictionary && task.dictionary.buffer !== task.block.buffer) transfer.push(task.dictionary.buffer as ArrayBuffer);
      let slot: Slot;
      try {
        slot = pick();
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e))); // could not start a thread
      }
      return new Promise<Uint8Array>((resolve, reject) => send(slot, task, transfer, { resolve, reject }));
    },
    warmUp() {
      if (closed) return;
      // Warm-ups do not keep the process alive: a command that ends early need not wait for them.
      while (slots.length < threads) start().thread.unref?.();
      for (const slot of slots) send(slot, { id: nextId++, warm: true }, [], { resolve: () => {}, reject: () => {}, warm: true });
    },
    close() {
      closed = true;
      for (const slot of [...slots]) fail(slot, new Error('the deflate pool is closed'));
    },
  };
}

/** The view itself if it covers its whole (non-shared) buffer, which can then be transferred;
 *  otherwise a copy of just its bytes (posting a view would copy its whole buffer). */
function own(view: Uint8Array): Uint8Array {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  return whole && view.buffer instanceof ArrayBuffer ? view : view.slice();
}
