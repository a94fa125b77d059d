// What the serial console says, as text a program can match: escape sequences removed, lines
// split, and the kernel's last words (a panic, /init exiting, a halt) recognised with the lines
// that explain them. Pure functions: the v86 runner, the CLI and the tests share them.

/** CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), character-set choices (ESC ( B) and
 *  two-byte escapes (ESC 7, ESC =, ESC c, …). */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/][0-~]|\x1b[0-Z\\-~]/g;

/** Text without terminal escape sequences, carriage returns or other C0 controls except \n and \t.
 *  (busybox ash writes ESC[6n after every prompt to ask where the cursor is.) */
export function cleanText(s: string): string {
  return s.replace(ESCAPES, '').replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/** Collects console text and hands out whole lines; the unfinished last line stays pending. */
export class LineBuffer {
  private partial = '';

  push(text: string): string[] {
    const all = this.partial + text;
    const parts = all.split('\n');
    this.partial = parts.pop() ?? '';
    return parts;
  }

  /** The line being written (e.g. a prompt waiting for input). */
  get pending(): string {
    return this.partial;
  }
}

export type BootEndKind = 'panic' | 'init-exit' | 'halted' | 'stopped';

/** How a boot ended. `lines` are the console lines that explain it, oldest first. */
export interface BootEnd {
  kind: BootEndKind;
  /** One line for a person: "kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)". */
  summary: string;
  /** For a panic: the text after "Kernel panic - not syncing: ". */
  reason?: string;
  /** For init-exit: the exit status /init ended with, or the signal that killed it. */
  status?: number;
  signal?: number;
  lines: string[];
  /** Milliseconds since the boot started, and guest instructions executed by then. */
  ms: number;
  instructions: number;
}

const PANIC = /Kernel panic - not syncing: ?(.*)$/;
const KILL_INIT = /Attempted to kill init! exitcode=(0x[0-9a-f]+)/i;
const HALT = /reboot: (Power down|System halted)/;

/** Kernel log prefixes ("[    1.234567] ") do not matter to a reader of the summary. */
export function withoutTimestamp(line: string): string {
  return line.replace(/^<\d>/, '').replace(/^\[\s*\d+\.\d+\]\s?/, '');
}

/** Lines before a panic that say why it happened. */
const CAUSES = [
  /Run .* as init process/, /Failed to execute/, /Starting init: .* exists but couldn't execute/,
  /No working init found/, /VFS: /, /Cannot open root device/, /Please append a correct "root="/,
  /List of all partitions/, /No filesystem could mount root/, /Unable to mount root/,
  /Initramfs unpacking failed/, /unable to open an initial console/i, /Out of memory/, /Kernel panic/,
  /BUG: /, /Oops/, /general protection fault/, /EXT4-fs .*error/i, /Requested init .* failed/,
];

/** If a line ends the boot (a panic, a halt), the structured result; `history` holds the lines
 *  before it (most recent last) for context. */
export function recognizeEnd(line: string, history: readonly string[]): Omit<BootEnd, 'ms' | 'instructions'> | undefined {
  const text = withoutTimestamp(line).trim();
  const panic = PANIC.exec(text);
  if (panic) {
    const reason = panic[1].trim();
    const causes = history.slice(-40).filter((l) => CAUSES.some((re) => re.test(l))).slice(-8);
    const lines = [...causes, line];
    const kill = KILL_INIT.exec(reason);
    if (kill) {
      const code = parseInt(kill[1], 16);
      // exitcode is the wait status: the exit status in bits 8-15, or a signal number in bits 0-6.
      const signal = code & 0x7f;
      const status = (code >> 8) & 0xff;
      return signal
        ? { kind: 'init-exit', summary: `/init was killed by signal ${signal} (the kernel panics when PID 1 ends)`, reason, signal, lines }
        : { kind: 'init-exit', summary: `/init exited with status ${status} (the kernel panics when PID 1 ends)`, reason, status, lines };
    }
    return { kind: 'panic', summary: `kernel panic: ${reason || 'no reason given'}`, reason, lines };
  }
  const halt = HALT.exec(text);
  if (halt) return { kind: 'halted', summary: halt[1] === 'Power down' ? 'the machine powered off' : 'the machine halted', lines: [line] };
  return undefined;
}
