// A new project from a board kit, and the edits the board screen makes to it (program, modules,
// what happens after the program). Every setting is a file in the project's trees, so the CLI, the
// app and a hand edit all meet in the same place.
import type { Entry } from '../model/entry.ts';
import { type Project, blankProject } from '../model/project.ts';
import { BootsmithError } from '../model/problems.ts';
import { addEntries, findEntry, sortEntries } from '../model/tree.ts';
import { ancestorsOf } from '../model/path.ts';
import { type Board, boardById, partitionOf } from './boards.ts';
import { type Kit, type KitFile, type KitSource, kitSource } from './kit.ts';
import { AFTER_PATH, type AfterExit, INIT_PATH, MODULES_PATH, START_PATH, initScript } from './init.ts';
import { defaultConfigTxt } from '../pi/config.ts';
import { defaultCmdline, setArg } from '../pi/cmdline.ts';
import { filterModulesDep, moduleNameOf, parseModulesDep, resolveModules } from '../pi/modules.ts';
import { x86Cmdline } from '../x86/boot.ts';

export const BOOT_INITRAMFS = 'initramfs.cpio.gz';
export const KERNEL_NAME = 'vmlinuz';

export interface NewBoardProject {
  kit: string;
  name: string;
  /** The program /init starts, e.g. "/usr/bin/puzzle --port /dev/ttyUSB0". */
  start?: string;
  after?: AfterExit;
  /** Module group ids from the kit (kit.moduleGroups). */
  moduleGroups?: string[];
  /** Milliseconds; the project's creation time (and default SOURCE_DATE_EPOCH). */
  now?: number;
  source?: KitSource;
  onProgress?: (done: number, total: number) => void;
}

const text = (s: string) => new Blob([s]);
const dir = (path: string, mtime: number, mode = 0o755): Entry => ({ path, type: 'dir', mode, uid: 0, gid: 0, mtime });
const file = (path: string, data: Blob, mtime: number, mode = 0o644): Entry => ({ path, type: 'file', mode, uid: 0, gid: 0, mtime, data });

/** Every folder a list of paths implies, as entries. */
function withParents(entries: Entry[], mtime: number): Entry[] {
  const have = new Set(entries.map((e) => e.path));
  const out = [...entries];
  for (const e of entries) for (const d of ancestorsOf(e.path)) if (!have.has(d)) { have.add(d); out.push(dir(d, mtime)); }
  return sortEntries(out);
}

async function kitEntries(files: KitFile[], source: KitSource, mtime: number, onFile?: (f: KitFile) => void): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const f of files) {
    const data = await source.file(f.sha256);
    if (data.size !== f.size) throw new BootsmithError(`The kit file ${f.path} is ${data.size} bytes, not ${f.size}. Run the set-up again to rebuild the kits.`);
    out.push(file('/' + f.path, data, mtime, f.mode ?? (f.kind === 'busybox' ? 0o755 : 0o644)));
    onFile?.(f);
  }
  return out;
}

export type BoardOutput = 'zip' | 'fat' | 'sdcard' | 'initramfs' | 'ext4';

/** What a new project of the board builds unless told otherwise. A Pi gets its boot folder in every
 *  form; a PC is booted by an emulator straight from the initramfs (sdcard.img follows the ext4
 *  root, see setExt4Root). */
export function defaultBoardOutputs(board: Board): BoardOutput[] {
  switch (board.family) {
    case 'pi': return ['zip', 'fat', 'sdcard', 'initramfs'];
    case 'x86': return ['initramfs'];
  }
}

/** The files the board's boot folder starts with, besides the kit's own. */
function bootSettings(board: Board, t: number): Entry[] {
  switch (board.family) {
    case 'pi': return [
      file('/config.txt', text(defaultConfigTxt(board, { kernel: KERNEL_NAME, initramfs: BOOT_INITRAMFS })), t),
      file('/cmdline.txt', text(defaultCmdline(board, {})), t),
    ];
    // No firmware reads a config file: the emulator takes the arguments from cmdline.txt.
    case 'x86': return [file('/cmdline.txt', text(x86Cmdline(board)), t)];
  }
}

