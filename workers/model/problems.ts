// Errors and warnings that reach a user. Every message names what is wrong and how to fix it.

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** The entry the problem is about, when there is one. */
  path?: string;
  /** What is wrong, in one sentence. */
  message: string;
  /** What to do about it. */
  fix?: string;
}

/** An error meant for the user: its message is complete and can be shown as it is. */
export class BootsmithError extends Error {
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[] = []) {
    super(message);
    this.name = 'BootsmithError';
    this.problems = problems;
  }
}

/** A malformed input file (cpio, tar, list, project file); `where` says where in it. */
export class FormatError extends BootsmithError {
  constructor(format: string, where: string, what: string, fix = '') {
    super(`${format}: ${where}: ${what}${fix ? ` — ${fix}` : ''}`);
    this.name = 'FormatError';
  }
}

export class CancelledError extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

export function describeProblem(p: Problem): string {
  return `${p.path ? p.path + ': ' : ''}${p.message}${p.fix ? ` ${p.fix}` : ''}`;
}
