// The project file: one zip holding `bootsmith.json` (the project and every entry's metadata) and
// each regular file's content under `content/`. Written by the app's Export and the CLI, read by
// the app's Import and the CLI; lossless for modes, owners, devices, symlinks and mtimes.
import { Zip, ZipDeflate, unzipSync, strToU8, strFromU8 } from 'fflate';
import { type Entry, ENTRY_TYPES } from '../model/entry.ts';
import { type Project, PROJECT_FORMAT, PROJECT_VERSION, newProjectId, withDefaults } from '../model/project.ts';
import { FormatError, describeProblem, throwIfAborted } from '../model/problems.ts';
import { checkEntry, errorsOf } from '../model/validate.ts';
import { sortEntries } from '../model/tree.ts';

export const PROJECT_FILE_EXTENSION = '.bootsmith';
export const PROJECT_FILE_MIME = 'application/x-bootsmith-project';
const MANIFEST = 'bootsmith.json';
/** Zip timestamps are fixed so the same project always exports the same bytes. */
const ZIP_TIME = new Date(Date.UTC(1980, 0, 1, 12));

interface ManifestEntry {
  path: string;
  type: Entry['type'];
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  content?: string;
  target?: string;
  major?: number;
  minor?: number;
}

interface Manifest {
  format: typeof PROJECT_FORMAT;
  version: number;
  name: string;
  created: number;
  modified: number;
  sourceDateEpoch: number;
  seed?: string;
  initramfs: Project['initramfs'];
  ext4?: Project['ext4'];
  fat?: Project['fat'];
  board?: Project['board'];
  zip?: Project['zip'];
  sdcard?: Project['sdcard'];
  entries: ManifestEntry[];
  /** The boot partition's tree (board projects). */
  boot?: ManifestEntry[];
}

export interface ExportOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Writes a project file; returns its bytes as chunks. */
export async function writeProjectFile(project: Project, opts: ExportOptions = {}): Promise<Uint8Array[]> {
  const manifest: Manifest = {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    name: project.name,
    created: project.created,
    modified: project.modified,
    sourceDateEpoch: project.sourceDateEpoch,
    seed: project.seed,
    initramfs: project.initramfs,
    ext4: project.ext4,
    fat: project.fat,
    ...(project.board ? { board: project.board } : {}),
    zip: project.zip,
    sdcard: project.sdcard,
    entries: [],
  };
  const files: { name: string; data: Blob }[] = [];
  // Names sharing one Blob (hard links, as the readers give them) share one content file, and
  // come back sharing one Blob.
  const stored = new Map<Blob, string>();
  const describe = (list: readonly Entry[]): ManifestEntry[] => sortEntries([...list]).map((e) => {
    const m: ManifestEntry = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (e.type === 'file') {
      m.size = e.data?.size ?? 0;
      if (m.size > 0) {
        m.content = stored.get(e.data!);
        if (!m.content) {
          m.content = `content/${String(files.length).padStart(6, '0')}`;
          files.push({ name: m.content, data: e.data! });
          stored.set(e.data!, m.content);
        }
      }
    } else if (e.type === 'symlink') m.target = e.target;
    else if (e.type === 'char' || e.type === 'block') { m.major = e.major; m.minor = e.minor; }
    return m;
  });
  manifest.entries = describe(project.entries);
  if (project.boot.length) manifest.boot = describe(project.boot);

  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else out.push(chunk);
  });
  const add = (name: string, data: Uint8Array, level: 0 | 6) => {
    const f = new ZipDeflate(name, { level });
    f.mtime = ZIP_TIME;
    zip.add(f);
    f.push(data, true);
  };
  add(MANIFEST, strToU8(JSON.stringify(manifest, null, 1)), 6);
  const total = files.reduce((n, f) => n + f.data.size, 0);
  let done = 0;
  for (const f of files) {
    throwIfAborted(opts.signal);
    add(f.name, new Uint8Array(await f.data.arrayBuffer()), 6);
    done += f.data.size;
    opts.onProgress?.(done, total);
  }
  zip.end();
  if (failure) throw failure;
  return out;
}

const isZip = (b: Uint8Array) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;

export function looksLikeProjectFile(bytes: Uint8Array): boolean {
  return isZip(bytes);
}

