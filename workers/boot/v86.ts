// Boots an x86 kernel in v86 with nothing but a serial console: no DOM, so it runs the same in
// Node (the CLI, the tests, the benchmark) and in a module Web Worker (the app). The caller brings
// every byte: the BIOS, the kernel, the initramfs, a disk image, and v86's own WebAssembly (see
// node.ts for Node and wasm-web.ts for Vite).
import { V86 } from 'v86';
import { BootsmithError } from '../model/problems.ts';
import { ChunkedFile, type ByteStore } from '../wasi/store.ts';
import { type BootEnd, LineBuffer, cleanText, recognizeEnd, withoutTimestamp } from './console.ts';

export type { BootEnd, BootEndKind } from './console.ts';

/** Bytes as the engine has them: a Blob from a build or a kit, or an array. */
export type BootBytes = Uint8Array | ArrayBuffer | Blob;

/** A disk image the guest reads and writes in place (workers/wasi/store.ts ChunkedFile fits). */
export type DiskStore = Pick<ByteStore, 'size' | 'read' | 'write'>;

/** v86's WebAssembly: a compiled module, or its bytes. Called once per page/process and cached. */
export type V86Wasm = () => Promise<WebAssembly.Module | BufferSource>;

export interface SerialChunk {
  /** What the guest wrote, exactly (terminal escapes, \r\n and all): for a terminal. */
  bytes: Uint8Array;
  /** The same decoded as UTF-8, escapes kept. */
  text: string;
}

export type MilestoneName = 'loaded' | 'kernel' | 'init';

export interface Milestone {
  name: MilestoneName;
  /** Milliseconds since start (or the last restart). */
  ms: number;
  /** Guest instructions executed by then. */
  instructions: number;
  /** What showed it: a console line, or the machine's state. */
  evidence: string;
}

export interface BootOptions {
  /** A SeaBIOS bios.bin (Debian's seabios package; no VGA BIOS is needed for a serial console). */
  bios: BootBytes;
  /** An x86 bzImage (Debian's vmlinuz is one). */
  kernel: BootBytes;
  /** An initramfs (any format the kernel unpacks); v86 loads it at 64 MiB. */
  initrd?: BootBytes;
  /** A disk image on the first IDE channel: /dev/sda in the guest. Bytes are copied (sparsely);
   *  a DiskStore is used in place, so the guest's writes land in it. */
  disk?: BootBytes | DiskStore;
  /** The kernel command line; include console=ttyS0 or the console stays silent. */
  cmdline: string;
  /** Guest memory; by default autoMemoryMiB(initrd size). */
  memoryMiB?: number;
  wasm: V86Wasm;
  /** Every piece of console output, as it comes (batched per emulator time slice). */
  onSerial?: (chunk: SerialChunk) => void;
  onMilestone?: (m: Milestone) => void;
  onEnd?: (end: BootEnd) => void;
  /** Stop the emulator once the boot has ended (panic, /init exited, halted). Default true: a
   *  dead machine would otherwise spin a core. */
  stopWhenEnded?: boolean;
  /** Stop the emulator when aborted. */
  signal?: AbortSignal;
}

export interface Match {
  /** The matched text (of the cleaned console text, see BootHandle.text). */
  text: string;
  /** Offset of the match in the cleaned console text since start. */
  index: number;
  /** Offset just past the match: pass it as `from` to look for what comes after. */
  end: number;
  ms: number;
  instructions: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Offset in the cleaned console text to search from (default 0: everything so far). */
  from?: number;
}