export async function newBoardProject(opts: NewBoardProject): Promise<Project> {
  const source = opts.source ?? kitSource();
  const kit = await source.kit(opts.kit);
  const board = boardById(kit.id);
  if (!board) throw new BootsmithError(`The kit "${kit.id}" names a board this Bootsmith does not know; update Bootsmith.`);
  const project = blankProject(opts.name, opts.now);
  const t = project.sourceDateEpoch;
  const wanted = kit.files.filter((f) => f.part === 'boot' || f.part === 'doc' || f.kind === 'busybox');
  const total = wanted.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const got = await kitEntries(wanted, source, t, (f) => { done += f.size; opts.onProgress?.(done, total); });
  // Licences (part "doc", under licences/) travel in the boot folder, beside the firmware.
  const bootFiles = got.filter((_, i) => wanted[i].part !== 'root');

  const boot = withParents([...bootFiles, ...bootSettings(board, t)], t);

  const busybox = got.find((_, i) => wanted[i].kind === 'busybox');
  if (!busybox) throw new BootsmithError(`The kit "${kit.id}" has no busybox. Run the set-up again to rebuild the kits.`);
  const root = withParents([
    ...['/bin', '/dev', '/etc', '/etc/bootsmith', '/lib', `/lib/modules`, `/lib/modules/${kit.kernel}`, '/mnt', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/usr/bin', '/usr/sbin'].map((p) => dir(p, t, p === '/root' ? 0o700 : 0o755)),
    dir('/tmp', t, 0o1777),
    { ...busybox, path: '/bin/busybox', mode: 0o755 },
    { path: '/bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: t, target: 'busybox' },
    // The kernel opens /dev/console for /init before anything is mounted.
    { path: '/dev/console', type: 'char', mode: 0o600, uid: 0, gid: 0, mtime: t, major: 5, minor: 1 },
    file(INIT_PATH, text(initScript()), t, 0o755),
    file(START_PATH, text((opts.start ?? '').trim() + '\n'), t),
    file(AFTER_PATH, text((opts.after ?? 'shell') + '\n'), t),
    file(MODULES_PATH, text(''), t),
  ], t);

  const outputs = defaultBoardOutputs(board);
  let p: Project = {
    ...project,
    board: { kit: kit.id, kernel: kit.kernel },
    entries: root,
    boot,
    initramfs: { enabled: true, compression: 'gzip' },
    // The Pi's boot partition: FAT32 (partition type 0x0c), as the firmware and Raspberry Pi OS use it.
    // A PC's sdcard.img has the same layout.
    fat: { ...project.fat, enabled: outputs.includes('fat'), fatType: 32, label: 'BOOT' },
    ext4: { ...project.ext4, enabled: false, label: 'rootfs' },
    zip: { enabled: outputs.includes('zip') },
    sdcard: { enabled: outputs.includes('sdcard') },
  };
  if (opts.moduleGroups?.length) p = await setModuleGroups(p, opts.moduleGroups, { kit, source });
  return p;
}

// ---- settings kept as files -------------------------------------------------------------------

async function readText(entries: readonly Entry[], path: string): Promise<string | undefined> {
  const e = findEntry(entries, path);
  return e?.type === 'file' && e.data ? e.data.text() : undefined;
}

function putText(entries: Entry[], path: string, content: string, mtime: number, mode = 0o644): Entry[] {
  const old = findEntry(entries, path);
  const e = file(path, text(content), mtime, old?.type === 'file' ? old.mode : mode);
  if (old) Object.assign(e, { uid: old.uid, gid: old.gid });
  return addEntries(entries, withParents([e], mtime).filter((x) => x.path === path || !findEntry(entries, x.path)), { replace: true });
}

export interface BoardSettingsForm {
  start: string;
  after: AfterExit;
  modules: string[];
}

export async function readBoardSettings(p: Project): Promise<BoardSettingsForm> {
  const after = (await readText(p.entries, AFTER_PATH))?.trim();
  return {
    start: (await readText(p.entries, START_PATH))?.trim() ?? '',
    after: after === 'restart' || after === 'poweroff' ? after : 'shell',
    modules: ((await readText(p.entries, MODULES_PATH)) ?? '').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((l) => l && !l.startsWith('#')),
  };
}

export function setStart(p: Project, start: string): Project {
  return { ...p, entries: putText(p.entries, START_PATH, start.trim() + '\n', nowSeconds(p)) };
}

export function setAfter(p: Project, after: AfterExit): Project {
  return { ...p, entries: putText(p.entries, AFTER_PATH, after + '\n', nowSeconds(p)) };
}

function nowSeconds(p: Project): number {
  return p.sourceDateEpoch;
}

/** The module groups whose modules are all in /etc/bootsmith/modules. */
export function selectedGroups(kit: Kit, modules: readonly string[]): string[] {
  const have = new Set(modules.map((m) => m.replace(/-/g, '_')));
  return kit.moduleGroups.filter((g) => g.modules.length && g.modules.every((m) => have.has(m.replace(/-/g, '_')))).map((g) => g.id);
}

/**
 * Puts the modules of the chosen groups (plus the SD card's, with an ext4 root) and everything
 * they depend on into /lib/modules/<kernel>, with a modules.dep for just those, and lists them in
 * /etc/bootsmith/modules for /init to load. Modules of groups no longer chosen are removed.
 */
export async function setModuleGroups(p: Project, groupIds: string[], ctx: { kit?: Kit; source?: KitSource } = {}): Promise<Project> {
  if (!p.board) throw new BootsmithError('Kernel modules come with a board kit; this project has no board.');
  const source = ctx.source ?? kitSource();
  const kit = ctx.kit ?? await source.kit(p.board.kit);
  if (kit.kernel !== p.board.kernel) {
    throw new BootsmithError(`This project was made with kernel ${p.board.kernel}, but the ${kit.name} kit now has ${kit.kernel}; modules must match the kernel. Make a new project from the kit.`);
  }
  const unknown = groupIds.filter((g) => !kit.moduleGroups.some((x) => x.id === g));
  if (unknown.length && !kit.moduleGroups.length) throw new BootsmithError(`The ${kit.name} kit has no module groups: everything it supports is built into its kernel.`);
  if (unknown.length) throw new BootsmithError(`Unknown module group${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the ${kit.name} kit has ${kit.moduleGroups.map((g) => g.id).join(', ')}.`);
  const names = [...new Set([
    ...kit.moduleGroups.filter((g) => groupIds.includes(g.id)).flatMap((g) => g.modules),
    ...(p.ext4.enabled ? kit.sdModules ?? [] : []),
  ])];
  const base = `lib/modules/${kit.kernel}`;
  const t = nowSeconds(p);
  const depFile = kit.files.find((f) => f.part === 'root' && f.path === `${base}/modules.dep`);
  // A kernel with everything built in (the pc kit) ships no modules: nothing to load.
  if (!depFile && !names.length && !kit.moduleGroups.length) return { ...p, entries: putText(p.entries, MODULES_PATH, '', t) };
  if (!depFile) throw new BootsmithError(`The ${kit.name} kit has no modules.dep. Run the set-up again to rebuild the kits.`);
  const dep = parseModulesDep(await (await source.file(depFile.sha256)).text());
  const { paths, missing } = resolveModules(names, dep);
  if (missing.length) throw new BootsmithError(`The ${kit.name} kit has no module ${missing.join(', ')}; run the set-up again to rebuild the kits.`);
  const keep = new Set(paths);
  const files = kit.files.filter((f) => f.part === 'root' && f.kind === 'module' && keep.has(f.path.slice(base.length + 1)));
  const moduleEntries = await kitEntries(files, source, t);
  const meta = file(`/${base}/modules.dep`, text(filterModulesDep(dep, keep)), t);
  // Drop every module file and modules.* we put there before, then add the new set.
  const prefix = `/${base}/`;
  let entries = p.entries.filter((e) => !(e.path.startsWith(prefix) && e.type === 'file'));
  entries = addEntries(entries, withParents([...moduleEntries, meta], t).filter((e) => e.type === 'file' || !findEntry(entries, e.path)), { replace: true });
  // Load order: what the user chose, deps resolved by modprobe itself.
  const load = names.map((n) => moduleNameOf(n));
  entries = putText(entries, MODULES_PATH, load.length ? load.join('\n') + '\n' : '', t);
  return { ...p, entries };
}

/** Turns the ext4 root on or off for a board project: root= in cmdline.txt follows it, and the SD
 *  card's modules are added to (or dropped from) the initramfs. On a PC, sdcard.img (the disk that
 *  holds the root partition) follows it too. */
export async function setExt4Root(p: Project, enabled: boolean, ctx: { kit?: Kit; source?: KitSource } = {}): Promise<Project> {
  let next: Project = { ...p, ext4: { ...p.ext4, enabled } };
  if (!p.board) return next;
  const board = boardById(p.board.kit);
  if (board?.family === 'x86') next = { ...next, sdcard: { enabled } };
  const cmdline = await readText(p.boot, '/cmdline.txt');
  if (board && cmdline !== undefined) {
    let line = setArg(cmdline, 'root', enabled ? partitionOf(board, 2) : undefined);
    line = setArg(line, 'rootwait', enabled ? true : undefined);
    next = { ...next, boot: putText(next.boot, '/cmdline.txt', line, p.sourceDateEpoch) };
  }
  const source = ctx.source ?? kitSource();
  const kit = ctx.kit ?? await source.kit(p.board.kit);
  const groups = selectedGroups(kit, (await readBoardSettings(p)).modules);
  return setModuleGroups(next, groups, { kit, source });
}
