// Benchmark: building an initramfs from a realistic tree, ours against the native tools, measured in
// the same run (3 runs each, median, interleaved so both see the same machine state). Ours: the CLI
// end to end (a fresh Node process, as a user runs it) and the build in this process with a pool of
// deflate threads (os.availableParallelism(), as the CLI uses); then a profile of the stages, gzip
// alone on 1 and 2 threads.
//   npx tsx bench/initramfs.ts
// The tree (>= 2000 files, >= 50 MB, ~2x gzip-compressible overall) is generated once from a seeded
// PRNG and cached in .bench/ (git-ignored). No pass/fail: the figures are for reading.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDirectory } from '../workers/cli/readdir.ts';
import { blankProject } from '../workers/model/project.ts';
import { buildInitramfs } from '../workers/pipeline.ts';
import { writeCpio } from '../workers/cpio/write.ts';
import { GZIP_BLOCK, gzipChunks, setDefaultDeflatePool } from '../workers/compress/gzip.ts';
import { createNodeDeflatePool } from '../workers/compress/node-pool.ts';
import { Gzip } from 'fflate';
import { sortEntries } from '../workers/model/tree.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = join(REPO, '.bench');
const TREE_VERSION = 'v3';
const TREE = join(BENCH, `tree-${TREE_VERSION}`);
const DONE = join(BENCH, `tree-${TREE_VERSION}.done`);
const OUT = join(BENCH, 'out');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

// ---------------------------------------------------------------------------------------------
// The tree

/** mulberry32: small, fast, seeded. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(0xb0075);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));

const LETTERS = 'etaoinshrdlucmfwypvbgkqjxz';
const VOCAB: string[] = Array.from({ length: 1200 }, () => {
  let w = '';
  const n = int(2, 11);
  // skewed letter choice, like natural text
  for (let i = 0; i < n; i++) w += LETTERS[Math.floor(LETTERS.length * rand() * rand())];
  return w;
});
const PUNCT = ['', '', '', '', ',', '.', ';', ' =', '(', ')', ':', ' {', ' }', ' ->'];

/** Text-like content: Zipf-ish words in indented lines (~3-4x with gzip). */
function textContent(size: number): Uint8Array {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const indent = ' '.repeat(2 * int(0, 4));
    const words: string[] = [];
    const count = int(3, 14);
    for (let i = 0; i < count; i++) {
      const w = VOCAB[Math.floor(VOCAB.length * Math.pow(rand(), 3.5))];
      words.push(w + PUNCT[int(0, PUNCT.length - 1)]);
    }
    if (rand() < 0.1) words.push(String(int(0, 1_000_000)));
    const line = indent + words.join(' ') + '\n';
    parts.push(line);
    n += line.length;
  }
  return new TextEncoder().encode(parts.join('').slice(0, size));
}

/** Binary-like content in 4 KiB blocks: random (incompressible), a small alphabet (~2.5x), a
 *  near-copy of the previous block (an LZ match), or structured records. */
function binaryContent(size: number): Uint8Array {
  const b = new Uint8Array(size);
  const BLOCK = 4096;
  for (let off = 0; off < size; off += BLOCK) {
    const end = Math.min(size, off + BLOCK);
    const r = rand();
    if (r < 0.2 || off === 0) {
      for (let i = off; i < end; i++) b[i] = (rand() * 256) | 0;
    } else if (r < 0.55) {
      const alphabet = Array.from({ length: 8 }, () => int(0, 255));
      for (let i = off; i < end; i++) b[i] = alphabet[(rand() * 8) | 0];
    } else if (r < 0.85) {
      b.copyWithin(off, off - BLOCK, off - BLOCK + (end - off));
      for (let k = 0; k < 24; k++) b[int(off, end - 1)] = (rand() * 256) | 0;
    } else {
      let v = int(0, 1 << 20);
      for (let i = off; i + 8 <= end; i += 8) {
        v += int(1, 16);
        b[i] = v & 0xff; b[i + 1] = (v >> 8) & 0xff; b[i + 2] = (v >> 16) & 0xff; b[i + 3] = 0;
        b[i + 4] = int(0, 3); b[i + 5] = 0; b[i + 6] = 0x7f; b[i + 7] = 0;
      }
    }
  }
  return b;
}