export interface BootHandle {
  readonly memoryMiB: number;
  readonly cmdline: string;
  /** Resolve when the machine gets there; reject with a BootError if the boot ends first. */
  readonly milestones: Readonly<Record<MilestoneName, Promise<Milestone>>>;
  /** Resolves once: a panic, /init exiting, a halt or power-off, or stop(). Never rejects. */
  readonly ended: Promise<BootEnd>;
  /** Sends bytes to the serial port (the guest's /dev/ttyS0): text is UTF-8 encoded. */
  write(data: string | Uint8Array): void;
  /** Waits for text on the console (cleaned: no escapes, \n line ends). */
  waitFor(pattern: string | RegExp, opts?: WaitOptions): Promise<Match>;
  /** The cleaned console text so far (the most recent 4 MiB at most). */
  text(): string;
  /** Length of the cleaned console text written so far (an offset for waitFor's `from`). */
  readonly textLength: number;
  elapsedMs(): number;
  /** Guest instructions executed since start (or the last restart). */
  instructions(): number;
  /** Stops the emulator and frees it; `ended` resolves with kind "stopped" if it had not ended. */
  stop(): Promise<void>;
  /** Power-cycles the machine: a fresh emulator boots the same kernel and initramfs; the disk
   *  keeps what the guest wrote. (The guest's own `reboot` does the same.) */
  restart(): Promise<void>;
}

/** A boot that ended (or timed out) before what was waited for. */
export class BootError extends BootsmithError {
  constructor(message: string, readonly end?: BootEnd) {
    super(message);
  }
}

const MiB = 1024 * 1024;
/** v86 copies the initramfs to this guest address. */
export const INITRD_ADDRESS_MiB = 64;

/**
 * Guest memory for an initramfs of this size: the 64 MiB below it (kernel, BIOS), the archive
 * itself, room for its unpacked contents (a gzip'd tree is typically 2–4× larger) and working
 * space, rounded up to 32 MiB. At least 128 MiB, which Debian's 686 kernel boots comfortably in.
 */
export function autoMemoryMiB(initrdBytes = 0): number {
  const initrd = initrdBytes / MiB;
  const need = INITRD_ADDRESS_MiB + initrd + 4 * initrd + 48;
  return Math.max(128, Math.ceil(need / 32) * 32);
}

/** The same limit v86 enforces by throwing: the initramfs must fit above 64 MiB. */
export function checkMemory(memoryMiB: number, initrdBytes = 0): void {
  if (!Number.isInteger(memoryMiB) || memoryMiB < 16 || memoryMiB > 3072) {
    throw new BootsmithError(`Memory must be a whole number of MiB from 16 to 3072, not ${memoryMiB}.`);
  }
  if (initrdBytes && memoryMiB * MiB <= INITRD_ADDRESS_MiB * MiB + initrdBytes) {
    const min = Math.ceil(INITRD_ADDRESS_MiB + initrdBytes / MiB) + 1;
    throw new BootsmithError(`${memoryMiB} MiB is too little memory: v86 loads the ${(initrdBytes / MiB).toFixed(1)} MiB initramfs at 64 MiB, so it needs more than ${min - 1} MiB (and room to unpack it); leave the memory on auto or give at least ${autoMemoryMiB(initrdBytes)} MiB.`);
  }
}

/** True for an x86 Linux boot image (bzImage): the "HdrS" boot protocol magic at 0x202. */
export function isBzImage(head: Uint8Array): boolean {
  return head.length >= 0x206 && head[0x202] === 0x48 && head[0x203] === 0x64 && head[0x204] === 0x72 && head[0x205] === 0x53;
}

async function toArrayBuffer(b: BootBytes): Promise<ArrayBuffer> {
  if (b instanceof ArrayBuffer) return b;
  if (b instanceof Uint8Array) {
    // v86 checks `buffer instanceof ArrayBuffer` and uses the whole buffer: hand it exactly the bytes.
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer
      ? b.buffer : b.slice().buffer as ArrayBuffer;
  }
  return b.arrayBuffer();
}

function isDiskStore(d: BootBytes | DiskStore): d is DiskStore {
  return !(d instanceof Uint8Array) && !(d instanceof ArrayBuffer) && !(d instanceof Blob) && typeof (d as DiskStore).read === 'function';
}

/**
 * A disk for v86's IDE controller over a DiskStore. v86 takes any object with load/get/set and
 * calls it for each request, so a sparse multi-GiB image never has to exist as one array.
 */
