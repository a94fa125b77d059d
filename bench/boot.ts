// Benchmark: an x86 test boot in v86 in Node, from power-on to the shell prompt (busybox ash on
// the serial console). Boots BENCH_BOOTS times (default 3) with each kernel present — the pc kit,
// Debian's 686 kernel — and prints the median wall time and the guest instructions executed by
// the time the prompt appears, with the kernel and /init milestones. The initramfs is built by the
// engine: busybox and an /init that starts a shell.
//   npx tsx bench/boot.ts
// Wall times depend on the host (and its load, printed alongside); instruction counts do not, so
// they compare kernels and images across machines. No pass/fail.
import { openAsBlob } from 'node:fs';
import { loadavg } from 'node:os';
import type { Entry } from '../workers/model/entry.ts';
import { blankProject } from '../workers/model/project.ts';
import { buildInitramfs } from '../workers/pipeline.ts';
import { startBoot } from '../workers/boot/v86.ts';
import { nodeV86Wasm } from '../workers/boot/node.ts';
import { type X86Assets, debianX86, pcKit } from '../tests/boot/v86-assets.ts';

const BOOTS = Number(process.env.BENCH_BOOTS ?? 3);
const TIMEOUT_MS = 180_000;
const T = 1_700_000_000;
/** busybox ash with line editing asks the terminal where the cursor is right after each prompt. */
const CURSOR_QUERY = '\x1b[6n';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const g = (n: number) => `${(n / 1e9).toFixed(2)} G`;

async function initramfs(busybox: string): Promise<Blob> {
  const e = (path: string, type: Entry['type'], mode: number, more: Partial<Entry> = {}): Entry => ({ path, type, mode, uid: 0, gid: 0, mtime: T, ...more });
  const init = '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\n/bin/busybox mount -t devtmpfs devtmpfs /dev\n/bin/busybox --install -s /bin\nexec setsid cttyhack sh\n';
  const entries: Entry[] = [
    e('/bin', 'dir', 0o755), e('/dev', 'dir', 0o755), e('/proc', 'dir', 0o755),
    e('/dev/console', 'char', 0o600, { major: 5, minor: 1 }),
    e('/bin/busybox', 'file', 0o755, { data: await openAsBlob(busybox) }),
    e('/bin/sh', 'symlink', 0o777, { target: 'busybox' }),
    e('/init', 'file', 0o755, { data: new Blob([init]) }),
  ];
  const out = await buildInitramfs({ ...blankProject('bench', T * 1000), entries }, { sourceDateEpoch: T });
  return out.data as Blob;
}

interface Run { prompt: number; instructions: number; kernel: number; init: number }

async function bootOnce(a: X86Assets, rd: Blob): Promise<Run> {
  let atPrompt: ((r: { ms: number; instructions: number }) => void) | undefined;
  const prompt = new Promise<{ ms: number; instructions: number }>((resolve) => { atPrompt = resolve; });
  let seen = '';
  const boot = await startBoot({
    wasm: nodeV86Wasm,
    bios: await openAsBlob(a.bios),
    kernel: await openAsBlob(a.kernel),
    initrd: rd,
    cmdline: a.cmdline,
    onSerial: ({ text }) => {
      seen = (seen + text).slice(-16);
      if (atPrompt && seen.includes(CURSOR_QUERY)) {
        atPrompt({ ms: boot.elapsedMs(), instructions: boot.instructions() });
        atPrompt = undefined;
      }
    },
  });
  try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no prompt within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS).unref());
    const ended = boot.ended.then((e) => { throw new Error(e.summary); });
    const p = await Promise.race([prompt, ended, timeout]);
    const [k, i] = await Promise.all([boot.milestones.kernel, boot.milestones.init]);
    return { prompt: p.ms, instructions: p.instructions, kernel: k.ms, init: i.ms };
  } finally {
    await boot.stop();
  }
}

async function bench(a: X86Assets) {
  const rd = await initramfs(a.busybox);
  const runs: Run[] = [];
  for (let i = 0; i < BOOTS; i++) {
    const r = await bootOnce(a, rd);
    runs.push(r);
    console.log(`  ${a.name} boot ${i + 1}: prompt ${s(r.prompt)} (kernel ${s(r.kernel)}, /init ${s(r.init)}), ${g(r.instructions)} instructions; load ${loadavg()[0].toFixed(1)}`);
  }
  console.log(`${a.name.padEnd(11)} to the shell prompt: median ${s(median(runs.map((r) => r.prompt)))} wall, ${g(median(runs.map((r) => r.instructions)))} guest instructions` +
    ` (kernel running at ${s(median(runs.map((r) => r.kernel)))}, /init at ${s(median(runs.map((r) => r.init)))}; initramfs ${(rd.size / 2 ** 20).toFixed(1)} MiB, ${BOOTS} boots)`);
}

const kits = [pcKit(), debianX86()].filter((x): x is X86Assets => !!x);
if (!kits.length) {
  console.log('boot: skipped — no x86 kernel (the pc kit, or bash kits/fetch-x86-debian.sh plus Debian\'s seabios)');
} else {
  console.log(`boot: v86 in Node, power-on to the busybox prompt on ttyS0 (${BOOTS} boots each; host load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  for (const a of kits) await bench(a);
}
