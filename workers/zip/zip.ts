// boot.zip: the Pi boot folder as a zip, to unpack onto any FAT-formatted SD card. Written here
// (the format is a few fixed headers) so every byte is ours to fix; the deflate streams come from
// the engine's block-parallel fflate deflate (gzipChunks, on the default thread pool when the CLI
// or the Web Worker has set one). See docs/decisions.md, "boot.zip", for the measurements.
//
// Deterministic: entries sorted by path (UTF-8 byte order), every timestamp the given `mtime`,
// fixed attributes, no fields that depend on the machine or the time of the build. Each entry
// carries:
//  - its UTF-8 name with general-purpose flag bit 11 (the "language encoding" flag), so unzip
//    and Windows' extractor read non-ASCII names as UTF-8 and not as code page 437;
//  - "version made by" Unix and the st_mode in the high 16 bits of the external attributes, so
//    Info-ZIP unzip restores permissions (bit 4, MS-DOS "directory", is set on folders too);
//  - an extended-timestamp extra field ("UT", mtime only) with the same fixed `mtime`: the DOS
//    date and time have no time zone, and unzip would read them as local time.
// No zip64: a FAT boot folder holds no file of 4 GiB, and the whole archive must stay below
// 4 GiB and 65535 entries (checked).

import { deflateSync } from 'fflate';
import { blobPieces } from '../compress/chunker.ts';
import { crc32 } from '../compress/crc32.ts';
import { gzipChunks } from '../compress/gzip.ts';
import { type Entry, statMode } from '../model/entry.ts';
import { comparePaths } from '../model/path.ts';
import { BootsmithError, throwIfAborted } from '../model/problems.ts';

export interface ZipOptions {
  /** Seconds since 1970 (SOURCE_DATE_EPOCH): the time of every entry. */
  mtime: number;
  signal?: AbortSignal;
  /** Bytes of file content read so far, out of the total content. */
  onProgress?: (done: number, total: number) => void;
  /** Deflate level 1–9; default 6 (as `zip` uses). */
  level?: number;
}

export interface ZipResult {
  blob: Blob;
  /** Entries a FAT boot folder cannot hold (symlinks, devices, FIFOs, sockets), left out. */
  skipped: string[];
}

const STORED = 0;
const DEFLATED = 8;
/** General-purpose flag bit 11: name (and comment) are UTF-8. */
const FLAG_UTF8 = 0x0800;
/** "Version made by": high byte 3 = Unix (external attributes hold st_mode), low byte 30 = 3.0. */
const MADE_BY_UNIX = (3 << 8) | 30;
const MSDOS_DIRECTORY = 0x10;
/** Extended timestamp extra field (Info-ZIP "UT"), flags bit 0: mtime present. */
const UT_TAG = 0x5455;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

/** DOS date and time range: 1980-01-01 00:00:00 to 2107-12-31 23:59:58. */
const DOS_MIN = 315532800;
const DOS_MAX = 4354819198;

/** Sample the compressibility test deflates, per piece and in all. */
const SAMPLE_PIECE = 64 * 1024;
const SAMPLE_PIECES = 4;
/** Deflate a file when its sample shrinks to at most this fraction. */
const WORTH_IT = 0.9;

const utf8 = new TextEncoder();

function zipError(what: string, path?: string, fix?: string): BootsmithError {
  return new BootsmithError(`boot.zip: ${path ? path + ': ' : ''}${what}${fix ? ` — ${fix}` : ''}`, [{ severity: 'error', path, message: what, fix }]);
}

/** MS-DOS time and date words for `seconds` since 1970, read as UTC (a zip's DOS time has no
 *  zone; UTC keeps the bytes independent of the machine). Clamped to 1980–2107; odd seconds
 *  round down, as DOS keeps two-second steps. */
