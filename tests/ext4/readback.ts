// Reads an ext4 image back through the NATIVE debugfs, independently of the code that made it:
// every entry's type, mode, uid, gid, mtime, link count, inode number, device numbers, symlink
// target and content. One debugfs run per directory level (`ls -p` of each folder, `stat` and
// `dump` of each inode), so names with spaces, newlines, "%" or quotes are never typed into a
// debugfs command: everything is addressed by inode number.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntryType } from '../../workers/model/entry.ts';

export interface ReadEntry {
  path: string;
  ino: number;
  type: EntryType;
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  links: number;
  size: number;
  target?: string;
  major?: number;
  minor?: number;
  /** Regular files: the bytes `dump` wrote. */
  content?: Buffer;
}

const TYPES: Record<number, EntryType> = {
  0o140000: 'socket', 0o120000: 'symlink', 0o100000: 'file', 0o060000: 'block', 0o040000: 'dir', 0o020000: 'char', 0o010000: 'fifo',
};

/** A debugfs `-f` script's output, split per command (debugfs echoes "debugfs: CMD"). Output is
 *  latin1, one character per byte, so byte counts hold. */
function runScript(img: string, cmds: string[], scratch: string): string[] {
  const script = join(scratch, 'debugfs.cmds');
  writeFileSync(script, cmds.join('\n') + '\n');
  const r = spawnSync('debugfs', ['-f', script, img], { maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`debugfs failed (${r.status}): ${r.stderr.toString()}`);
  const err = r.stderr.toString('latin1').split('\n').filter((l) => l && !l.startsWith('debugfs 1.'));
  if (err.length) throw new Error(`debugfs complained: ${err.slice(0, 5).join(' | ')}`);
  const out = r.stdout.toString('latin1');
  const parts: string[] = [];
  let pos = out.indexOf(`debugfs: ${cmds[0]}\n`);
  if (pos < 0) throw new Error(`debugfs output does not start with the first command: ${out.slice(0, 200)}`);
  for (let i = 0; i < cmds.length; i++) {
    const start = pos + `debugfs: ${cmds[i]}\n`.length;
    const next = i + 1 < cmds.length ? out.indexOf(`\ndebugfs: ${cmds[i + 1]}\n`, start - 1) : out.length;
    if (next < 0) throw new Error(`debugfs output lacks the command ${cmds[i + 1]}`);
    parts.push(out.slice(start, next + (i + 1 < cmds.length ? 1 : 0)));
    pos = next + 1;
  }
  return parts;
}

const fromLatin1 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');
const u32 = (s: string) => Number(s) >>> 0;

interface Listed {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  name: string;
  size: number;
}

/** `ls -p` lines: /ino/mode/uid/gid/name/size/ ("/" for folders). A name may hold anything but
 *  "/" and NUL, newlines included, so the lines are matched as a whole. */
function parseLs(text: string): Listed[] {
  const out: Listed[] = [];
  const re = /\/(\d+)\/([0-7]{6})\/(-?\d+)\/(-?\d+)\/([^/]*)\/(\d*)\/\n/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text))) {
    end = re.lastIndex;
    const name = fromLatin1(m[5]);
    // "." and "..", and unused directory blocks (inode 0, e.g. lost+found's spare blocks).
    if (name === '.' || name === '..' || m[1] === '0') continue;
    out.push({ ino: Number(m[1]), mode: parseInt(m[2], 8), uid: u32(m[3]), gid: u32(m[4]), name, size: Number(m[6] || 0) });
  }
  const rest = text.slice(end).trim(); // (a failed sticky match resets lastIndex)
  if (rest) throw new Error(`unparsed ls -p output: ${JSON.stringify(rest.slice(0, 600))}`);
  return out;
}

interface Stat {
  ino: number;
  typeWord: string;
  mode: number;
  uid: number;
  gid: number;
  links: number;
  size: number;
  mtime: number;
  major?: number;
  minor?: number;
  fastTarget?: string;
}