async function makeTree(): Promise<void> {
  if (existsSync(DONE)) return;
  const started = performance.now();
  await rm(TREE, { recursive: true, force: true });
  const dirs: string[] = [];
  const tops = ['usr/lib', 'usr/share/doc', 'usr/bin', 'etc', 'opt/app/lib', 'var/lib/data', 'srv/www'];
  for (const top of tops) {
    for (let i = 0; i < 9; i++) {
      const d = `${top}/pkg${String(i).padStart(2, '0')}`;
      dirs.push(d);
      for (let j = 0; j < int(0, 3); j++) dirs.push(`${d}/sub${j}${rand() < 0.4 ? `/deep${j}` : ''}`);
    }
  }
  for (const d of dirs) await mkdir(join(TREE, d), { recursive: true });
  let files = 0;
  let bytes = 0;
  while (files < 2000 || bytes < 52_000_000) {
    const dir = dirs[int(0, dirs.length - 1)];
    const text = rand() < 0.7;
    const size = text ? logUniform(200, 64_000) : logUniform(1024, 256 * 1024);
    const name = `${text ? 'f' : 'b'}${String(files).padStart(5, '0')}${text ? '.txt' : '.bin'}`;
    await writeFile(join(TREE, dir, name), text ? textContent(size) : binaryContent(size));
    files++;
    bytes += size;
  }
  // a few large binaries, as a real root filesystem has (a libc, a busybox, a firmware blob)
  for (let i = 0; i < 4; i++) {
    const size = logUniform(1_000_000, 3_000_000);
    await writeFile(join(TREE, 'usr/lib', `large${i}.so`), binaryContent(size));
    files++;
    bytes += size;
  }
  await writeFile(DONE, JSON.stringify({ files, bytes, dirs: dirs.length }) + '\n');
  console.log(`generated ${TREE}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------
// Measuring

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function timed(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function inProcess(out: string): Promise<number> {
  const t = performance.now();
  const entries = await readDirectory(TREE);
  const built = await buildInitramfs({ ...blankProject('bench', 0), entries: sortEntries(entries) }, { sourceDateEpoch: 0xffffffff });
  const blob = built.data instanceof Blob ? built.data : built.data.toBlob();
  await writeFile(out, new Uint8Array(await blob.arrayBuffer()));
  return performance.now() - t;
}

/** Gzips in-memory chunks; returns [ms, compressed bytes]. */
async function gzipOnly(chunks: Uint8Array[], opts: Parameters<typeof gzipChunks>[1]): Promise<[number, number]> {
  const t = performance.now();
  let n = 0;
  for await (const c of gzipChunks(chunks, opts)) n += c.length;
  return [performance.now() - t, n];
}

/** Size of the same content as one fflate stream (the format before block splitting). */
function singleStreamSize(chunks: Uint8Array[]): number {
  let n = 0;
  const gz = new Gzip({ level: 6, mem: 8, mtime: 0 }, (d) => { n += d.length; });
  const all = new Uint8Array(chunks.reduce((k, c) => k + c.length, 0));
  let o = 0;
  for (const c of chunks) { all.set(c, o); o += c.length; }
  for (let i = 0; i < all.length; i += 65_536) gz.push(all.subarray(i, i + 65_536), i + 65_536 >= all.length);
  return n;
}

async function main() {
  await mkdir(OUT, { recursive: true });
  await makeTree();
  const info = JSON.parse(await readFile(DONE, 'utf8')) as { files: number; bytes: number };
  const threads = availableParallelism();
  console.log(`tree: ${info.files} files, ${mb(info.bytes)} (${TREE}); ${threads} cores`);

  // The in-process builds use deflate threads, as the CLI does.
  const pool = createNodeDeflatePool(threads);
  setDefaultDeflatePool(pool);
  pool.warmUp();

  const ours = join(OUT, 'ours.cpio.gz');
  const native = join(OUT, 'native.cpio.gz');
  const inproc = join(OUT, 'inproc.cpio.gz');
  const nativeCmd = `cd '${TREE}' && find . | cpio -o -H newc --quiet | gzip -6 > '${native}'`;

  // warm the page cache so neither side pays for the first read from disk
  timed('sh', ['-c', nativeCmd]);

  const t = { ours: [] as number[], native: [] as number[], inproc: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    t.ours.push(timed(process.execPath, [join(REPO, 'bin', 'bootsmith.mjs'), 'initramfs', TREE, '-o', ours], { cwd: REPO }));
    t.native.push(timed('sh', ['-c', nativeCmd]));
    t.inproc.push(await inProcess(inproc));
  }
  const [so, sn, si] = await Promise.all([stat(ours), stat(native), stat(inproc)]).then((x) => x.map((y) => y.size));
  const same = (await readFile(ours)).equals(await readFile(inproc));
  const mo = median(t.ours), mn = median(t.native), mi = median(t.inproc);
  console.log(`initramfs: ours (CLI, end to end) ${s(mo)}, native ${s(mn)}, ratio ${ratio(mo, mn)}, sizes ${mb(so)} vs ${mb(sn)} (${ratio(so, sn)})`);
  console.log(`initramfs in-process (no Node/tsx start-up; ${threads} deflate threads): ${s(mi)}, ratio ${ratio(mi, mn)} vs native; size ${mb(si)}; ${same ? 'same bytes as the CLI' : 'NOT the same bytes as the CLI'}`);
  console.log(`  runs (ms): ours [${t.ours.map(Math.round).join(', ')}], native [${t.native.map(Math.round).join(', ')}], in-process [${t.inproc.map(Math.round).join(', ')}]`);
  console.log(`  compression: ours ${(info.bytes / so).toFixed(2)}x, native ${(info.bytes / sn).toFixed(2)}x of ${mb(info.bytes)} content`);

  // Profile: where the in-process time goes (one run each; gzip: median of RUNS).
  const p0 = performance.now();
  const entries = sortEntries(await readDirectory(TREE));
  const p1 = performance.now();
  let contentBytes = 0;
  for (const e of entries) if (e.type === 'file' && e.data) contentBytes += (await e.data.arrayBuffer()).byteLength;
  const p2 = performance.now();
  const chunks: Uint8Array[] = [];
  for await (const c of writeCpio(entries)) chunks.push(c);
  const p3 = performance.now();
  const cpioBytes = chunks.reduce((n, c) => n + c.length, 0);
  const plain = join(OUT, 'plain.cpio');
  await writeFile(plain, chunks);
  const nativeCpio = timed('sh', ['-c', `cd '${TREE}' && find . | cpio -o -H newc --quiet > '${join(OUT, 'native-plain.cpio')}'`]);
  const two = threads === 2 ? pool : createNodeDeflatePool(2);
  const g = { one: [] as number[], two: [] as number[], native: [] as number[] };
  let gzBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    let ms: number;
    [ms, gzBytes] = await gzipOnly(chunks, { pool: null });
    g.one.push(ms);
    g.two.push((await gzipOnly(chunks, { pool: two }))[0]);
    g.native.push(timed('sh', ['-c', `gzip -6 -c '${plain}' > '${plain}.gz'`]));
  }
  if (two !== pool) two.close();
  const nativeGzBytes = (await stat(plain + '.gz')).size;
  const single = singleStreamSize(chunks);
  const rate = (ms: number) => `${(cpioBytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
  const g1 = median(g.one), g2 = median(g.two), gn = median(g.native);
  console.log('profile (in-process, one run; gzip: median of the runs):');
  console.log(`  walk the tree (lstat, ${entries.length} entries): ${s(p1 - p0)}`);
  console.log(`  read all content (${mb(contentBytes)}):          ${s(p2 - p1)}`);
  console.log(`  cpio (newc, content read included):       ${s(p3 - p2)}  vs native find|cpio ${s(nativeCpio)}, ratio ${ratio(p3 - p2 + (p1 - p0), nativeCpio)}`);
  console.log(`  gzip level 6 of ${mb(cpioBytes)} (fflate, ${GZIP_BLOCK >> 20} MiB blocks) vs gzip -6 ${s(gn)} (${rate(gn)}):`);
  console.log(`    1 thread  (the calling one): ${s(g1)} (${rate(g1)}), ratio ${ratio(g1, gn)}`);
  console.log(`    2 threads (deflate pool):    ${s(g2)} (${rate(g2)}), ratio ${ratio(g2, gn)}`);
  console.log(`    size ${mb(gzBytes)} vs gzip -6 ${mb(nativeGzBytes)} (${ratio(gzBytes, nativeGzBytes)}); block splitting costs ${(100 * (gzBytes - single) / single).toFixed(3)}% against one fflate stream (${mb(single)})`);
  console.log(`    runs (ms): 1 thread [${g.one.map(Math.round).join(', ')}], 2 threads [${g.two.map(Math.round).join(', ')}], gzip -6 [${g.native.map(Math.round).join(', ')}]`);
  pool.close();
  await rm(plain, { force: true });
  await rm(plain + '.gz', { force: true });
  await rm(join(OUT, 'native-plain.cpio'), { force: true });
}

await main();
