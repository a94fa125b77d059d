// Writes entries as a gen_init_cpio list (see parse.ts for the format).

import type { Entry } from '../model/entry.ts';
import { BootsmithError } from '../model/problems.ts';

function field(e: Entry, what: string, value: string): string {
  // the format splits on whitespace and has no quoting
  if (value === '' || /[\s]/.test(value)) {
    const message = `the ${what} ${JSON.stringify(value)} ${value === '' ? 'is empty' : 'contains whitespace'}, which a gen_init_cpio list cannot hold`;
    const fix = 'rename it, or export as cpio or tar instead';
    throw new BootsmithError(`cpio list: ${e.path}: ${message} — ${fix}`, [{ severity: 'error', path: e.path, message, fix }]);
  }
  return value;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** One line per entry, in the given order. `locationOf` says where a regular file's content
 *  will be found when the list is used (a path on the build machine). */
export function writeCpioList(entries: Entry[], locationOf: (e: Entry) => string): string {
  let out = '';
  for (const e of entries) {
    const name = field(e, 'name', e.path);
    const tail = `${octal(e.mode)} ${e.uid} ${e.gid}`;
    switch (e.type) {
      case 'file': out += `file ${name} ${field(e, 'location', locationOf(e))} ${tail}\n`; break;
      case 'dir': out += `dir ${name} ${tail}\n`; break;
      case 'symlink': out += `slink ${name} ${field(e, 'link target', e.target ?? '')} ${tail}\n`; break;
      case 'char': case 'block': out += `nod ${name} ${tail} ${e.type === 'char' ? 'c' : 'b'} ${e.major ?? 0} ${e.minor ?? 0}\n`; break;
      case 'fifo': out += `pipe ${name} ${tail}\n`; break;
      case 'socket': out += `sock ${name} ${tail}\n`; break;
    }
  }
  return out;
}