export function dosDateTime(seconds: number): { time: number; date: number } {
  const d = new Date(Math.min(DOS_MAX, Math.max(DOS_MIN, Math.floor(seconds))) * 1000);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/**
 * Whether deflating `data` is worth it, judged cheaply: up to four 64 KiB pieces spread over the
 * file are deflated at level 1, and the file is deflated when they shrink to 90% or less. A
 * kernel Image or a firmware .elf passes easily (about 3:1); gzip, xz or zstd data, already as
 * small as deflate can make it, does not, and is stored instead of being compressed for nothing.
 * Files no larger than the sample are simply deflated (the zip writer stores them anyway when
 * deflate does not make them smaller).
 */
export async function worthDeflating(data: Blob): Promise<boolean> {
  const size = data.size;
  if (size <= SAMPLE_PIECE * SAMPLE_PIECES) return size > 0;
  let raw = 0, packed = 0;
  for (let i = 0; i < SAMPLE_PIECES; i++) {
    const start = Math.floor(((size - SAMPLE_PIECE) * i) / (SAMPLE_PIECES - 1));
    const piece = new Uint8Array(await data.slice(start, start + SAMPLE_PIECE).arrayBuffer());
    raw += piece.length;
    packed += deflateSync(piece, { level: 1 }).length;
  }
  return packed <= raw * WORTH_IT;
}

interface Member {
  name: Uint8Array;
  dir: boolean;
  mode: number;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

function extraField(mtime: number): Uint8Array {
  // UT carries a signed 32-bit time; outside that range, leave the field out (DOS time only).
  if (mtime < 0 || mtime > 0x7fffffff) return new Uint8Array(0);
  const x = new Uint8Array(9);
  const v = new DataView(x.buffer);
  v.setUint16(0, UT_TAG, true);
  v.setUint16(2, 5, true);
  x[4] = 1;
  v.setUint32(5, mtime, true);
  return x;
}

function localHeader(m: Member, dos: { time: number; date: number }, extra: Uint8Array): Uint8Array {
  const h = new Uint8Array(30 + m.name.length + extra.length);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, m.method === DEFLATED || m.dir ? 20 : 10, true);
  v.setUint16(6, FLAG_UTF8, true);
  v.setUint16(8, m.method, true);
  v.setUint16(10, dos.time, true);
  v.setUint16(12, dos.date, true);
  v.setUint32(14, m.crc, true);
  v.setUint32(18, m.compressed, true);
  v.setUint32(22, m.size, true);
  v.setUint16(26, m.name.length, true);
  v.setUint16(28, extra.length, true);
  h.set(m.name, 30);
  h.set(extra, 30 + m.name.length);
  return h;
}

function centralHeader(m: Member, dos: { time: number; date: number }, extra: Uint8Array): Uint8Array {
  const h = new Uint8Array(46 + m.name.length + extra.length);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x02014b50, true);
  v.setUint16(4, MADE_BY_UNIX, true);
  v.setUint16(6, m.method === DEFLATED || m.dir ? 20 : 10, true);
  v.setUint16(8, FLAG_UTF8, true);
  v.setUint16(10, m.method, true);
  v.setUint16(12, dos.time, true);
  v.setUint16(14, dos.date, true);
  v.setUint32(16, m.crc, true);
  v.setUint32(20, m.compressed, true);
  v.setUint32(24, m.size, true);
  v.setUint16(28, m.name.length, true);
  v.setUint16(30, extra.length, true);
  // comment length, disk number start, internal attributes: 0
  const mode = statMode({ type: m.dir ? 'dir' : 'file', mode: m.mode });
  v.setUint32(38, ((mode << 16) | (m.dir ? MSDOS_DIRECTORY : 0)) >>> 0, true);
  v.setUint32(42, m.offset, true);
  h.set(m.name, 46);
  h.set(extra, 46 + m.name.length);
  return h;
}

function endOfCentralDirectory(count: number, size: number, offset: number): Uint8Array {
  const h = new Uint8Array(22);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, count, true);
  v.setUint16(10, count, true);
  v.setUint32(12, size, true);
  v.setUint32(16, offset, true);
  return h;
}

/** Deflates a Blob as it is read; the raw deflate parts, CRC-32 and compressed size. */
async function deflateBlob(data: Blob, path: string, level: number, signal: AbortSignal | undefined, read: (n: number) => void)
  : Promise<{ parts: Uint8Array[]; crc: number; compressed: number }> {
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const piece of blobPieces(data, data.size, path, signal)) {
      read(piece.length);
      yield piece;
    }
  }
  // gzipChunks yields the 10-byte gzip header first and the 8-byte trailer (CRC-32, size) last,
  // each on its own; everything between is the raw deflate stream a zip entry holds.
  const out: Uint8Array[] = [];
  for await (const c of gzipChunks(counted(), { level })) out.push(c);
  const header = out.shift()!, trailer = out.pop()!;
  if (header.length !== 10 || trailer.length !== 8) throw new Error('zip: unexpected gzip framing from gzipChunks');
  const crc = new DataView(trailer.buffer, trailer.byteOffset, 8).getUint32(0, true);
  return { parts: out, crc, compressed: out.reduce((n, p) => n + p.length, 0) };
}

