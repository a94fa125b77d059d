// The messages between the page and the test-boot worker (worker.ts). One machine per worker: the
// page starts it, types into its serial port, and stops or restarts it; the worker streams the
// console and the boot's milestones back.
import type { BootEnd, Milestone } from './v86.ts';

export interface BootStart {
  bios: Blob;
  kernel: Blob;
  initrd?: Blob;
  disk?: Blob;
  cmdline: string;
  memoryMiB?: number;
}

export type BootRequest =
  | ({ kind: 'start' } & BootStart)
  | { kind: 'write'; data: string }
  | { kind: 'stop' }
  | { kind: 'restart' };

export type BootEvent =
  | { kind: 'started'; memoryMiB: number; cmdline: string }
  | { kind: 'serial'; bytes: Uint8Array }
  | { kind: 'milestone'; milestone: Milestone }
  /** A shell prompt is waiting for input: the boot is usable. */
  | { kind: 'prompt'; ms: number; instructions: number }
  /** Sent a few times a second while the machine runs. */
  | { kind: 'status'; ms: number; instructions: number }
  | { kind: 'end'; end: BootEnd }
  | { kind: 'restarted' }
  | { kind: 'error'; message: string };

/** A busybox ash (or any sh) prompt at the end of the console text: "/ # ", "~ $ ". */
export const PROMPT = /(^|\n)[^\n]{0,80}[#$] $/;