/** Reads a project file into a new project (with a new id). */
export function readProjectFile(bytes: Uint8Array, fileName = 'project file'): Project {
  const where = `${fileName}`;
  if (!isZip(bytes)) throw new FormatError('project file', where, 'this is not a Bootsmith project file (it is not a zip archive)', 'choose a file exported by Bootsmith (.bootsmith)');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new FormatError('project file', where, `the zip archive is damaged (${(err as Error).message})`, 'the file may be truncated; export it again');
  }
  const raw = files[MANIFEST];
  if (!raw) throw new FormatError('project file', where, `${MANIFEST} is missing`, 'this zip is not a Bootsmith project; export the project again');
  let m: Manifest;
  try {
    m = JSON.parse(strFromU8(raw));
  } catch (err) {
    throw new FormatError('project file', `${where}, ${MANIFEST}`, `not valid JSON (${(err as Error).message})`, 'export the project again');
  }
  if (m.format !== PROJECT_FORMAT) throw new FormatError('project file', `${where}, ${MANIFEST}`, `format is "${m.format}", expected "${PROJECT_FORMAT}"`);
  if (typeof m.version !== 'number' || m.version > PROJECT_VERSION) {
    throw new FormatError('project file', `${where}, ${MANIFEST}`, `version ${m.version} is newer than this Bootsmith understands (${PROJECT_VERSION})`, 'update Bootsmith');
  }
  if (!Array.isArray(m.entries)) throw new FormatError('project file', `${where}, ${MANIFEST}`, '"entries" is not a list');
  if (m.boot !== undefined && !Array.isArray(m.boot)) throw new FormatError('project file', `${where}, ${MANIFEST}`, '"boot" is not a list');
  const blobs = new Map<string, Blob>();
  const entries = readEntries(m.entries, files, where, 'entry', blobs);
  const boot = readEntries(m.boot ?? [], files, where, 'boot partition entry', blobs);
  const now = Date.now();
  const board = m.board && typeof m.board.kit === 'string' && typeof m.board.kernel === 'string' ? { kit: m.board.kit, kernel: m.board.kernel } : undefined;
  return withDefaults({
    id: newProjectId(),
    seed: m.seed,
    name: typeof m.name === 'string' && m.name.trim() ? m.name : 'Imported project',
    created: typeof m.created === 'number' ? m.created : now,
    modified: typeof m.modified === 'number' ? m.modified : now,
    sourceDateEpoch: Number.isInteger(m.sourceDateEpoch) ? m.sourceDateEpoch : Math.floor(now / 1000),
    initramfs: {
      enabled: m.initramfs?.enabled ?? true,
      compression: m.initramfs?.compression === 'none' ? 'none' : 'gzip',
    },
    ext4: m.ext4,
    fat: m.fat,
    ...(board ? { board } : {}),
    boot,
    zip: { enabled: m.zip?.enabled === true },
    sdcard: { enabled: m.sdcard?.enabled === true },
    entries,
  });
}

function readEntries(list: ManifestEntry[], files: Record<string, Uint8Array>, where: string, what: string, blobs = new Map<string, Blob>()): Entry[] {
  const entries: Entry[] = [];
  list.forEach((me, i) => {
    const at = `${where}, ${what} ${i + 1}${me && typeof me.path === 'string' ? ` (${me.path})` : ''}`;
    if (!me || typeof me !== 'object' || !ENTRY_TYPES.includes(me.type)) {
      throw new FormatError('project file', at, `unknown entry type ${JSON.stringify(me?.type)}`);
    }
    const e: Entry = { path: me.path, type: me.type, mode: me.mode, uid: me.uid, gid: me.gid, mtime: me.mtime };
    if (me.type === 'file') {
      if (me.content) {
        const data = files[me.content];
        if (!data) throw new FormatError('project file', at, `its content ${me.content} is missing from the archive`, 'export the project again');
        if (me.size !== undefined && data.length !== me.size) {
          throw new FormatError('project file', at, `its content is ${data.length} bytes but ${me.size} were recorded`, 'the file is damaged; export the project again');
        }
        e.data = blobs.get(me.content) ?? new Blob([data as Uint8Array<ArrayBuffer>]);
        blobs.set(me.content, e.data);
      } else e.data = new Blob([]);
    } else if (me.type === 'symlink') e.target = me.target;
    else if (me.type === 'char' || me.type === 'block') { e.major = me.major; e.minor = me.minor; }
    const errs = errorsOf(checkEntry(e));
    if (errs.length) throw new FormatError('project file', at, describeProblem({ ...errs[0], path: undefined }));
    entries.push(e);
  });
  return sortEntries(entries);
}
