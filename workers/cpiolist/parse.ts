// The Linux kernel's gen_init_cpio list format (usr/gen_init_cpio.c), one entry per line:
//
//   # a comment                 (only with "#" in the first column)
//   file <name> <location> <mode> <uid> <gid> [<hard links>]
//   dir <name> <mode> <uid> <gid>
//   nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>        (dev_type b or c)
//   slink <name> <target> <mode> <uid> <gid>
//   pipe <name> <mode> <uid> <gid>
//   sock <name> <mode> <uid> <gid>
//
// Fields are separated by spaces or tabs; mode is octal, ids and device numbers decimal (the
// kernel tool reads them with sscanf "%o" and "%d"). The list carries no times.
//
// Where gen_init_cpio is lax we are strict, because its laxness silently drops or garbles entries:
// it ignores lines with an unknown keyword or leading whitespace, ignores extra fields, and takes
// any dev_type other than "b" as a character device. All of these are errors here.

import type { Entry, EntryType } from '../model/entry.ts';
import { normalizePath } from '../model/path.ts';
import { FormatError } from '../model/problems.ts';

export interface CpioListOptions {
  /** mtime for every entry (the list has none); default 0. */
  mtime?: number;
}

const FORMAT = 'cpio list';
const MAX32 = 0xffffffff;

/** Fields after the keyword, for the messages. */
const SYNTAX: Record<string, string> = {
  file: '<name> <location> <mode> <uid> <gid> [<hard links>]',
  dir: '<name> <mode> <uid> <gid>',
  nod: '<name> <mode> <uid> <gid> <dev_type> <maj> <min>',
  slink: '<name> <target> <mode> <uid> <gid>',
  pipe: '<name> <mode> <uid> <gid>',
  sock: '<name> <mode> <uid> <gid>',
};
const ARITY: Record<string, number> = { file: 5, dir: 4, nod: 7, slink: 5, pipe: 4, sock: 4 };
const SIMPLE: Record<string, EntryType> = { dir: 'dir', pipe: 'fifo', sock: 'socket' };

class Line {
  constructor(readonly n: number, readonly keyword: string) {}

  fail(what: string, fix: string): never {
    throw new FormatError(FORMAT, `line ${this.n}`, what, fix);
  }

  mode(text: string): number {
    if (!/^[0-7]+$/.test(text) || parseInt(text, 8) > 0o7777) {
      this.fail(`mode "${text}" is not an octal permission value (0000 to 7777)`, 'write the permission bits in octal, e.g. 0755');
    }
    return parseInt(text, 8);
  }

  number(what: string, text: string): number {
    if (!/^[0-9]+$/.test(text) || Number(text) > MAX32) this.fail(`${what} "${text}" is not a whole number from 0 to ${MAX32}`, `write the ${what} in decimal`);
    return Number(text);
  }

  path(name: string): string {
    const p = normalizePath(name);
    if (p === '' && this.keyword !== 'dir') this.fail(`"${name}" names the root directory, which can only be a dir`, 'give the entry a name below /');
    return p;
  }
}

/** Parses a gen_init_cpio list. `resolve` turns a `file` line's location into its content; an
 *  unresolved location is an error naming the line. Entries come in list order; a name listed
 *  twice is an error naming both lines (the kernel would silently keep whichever came last).
 *  "dir /" is accepted and skipped: the root is never an entry. */
export async function parseCpioList(
  text: string,
  resolve: (location: string) => Promise<Blob | undefined>,
  opts: CpioListOptions = {},
): Promise<Entry[]> {
  const mtime = opts.mtime ?? 0;
  const out = new Map<string, Entry>();
  const lineOf = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const fields = raw.trim().split(/[ \t]+/);
    const line = new Line(i + 1, fields[0]);
    if (/^[ \t]/.test(raw)) {
      if (fields[0].startsWith('#')) continue; // an indented comment: gen_init_cpio skips it too
      line.fail(`"${fields[0]}" is indented; gen_init_cpio ignores lines that do not start with the keyword`, 'remove the leading spaces or tabs');
    }
    const arity = ARITY[fields[0]];
    if (arity === undefined) {
      line.fail(`unknown keyword "${fields[0]}"`, 'use file, dir, nod, slink, pipe or sock');
    }
    const args = fields.slice(1);
    if (args.length < arity || (args.length > arity && fields[0] !== 'file')) {
      line.fail(`${fields[0]} needs ${arity} fields, ${SYNTAX[fields[0]]}, but has ${args.length}`, `write it as: ${fields[0]} ${SYNTAX[fields[0]]}`);
    }
    for (const e of await parseLine(line, args, mtime, resolve)) {
      if (e.path === '') continue;
      const first = lineOf.get(e.path);
      if (first !== undefined) line.fail(`${e.path} is already listed on line ${first}`, 'remove one of the two lines');
      lineOf.set(e.path, i + 1);
      out.set(e.path, e);
    }
  }
  return [...out.values()];
}

async function parseLine(line: Line, a: string[], mtime: number, resolve: (location: string) => Promise<Blob | undefined>): Promise<Entry[]> {
  const base = (name: string, type: EntryType, mode: string, uid: string, gid: string): Entry => ({
    path: line.path(name), type, mode: line.mode(mode), uid: line.number('uid', uid), gid: line.number('gid', gid), mtime,
  });
  switch (line.keyword) {
    case 'file': {
      const [name, location, mode, uid, gid, ...links] = a;
      const first = base(name, 'file', mode, uid, gid);
      const data = await resolve(location);
      if (!data) line.fail(`the file "${location}" for ${name} cannot be found`, 'correct the location or add the file');
      // hard links: more names for the same content
      return [first, ...links.map((l) => ({ ...first, path: line.path(l) }))].map((e) => ({ ...e, data }));
    }
    case 'slink': {
      const [name, target, mode, uid, gid] = a;
      return [{ ...base(name, 'symlink', mode, uid, gid), target }];
    }
    case 'nod': {
      const [name, mode, uid, gid, devType, major, minor] = a;
      if (devType !== 'b' && devType !== 'c') line.fail(`device type "${devType}" is neither b (block) nor c (character)`, 'write b or c');
      const e = base(name, devType === 'b' ? 'block' : 'char', mode, uid, gid);
      return [{ ...e, major: line.number('major number', major), minor: line.number('minor number', minor) }];
    }
    default: {
      const [name, mode, uid, gid] = a;
      return [base(name, SIMPLE[line.keyword], mode, uid, gid)];
    }
  }
}
