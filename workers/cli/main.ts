// `bootsmith`: the engine from a terminal. Same inputs everywhere: a directory, a tar (plain or
// gzip), a gen_init_cpio list, an initramfs, or a project file.
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import type { Entry } from '../model/entry.ts';
import { type Project, blankProject, parseSourceDateEpoch, withDefaults } from '../model/project.ts';
import { formatSize, parseSize } from '../model/size.ts';
import { diskKitSource, useKitsFromDisk } from '../kits/node-source.ts';
import { defaultBoardOutputs, newBoardProject, setExt4Root, setModuleGroups } from '../kits/project.ts';
import { boardById } from '../kits/boards.ts';
import { AFTER_EXIT, type AfterExit } from '../kits/init.ts';
import { useToolsFromDisk } from '../wasi/node-tools.ts';
import { BootsmithError, describeProblem } from '../model/problems.ts';
import { normalizePath } from '../model/path.ts';
import { addEntries, sortEntries } from '../model/tree.ts';
import { validateTree, warningsOf } from '../model/validate.ts';
import { importBytes } from '../import/import.ts';
import { looksLikeProjectFile, writeProjectFile } from '../projectfile/projectfile.ts';
import { type BuildOutput, buildInitramfs, buildProject } from '../pipeline.ts';
import { intOption, parseArgs, stringOption } from './args.ts';
import { setDefaultDeflatePool } from '../compress/gzip.ts';
import { createNodeDeflatePool } from '../compress/node-pool.ts';
import { readDirectory, readDiskEntry } from './readdir.ts';
import { BOOT_HELP, cmdBoot } from './boot.ts';

const USAGE = `bootsmith — compose bootable Linux images

Usage:
  bootsmith initramfs <input> -o <initramfs.cpio.gz>   build a gzip newc initramfs
  bootsmith kits                                       list the board kits
  bootsmith new [--board <kit>] [--start "<command>"] [--name <name>] [--outputs ...] -o <project-file>
                                                       a project from a board kit, or a blank one
  bootsmith add <project-file> <src> <dest> [--mode 0755] [--uid N] [--gid N]
                                                       add a file or a folder to the root fs
  bootsmith ext4 <input> -o <rootfs.ext4> [--size 64M] [--no-journal] [--label L] [--compat]
                                                       an ext4 filesystem image
  bootsmith fat <input> -o <boot.vfat> [--size 64M] [--label L] [--fat 16|32]
                                                       a FAT filesystem image (names and content)
  bootsmith build <project-file> -o <dir>              every output the project asks for
  bootsmith boot <project-file|outputs-dir> [--expect TEXT] [--timeout S]
                                                       x86: boot in v86, serial console on the terminal

<input> is a directory, a tar archive (plain or gzip; keeps owners, modes and devices),
a gen_init_cpio list, an initramfs (.cpio, .cpio.gz) or a Bootsmith project file.

SOURCE_DATE_EPOCH, when set, fixes every timestamp: the same input gives the same bytes.
Run 'bootsmith <command> --help' for a command's options.`;

