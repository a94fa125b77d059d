// The cpio reader: newc and crc archives, plain or gzip-compressed, one or several back to back —
// what the kernel accepts as an initramfs (e.g. an uncompressed early-microcode archive followed by
// the gzip-compressed main one).

import { type Entry, S_IFMT, typeFromMode } from '../model/entry.ts';
import { normalizePath } from '../model/path.ts';
import { FormatError } from '../model/problems.ts';
import { gunzipMembers, isGzip } from '../compress/gzip.ts';
import { otherCompressionAt } from '../compress/sniff.ts';
import { blobOf, latin1, printable as show } from '../compress/bytes.ts';
import { align4, FIELDS, type Header, HEADER_SIZE, MAGIC_CRC, MAGIC_NEWC, TRAILER } from './newc.ts';

const TRUNCATED = 'the file is truncated; re-create or re-download it';
const DAMAGED = 'the archive is damaged; re-create or re-download it';
const NEWC_ONLY = 're-create it in the newc format: `find . | cpio -o -H newc > archive.cpio`';

/** The bytes being parsed and how to say where they are in the user's file. */
interface Source {
  bytes: Uint8Array;
  /** Appended to "at byte N": "" for the file itself, or which gzip stream the bytes came from. */
  label: string;
}

function fail(src: Source, offset: number, name: string | undefined, what: string, fix: string): never {
  const entry = name === undefined ? '' : ` (entry "${name}")`;
  throw new FormatError('cpio', `at byte ${offset}${src.label}${entry}`, what, fix);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

/** Throws the most helpful error when the bytes at `pos` do not start a newc/crc header. */
function checkMagic(src: Source, pos: number, prev: string | undefined): void {
  const b = src.bytes;
  const magic = latin1(b, pos, pos + 6);
  if (magic === MAGIC_NEWC || magic === MAGIC_CRC) {
    if (pos % 4 !== 0) fail(src, pos, undefined, 'a cpio archive starts at an offset that is not a multiple of 4 (the kernel rejects that)', 'pad the archive before it with zeros to a multiple of 4 bytes');
    return;
  }
  if (magic === '070707') fail(src, pos, prev, 'this is an old portable (odc) cpio archive; only the newc format is supported', NEWC_ONLY);
  if ((b[pos] === 0xc7 && b[pos + 1] === 0x71) || (b[pos] === 0x71 && b[pos + 1] === 0xc7)) {
    fail(src, pos, prev, 'this is an old binary cpio archive; only the newc format is supported', NEWC_ONLY);
  }
  const other = otherCompressionAt(b, pos);
  if (other) fail(src, pos, prev, `this is ${other.name}-compressed data; only gzip compression is supported`, `decompress it first (\`${other.tool}\`), optionally re-compress it with gzip`);
  if (latin1(b, pos + 257, pos + 262) === 'ustar') fail(src, pos, prev, 'this is a tar archive, not cpio', 'import it as a tar archive');
  const where = prev === undefined ? 'where a cpio archive should start' : `where the header after entry "${prev}" should start`;
  fail(src, pos, undefined, `found ${show(magic)} ${where} (expected "070701", newc)`, prev === undefined ? 'this is not a newc cpio archive' : DAMAGED);
}

function parseHeader(src: Source, pos: number): Header {
  const h = {} as Header;
  FIELDS.forEach((field, i) => {
    const at = pos + 6 + 8 * i;
    const text = latin1(src.bytes, at, at + 8);
    if (!/^[0-9A-Fa-f]{8}$/.test(text)) fail(src, at, undefined, `the ${field} field ${show(text)} is not 8 hexadecimal digits`, DAMAGED);
    h[field] = parseInt(text, 16);
  });
  return h;
}

function decodeName(src: Source, pos: number, raw: Uint8Array, what: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    fail(src, pos, lossy.decode(raw), `the ${what} is not valid UTF-8`, 'rename it with a UTF-8 name and re-create the archive');
  }
}

/** A hard-link group: every name of one inode; the data travels with one of them (GNU cpio and
 *  gen_init_cpio put it on the last). */
interface LinkGroup { members: Entry[]; data?: Blob }

