import { describe, expect, it } from 'vitest';
import { unzipSync, zipSync, strToU8 } from 'fflate';
import { readProjectFile, writeProjectFile } from './projectfile.ts';
import { blankProject } from '../model/project.ts';
import type { Entry } from '../model/entry.ts';
import { FormatError } from '../model/problems.ts';

const join = (chunks: Uint8Array[]) => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
};

function sample() {
  const p = blankProject('Sample', 1_700_000_000_000);
  const entries: Entry[] = [
    { path: '/bin', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1 },
    { path: '/bin/app', type: 'file', mode: 0o4755, uid: 1000, gid: 100, mtime: 1_600_000_000, data: new Blob([new Uint8Array([0, 1, 2, 255])]) },
    { path: '/dev', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 2 },
    { path: '/dev/console', type: 'char', mode: 0o600, uid: 0, gid: 5, mtime: 3, major: 5, minor: 1 },
    { path: '/dev/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, mtime: 3, major: 8, minor: 0 },
    { path: '/empty', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 4, data: new Blob([]) },
    { path: '/fifo', type: 'fifo', mode: 0o644, uid: 0, gid: 0, mtime: 5 },
    { path: '/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 7, target: 'bin/app' },
    { path: '/sock', type: 'socket', mode: 0o755, uid: 0, gid: 0, mtime: 6 },
    { path: '/ünï côdé', type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: 8, data: new Blob(['text\n']) },
  ];
  // A fixed seed: blankProject draws a random one, and it is part of the file.
  return { ...p, seed: '0123456789abcdef0123456789abcdef', entries, initramfs: { enabled: true, compression: 'none' as const },
    ext4: { ...p.ext4, enabled: true, journal: false, label: 'root' }, fat: { ...p.fat, enabled: true, fatType: 32 as const },
    board: { kit: 'pi4b', kernel: '6.1.0-99-arm64' }, zip: { enabled: true }, sdcard: { enabled: true },
    boot: [
      { path: '/config.txt', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 9, data: new Blob(['arm_64bit=1\n']) },
      { path: '/overlays', type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, mtime: 9 },
    ] };
}

async function plain(e: Entry) {
  const { data, ...rest } = e;
  return { ...rest, content: data ? [...new Uint8Array(await data.arrayBuffer())] : undefined };
}

describe('project file', () => {
  it('round-trips every field losslessly, with a new id', async () => {
    const p = sample();
    const back = readProjectFile(join(await writeProjectFile(p)));
    expect(back.id).not.toBe(p.id);
    expect([back.name, back.created, back.modified, back.sourceDateEpoch, back.initramfs, back.seed, back.ext4, back.fat])
      .toEqual([p.name, p.created, p.modified, p.sourceDateEpoch, p.initramfs, p.seed, p.ext4, p.fat]);
    expect(await Promise.all(back.entries.map(plain))).toEqual(await Promise.all(p.entries.map(plain)));
    expect(await Promise.all(back.boot.map(plain))).toEqual(await Promise.all(p.boot.map(plain)));
    expect([back.board, back.zip, back.sdcard]).toEqual([p.board, p.zip, p.sdcard]);
  });

  it('keeps hard links: names sharing one Blob come back sharing one Blob, stored once', async () => {
    const shared = new Blob(['same inode']);
    const p = { ...sample(), entries: [
      { path: '/a', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 1, data: shared },
      { path: '/b', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 1, data: shared },
    ] };
    const bytes = join(await writeProjectFile(p));
    expect(Object.keys(unzipSync(bytes)).filter((n) => n.startsWith('content/'))).toHaveLength(2); // one for /a+/b, one for config.txt
    const back = readProjectFile(bytes);
    expect(back.entries[0].data).toBe(back.entries[1].data);
  });

  it('is deterministic', async () => {
    const a = join(await writeProjectFile(sample()));
    const b = join(await writeProjectFile(sample()));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Object.keys(unzipSync(a))).toEqual(['bootsmith.json', 'content/000000', 'content/000001', 'content/000002']);
  });

  it('says what is wrong with a bad file', async () => {
    expect(() => readProjectFile(strToU8('hello'), 'x.bootsmith')).toThrow(/not a zip archive/);
    const good = join(await writeProjectFile(sample()));
    expect(() => readProjectFile(good.subarray(0, good.length - 40), 'cut.bootsmith')).toThrow(/damaged/);
    expect(() => readProjectFile(zipSync({ 'other.txt': strToU8('x') }))).toThrow(/bootsmith.json is missing/);
    const manifest = (m: object) => zipSync({ 'bootsmith.json': strToU8(JSON.stringify(m)) });
    const base = { format: 'bootsmith-project', version: 1, name: 'n', entries: [] };
    expect(() => readProjectFile(manifest({ ...base, version: 99 }))).toThrow(/newer than this Bootsmith/);
    expect(() => readProjectFile(manifest({ ...base, entries: [{ path: '/x', type: 'char', mode: 0o600, uid: 0, gid: 0, mtime: 0, major: 9999, minor: 0 }] })))
      .toThrow(/entry 1 \(\/x\): device major number 9999 is out of range/);
    expect(() => readProjectFile(manifest({ ...base, entries: [{ path: '/x', type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: 0, size: 3, content: 'content/000000' }] })))
      .toThrow(FormatError);
  });
});