function parseStat(text: string): Stat {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(text);
    if (!m) throw new Error(`no ${what} in debugfs stat output:\n${text}`);
    return m;
  };
  const head = need(/^Inode: (\d+)\s+Type: ([a-zA-Z ]+?)\s+Mode:\s+(\d+)/m, 'inode line');
  const owner = need(/^User:\s+(-?\d+)\s+Group:\s+(-?\d+)\s+Project:\s+\d+\s+Size: (\d+)/m, 'owner line');
  const links = need(/^Links: (\d+)/m, 'links');
  const mt = need(/^\s*mtime: 0x([0-9a-f]{8})(?::([0-9a-f]{8}))?/m, 'mtime');
  // ext4 keeps seconds as a signed 32-bit value plus two epoch bits in the extra field.
  const lo = parseInt(mt[1], 16) | 0;
  const extra = mt[2] ? parseInt(mt[2], 16) : 0;
  const st: Stat = {
    ino: Number(head[1]),
    typeWord: head[2],
    mode: parseInt(head[3], 8),
    uid: u32(owner[1]),
    gid: u32(owner[2]),
    size: Number(owner[3]),
    links: Number(links[1]),
    mtime: lo + (extra & 3) * 2 ** 32,
  };
  const dev = /Device major\/minor number: (\d+):(\d+) /.exec(text);
  if (dev) {
    st.major = Number(dev[1]);
    st.minor = Number(dev[2]);
  }
  const fast = text.indexOf('Fast link dest: "');
  if (fast >= 0) {
    const start = fast + 'Fast link dest: "'.length;
    if (text[start + st.size] !== '"') throw new Error(`fast link of ${st.size} bytes not followed by a quote:\n${text}`);
    st.fastTarget = fromLatin1(text.slice(start, start + st.size));
  }
  return st;
}

/** Every entry below the root (path "/" for the root itself, included) by path. */
export function readImage(img: string, scratch: string): Map<string, ReadEntry> {
  const dumps = join(scratch, 'dump');
  mkdirSync(dumps, { recursive: true });
  const result = new Map<string, ReadEntry>();
  const statOf = new Map<number, Stat>();
  const contentOf = new Map<number, Buffer>();
  const targetOf = new Map<number, string>();

  // The root first.
  const [rootStat] = runScript(img, ['stat <2>'], scratch);
  const rs = parseStat(rootStat);
  statOf.set(2, rs);
  let level: { ino: number; path: string }[] = [{ ino: 2, path: '' }];
  result.set('/', toEntry('/', rs));

  while (level.length) {
    const lsParts = runScript(img, level.map((d) => `ls -p <${d.ino}>`), scratch);
    const children: { path: string; l: Listed }[] = [];
    level.forEach((d, i) => {
      for (const l of parseLs(lsParts[i])) children.push({ path: `${d.path}/${l.name}`, l });
    });
    if (!children.length) break;
    const cmds: string[] = [];
    const kinds: { kind: 'stat' | 'dump'; ino: number }[] = [];
    for (const { l } of children) {
      if (statOf.has(l.ino) || kinds.some((k) => k.kind === 'stat' && k.ino === l.ino)) continue;
      cmds.push(`stat <${l.ino}>`);
      kinds.push({ kind: 'stat', ino: l.ino });
      const type = TYPES[l.mode & 0o170000];
      if (type === 'file' || (type === 'symlink' && l.size >= 60)) {
        cmds.push(`dump <${l.ino}> ${join(dumps, String(l.ino))}`);
        kinds.push({ kind: 'dump', ino: l.ino });
      }
    }
    const parts = cmds.length ? runScript(img, cmds, scratch) : [];
    kinds.forEach((k, i) => {
      if (k.kind === 'stat') statOf.set(k.ino, parseStat(parts[i]));
      else {
        const bytes = readFileSync(join(dumps, String(k.ino)));
        if (statOf.get(k.ino)!.typeWord === 'symlink') targetOf.set(k.ino, bytes.toString('utf8'));
        else contentOf.set(k.ino, bytes);
      }
    });
    const next: { ino: number; path: string }[] = [];
    for (const { path, l } of children) {
      const st = statOf.get(l.ino)!;
      const e = toEntry(path, st);
      // ls -p and stat must agree.
      if (e.type !== TYPES[l.mode & 0o170000] || e.mode !== (l.mode & 0o7777) || e.uid !== l.uid || e.gid !== l.gid) {
        throw new Error(`${path}: ls -p and stat disagree`);
      }
      if (e.type === 'file') e.content = contentOf.get(l.ino);
      if (e.type === 'symlink') e.target = st.fastTarget ?? targetOf.get(l.ino);
      result.set(path, e);
      if (e.type === 'dir') next.push({ ino: l.ino, path });
    }
    level = next;
  }
  return result;
}

const TYPE_WORDS: Record<string, EntryType> = {
  regular: 'file', directory: 'dir', symlink: 'symlink', 'character special': 'char', 'block special': 'block', FIFO: 'fifo', socket: 'socket',
};

function toEntry(path: string, st: Stat): ReadEntry {
  const type = TYPE_WORDS[st.typeWord];
  if (!type) throw new Error(`${path}: unknown type "${st.typeWord}"`);
  const e: ReadEntry = { path, ino: st.ino, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, links: st.links, size: st.size };
  if (type === 'char' || type === 'block') {
    e.major = st.major;
    e.minor = st.minor;
  }
  return e;
}