const HELP: Record<string, string> = {
  boot: BOOT_HELP,
  initramfs: `bootsmith initramfs <input> -o <file> [--no-gzip]

Builds a newc cpio initramfs, gzip-compressed unless --no-gzip. <input> is a directory (types,
modes, owners, mtimes, symlinks and devices as on disk), a tar (plain or gzip), a gen_init_cpio
list (file locations relative to the current folder or the list's), an initramfs or a project file.`,
  kits: `bootsmith kits

Lists the board kits (id, boards, architecture, kernel) that 'bootsmith new --board' takes.`,
  new: `bootsmith new [--board <kit>] [--start "<command>"] [--after shell|restart|poweroff]
              [--modules <group>,...] [--name <name>] [--outputs <list>] -o <project-file>

Without --board: a blank project (a root filesystem with nothing in it yet); --outputs chooses
what 'bootsmith build' makes from initramfs, ext4, fat (default: initramfs).
With --board <kit> (see 'bootsmith kits'): the board's boot folder (firmware, kernel, device
trees, config.txt, cmdline.txt) and a root filesystem with busybox and an /init that starts
--start's command once the system is up. --after says what happens when it exits (default: a
shell on the console). --modules loads kernel module groups (e.g. spi,i2c,usb-serial).
--outputs chooses from zip, fat, sdcard, initramfs, ext4 (default: zip,fat,sdcard,initramfs;
ext4 puts the root filesystem on a second partition of sdcard.img). The pc kit (x86, for test
boots) has no firmware or config.txt: its boot folder holds vmlinuz and cmdline.txt, every
driver is built into its kernel, and it builds initramfs.cpio.gz, plus rootfs.ext4 and
sdcard.img (the disk, /dev/sda) with ext4.
Add your program with 'bootsmith add', e.g. bootsmith add p.bootsmith ./puzzle /usr/bin/puzzle.`,
  add: `bootsmith add <project-file> <src> <dest> [--mode 0755] [--uid N] [--gid N]

Adds <src> to the project's root filesystem at <dest>, creating missing folders. <src> is a file
(or symlink, device, fifo) or a folder, whose contents are added recursively below <dest>; a
folder added at / is an overlay whose contents land in the root.
Owners default to root (0:0); --uid and --gid set them for everything added. --mode sets the
permission bits of <dest> itself; otherwise modes are kept as on disk. An existing entry at a
path being added is replaced.`,
  ext4: `bootsmith ext4 <input> -o <file> [--size 64M] [--headroom 20] [--no-journal] [--label L] [--compat]

Builds an ext4 filesystem image with exact Unix metadata (modes, owners, symlinks, devices, FIFOs,
times, hard links) using e2fsprogs' mke2fs compiled to WebAssembly, then checks it with e2fsck -fn.
--size: the image size (e.g. 64M, 1G); default: the content plus --headroom percent (20).
--no-journal: no journal (for media that should see few writes, or old bootloaders).
--label: the volume label (16 bytes at most).
--compat: leave out features old kernels cannot mount (metadata_csum, 64bit, orphan_file,
metadata_csum_seed). The file is written sparsely.`,
  fat: `bootsmith fat <input> -o <file> [--size 64M] [--headroom 20] [--label L] [--fat 16|32]

Builds a FAT filesystem image (long file names kept; FAT holds names and content only, so symlinks,
devices, FIFOs and sockets are left out with a warning) using dosfstools and mtools compiled to
WebAssembly, then checks it with fsck.fat -n.
--size: the image size (e.g. 64M); default: the content plus --headroom percent (20).
--fat: 16 or 32; default: chosen by size. --label: up to 11 characters.`,
  build: `bootsmith build <project-file> -o <dir>

Builds every output the project asks for into <dir> (created if missing) and prints each
output's name, size and sha256. A board project gives boot.zip (the boot folder, to unpack onto
a FAT SD card), boot.vfat, sdcard.img, initramfs.cpio.gz and, when chosen, rootfs.ext4.`,
};

function out(line: string) { process.stdout.write(line + '\n'); }

/** Entries (and, for a project file, the project) from any supported input. */
export async function readInput(input: string): Promise<{ entries: Entry[]; project?: Project }> {
  let st;
  try {
    st = await stat(input);
  } catch {
    throw new BootsmithError(`${input}: no such file or folder`);
  }
  if (st.isDirectory()) return { entries: await readDirectory(input) };
  const bytes = new Uint8Array(await readFile(input));
  const listDir = dirname(resolvePath(input));
  const imported = await importBytes(bytes, basename(input), {
    mtime: Math.floor(st.mtimeMs / 1000),
    // gen_init_cpio resolves locations against the current folder; fall back to the list's own.
    resolve: async (location) => {
      for (const base of [process.cwd(), listDir]) {
        const p = resolvePath(base, location);
        try {
          if ((await stat(p)).isFile()) return await openAsBlob(p);
        } catch { /* try the next base */ }
      }
      return undefined;
    },
  });
  if (imported.format === 'project') return { entries: imported.project.entries, project: imported.project };
  return { entries: imported.entries };
}

async function readProject(file: string): Promise<Project> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    throw new BootsmithError(`${file}: no such project file. Create one with 'bootsmith new -o ${file}'.`);
  }
  if (!looksLikeProjectFile(bytes)) throw new BootsmithError(`${file} is not a Bootsmith project file. Create one with 'bootsmith new -o ${file}'.`);
  const { project } = await readInput(file);
  if (!project) throw new BootsmithError(`${file} is not a Bootsmith project file. Create one with 'bootsmith new -o ${file}'.`);
  return project;
}

