// The Test boot screen's state: one machine at a time, its phase, a boot timer, and how it ended.
// Building the boot files runs in the engine worker; the emulator runs in its own worker.
import type { BootEnd, Milestone } from '../../workers/boot/v86.ts';
import type { BootEvent } from '../../workers/boot/protocol.ts';
import type { Project } from '../../workers/model/project.ts';
import { engine } from '../lib/engine.ts';
import { Machine } from './machine.ts';

export type Phase = 'idle' | 'preparing' | 'booting' | 'ready' | 'ended' | 'failed';

/** Whatever shows the console (the terminal component) registers here. */
export interface ConsoleSink {
  write(bytes: Uint8Array | string): void;
  reset(): void;
}

/** A kit project with its ext4 root on boots from the disk (its cmdline.txt names root=/dev/sda2). */
export function diskRequired(p: Project): boolean {
  return !!p.board && p.ext4.enabled;
}

class TestBoot {
  phase = $state<Phase>('idle');
  /** Milliseconds since the click (preparing included) and since the machine started. */
  sinceClick = $state(0);
  sinceStart = $state(0);
  instructions = $state(0);
  /** Click to the first shell prompt. */
  promptMs = $state<number | null>(null);
  promptInstructions = $state<number | null>(null);
  milestones = $state.raw<Milestone[]>([]);
  end = $state.raw<BootEnd | null>(null);
  error = $state<string | null>(null);
  memoryMiB = $state<number | null>(null);
  cmdline = $state('');
  what = $state.raw<string[]>([]);
  useDisk = $state(false);
  projectId = $state<string | null>(null);

  private machine: Machine | null = null;
  private sink: ConsoleSink | null = null;
  private clickedAt = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private prep: AbortController | null = null;

  get running(): boolean {
    return this.phase === 'preparing' || this.phase === 'booting' || this.phase === 'ready';
  }

  attach(sink: ConsoleSink | null) {
    this.sink = sink;
  }

  /** Builds what the boot needs and starts the machine. */
  async start(project: Project) {
    this.stop();
    this.reset();
    this.projectId = project.id;
    this.phase = 'preparing';
    this.clickedAt = performance.now();
    this.timer = setInterval(() => (this.sinceClick = performance.now() - this.clickedAt), 100);
    this.sink?.reset();
    const disk = this.useDisk || diskRequired(project);
    this.sink?.write('\x1b[2mBuilding the initramfs' + (disk ? ' and the disk' : '') + '…\x1b[0m\r\n');
    const prep = (this.prep = new AbortController());
    try {
      const inputs = await engine.call('testBootInputs', { project, disk }, { signal: prep.signal });
      if (prep.signal.aborted) return;
      this.what = inputs.what;
      this.cmdline = inputs.cmdline;
      this.phase = 'booting';
      this.sink?.write(`\x1b[2m${inputs.what.join(' · ')}\r\nkernel command line: ${inputs.cmdline}\x1b[0m\r\n`);
      this.machine = new Machine({ bios: inputs.bios, kernel: inputs.kernel, initrd: inputs.initrd, disk: inputs.disk, cmdline: inputs.cmdline }, (e) => this.onEvent(e));
    } catch (err) {
      if (prep.signal.aborted) return;
      this.fail((err as Error).message);
    } finally {
      if (this.prep === prep) this.prep = null;
    }
  }

  private onEvent(e: BootEvent) {
    switch (e.kind) {
      case 'started': this.memoryMiB = e.memoryMiB; break;
      case 'serial': this.sink?.write(e.bytes); break;
      case 'status': this.sinceStart = e.ms; this.instructions = e.instructions; break;
      case 'milestone': this.milestones = [...this.milestones, e.milestone]; break;
      case 'prompt':
        if (this.promptMs === null) {
          this.promptMs = performance.now() - this.clickedAt;
          this.promptInstructions = e.instructions;
        }
        if (this.phase === 'booting') this.phase = 'ready';
        clearInterval(this.timer);
        break;
      case 'end':
        if (e.end.kind === 'stopped') break;
        this.end = e.end;
        this.phase = 'ended';
        clearInterval(this.timer);
        break;
      case 'restarted': break;
      case 'error': this.fail(e.message); break;
    }
  }

  private fail(message: string) {
    this.error = message;
    this.phase = 'failed';
    clearInterval(this.timer);
    this.machine?.stop();
    this.machine = null;
  }

  /** Sends what the user typed or pasted to the serial port. */
  type(data: string) {
    if (this.phase === 'booting' || this.phase === 'ready') this.machine?.write(data);
  }

  restart() {
    if (!this.machine) return;
    const ended = this.phase === 'ended';
    this.end = null;
    this.milestones = [];
    this.promptMs = null;
    this.promptInstructions = null;
    this.phase = 'booting';
    this.clickedAt = performance.now();
    clearInterval(this.timer);
    this.timer = setInterval(() => (this.sinceClick = performance.now() - this.clickedAt), 100);
    this.sink?.write('\r\n\x1b[2m— restarting —\x1b[0m\r\n');
    this.machine.restart(ended);
  }

  stop() {
    this.prep?.abort();
    this.prep = null;
    clearInterval(this.timer);
    if (this.machine) {
      this.machine.stop();
      this.machine = null;
      if (this.running) this.phase = 'idle';
      this.sink?.write('\r\n\x1b[2m— stopped —\x1b[0m\r\n');
    } else if (this.phase === 'preparing') this.phase = 'idle';
  }

  private reset() {
    this.sinceClick = 0;
    this.sinceStart = 0;
    this.instructions = 0;
    this.promptMs = null;
    this.promptInstructions = null;
    this.milestones = [];
    this.end = null;
    this.error = null;
    this.memoryMiB = null;
    this.what = [];
  }
}

export const testBoot = new TestBoot();