/** Parses one archive starting at `start` (a header); returns the offset after its trailer. */
function readArchive(src: Source, start: number, out: Map<string, Entry>): number {
  const b = src.bytes;
  const links = new Map<string, LinkGroup>();
  let prev: string | undefined;
  for (let pos = start; ;) {
    if (pos >= b.length) fail(src, pos, undefined, `the archive ends without its ${TRAILER} entry`, TRUNCATED);
    checkMagic(src, pos, prev);
    if (pos + HEADER_SIZE > b.length) {
      fail(src, pos, undefined, `the archive ends inside an entry header (after ${b.length - pos} of ${HEADER_SIZE} bytes)`, TRUNCATED);
    }
    const h = parseHeader(src, pos);
    const nameStart = pos + HEADER_SIZE;
    const nameEnd = nameStart + h.namesize;
    if (h.namesize === 0) fail(src, pos, undefined, 'the name size is 0 (a name needs at least its NUL)', DAMAGED);
    if (nameEnd > b.length) {
      fail(src, pos, undefined, `header says the name is ${h.namesize} bytes but the archive ends after ${b.length - nameStart}`, TRUNCATED);
    }
    const nul = b.indexOf(0, nameStart);
    const name = decodeName(src, pos, b.subarray(nameStart, Math.min(nul < 0 ? nameEnd : nul, nameEnd)), 'name');
    if (b[nameEnd - 1] !== 0) fail(src, pos, name, 'the name is not NUL-terminated', DAMAGED);
    // Padding counts from the archive's start; the very last padding may be missing.
    const dataStart = start + align4(nameEnd - start);
    const dataEnd = dataStart + h.filesize;
    if (h.filesize > 0 && dataEnd > b.length) {
      fail(src, pos, name, `header says ${h.filesize} bytes of data but the archive ends after ${Math.max(0, b.length - dataStart)}`, TRUNCATED);
    }
    const next = Math.min(b.length, start + align4(dataEnd - start));
    if (name === TRAILER) {
      for (const g of links.values()) for (const e of g.members) if (g.data) e.data = g.data;
      return next;
    }
    const data = b.subarray(dataStart, dataEnd);
    const e = toEntry(src, pos, name, h, data, latin1(b, pos, pos + 6) === MAGIC_CRC);
    if (e) {
      out.set(e.path, e); // a later entry for the same path replaces the earlier one, as on unpacking
      if (e.type === 'file' && h.nlink > 1) {
        const key = `${h.devmajor}:${h.devminor}:${h.ino}`;
        const g = links.get(key) ?? { members: [] };
        g.members.push(e);
        if (h.filesize > 0) g.data = e.data;
        links.set(key, g);
      }
    }
    prev = name;
    pos = next;
  }
}

function toEntry(src: Source, pos: number, name: string, h: Header, data: Uint8Array, crc: boolean): Entry | undefined {
  const type = typeFromMode(h.mode);
  if (!type) fail(src, pos, name, `mode 0${h.mode.toString(8)} has an unknown file type (0${(h.mode & S_IFMT).toString(8)})`, DAMAGED);
  if (crc && type === 'file') {
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum = (sum + data[i]) >>> 0;
    if (sum !== h.check) fail(src, pos, name, `the data sums to ${sum} but the header's checksum says ${h.check}`, DAMAGED);
  }
  const path = normalizePath(name);
  if (path === '') return undefined; // "." or "/": the root itself is never an entry
  const e: Entry = { path, type, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, mtime: h.mtime };
  if (type === 'file') e.data = blobOf(data);
  else if (type === 'symlink') e.target = decodeName(src, pos, data, 'link target');
  else if (type === 'char' || type === 'block') { e.major = h.rdevmajor; e.minor = h.rdevminor; }
  return e;
}

/** Archives separated by zero padding, inside decompressed data. Returns how many there were. */
function readArchives(src: Source, out: Map<string, Entry>): number {
  let n = 0;
  for (let pos = 0; pos < src.bytes.length;) {
    if (src.bytes[pos] === 0) { pos++; continue; }
    pos = readArchive(src, pos, out);
    n++;
  }
  return n;
}

/** Reads a whole initramfs-style file. Entries come back in archive order; when a path occurs more
 *  than once, the last occurrence wins but keeps the first one's position. The root is skipped.
 *  Hard links come back as separate regular files sharing one content Blob. */
export function readCpio(bytes: Uint8Array): Entry[] {
  const top: Source = { bytes, label: '' };
  if (bytes.length === 0) fail(top, 0, undefined, 'the file is empty', 'give a newc cpio archive, plain or gzip-compressed');
  const out = new Map<string, Entry>();
  let archives = 0;
  for (let pos = 0; pos < bytes.length;) {
    if (bytes[pos] === 0) { pos++; continue; } // zero padding between archives
    if (isGzip(bytes, pos)) {
      const { data, end } = gunzipMembers(bytes, pos);
      const inner: Source = { bytes: data, label: ` of the data gunzipped from byte ${pos}` };
      if (readArchives(inner, out) === 0) fail(inner, 0, undefined, 'the gzip data holds no cpio archive', 'compress a newc cpio archive');
      archives++;
      pos = end;
      continue;
    }
    pos = readArchive(top, pos, out);
    archives++;
  }
  if (archives === 0) fail(top, 0, undefined, 'the file holds only zero bytes', 'give a newc cpio archive, plain or gzip-compressed');
  return [...out.values()];
}