async function saveProject(project: Project, file: string): Promise<void> {
  const chunks = await writeProjectFile(project);
  await writeFile(file, chunks);
}

function envEpoch(): number | undefined {
  try {
    return parseSourceDateEpoch(process.env.SOURCE_DATE_EPOCH);
  } catch (err) {
    throw new BootsmithError((err as Error).message);
  }
}

function warn(entries: Entry[]) {
  for (const w of warningsOf(validateTree(entries))) process.stderr.write(`warning: ${describeProblem(w)}\n`);
}

/** Writes an output; a disk image is written sparsely (holes stay holes on the host too). */
async function writeOutput(o: BuildOutput, file: string) {
  if (o.data instanceof Blob) {
    await writeFile(file, new Uint8Array(await o.data.arrayBuffer()));
    return;
  }
  const fh = await open(file, 'w');
  try {
    for (const { offset, data } of o.data.extents()) await fh.write(data, 0, data.length, offset);
    await fh.truncate(o.size);
  } finally {
    await fh.close();
  }
}

function report(o: BuildOutput, file: string) {
  out(`${file}  ${o.size} bytes  sha256 ${o.sha256}`);
  for (const n of o.notes) out(`  ${n}`);
  if (o.check) out(`  ${o.check.tool}: ${o.check.clean ? 'clean' : 'NOT CLEAN'} — ${o.check.summary}`);
}

/** Image options shared by `ext4` and `fat`. */
function imageSize(p: ReturnType<typeof parseArgs>) {
  const size = stringOption(p, '--size');
  const headroom = intOption(p, '--headroom');
  return { ...(size ? { size: parseSize(size) } : {}), ...(headroom !== undefined ? { headroomPercent: headroom } : {}) };
}

async function cmdImage(kind: 'ext4' | 'fat', argv: string[]) {
  const p = kind === 'ext4'
    ? parseArgs(argv, ['-o', '--output', '--size', '--headroom', '--label'], ['--no-journal', '--compat'])
    : parseArgs(argv, ['-o', '--output', '--size', '--headroom', '--label', '--fat']);
  if (p.positionals.length !== 1) throw new BootsmithError(`${kind} takes one <input> (see bootsmith ${kind} --help)`);
  const file = requireOutput(p, 'file');
  const { entries, project } = await readInput(p.positionals[0]);
  const base = withDefaults(project ?? { ...blankProject('cli', 0), seed: ONE_SHOT_SEED });
  const epoch = envEpoch() ?? (project ? project.sourceDateEpoch : latestMtime(entries));
  const label = stringOption(p, '--label');
  const fatType = stringOption(p, '--fat');
  if (fatType !== undefined && fatType !== '16' && fatType !== '32') throw new BootsmithError(`--fat takes 16 or 32, not "${fatType}"`);
  const proj: Project = {
    ...base,
    entries,
    initramfs: { ...base.initramfs, enabled: false },
    ext4: kind === 'ext4'
      ? { ...base.ext4, enabled: true, ...imageSize(p), ...(label !== undefined ? { label } : {}), ...(p.options.has('--no-journal') ? { journal: false } : {}), ...(p.options.has('--compat') ? { compat: true } : {}) }
      : { ...base.ext4, enabled: false },
    fat: kind === 'fat'
      ? { ...base.fat, enabled: true, ...imageSize(p), ...(label !== undefined ? { label } : {}), ...(fatType ? { fatType: Number(fatType) as 16 | 32 } : {}) }
      : { ...base.fat, enabled: false },
  };
  warn(entries);
  useToolsFromDisk();
  const [o] = await buildProject(proj, { sourceDateEpoch: epoch });
  await writeOutput(o, file);
  report(o, file);
  if (o.check && !o.check.clean) throw new BootsmithError(`${o.check.tool} found problems in ${file}: ${o.check.summary}`);
}

