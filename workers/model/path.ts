// Path helpers for the absolute, "/"-separated paths of a root filesystem.

export const NAME_MAX = 255;
export const PATH_MAX = 4096;

const utf8 = new TextEncoder();
export const byteLength = (s: string) => utf8.encode(s).length;

/** Normalises a user- or archive-supplied path to "/a/b": strips "./", leading and trailing and
 *  doubled slashes. Returns "" for the root. ".." is resolved lexically but never above the root. */
export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') { out.pop(); continue; }
    out.push(part);
  }
  return out.length ? '/' + out.join('/') : '';
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return (dir === '/' ? '' : dir) + '/' + name;
}

/** Every proper ancestor of a path, outermost first: "/a/b/c" → ["/a", "/a/b"]. */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}

/** Byte-wise (UTF-8) comparison, so sorting does not depend on locale or UTF-16 quirks. */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const x = utf8.encode(a), y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Whether `path` is `dir` or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + '/');
}
