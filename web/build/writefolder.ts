// Writes the boot folder into a folder the user picks (the mounted SD card) with the File System
// Access API, where the browser has it (Chromium-based browsers); elsewhere the zip is the way.
import { engine } from '../lib/engine.ts';

type DirPicker = (opts?: { mode?: 'read' | 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;

export function canWriteFolders(): boolean {
  return typeof (globalThis as { showDirectoryPicker?: DirPicker }).showDirectoryPicker === 'function';
}

/** Asks for a folder and writes every file of `zip` into it, replacing files of the same name.
 *  Returns the folder's name and the number of files written, or null when the user backed out. */
export async function writeZipToFolder(zip: Blob, onProgress: (done: number, total: number) => void): Promise<{ folder: string; files: number } | null> {
  let root: FileSystemDirectoryHandle;
  try {
    root = await (globalThis as unknown as { showDirectoryPicker: DirPicker }).showDirectoryPicker({ mode: 'readwrite', id: 'sdcard' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') return null;
    throw err;
  }
  const files = await engine.call('unzipFiles', { zip });
  const total = files.reduce((n, f) => n + f.data.size, 0);
  let done = 0;
  for (const f of files) {
    const parts = f.path.split('/');
    let dir = root;
    for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
    const handle = await dir.getFileHandle(parts[parts.length - 1], { create: true });
    const w = await handle.createWritable();
    await w.write(f.data);
    await w.close();
    done += f.data.size;
    onProgress(done, total);
  }
  return { folder: root.name, files: files.length };
}