function requireOutput(p: ReturnType<typeof parseArgs>, what: string): string {
  const o = stringOption(p, '-o') ?? stringOption(p, '--output');
  if (!o) throw new BootsmithError(`missing -o <${what}>`);
  return o;
}

async function cmdInitramfs(argv: string[]) {
  const p = parseArgs(argv, ['-o', '--output'], ['--no-gzip']);
  if (p.positionals.length !== 1) throw new BootsmithError('initramfs takes one <input> (see bootsmith initramfs --help)');
  const file = requireOutput(p, 'file');
  const { entries, project } = await readInput(p.positionals[0]);
  const gzip = !p.options.has('--no-gzip');
  if (gzip) deflatePool.warmUp();
  const base = project ?? { ...blankProject('cli', 0), seed: ONE_SHOT_SEED };
  const epoch = envEpoch() ?? (project ? project.sourceDateEpoch : latestMtime(entries));
  warn(entries);
  const built = await buildInitramfs(
    { ...base, entries: sortEntries([...entries]), initramfs: { enabled: true, compression: gzip ? 'gzip' : 'none' } },
    { sourceDateEpoch: epoch },
  );
  await writeOutput(built, file);
  report(built, file);
}

/** Without SOURCE_DATE_EPOCH, a directory or archive keeps its own times: nothing is clamped. */
function latestMtime(entries: Entry[]): number {
  return entries.reduce((m, e) => Math.max(m, e.mtime), 0);
}