class DiskBuffer {
  onload: ((e: { buffer?: ArrayBuffer }) => void) | undefined;
  onprogress: undefined;
  byteLength: number;
  constructor(private store: DiskStore) {
    // IDE addresses whole 512-byte sectors.
    this.byteLength = Math.floor(store.size / 512) * 512;
  }
  load() { this.onload?.({}); }
  private bytes(start: number, len: number): Uint8Array {
    const got = this.store.read(start, len);
    if (got.length === len) return got;
    const full = new Uint8Array(len);
    full.set(got);
    return full;
  }
  get(start: number, len: number, fn: (b: Uint8Array) => void) { fn(this.bytes(start, len)); }
  get_and_cache(start: number, len: number, fn: (b: Uint8Array) => void) { fn(this.bytes(start, len)); }
  get_from_cache(start: number, len: number) { return this.bytes(start, len); }
  set(start: number, slice: Uint8Array, fn: () => void) { this.store.write(start, slice.slice()); fn(); }
  get_buffer(fn: (b: ArrayBuffer) => void) { fn(this.bytes(0, this.byteLength).buffer as ArrayBuffer); }
  get_state() { return [this.byteLength, this.bytes(0, this.byteLength)]; }
  set_state(state: [number, Uint8Array]) {
    const f = ChunkedFile.from(state[1]);
    this.store = f;
    this.byteLength = state[0];
  }
}

/** The parts of v86's internals we read; its published types stop at the emulator object. */
interface V86Internals {
  v86?: {
    cpu: {
      instruction_counter: { [0]: number };
      instruction_pointer: { [0]: number };
      devices: { uart0?: { ier: number } };
    };
  };
}

const compiled = new WeakMap<V86Wasm, Promise<WebAssembly.Module>>();

function compileOnce(wasm: V86Wasm): Promise<WebAssembly.Module> {
  let p = compiled.get(wasm);
  if (!p) {
    p = wasm().then((m) => (m instanceof WebAssembly.Module ? m : WebAssembly.compile(m)));
    p.catch(() => compiled.delete(wasm));
    compiled.set(wasm, p);
  }
  return p;
}

interface Deferred<T> { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void; settled: boolean }
function deferred<T>(): Deferred<T> {
  const d = { settled: false } as Deferred<T>;
  d.promise = new Promise<T>((res, rej) => {
    d.resolve = (v) => { if (!d.settled) { d.settled = true; res(v); } };
    d.reject = (e) => { if (!d.settled) { d.settled = true; rej(e); } };
  });
  // Nobody has to listen to every milestone: a rejection nobody awaits is not an error here.
  d.promise.catch(() => {});
  return d;
}

/** i386 kernels run at PAGE_OFFSET and above (0xC0000000, or 0x80000000 with a 2G/2G split);
 *  the BIOS, the bzImage decompressor and user programs run below. The top MiB is the reset
 *  vector's BIOS alias. */
const KERNEL_SPACE = (ip: number) => ip >= 0x80000000 && ip < 0xfff00000;

const KEEP_TEXT = 4 * MiB;
const POLL_MS = 50;
const PANIC_REPORT_MS = 1500;

interface Waiter {
  pattern: string | RegExp;
  from: number;
  resolve(m: Match): void;
  reject(e: unknown): void;
  timer?: ReturnType<typeof setTimeout>;
}

class V86Boot implements BootHandle {
  readonly memoryMiB: number;
  readonly cmdline: string;
  milestones!: Record<MilestoneName, Promise<Milestone>>;
  ended!: Promise<BootEnd>;

  private emulator!: V86 & V86Internals;
  private opts: BootOptions;
  private machine: (fail: (err: unknown) => void) => V86;
  private reached!: Record<MilestoneName, Deferred<Milestone>>;
  private end!: Deferred<BootEnd>;
  private started = 0;
  private total = 0;
  private lastCounter = 0;
  private pending: number[] = [];
  private decoder = new TextDecoder();
  private lines = new LineBuffer();
  private history: string[] = [];
  private cleaned = '';
  private dropped = 0;
  private waiters = new Set<Waiter>();
  private poller: ReturnType<typeof setInterval>;
  private initCandidate = false;
  /** A panic seen, reported once the kernel has printed the rest of it. */
  private dying: BootEnd | undefined;
  private dyingTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;
  private onAbort = () => { void this.stop(); };

