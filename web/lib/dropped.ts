// Reads what a user dropped or picked (files, and folders with their subfolders) into a flat
// list of paths relative to the drop, with empty folders kept.

export interface PickedFile {
  /** "a/b/c.txt": relative to the drop, "/" separated. */
  path: string;
  file: File;
}

export interface Picked {
  files: PickedFile[];
  /** Relative paths of every folder seen, including empty ones. */
  dirs: string[];
}

/** Must be called synchronously inside the drop handler: the items vanish after it returns. */
export function entriesOfDrop(dt: DataTransfer): FileSystemEntry[] | File[] {
  const items = [...dt.items].filter((i) => i.kind === 'file');
  const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === items.length && entries.length > 0) return entries;
  return [...dt.files];
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    // readEntries returns at most 100 entries per call in Chromium: keep reading until empty.
    const next = () => reader.readEntries((batch) => {
      if (!batch.length) resolve(all);
      else { all.push(...batch); next(); }
    }, reject);
    next();
  });
}

const fileOf = (e: FileSystemFileEntry) => new Promise<File>((res, rej) => e.file(res, rej));

export async function readDropped(items: FileSystemEntry[] | File[]): Promise<Picked> {
  const out: Picked = { files: [], dirs: [] };
  async function walk(e: FileSystemEntry, rel: string) {
    if (e.isFile) out.files.push({ path: rel, file: await fileOf(e as FileSystemFileEntry) });
    else if (e.isDirectory) {
      out.dirs.push(rel);
      for (const child of await readAllEntries(e as FileSystemDirectoryEntry)) await walk(child, `${rel}/${child.name}`);
    }
  }
  for (const item of items) {
    if (item instanceof File) out.files.push({ path: item.name, file: item });
    else await walk(item, item.name);
  }
  return out;
}

/** Files from an <input type=file> (with `webkitdirectory` they carry webkitRelativePath). */
export function readPicked(list: FileList): Picked {
  const files = [...list].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return { files, dirs: [...dirs] };
}

/** A single dropped or picked folder's contents, without the folder itself: "bootfs/config.txt"
 *  becomes "config.txt" (importing a Pi boot folder into the boot partition's root). */
export function contentsOf(picked: Picked): Picked {
  const tops = new Set([...picked.files.map((f) => f.path.split('/')[0]), ...picked.dirs.map((d) => d.split('/')[0])]);
  if (tops.size !== 1 || !picked.dirs.includes([...tops][0])) return picked;
  const top = [...tops][0] + '/';
  return {
    files: picked.files.map((f) => ({ ...f, path: f.path.slice(top.length) })),
    dirs: picked.dirs.filter((d) => d.startsWith(top)).map((d) => d.slice(top.length)),
  };
}
