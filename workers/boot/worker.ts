// The test-boot worker: one v86 machine off the page's thread, so a busy emulator never freezes
// the app. It speaks the messages of protocol.ts.
/// <reference lib="webworker" />
import { type BootHandle, startBoot } from './v86.ts';
import { webV86Wasm } from './wasm-web.ts';
import { PROMPT, type BootEvent, type BootRequest } from './protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: BootEvent, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
let machine: BootHandle | null = null;
let ticker: ReturnType<typeof setInterval> | undefined;
let generation = 0;

/** Reports the first prompt after (re)start: the moment a person can type. */
function watchPrompt(m: BootHandle, gen: number) {
  m.waitFor(PROMPT, { from: m.textLength }).then(
    (hit) => { if (gen === generation) post({ kind: 'prompt', ms: hit.ms, instructions: hit.instructions }); },
    () => { /* the boot ended first: 'end' says why */ },
  );
}

async function start(req: Extract<BootRequest, { kind: 'start' }>) {
  if (machine) await machine.stop();
  const gen = ++generation;
  try {
    const m = await startBoot({
      bios: req.bios, kernel: req.kernel, initrd: req.initrd, disk: req.disk, cmdline: req.cmdline, memoryMiB: req.memoryMiB,
      wasm: webV86Wasm,
      onSerial: (chunk) => { if (gen === generation) post({ kind: 'serial', bytes: chunk.bytes }); },
      onMilestone: (milestone) => { if (gen === generation) post({ kind: 'milestone', milestone }); },
      onEnd: (end) => { if (gen === generation) post({ kind: 'end', end }); },
    });
    if (gen !== generation) { await m.stop(); return; }
    machine = m;
    post({ kind: 'started', memoryMiB: m.memoryMiB, cmdline: m.cmdline });
    watchPrompt(m, gen);
    clearInterval(ticker);
    ticker = setInterval(() => { if (machine === m) post({ kind: 'status', ms: m.elapsedMs(), instructions: m.instructions() }); }, 250);
    m.ended.then(() => { if (machine === m) clearInterval(ticker); });
  } catch (err) {
    if (gen === generation) post({ kind: 'error', message: (err as Error).message });
  }
}

scope.onmessage = async (ev: MessageEvent<BootRequest>) => {
  const req = ev.data;
  try {
    if (req.kind === 'start') await start(req);
    else if (req.kind === 'write') machine?.write(req.data);
    else if (req.kind === 'stop') {
      generation++;
      clearInterval(ticker);
      const m = machine;
      machine = null;
      await m?.stop();
    } else if (req.kind === 'restart' && machine) {
      const m = machine;
      await m.restart();
      post({ kind: 'restarted' });
      watchPrompt(m, generation);
      clearInterval(ticker);
      ticker = setInterval(() => { if (machine === m) post({ kind: 'status', ms: m.elapsedMs(), instructions: m.instructions() }); }, 250);
    }
  } catch (err) {
    post({ kind: 'error', message: (err as Error).message });
  }
};