  constructor(machine: (fail: (err: unknown) => void) => V86, opts: BootOptions, memoryMiB: number, started: number) {
    this.machine = machine;
    this.opts = opts;
    this.memoryMiB = memoryMiB;
    this.cmdline = opts.cmdline;
    this.reset();
    this.started = started;
    this.poller = setInterval(() => this.poll(), POLL_MS);
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Makes and starts an emulator; resolves once it runs. */
  async power(): Promise<void> {
    let fail!: (err: unknown) => void;
    const failed = new Promise<never>((_, reject) => { fail = reject; });
    const emulator = this.machine(fail) as V86 & V86Internals;
    this.emulator = emulator;
    // A new machine counts from zero.
    this.lastCounter = 0;
    this.total = 0;
    emulator.add_listener('serial0-output-byte', (byte: number) => {
      if (emulator !== this.emulator) return;
      // Called from inside the emulator's time slice: collect, and hand out once it yields.
      if (!this.pending.length) queueMicrotask(() => this.flush());
      this.pending.push(byte);
    });
    await Promise.race([failed, new Promise<void>((resolve) => emulator.add_listener('emulator-started', () => resolve()))]);
    this.reach('loaded', 'the emulator is running');
  }

  /** (Re)arms milestones and the end for a fresh boot. */
  private reset() {
    this.started = Date.now();
    this.initCandidate = false;
    this.history = [];
    clearTimeout(this.dyingTimer);
    this.dying = undefined;
    this.reached = { loaded: deferred(), kernel: deferred(), init: deferred() };
    this.milestones = { loaded: this.reached.loaded.promise, kernel: this.reached.kernel.promise, init: this.reached.init.promise };
    if (!this.end || this.end.settled) {
      this.end = deferred();
      this.ended = this.end.promise;
    }
  }

  private readCounter(): number {
    return (this.emulator?.v86?.cpu.instruction_counter[0] ?? 0) >>> 0;
  }

  instructions(): number {
    // v86 counts in 32 bits, which wrap every few seconds of emulation: accumulate deltas (the
    // poller reads it every 50 ms, far more often than it can wrap).
    const now = this.readCounter();
    this.total += (now - this.lastCounter) >>> 0;
    this.lastCounter = now;
    return this.total;
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  get textLength(): number {
    return this.dropped + this.cleaned.length;
  }

  text(): string {
    return this.cleaned;
  }

  private reach(name: MilestoneName, evidence: string) {
    const d = this.reached[name];
    if (d.settled) return;
    const m: Milestone = { name, ms: this.elapsedMs(), instructions: this.instructions(), evidence };
    d.resolve(m);
    this.opts.onMilestone?.(m);
  }

  private poll() {
    const cpu = this.emulator?.v86?.cpu;
    if (!cpu || this.destroyed) return;
    this.instructions();
    if (!this.reached.kernel.settled && KERNEL_SPACE(cpu.instruction_pointer[0] >>> 0)) {
      this.reach('kernel', 'the CPU is running kernel code');
    }
    // The kernel enables the UART's receive interrupt when a program first opens the console:
    // just before it runs /init, or when /init opens /dev/console itself. (Probing also sets the
    // bit for a few instructions, so it must be seen on two polls in a row.)
    if (this.reached.kernel.settled && !this.reached.init.settled) {
      const rx = ((cpu.devices.uart0?.ier ?? 0) & 1) !== 0;
      if (rx && this.initCandidate) this.reach('init', 'a program opened the serial console');
      this.initCandidate = rx;
    }
  }

  private flush() {
    if (!this.pending.length) return;
    const bytes = Uint8Array.from(this.pending);
    this.pending = [];
    const text = this.decoder.decode(bytes, { stream: true });
    this.opts.onSerial?.({ bytes, text });
    this.consume(cleanText(text));
  }

  private consume(clean: string) {
    if (!clean) return;
    this.cleaned += clean;
    for (const line of this.lines.push(clean)) this.onLine(line);
    this.checkWaiters();
    if (this.cleaned.length > KEEP_TEXT) {
      const cut = this.cleaned.length - KEEP_TEXT / 2;
      this.cleaned = this.cleaned.slice(cut);
      this.dropped += cut;
    }
  }

  private onLine(line: string) {
    const text = withoutTimestamp(line);
    if (/^Linux version /.test(text)) this.reach('kernel', line);
    // v86's own reset would restart the BIOS without reloading the kernel: power-cycle instead.
    if (/^reboot: Restarting system/.test(text) && !this.end.settled) {
      setTimeout(() => { if (!this.destroyed) void this.restart(); }, 0);
      return;
    }
    const run = /Run (\S+) as init process/.exec(text);
    if (run) {
      this.reach('kernel', line);
      this.reach('init', line);
    }
    if (this.dying && /---\[ end Kernel panic/.test(text)) this.finish(this.dying);
    const end = this.dying ? undefined : recognizeEnd(line, this.history);
    this.history.push(line);
    if (this.history.length > 200) this.history.splice(0, 100);
    if (!end) return;
    const result = { ...end, ms: this.elapsedMs(), instructions: this.instructions() };
    // A panic shows the kernel ran; /init exiting shows it ran too (maybe too briefly to be seen).
    if (end.kind !== 'halted') this.reach('kernel', line);
    if (end.kind === 'init-exit') this.reach('init', line);
    if (end.kind === 'halted') {
      this.finish(result);
    } else {
      // Let the kernel finish its report (registers, call trace) before the machine is stopped.
      this.dying = result;
      this.dyingTimer = setTimeout(() => this.finish(result), PANIC_REPORT_MS);
    }
  }

  private finish(end: BootEnd) {
    clearTimeout(this.dyingTimer);
    this.dying = undefined;
    if (this.end.settled) return;
    this.end.resolve(end);
    const err = new BootError(end.summary, end);
    for (const name of ['kernel', 'init'] as const) this.reached[name].reject(err);
    for (const w of this.waiters) this.settle(w, undefined, err);
    this.opts.onEnd?.(end);
    if (end.kind !== 'stopped' && this.opts.stopWhenEnded !== false) void this.emulator.stop();
  }

  private checkWaiters() {
    for (const w of this.waiters) {
      const m = this.search(w.pattern, w.from);
      if (m) this.settle(w, m);
    }
  }

  private search(pattern: string | RegExp, from: number): Match | undefined {
    const start = Math.max(0, from - this.dropped);
    const hay = this.cleaned.slice(start);
    let index = -1;
    let text = '';
    if (typeof pattern === 'string') {
      index = hay.indexOf(pattern);
      text = pattern;
    } else {
      const re = new RegExp(pattern.source, pattern.flags.replace('g', '').replace('y', ''));
      const m = re.exec(hay);
      if (m) { index = m.index; text = m[0]; }
    }
    if (index < 0) return undefined;
    const abs = this.dropped + start + index;
    return { text, index: abs, end: abs + text.length, ms: this.elapsedMs(), instructions: this.instructions() };
  }

  private settle(w: Waiter, m?: Match, err?: unknown) {
    if (!this.waiters.delete(w)) return;
    if (w.timer) clearTimeout(w.timer);
    if (m) w.resolve(m); else w.reject(err);
  }

  waitFor(pattern: string | RegExp, opts: WaitOptions = {}): Promise<Match> {
    const from = opts.from ?? 0;
    const now = this.search(pattern, from);
    if (now) return Promise.resolve(now);
    if (this.end.settled) {
      return this.end.promise.then((end) => { throw new BootError(`${end.summary} before "${String(pattern)}" appeared`, end); });
    }
    return new Promise<Match>((resolve, reject) => {
      const w: Waiter = { pattern, from, resolve, reject };
      if (opts.timeoutMs !== undefined) {
        w.timer = setTimeout(() => this.settle(w, undefined, new BootError(`"${String(pattern)}" did not appear within ${(opts.timeoutMs! / 1000).toFixed(0)} s`)), opts.timeoutMs);
      }
      this.waiters.add(w);
    });
  }

  write(data: string | Uint8Array) {
    if (this.destroyed) throw new BootError('The machine has been stopped.');
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.emulator.serial_send_bytes(0, bytes);
  }

  async stop() {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.poller);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.flush();
    if (this.dying) this.finish(this.dying);
    this.finish({ kind: 'stopped', summary: 'the machine was stopped', lines: [], ms: this.elapsedMs(), instructions: this.instructions() });
    await this.emulator.destroy();
  }

  async restart() {
    if (this.destroyed) throw new BootError('The machine has been stopped.');
    this.flush();
    const old = this.emulator;
    this.pending = [];
    this.decoder = new TextDecoder();
    await old.destroy();
    // Whatever was half-written ends its line, so the new boot starts on a fresh one.
    if (this.lines.pending) this.consume('\n');
    this.reset();
    await this.power();
  }
}

/**
 * Starts a machine: resolves once the emulator runs (the BIOS is starting). Watch `milestones`,
 * `ended` and `onSerial`, and `stop()` it when done.
 */
export async function startBoot(opts: BootOptions): Promise<BootHandle> {
  const started = Date.now();
  if (!opts.bios) throw new BootsmithError('v86 needs a BIOS (SeaBIOS bios.bin) to boot.');
  const [bios, kernel, initrd] = await Promise.all([toArrayBuffer(opts.bios), toArrayBuffer(opts.kernel), opts.initrd ? toArrayBuffer(opts.initrd) : undefined]);
  if (!isBzImage(new Uint8Array(kernel, 0, Math.min(kernel.byteLength, 0x206)))) {
    throw new BootsmithError('The kernel is not an x86 bzImage (no "HdrS" boot header), so v86 cannot boot it: use a 32-bit x86 kernel such as the PC kit\'s vmlinuz.');
  }
  const memoryMiB = opts.memoryMiB ?? autoMemoryMiB(initrd?.byteLength);
  checkMemory(memoryMiB, initrd?.byteLength);
  let disk: DiskStore | undefined;
  if (opts.disk) {
    disk = isDiskStore(opts.disk) ? opts.disk : ChunkedFile.from(new Uint8Array(await toArrayBuffer(opts.disk)));
    if (disk.size < 512) throw new BootsmithError('The disk image is smaller than one 512-byte sector.');
  }
  const module = await compileOnce(opts.wasm);
  opts.signal?.throwIfAborted();

  const machine = (fail: (err: unknown) => void) => new V86({
    wasm_fn: async (imports: WebAssembly.Imports) => {
      try {
        return (await WebAssembly.instantiate(module, imports)).exports;
      } catch (err) {
        // v86 does not catch this itself: report it, and leave that machine unborn.
        fail(new BootsmithError(`The emulator's WebAssembly did not start: ${(err as Error).message}`));
        return new Promise<never>(() => {});
      }
    },
    bios: { buffer: bios },
    bzimage: { buffer: kernel },
    ...(initrd ? { initrd: { buffer: initrd } } : {}),
    // v86 takes any object with load/get/set as a disk; each machine gets its own over one store.
    ...(disk ? { hda: new DiskBuffer(disk) as never } : {}),
    cmdline: opts.cmdline,
    memory_size: memoryMiB * MiB,
    // No screen: the smallest VGA memory v86 allows.
    vga_memory_size: 256 * 1024,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  });
  const boot = new V86Boot(machine, opts, memoryMiB, started);
  try {
    await boot.power();
  } catch (err) {
    await boot.stop().catch(() => {});
    throw err;
  }
  return boot;
}
