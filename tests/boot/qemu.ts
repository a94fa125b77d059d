// Runs QEMU with the serial console on a pipe and waits for text on it: the Pi boot tests' harness.
import { spawn } from 'node:child_process';

export interface SerialRun {
  output: string;
  matched: boolean;
  seconds: number;
  code: number | null;
}

/** Starts `cmd args`, collects stdout+stderr, and resolves once every pattern has appeared (then
 *  stops QEMU), once QEMU exits, or at the timeout. */
export function runUntil(cmd: string, args: string[], patterns: (string | RegExp)[], timeoutMs: number): Promise<SerialRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const q = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let matched = false;
    let finished = false;
    const finish = (code: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ output: output.replace(/\r/g, ''), matched, seconds: (Date.now() - started) / 1000, code });
    };
    const timer = setTimeout(() => q.kill('SIGKILL'), timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      if (!matched && patterns.every((p) => (typeof p === 'string' ? output.includes(p) : p.test(output)))) {
        matched = true;
        setTimeout(() => q.kill('SIGKILL'), 200);
      }
    };
    q.stdout.on('data', onData);
    q.stderr.on('data', onData);
    q.on('error', reject);
    q.on('close', (code) => finish(code));
  });
}

export function tail(run: SerialRun, n = 3000): string {
  return `serial output after ${run.seconds.toFixed(1)} s (last ${n} chars):\n${run.output.slice(-n)}`;
}
