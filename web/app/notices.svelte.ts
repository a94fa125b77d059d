// Messages to the user: errors that say what went wrong and how to fix it, and brief confirmations.
import { BootsmithError, CancelledError } from '../../workers/model/problems.ts';

export interface Notice {
  id: number;
  kind: 'error' | 'warning' | 'info';
  text: string;
}

let nextId = 1;

class Notices {
  list = $state<Notice[]>([]);

  push(kind: Notice['kind'], text: string, ms = kind === 'info' ? 4000 : 0): void {
    const id = nextId++;
    this.list.push({ id, kind, text });
    if (ms) setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
  }

  /** Shows an error; a user's cancel is not one. */
  error(err: unknown): void {
    if (err instanceof CancelledError) return;
    const text = err instanceof BootsmithError ? err.message : `Something went wrong: ${(err as Error)?.message ?? err}`;
    if (!(err instanceof BootsmithError)) console.error(err);
    this.push('error', text);
  }
}

export const notices = new Notices();
