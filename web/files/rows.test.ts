import { describe, expect, it } from 'vitest';
import { visibleRows } from './rows.ts';
import type { Entry } from '../../workers/model/entry.ts';

const e = (path: string, type: Entry['type'] = 'file'): Entry => ({ path, type, mode: 0o644, uid: 0, gid: 0, mtime: 0 });

describe('visibleRows', () => {
  const tree = [e('/a', 'dir'), e('/a-b'), e('/a/x'), e('/a/sub', 'dir'), e('/a/sub/y'), e('/init'), e('/bin', 'dir')];

  it('lists folders first, children only under open folders', () => {
    expect(visibleRows(tree, {}).map((r) => r.entry.path)).toEqual(['/a', '/bin', '/a-b', '/init']);
  });

  it('nests children under their folder, not in byte order', () => {
    const rows = visibleRows(tree, { '/a': true, '/a/sub': true });
    expect(rows.map((r) => [r.entry.path, r.depth])).toEqual([
      ['/a', 0], ['/a/sub', 1], ['/a/sub/y', 2], ['/a/x', 1], ['/bin', 0], ['/a-b', 0], ['/init', 0],
    ]);
    expect(rows.find((r) => r.entry.path === '/bin')!.hasChildren).toBe(false);
  });
});
