import { describe, expect, it } from 'vitest';
import { type Entry, modeString, parseMode, statMode, typeFromMode } from './entry.ts';
import { comparePaths, normalizePath } from './path.ts';
import { addEntries, moveEntry, removeEntry, renameEntry, updateEntry, totals } from './tree.ts';
import { checkEntry, validateTree } from './validate.ts';
import { BootsmithError } from './problems.ts';

const f = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 100, data: new Blob(['x']), ...extra });
const d = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 100 });

describe('modes', () => {
  it('renders and parses rwx with special bits', () => {
    expect(modeString(0o755)).toBe('rwxr-xr-x');
    expect(modeString(0o4755)).toBe('rwsr-xr-x');
    expect(modeString(0o1777)).toBe('rwxrwxrwt');
    expect(modeString(0o2644)).toBe('rw-r-Sr--');
    for (const m of [0, 0o644, 0o755, 0o4755, 0o2711, 0o1777, 0o7777, 0o6000]) expect(parseMode(modeString(m))).toBe(m);
    expect(parseMode('0755')).toBe(0o755);
    expect(parseMode('-rwxr-x---')).toBe(0o750);
    expect(parseMode('0855')).toBeUndefined();
    expect(parseMode('rwx')).toBeUndefined();
  });
  it('maps types to st_mode bits and back', () => {
    expect(statMode({ type: 'file', mode: 0o755 })).toBe(0o100755);
    expect(statMode({ type: 'char', mode: 0o600 })).toBe(0o020600);
    expect(typeFromMode(0o120777)).toBe('symlink');
    expect(typeFromMode(0o060660)).toBe('block');
    expect(typeFromMode(0o170000)).toBeUndefined();
  });
});

describe('paths', () => {
  it('normalises', () => {
    expect(normalizePath('./etc//passwd/')).toBe('/etc/passwd');
    expect(normalizePath('/../../x')).toBe('/x');
    expect(normalizePath('.')).toBe('');
  });
  it('sorts by UTF-8 bytes, parents before children', () => {
    const paths = ['/b', '/a/x', '/a', '/a-b', '/é', '/z'];
    expect(paths.sort(comparePaths)).toEqual(['/a', '/a-b', '/a/x', '/b', '/z', '/é']);
  });
});

describe('validation', () => {
  it('names the entry and the fix', () => {
    const long = '/' + 'n'.repeat(256);
    expect(checkEntry(f(long))[0].message).toMatch(/256 bytes long; the limit is 255/);
    expect(checkEntry(f('/a\0b'))[0].message).toMatch(/NUL/);
    const deep = '/' + Array.from({ length: 500 }, () => 'abcdefghi').join('/');
    expect(checkEntry(f(deep))[0].message).toMatch(/path is 5000 bytes long; the limit is 4095/);
    expect(checkEntry({ ...d('/dev/x'), type: 'char', major: 4096, minor: 0 })[0].message).toMatch(/major number 4096 is out of range/);
    expect(checkEntry({ ...d('/dev/x'), type: 'block', major: 8, minor: 1 << 20 })[0].message).toMatch(/minor number 1048576/);
    expect(checkEntry(f('/x', { uid: -1 }))[0].message).toMatch(/uid -1/);
    expect(checkEntry(f('/x', { mode: 0o10000 }))[0].message).toMatch(/mode/);
    expect(checkEntry(f('/x', { mtime: 2 ** 32 }))[0].message).toMatch(/cannot be stored/);
    expect(checkEntry(f('/ok'))).toEqual([]);
  });
  it('finds duplicates, non-folder parents and dangling symlinks (as warnings)', () => {
    const probs = validateTree([
      f('/a'), f('/a/b'), f('/c'), f('/c'),
      { path: '/l1', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target: 'c' },
      { path: '/l2', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target: '/nowhere' },
      { path: '/l3', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target: 'l1' },
      { path: '/loop', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target: 'loop' },
    ]);
    expect(probs.map((p) => [p.severity, p.path])).toEqual([
      ['error', '/c'], ['error', '/a/b'], ['warning', '/l2'], ['warning', '/loop'],
    ]);
  });
  it('follows symlinked folders when checking targets', () => {
    const probs = validateTree([
      d('/usr'), d('/usr/bin'), f('/usr/bin/busybox'),
      { path: '/bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target: 'usr/bin' },
      { path: '/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, target: '/bin/busybox' },
    ]);
    expect(probs).toEqual([]);
  });
});

describe('tree edits', () => {
  it('adds with missing parents, refuses clashes unless replacing', () => {
    const t = addEntries([], [f('/usr/bin/app')]);
    expect(t.map((e) => [e.path, e.type])).toEqual([['/usr', 'dir'], ['/usr/bin', 'dir'], ['/usr/bin/app', 'file']]);
    expect(() => addEntries(t, [f('/usr/bin/app')])).toThrow(/already exists/);
    expect(addEntries(t, [f('/usr/bin/app', { mode: 0o700 })], { replace: true }).find((e) => e.path === '/usr/bin/app')!.mode).toBe(0o700);
    expect(() => addEntries(t, [f('/usr/bin/app/x')])).toThrow(/is a file, not a folder/);
    expect(() => addEntries(t, [f('/usr', {})], { replace: true })).toThrow(/folder with contents/);
  });
  it('is all or nothing', () => {
    const t = addEntries([], [f('/a')]);
    expect(() => addEntries(t, [f('/b'), f('/c', { uid: -5 })])).toThrow(BootsmithError);
    expect(t.map((e) => e.path)).toEqual(['/a']);
  });
  it('moves and renames folders with their contents', () => {
    let t = addEntries([], [f('/a/b/c'), f('/a/d'), f('/x')]);
    t = renameEntry(t, '/a', 'z');
    expect(t.map((e) => e.path)).toEqual(['/x', '/z', '/z/b', '/z/b/c', '/z/d']);
    t = moveEntry(t, '/z/b', '/x2/deep/b');
    expect(t.map((e) => e.path)).toEqual(['/x', '/x2', '/x2/deep', '/x2/deep/b', '/x2/deep/b/c', '/z', '/z/d']);
    expect(() => moveEntry(t, '/z', '/z/inner')).toThrow(/into itself/);
    expect(() => moveEntry(t, '/z', '/x')).toThrow(/already exists/);
    expect(() => renameEntry(t, '/z', 'a/b')).toThrow(/contains "\/"/);
  });
  it('removes folders recursively and updates fields with validation', () => {
    let t = addEntries([], [f('/a/b'), f('/ab')]);
    t = removeEntry(t, '/a');
    expect(t.map((e) => e.path)).toEqual(['/ab']);
    expect(updateEntry(t, '/ab', { mode: 0o755 })[0].mode).toBe(0o755);
    expect(() => updateEntry(t, '/ab', { gid: 2 ** 32 })).toThrow(/gid/);
    expect(totals(t)).toEqual({ files: 1, dirs: 0, others: 0, bytes: 1 });
  });
});
