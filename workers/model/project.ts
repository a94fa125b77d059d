// A project: the root filesystem a user composes plus what to build from it. The same record is
// kept in IndexedDB by the app and written to a project file by the app and the CLI.
import type { Entry } from './entry.ts';

export const PROJECT_FORMAT = 'bootsmith-project';
export const PROJECT_VERSION = 1;

export interface InitramfsOptions {
  enabled: boolean;
  /** gzip is what every kernel unpacks; "none" gives a plain newc archive. */
  compression: 'gzip' | 'none';
}

export interface Project {
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  created: number;
  modified: number;
  /** Seconds since the epoch: builds clamp every timestamp to it, so a project builds the same
   *  bytes tomorrow. SOURCE_DATE_EPOCH in the environment overrides it. */
  sourceDateEpoch: number;
  /** The root filesystem, kept sorted by path (see tree.ts). */
  entries: Entry[];
  initramfs: InitramfsOptions;
}

export function newProjectId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function blankProject(name: string, now = Date.now()): Project {
  return {
    id: newProjectId(),
    name,
    created: now,
    modified: now,
    sourceDateEpoch: Math.floor(now / 1000),
    entries: [],
    initramfs: { enabled: true, compression: 'gzip' },
  };
}

/** Reads SOURCE_DATE_EPOCH's value (a decimal count of seconds); undefined when unset or empty. */
export function parseSourceDateEpoch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not "${value}"`);
  }
  return Number(value.trim());
}
