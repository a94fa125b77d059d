// The tree as the editor shows it: folders first, then names in order, children under their
// folder, only below open folders.
import type { Entry } from '../../workers/model/entry.ts';
import { baseName, parentOf } from '../../workers/model/path.ts';

export interface Row {
  entry: Entry;
  depth: number;
  hasChildren: boolean;
}

export function childrenByParent(entries: readonly Entry[]): Map<string, Entry[]> {
  const kids = new Map<string, Entry[]>();
  for (const e of entries) {
    const p = parentOf(e.path);
    let list = kids.get(p);
    if (!list) kids.set(p, (list = []));
    list.push(e);
  }
  for (const list of kids.values()) {
    list.sort((a, b) =>
      a.type === 'dir' && b.type !== 'dir' ? -1 :
      b.type === 'dir' && a.type !== 'dir' ? 1 :
      baseName(a.path) < baseName(b.path) ? -1 : baseName(a.path) > baseName(b.path) ? 1 : 0);
  }
  return kids;
}

export function visibleRows(entries: readonly Entry[], open: Record<string, boolean>): Row[] {
  const kids = childrenByParent(entries);
  const rows: Row[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of kids.get(dir) ?? []) {
      const hasChildren = (kids.get(e.path)?.length ?? 0) > 0;
      rows.push({ entry: e, depth, hasChildren });
      if (e.type === 'dir' && open[e.path]) walk(e.path, depth + 1);
    }
  };
  walk('', 0);
  return rows;
}
