// The tar reader, for `docker export` and `tar -czf` output: ustar, GNU (long names, base-256
// numbers) and pax (per-entry and global extended headers), plain or gzip-compressed.

import type { Entry, EntryType } from '../model/entry.ts';
import { normalizePath } from '../model/path.ts';
import { FormatError } from '../model/problems.ts';
import { gunzipAll, isGzip } from '../compress/gzip.ts';
import { otherCompressionAt } from '../compress/sniff.ts';
import { blobOf, latin1, printable as show } from '../compress/bytes.ts';
import { BLOCK, checksums, F, type FieldName, MAGIC_GNU, MAGIC_USTAR, pad512 } from './ustar.ts';

const TRUNCATED = 'the file is truncated; re-create or re-download it';
const DAMAGED = 'the archive is damaged; re-create or re-download it';

/** The bytes being parsed and how to say where they are in the user's file. */
interface Source {
  bytes: Uint8Array;
  label: string;
}

function fail(src: Source, offset: number, name: string | undefined, what: string, fix: string): never {
  const entry = name === undefined ? '' : ` (entry "${name}")`;
  throw new FormatError('tar', `at byte ${offset}${src.label}${entry}`, what, fix);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

/** One header block being read: where it is, and its entry name once known (for messages). */
class Header {
  name?: string;
  constructor(readonly src: Source, readonly pos: number, readonly block: Uint8Array) {}

  fail(what: string, fix: string, at = this.pos): never {
    fail(this.src, at, this.name, what, fix);
  }

  /** A NUL-terminated text field (UTF-8). */
  text(field: FieldName): string {
    const [off, len] = F[field];
    const raw = this.block.subarray(off, off + len);
    const nul = raw.indexOf(0);
    return this.decode(raw.subarray(0, nul < 0 ? len : nul), field);
  }

  decode(raw: Uint8Array, what: string): string {
    try {
      return utf8.decode(raw);
    } catch {
      this.name ??= lossy.decode(raw);
      this.fail(`the ${what} is not valid UTF-8`, 'rename it with a UTF-8 name and re-create the archive');
    }
  }

  /** A numeric field: octal text (space or NUL terminated, maybe space-led, empty = 0), or GNU's
   *  base-256 when the top bit of the first byte is set. */
  number(field: FieldName): number {
    const [off, len] = F[field];
    const b = this.block;
    if (b[off] & 0x80) {
      let v = BigInt(b[off] & 0x3f);
      for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(b[off + i]);
      if (b[off] & 0x40) v -= 1n << BigInt(8 * len - 2); // negative: two's complement
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        this.fail(`the ${field} field holds a number too large to handle`, DAMAGED, this.pos + off);
      }
      return Number(v);
    }
    const text = latin1(b, off, off + len);
    const m = /^ *([0-7]*)[ \0]*$/.exec(text.replace(/\0[\s\S]*$/, '\0'));
    if (!m) this.fail(`the ${field} field ${show(text)} is not an octal number`, DAMAGED, this.pos + off);
    return m[1] ? parseInt(m[1], 8) : 0;
  }
}

/** pax extended header records: "<length> <key>=<value>\n", the length counting the whole record. */
function parsePax(h: Header, data: Uint8Array, dataPos: number): Map<string, string> {
  const out = new Map<string, string>();
  for (let p = 0; p < data.length && data[p] !== 0;) {
    const bad = (what: string): never => h.fail(`pax header record ${what}`, DAMAGED, dataPos + p);
    const sp = data.indexOf(0x20, p);
    const lenText = sp < 0 ? '' : latin1(data, p, sp);
    if (!/^[1-9][0-9]*$/.test(lenText)) bad('does not start with its length');
    const end = p + Number(lenText);
    if (end > data.length || data[end - 1] !== 0x0a) bad(`length ${lenText} does not end at a newline`);
    const record = h.decode(data.subarray(sp + 1, end - 1), 'pax header record');
    const eq = record.indexOf('=');
    if (eq <= 0) bad(`${show(record.slice(0, 40))} has no key=value`);
    out.set(record.slice(0, eq), record.slice(eq + 1));
    p = end;
  }
  return out;
}

/** pax values override header fields; a per-entry record with an empty value cancels a global one. */
function overlay(global: Map<string, string>, local: Map<string, string> | undefined): Map<string, string> {
  const m = new Map(global);
  for (const [k, v] of local ?? []) if (v === '') m.delete(k); else m.set(k, v);
  return m;
}

function paxNumber(h: Header, attrs: Map<string, string>, key: string, fallback: number): number {
  const v = attrs.get(key);
  if (v === undefined) return fallback;
  // times may carry a fraction ("1700000000.123456789"): it is cut off
  const m = (key === 'mtime' ? /^(-?\d+)(\.\d*)?$/ : /^(\d+)$/).exec(v);
  const n = m ? Number(m[1]) + 0 : NaN;
  if (!Number.isSafeInteger(n)) h.fail(`the pax ${key} value ${show(v)} is not a valid number`, DAMAGED);
  return n;
}