async function cmdNew(argv: string[]) {
  const p = parseArgs(argv, ['-o', '--output', '--name', '--board', '--start', '--outputs', '--after', '--modules']);
  const file = requireOutput(p, 'project-file');
  const epoch = envEpoch();
  const now = epoch !== undefined ? epoch * 1000 : Date.now();
  const name = stringOption(p, '--name') ?? basename(file).replace(/\.bootsmith$/, '');
  const board = stringOption(p, '--board');
  const list = (o: string) => (stringOption(p, o) ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (!board) {
    for (const o of ['--start', '--after', '--modules']) if (p.options.has(o)) throw new BootsmithError(`${o} needs --board <kit> (see bootsmith kits)`);
    const project = blankProject(name, now);
    const outputs = stringOption(p, '--outputs') ? list('--outputs') : ['initramfs'];
    for (const o of outputs) if (!['initramfs', 'ext4', 'fat'].includes(o)) throw new BootsmithError(`--outputs: unknown output "${o}" (choose from initramfs, ext4, fat)`);
    project.initramfs.enabled = outputs.includes('initramfs');
    project.ext4.enabled = outputs.includes('ext4');
    project.fat.enabled = outputs.includes('fat');
    await saveProject(project, file);
    out(`${file}: new project "${project.name}"`);
    return;
  }
  const after = stringOption(p, '--after');
  if (after !== undefined && !AFTER_EXIT.includes(after as AfterExit)) throw new BootsmithError(`--after takes ${AFTER_EXIT.join(', ')}, not "${after}"`);
  const boardInfo = boardById(board);
  const outputs: string[] = stringOption(p, '--outputs') ? list('--outputs') : boardInfo ? defaultBoardOutputs(boardInfo) : ['zip', 'fat', 'sdcard', 'initramfs'];
  const known = ['zip', 'fat', 'sdcard', 'initramfs', 'ext4'];
  for (const o of outputs) if (!known.includes(o)) throw new BootsmithError(`--outputs: unknown output "${o}" (choose from ${known.join(', ')})`);
  const source = useKitsFromDisk();
  const kit = await source.kit(board);
  let project = await newBoardProject({ kit: board, name, start: stringOption(p, '--start'), after: after as AfterExit | undefined, now, source });
  project = { ...project, zip: { enabled: outputs.includes('zip') }, fat: { ...project.fat, enabled: outputs.includes('fat') }, sdcard: { enabled: outputs.includes('sdcard') }, initramfs: { ...project.initramfs, enabled: outputs.includes('initramfs') } };
  if (outputs.includes('ext4')) project = await setExt4Root(project, true, { kit, source });
  if (p.options.has('--modules')) project = await setModuleGroups(project, list('--modules'), { kit, source });
  await saveProject(project, file);
  out(`${file}: new ${kit.name} project "${project.name}" (kernel ${kit.kernel}; outputs ${outputs.join(', ')})`);
}

async function cmdKits() {
  const kits = await diskKitSource().list();
  for (const k of kits) out(`${k.id.padEnd(10)} ${k.arch.padEnd(6)} ${k.models.join(', ')}  (kernel ${k.kernel}, ${formatSize(k.size)})`);
}

async function cmdAdd(argv: string[]) {
  const p = parseArgs(argv, ['--mode', '--uid', '--gid']);
  if (p.positionals.length !== 3) throw new BootsmithError('add takes <project-file> <src> <dest> (see bootsmith add --help)');
  const [file, src, destRaw] = p.positionals;
  const dest = normalizePath(destRaw);
  const project = await readProject(file);
  const mode = intOption(p, '--mode', 8);
  const uid = intOption(p, '--uid') ?? 0;
  const gid = intOption(p, '--gid') ?? 0;
  let st;
  try { st = await stat(src); } catch { throw new BootsmithError(`${src}: no such file or folder`); }
  if (!dest && !st.isDirectory()) throw new BootsmithError(`<dest> must name a path below the root for a file, e.g. /${basename(src)}`);
  if (!dest && mode !== undefined) throw new BootsmithError('--mode cannot be set on the root itself; add the folder at a path below it');
  // A folder added at "/" is an overlay: its contents land in the root.
  const top = dest ? [await readDiskEntry(src, dest)] : [];
  const added = [...top, ...(st.isDirectory() ? await readDirectory(src, dest) : [])].map((e) => ({ ...e, uid, gid }));
  if (!added.length) throw new BootsmithError(`${src} is an empty folder; nothing to add`);
  if (mode !== undefined) added[0] = { ...added[0], mode };
  const entries = addEntries(project.entries, added, { replace: true });
  await saveProject({ ...project, entries, modified: Date.now() }, file);
  out(`${file}: added ${added.length} entr${added.length === 1 ? "y" : "ies"} at ${dest || "/"}`);
}

async function cmdBuild(argv: string[]) {
  const p = parseArgs(argv, ['-o', '--output']);
  if (p.positionals.length !== 1) throw new BootsmithError('build takes one <project-file> (see bootsmith build --help)');
  const dir = requireOutput(p, 'dir');
  const project = await readProject(p.positionals[0]);
  if (project.initramfs.enabled && project.initramfs.compression === 'gzip') deflatePool.warmUp();
  warn(project.entries);
  useToolsFromDisk();
  const outputs = await buildProject(project, { sourceDateEpoch: envEpoch() });
  await mkdir(dir, { recursive: true });
  for (const o of outputs) {
    await writeOutput(o, join(dir, o.name));
    report(o, join(dir, o.name));
  }
}

// gzip runs block-parallel on every core; the threads only keep the process alive while busy.
const deflatePool = createNodeDeflatePool();
setDefaultDeflatePool(deflatePool);

/** A one-shot image from a directory, archive or list has no project to carry a seed: a fixed one
 *  keeps two runs on the same input byte-identical (a project file brings its own). */
const ONE_SHOT_SEED = '0'.repeat(32);

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  initramfs: cmdInitramfs,
  kits: cmdKits,
  new: cmdNew,
  add: cmdAdd,
  ext4: (argv) => cmdImage('ext4', argv),
  fat: (argv) => cmdImage('fat', argv),
  build: cmdBuild,
  boot: cmdBoot,
};

export async function main(argv: string[], stderr: Pick<Writable, 'write'> = process.stderr): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    out(USAGE);
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    stderr.write(`bootsmith: unknown command "${cmd}" (commands: ${Object.keys(COMMANDS).join(', ')}; see bootsmith --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(HELP[cmd]);
    return 0;
  }
  try {
    await run(rest);
    return 0;
  } catch (err) {
    const msg = err instanceof BootsmithError ? err.message : `internal error: ${(err as Error).stack ?? err}`;
    stderr.write(`bootsmith ${cmd}: ${msg.split('\n')[0]}\n`);
    return 1;
  }
}

// Also runnable as `node --import tsx workers/cli/main.ts ...`, not only through bin/bootsmith.mjs.
if (process.argv[1] && import.meta.url === pathToFileURL(resolvePath(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
