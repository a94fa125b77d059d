// The page's side of the test-boot worker: a typed wrapper that starts one worker per machine
// (stopping terminates it, which frees the emulator's memory at once).
import type { BootEvent, BootRequest, BootStart } from '../../workers/boot/protocol.ts';
import BootWorker from '../../workers/boot/worker.ts?worker';

export class Machine {
  private worker: Worker | null;
  private last: BootStart;

  constructor(start: BootStart, onEvent: (e: BootEvent) => void) {
    this.last = start;
    this.worker = new BootWorker();
    this.worker.onmessage = (ev: MessageEvent<BootEvent>) => onEvent(ev.data);
    this.worker.onerror = (ev) => onEvent({ kind: 'error', message: `The emulator stopped: ${ev.message || 'unknown error'}` });
    this.send({ kind: 'start', ...start });
  }

  private send(m: BootRequest) {
    this.worker?.postMessage(m);
  }

  write(data: string) {
    this.send({ kind: 'write', data });
  }

  /** Power-cycles a running machine; a machine whose boot ended starts again from the same files. */
  restart(ended: boolean) {
    this.send(ended ? { kind: 'start', ...this.last } : { kind: 'restart' });
  }

  stop() {
    this.send({ kind: 'stop' });
    // Give the worker a moment to stop v86 cleanly, then make sure it is gone.
    const w = this.worker;
    this.worker = null;
    setTimeout(() => w?.terminate(), 500);
  }
}