async function crcOf(data: Blob, path: string, signal: AbortSignal | undefined, read: (n: number) => void): Promise<number> {
  let crc = 0;
  for await (const piece of blobPieces(data, data.size, path, signal)) {
    crc = crc32(piece, crc);
    read(piece.length);
  }
  return crc;
}

/**
 * Zips the files and folders of `entries` (paths relative to the zip's root, i.e. "/config.txt"
 * becomes "config.txt"). Files are read as streams; the compressed data of each is held until
 * the result Blob is made, and stored files go into it as the input Blob itself, uncopied.
 */
export async function zipEntries(entries: Entry[], opts: ZipOptions): Promise<ZipResult> {
  const level = opts.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`zip deflate level must be 1–9, not ${level}`);
  const dos = dosDateTime(opts.mtime);
  const extra = extraField(Math.floor(opts.mtime));
  const skipped: string[] = [];
  const kept: Entry[] = [];
  for (const e of entries) {
    if (e.type === 'file' || e.type === 'dir') kept.push(e);
    else skipped.push(e.path);
  }
  kept.sort((a, b) => comparePaths(a.path, b.path));
  if (kept.length >= MAX16) throw zipError(`${kept.length} entries are more than a zip without zip64 holds (65534)`, undefined, 'a boot folder should not need this many files');

  const total = kept.reduce((n, e) => n + (e.type === 'file' ? e.data?.size ?? 0 : 0), 0);
  let done = 0;
  const read = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };
  opts.onProgress?.(0, total);

  const parts: BlobPart[] = [];
  const members: Member[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const e of kept) {
    throwIfAborted(opts.signal);
    if (!e.path.startsWith('/') || e.path.length < 2) throw zipError('not an absolute path below the root', e.path, 'validate the tree before zipping');
    const nameText = e.path.slice(1) + (e.type === 'dir' ? '/' : '');
    if (seen.has(nameText)) throw zipError('appears twice in the boot folder', e.path);
    seen.add(nameText);
    const name = utf8.encode(nameText);
    if (name.length > MAX16) throw zipError('the path is longer than a zip holds (65535 bytes)', e.path);
    const m: Member = { name, dir: e.type === 'dir', mode: e.mode & 0o7777, method: STORED, crc: 0, compressed: 0, size: 0, offset };
    let data: BlobPart[] = [];
    const blob = e.type === 'file' ? e.data : undefined;
    if (blob && blob.size > 0) {
      m.size = blob.size;
      if (m.size > MAX32) throw zipError('is 4 GiB or larger; FAT and a zip without zip64 cannot hold it', e.path);
      let deflated: Awaited<ReturnType<typeof deflateBlob>> | undefined;
      if (await worthDeflating(blob)) {
        deflated = await deflateBlob(blob, e.path, level, opts.signal, read);
        m.crc = deflated.crc;
        // Deflate can lose on data the sample misjudged: keep the file as it is then.
        if (deflated.compressed >= m.size) deflated = undefined;
      } else {
        m.crc = await crcOf(blob, e.path, opts.signal, read);
      }
      if (deflated) {
        m.method = DEFLATED;
        m.compressed = deflated.compressed;
        // One Blob per member lets the deflate buffers go as soon as it is made.
        data = [new Blob(deflated.parts as Uint8Array<ArrayBuffer>[])];
      } else {
        m.compressed = m.size;
        data = [blob];
      }
    }
    const head = localHeader(m, dos, extra);
    parts.push(head as Uint8Array<ArrayBuffer>, ...data);
    offset += head.length + m.compressed;
    if (offset > MAX32) throw zipError('the archive would reach 4 GiB, more than a zip without zip64 holds', e.path, 'make the boot folder smaller');
    members.push(m);
  }
  throwIfAborted(opts.signal);

  const central = members.map((m) => centralHeader(m, dos, extra));
  const centralSize = central.reduce((n, h) => n + h.length, 0);
  if (offset + centralSize > MAX32) throw zipError('the archive would reach 4 GiB, more than a zip without zip64 holds', undefined, 'make the boot folder smaller');
  parts.push(...(central as Uint8Array<ArrayBuffer>[]), endOfCentralDirectory(members.length, centralSize, offset) as Uint8Array<ArrayBuffer>);
  return { blob: new Blob(parts, { type: 'application/zip' }), skipped };
}
