// The page's side of the worker interface: one promise per call, progress through a callback,
// cancellation through an AbortSignal.
import type { CallName, EngineCalls, Request, Response } from './api.ts';
import type { BuildProgress } from './pipeline.ts';
import { BootsmithError, CancelledError, type Problem } from './model/problems.ts';

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
}

export class EngineError extends BootsmithError {
  constructor(message: string, problems: Problem[]) {
    super(message, problems);
  }
}

export class Engine {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: CallOptions['onProgress'] }>();

  constructor(worker: Worker) {
    this.worker = worker;
    worker.onmessage = (ev: MessageEvent<Response>) => {
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.kind === 'progress') { p.onProgress?.(m.progress); return; }
      this.pending.delete(m.id);
      if (m.kind === 'done') p.resolve(m.result);
      else p.reject(m.cancelled ? new CancelledError() : new EngineError(m.message, m.problems));
    };
    worker.onerror = (ev) => {
      for (const p of this.pending.values()) p.reject(new Error(`The build engine stopped: ${ev.message}`));
      this.pending.clear();
    };
  }

  call<K extends CallName>(call: K, args: EngineCalls[K]['args'], opts: CallOptions = {}): Promise<EngineCalls[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) { reject(new CancelledError()); return; }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress });
      opts.signal?.addEventListener('abort', () => this.worker.postMessage({ id, call: 'cancel' } satisfies Request), { once: true });
      this.worker.postMessage({ id, call, args } as Request);
    });
  }
}