const TYPES: Record<string, EntryType> = { '0': 'file', '7': 'file', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** Reads a tar archive (plain or gzip). Entries come back in archive order; a path that occurs
 *  again replaces the earlier entry but keeps its position. The root ("./") is skipped. Hard links
 *  become copies of the entry they name. Owners are the numeric uid/gid; user and group names are
 *  ignored. */
export function readTar(bytes: Uint8Array): Entry[] {
  let src: Source = { bytes, label: '' };
  if (bytes.length === 0) fail(src, 0, undefined, 'the file is empty', 'give a tar archive, plain or gzip-compressed');
  if (isGzip(bytes)) src = { bytes: gunzipAll(bytes), label: ' of the gunzipped data' };
  const other = otherCompressionAt(src.bytes);
  if (other) fail(src, 0, undefined, `this is ${other.name}-compressed data; only gzip compression is supported`, `decompress it first (\`${other.tool}\`)`);
  if (/^07070[127]/.test(latin1(src.bytes, 0, 6))) fail(src, 0, undefined, 'this is a cpio archive, not tar', 'import it as a cpio archive');

  const b = src.bytes;
  const out = new Map<string, Entry>();
  const global = new Map<string, string>();
  let local: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;

  for (let pos = 0; pos < b.length;) {
    if (pos + BLOCK > b.length) fail(src, pos, undefined, `the archive ends inside a header (after ${b.length - pos} of ${BLOCK} bytes)`, TRUNCATED);
    const block = b.subarray(pos, pos + BLOCK);
    if (block.every((x) => x === 0)) break; // end-of-archive marker (what follows is record padding)
    const h = new Header(src, pos, block);
    checkHeader(h, pos);
    const flag = block[156] === 0 ? '0' : String.fromCharCode(block[156]);
    const attrs = overlay(global, local);
    const meta = flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K';
    if (!meta) h.name = longName ?? attrs.get('path') ?? ustarName(h);
    const hasData = meta || flag === '0' || flag === '7' || flag === '1' || flag === 'D' || !(flag in TYPES);
    const size = !hasData ? 0 : meta ? h.number('size') : paxNumber(h, attrs, 'size', h.number('size'));
    const dataStart = pos + BLOCK;
    if (dataStart + size > b.length) {
      h.fail(`header says ${size} bytes of data but the archive ends after ${b.length - dataStart}`, TRUNCATED);
    }
    const data = b.subarray(dataStart, dataStart + size);
    pos = dataStart + size + pad512(size);

    if (flag === 'x') { local = parsePax(h, data, dataStart); continue; }
    if (flag === 'g') { for (const [k, v] of parsePax(h, data, dataStart)) if (v === '') global.delete(k); else global.set(k, v); continue; }
    if (flag === 'L') { longName = cString(h, data, 'long name'); continue; }
    if (flag === 'K') { longLink = cString(h, data, 'long link name'); continue; }

    const link = longLink ?? attrs.get('linkpath') ?? h.text('linkname');
    local = longName = longLink = undefined;
    const e = toEntry(h, flag, attrs, link, data, out);
    if (e) out.set(e.path, e);
  }
  return [...out.values()];
}

function checkHeader(h: Header, pos: number): void {
  const magic = latin1(h.block, 257, 262) === 'ustar';
  let stored = NaN;
  try {
    stored = h.number('chksum');
  } catch (e) {
    if (pos > 0 || magic) throw e;
  }
  const { unsigned, signed } = checksums(h.block);
  if (stored === unsigned || stored === signed) return;
  if (pos === 0 && !magic) fail(h.src, 0, undefined, 'this is not a tar archive (its first block is not a valid tar header)', 'give a tar archive, plain or gzip-compressed');
  h.fail(`the header checksum is ${stored} but the header sums to ${unsigned}`, DAMAGED);
}

/** The name from the header: ustar splits long ones into prefix "/" name; GNU and v7 do not. */
function ustarName(h: Header): string {
  const name = h.text('name');
  if (latin1(h.block, 257, 263) !== MAGIC_USTAR) return name;
  const prefix = h.text('prefix');
  return prefix ? `${prefix}/${name}` : name;
}

function cString(h: Header, data: Uint8Array, what: string): string {
  const nul = data.indexOf(0);
  return h.decode(data.subarray(0, nul < 0 ? data.length : nul), what);
}

function toEntry(h: Header, flag: string, attrs: Map<string, string>, link: string, data: Uint8Array, seen: Map<string, Entry>): Entry | undefined {
  const raw = h.name!;
  if (flag === 'V') return undefined; // GNU volume label
  if (flag === 'S' || [...attrs.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
    h.fail('sparse files are not supported', 're-create the archive without --sparse (-S)');
  }
  if (flag === 'M' || flag === 'N') h.fail(`GNU entry type '${flag}' (multi-volume or old long names) is not supported`, 're-create the archive as a single volume in --format=gnu or --format=posix');
  const path = normalizePath(raw);
  if (path === '') return undefined; // the root itself
  const gnuOrUstar = [MAGIC_USTAR, MAGIC_GNU].includes(latin1(h.block, 257, 263));

  if (flag === '1') {
    const target = seen.get(normalizePath(link));
    if (!target) h.fail(`hard link to "${link}", which is not earlier in the archive`, 're-create the archive with the link target included');
    if (target.type === 'dir') h.fail(`hard link to the directory "${link}"`, DAMAGED);
    // a hard link is the same inode: same type, content and metadata, another name
    return { ...target, path };
  }
  // old tars mark directories only by a trailing slash; unknown types are regular files (POSIX)
  const type: EntryType = flag === 'D' || (flag === '0' && raw.endsWith('/')) ? 'dir' : TYPES[flag] ?? 'file';
  const e: Entry = {
    path,
    type,
    mode: h.number('mode') & 0o7777,
    uid: paxNumber(h, attrs, 'uid', h.number('uid')),
    gid: paxNumber(h, attrs, 'gid', h.number('gid')),
    mtime: paxNumber(h, attrs, 'mtime', h.number('mtime')),
  };
  if (type === 'file') e.data = blobOf(data);
  if (type === 'symlink') e.target = link;
  if (type === 'char' || type === 'block') {
    e.major = paxNumber(h, attrs, 'SCHILY.devmajor', gnuOrUstar ? h.number('devmajor') : 0);
    e.minor = paxNumber(h, attrs, 'SCHILY.devminor', gnuOrUstar ? h.number('devminor') : 0);
  }
  return e;
}
