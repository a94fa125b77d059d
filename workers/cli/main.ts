// `bootsmith`: the engine from a terminal. Same inputs everywhere: a directory, a tar (plain or
// gzip), a gen_init_cpio list, an initramfs, or a project file.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { Writable } from 'node:stream';
import type { Entry } from '../model/entry.ts';
import { type Project, blankProject, parseSourceDateEpoch } from '../model/project.ts';
import { BootsmithError, describeProblem } from '../model/problems.ts';
import { normalizePath } from '../model/path.ts';
import { addEntries, sortEntries } from '../model/tree.ts';
import { validateTree, warningsOf } from '../model/validate.ts';
import { importBytes } from '../import/import.ts';
import { looksLikeProjectFile, writeProjectFile } from '../projectfile/projectfile.ts';
import { type BuildOutput, buildInitramfs, buildProject } from '../pipeline.ts';
import { intOption, parseArgs, stringOption } from './args.ts';
import { readDirectory, readDiskEntry } from './readdir.ts';

const USAGE = `bootsmith — compose bootable Linux images

Usage:
  bootsmith initramfs <input> -o <initramfs.cpio.gz>   build a gzip newc initramfs
  bootsmith new [--name <name>] -o <project-file>      a blank project
  bootsmith add <project-file> <src> <dest> [--mode 0755] [--uid N] [--gid N]
                                                       add a file or a folder to the root fs
  bootsmith build <project-file> -o <dir>              every output the project asks for

<input> is a directory, a tar archive (plain or gzip; keeps owners, modes and devices),
a gen_init_cpio list, an initramfs (.cpio, .cpio.gz) or a Bootsmith project file.

SOURCE_DATE_EPOCH, when set, fixes every timestamp: the same input gives the same bytes.
Run 'bootsmith <command> --help' for a command's options.`;

const HELP: Record<string, string> = {
  initramfs: `bootsmith initramfs <input> -o <file> [--no-gzip]

Builds a newc cpio initramfs, gzip-compressed unless --no-gzip. <input> is a directory (types,
modes, owners, mtimes, symlinks and devices as on disk), a tar (plain or gzip), a gen_init_cpio
list (file locations relative to the current folder or the list's), an initramfs or a project file.`,
  new: `bootsmith new [--name <name>] -o <project-file>

Writes a blank project file (a root filesystem with nothing in it yet). Add to it with
'bootsmith add' or open it in the app (Import).`,
  add: `bootsmith add <project-file> <src> <dest> [--mode 0755] [--uid N] [--gid N]

Adds <src> to the project's root filesystem at <dest>, creating missing folders. <src> is a file
(or symlink, device, fifo) or a folder, whose contents are added recursively below <dest>; a
folder added at / is an overlay whose contents land in the root.
Owners default to root (0:0); --uid and --gid set them for everything added. --mode sets the
permission bits of <dest> itself; otherwise modes are kept as on disk. An existing entry at a
path being added is replaced.`,
  build: `bootsmith build <project-file> -o <dir>

Builds every output the project asks for into <dir> (created if missing) and prints each
output's name, size and sha256.`,
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

async function writeOutput(o: BuildOutput, file: string) {
  await writeFile(file, new Uint8Array(await o.data.arrayBuffer()));
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
  const base = project ?? blankProject('cli', 0);
  const epoch = envEpoch() ?? (project ? project.sourceDateEpoch : latestMtime(entries));
  warn(entries);
  const built = await buildInitramfs(
    { ...base, entries: sortEntries([...entries]), initramfs: { enabled: true, compression: p.options.has('--no-gzip') ? 'none' : 'gzip' } },
    { sourceDateEpoch: epoch },
  );
  await writeOutput(built, file);
  out(`${file}  ${built.size} bytes  sha256 ${built.sha256}`);
}

/** Without SOURCE_DATE_EPOCH, a directory or archive keeps its own times: nothing is clamped. */
function latestMtime(entries: Entry[]): number {
  return entries.reduce((m, e) => Math.max(m, e.mtime), 0);
}

async function cmdNew(argv: string[]) {
  const p = parseArgs(argv, ['-o', '--output', '--name', '--board', '--start']);
  if (p.options.has('--board')) throw new BootsmithError('no board kits are available in this version; run without --board for a blank project');
  const file = requireOutput(p, 'project-file');
  const epoch = envEpoch();
  const project = blankProject(stringOption(p, '--name') ?? basename(file).replace(/\.bootsmith$/, ''), epoch !== undefined ? epoch * 1000 : Date.now());
  await saveProject(project, file);
  out(`${file}: new project "${project.name}"`);
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
  warn(project.entries);
  const outputs = await buildProject(project, { sourceDateEpoch: envEpoch() });
  await mkdir(dir, { recursive: true });
  for (const o of outputs) {
    await writeOutput(o, join(dir, o.name));
    out(`${join(dir, o.name)}  ${o.size} bytes  sha256 ${o.sha256}`);
  }
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  initramfs: cmdInitramfs,
  new: cmdNew,
  add: cmdAdd,
  build: cmdBuild,
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
