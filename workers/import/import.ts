// Turns a file a user brings (initramfs, rootfs tar, gen_init_cpio list, project file) into
// entries or a project, whatever the file's name says: the content decides.
import type { Entry } from '../model/entry.ts';
import type { Project } from '../model/project.ts';
import { BootsmithError } from '../model/problems.ts';
import { readCpio } from '../cpio/read.ts';
import { readTar } from '../tar/read.ts';
import { parseCpioList } from '../cpiolist/parse.ts';
import { gunzipAll, isGzip } from '../compress/gzip.ts';
import { looksLikeProjectFile, readProjectFile } from '../projectfile/projectfile.ts';

export type ImportFormat = 'project' | 'cpio' | 'tar' | 'list';

export type Imported =
  | { format: 'project'; project: Project }
  | { format: Exclude<ImportFormat, 'project'>; entries: Entry[] };

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** What kind of archive these (already decompressed) bytes are, or undefined. */
export function sniff(bytes: Uint8Array): ImportFormat | undefined {
  if (looksLikeProjectFile(bytes)) return 'project';
  const magic = ascii(bytes, 0, 6);
  if (magic === '070701' || magic === '070702' || magic === '070707' || (bytes[0] === 0xc7 && bytes[1] === 0x71)) return 'cpio';
  if (bytes.length >= 512 && ascii(bytes, 257, 262) === 'ustar') return 'tar';
  // An old v7 tar has no magic; its header checksum still has to match.
  if (bytes.length >= 512 && v7ChecksumOk(bytes)) return 'tar';
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  if (/^\s*(#.*\n\s*)*(file|dir|nod|slink|pipe|sock)\s/m.test(head)) return 'list';
  return undefined;
}

function v7ChecksumOk(b: Uint8Array): boolean {
  const field = ascii(b, 148, 156).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i];
  return sum === parseInt(field, 8);
}

export interface ImportOptions {
  /** For a gen_init_cpio list: finds the content a `file` line names. */
  resolve?: (location: string) => Promise<Blob | undefined>;
  /** For a list: the mtime of every entry (lists carry none). */
  mtime?: number;
}

export async function importBytes(bytes: Uint8Array, fileName: string, opts: ImportOptions = {}): Promise<Imported> {
  try {
    return await importPlain(isGzip(bytes) ? gunzipAll(bytes) : bytes, fileName, opts);
  } catch (err) {
    // Say which file: a user may have picked several.
    if (err instanceof BootsmithError && !err.message.startsWith(fileName)) {
      throw new BootsmithError(`${fileName}: ${err.message}`, err.problems);
    }
    throw err;
  }
}

async function importPlain(plain: Uint8Array, fileName: string, opts: ImportOptions): Promise<Imported> {
  const format = sniff(plain);
  switch (format) {
    case 'project': return { format, project: readProjectFile(plain, fileName) };
    case 'cpio': return { format, entries: readCpio(plain) };
    case 'tar': return { format, entries: readTar(plain) };
    case 'list': {
      const resolve = opts.resolve ?? (async () => undefined);
      return { format, entries: await parseCpioList(new TextDecoder().decode(plain), resolve, { mtime: opts.mtime ?? 0 }) };
    }
    default:
      throw new BootsmithError(
        `${fileName}: not a format Bootsmith can import. Use a Bootsmith project file, an initramfs (newc .cpio or .cpio.gz), a root filesystem tar (.tar, .tar.gz) or a gen_init_cpio list.`,
      );
  }
}
