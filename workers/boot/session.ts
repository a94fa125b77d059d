// Scripted sessions on a shell at the serial console: send a command, get back what it printed
// and its exit status. Each command is wrapped in two markers the shell prints itself, so the
// terminal's echo of the typed line (which busybox ash redraws and wraps at 80 columns) and the
// prompts never mix with the output.
import { BootError, type BootHandle } from './v86.ts';

export interface CommandResult {
  /** What the command printed (stdout and stderr, cleaned: \n line ends, no escapes), without
   *  the final newline. */
  output: string;
  status: number;
  ms: number;
}

export interface ShellOptions {
  /** Per-command timeout (default 30 s). */
  timeoutMs?: number;
}

/** busybox's line editor holds at most 1024 characters (CONFIG_FEATURE_EDITING_MAX_LEN). */
export const MAX_COMMAND = 900;

/** `s` as one single-quoted shell word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class SerialShell {
  private n = 0;
  private readonly nonce = Math.random().toString(36).slice(2, 8);

  constructor(private readonly boot: BootHandle, private readonly opts: ShellOptions = {}) {}

  /** Marker text as the shell prints it, and as it is typed: the empty quotes split the typed
   *  form, so the echo of the command line can never match the printed one. */
  private marker(kind: string, n: number): { printed: string; typed: string } {
    const printed = `__BS_${kind}_${this.nonce}_${n}__`;
    return { printed, typed: `__BS_${kind}""_${this.nonce}_${n}__` };
  }

  /**
   * Waits until a shell answers on the console: sends a marker command every `everyMs` until its
   * output comes back. Input typed before the console is open can be lost (the serial driver
   * clears its FIFO when it starts), hence the repeats.
   */
  async ready(opts: { timeoutMs?: number; everyMs?: number } = {}): Promise<number> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const everyMs = opts.everyMs ?? 2_000;
    const start = this.boot.elapsedMs();
    const n = ++this.n;
    const { printed, typed } = this.marker('READY', n);
    const seen = this.boot.waitFor(printed, { from: this.boot.textLength, timeoutMs });
    seen.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    let probing = true;
    const probe = () => {
      if (!probing) return;
      try { this.boot.write(`echo ${typed}\n`); } catch { return; }
      timer = setTimeout(probe, everyMs);
    };
    // Type only once /init runs (before that nothing reads the console), or once the answer is
    // overdue, in case the machine never showed that milestone.
    void Promise.race([
      this.boot.milestones.init.catch(() => undefined),
      new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs / 2); }),
    ]).then(() => { clearTimeout(timer); probe(); });
    try {
      await seen;
    } catch (err) {
      throw err instanceof BootError && !err.end
        ? new BootError(`no shell answered on the serial console within ${(timeoutMs / 1000).toFixed(0)} s`)
        : err;
    } finally {
      probing = false;
      clearTimeout(timer);
    }
    return this.boot.elapsedMs() - start;
  }

  /** Runs one command line in the shell (so `cd` and variables persist) and returns its output
   *  and exit status. */
  async run(command: string, opts: ShellOptions = {}): Promise<CommandResult> {
    if (command.includes('\n')) throw new Error('run() takes one command line; join commands with ; or &&');
    if (shellQuote(command).length + 80 > MAX_COMMAND) throw new Error(`the command is ${command.length} characters; the shell's line editor takes about ${MAX_COMMAND}: put it in a script file instead`);
    const n = ++this.n;
    const begin = this.marker('BEGIN', n);
    const end = this.marker('END', n);
    const t0 = this.boot.elapsedMs();
    const from = this.boot.textLength;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    const started = this.boot.waitFor(begin.printed + '\n', { from, timeoutMs });
    const finished = this.boot.waitFor(new RegExp(`${end.printed} rc=(\\d+)\\n`), { from, timeoutMs });
    finished.catch(() => {});
    // One line, so that only its echo precedes the output; eval keeps a trailing comment in
    // `command` from swallowing the status marker, and runs in this shell (cd, variables stay).
    this.boot.write(`echo ${begin.typed}; eval ${shellQuote(command)}; echo ${end.typed} rc=$?\n`);
    const b = await started;
    const e = await finished;
    const all = this.boot.text();
    const base = this.boot.textLength - all.length;
    const output = all.slice(b.end - base, e.index - base).replace(/\n$/, '');
    const status = Number(/rc=(\d+)/.exec(e.text)![1]);
    return { output, status, ms: this.boot.elapsedMs() - t0 };
  }
}
