// Benchmark: boot.zip from a Pi boot folder, ours against native `zip -r -6` in the same run
// (3 runs each, median, interleaved). Ours: zipEntries on the calling thread, and on a pool of
// deflate threads as the CLI and the Web Worker run it. For comparison, the two npm zip libraries
// the product card names, used directly: fflate (zipSync) and JSZip (generateAsync), both DEFLATE
// level 6 with every file compressed.
//   node --import tsx bench/zip.ts
// The folder: the pi4b kit's boot files (public/kits, made by the set-up) — the ~33 MB arm64 kernel
// Image, start4.elf, fixup4.dat, the DTB — plus config.txt, cmdline.txt and an initramfs.gz (the
// kit's root files gzipped, already compressed). Without the kit, a synthetic folder of the same
// make-up (BENCH_SYNTHETIC=1 forces it). No pass/fail: the figures are for reading.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';
import { setDefaultDeflatePool } from '../workers/compress/gzip.ts';
import { createNodeDeflatePool } from '../workers/compress/node-pool.ts';
import type { Entry } from '../workers/model/entry.ts';
import { zipEntries } from '../workers/zip/zip.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(REPO, '.bench', 'zip');
const FOLDER = join(DIR, 'boot');
const KIT = join(REPO, 'public', 'kits', 'pi4b', 'kit.json');
const BLOBS = join(REPO, 'public', 'kits', 'blobs');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EPOCH = 1_700_000_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface KitFile { part: string; path: string; sha256: string; size: number }

/** The boot folder's files (name → bytes), and where they came from. */
function bootFolder(): { files: Map<string, Uint8Array>; source: string } {
  const files = new Map<string, Uint8Array>();
  const kit = existsSync(KIT) && !process.env.BENCH_SYNTHETIC ? (JSON.parse(readFileSync(KIT, 'utf8')) as { files: KitFile[] }) : undefined;
  const have = (f: KitFile) => existsSync(join(BLOBS, f.sha256));
  if (kit && kit.files.filter((f) => f.part === 'boot').every(have)) {
    for (const f of kit.files.filter((x) => x.part === 'boot')) files.set(f.path, readFileSync(join(BLOBS, f.sha256)));
    // The initramfs: the kit's root files (busybox, modules) gzipped, as incompressible as the real one.
    const root = kit.files.filter((f) => f.part === 'root' && have(f)).map((f) => readFileSync(join(BLOBS, f.sha256)));
    files.set('initramfs.gz', gzipSync(Buffer.concat(root), { level: 6 }));
    files.set('config.txt', new TextEncoder().encode('arm_64bit=1\nenable_uart=1\nupstream_kernel=1\nkernel=vmlinuz\ninitramfs initramfs.gz followkernel\n'));
    files.set('cmdline.txt', new TextEncoder().encode('console=tty0 console=ttyS1,115200 rdinit=/init\n'));
    return { files, source: 'public/kits/pi4b' };
  }
  // Synthetic: a kernel-like file from this machine's kernel (or any large binaries), two .elf-like
  // files, a few DTB-like files, a gzip file.
  const big = ['/boot', '/usr/bin', '/usr/lib/x86_64-linux-gnu'].flatMap((d) => {
    const r = spawnSync('sh', ['-c', `ls -S ${d} 2>/dev/null | head -20`], { encoding: 'utf8' });
    return r.stdout.split('\n').filter(Boolean).map((n) => join(d, n));
  }).filter((p) => { try { return spawnSync('test', ['-f', p, '-a', '-r', p]).status === 0; } catch { return false; } });
  const pool = Buffer.concat(big.slice(0, 30).map((p) => readFileSync(p)));
  /** `n` bytes of the pool from `off` on, wrapping around. */
  const take = (off: number, n: number) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n;) {
      const from = (off + o) % pool.length;
      const k = Math.min(n - o, pool.length - from);
      out.set(pool.subarray(from, from + k), o);
      o += k;
    }
    return out;
  };
  files.set('vmlinuz', take(0, 33 * 2 ** 20));
  files.set('start4.elf', take(1 << 20, 2_250_000));
  files.set('start.elf', take(5 << 20, 2_950_000));
  for (let i = 0; i < 6; i++) files.set(`bcm2711-rpi-${i}.dtb`, take((9 << 20) + i * 30_000, 27_000));
  files.set('initramfs.gz', gzipSync(take(12 << 20, 12 * 2 ** 20)));
  files.set('config.txt', new TextEncoder().encode('arm_64bit=1\nkernel=vmlinuz\n'));
  return { files, source: `synthetic (${big.length} binaries of this machine)` };
}

function timed(cmd: string, args: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

async function clock(fn: () => Promise<number>): Promise<{ s: number; size: number }> {
  const t = performance.now();
  const size = await fn();
  return { s: (performance.now() - t) / 1000, size };
}

async function main() {
  const { files, source } = bootFolder();
  await rm(DIR, { recursive: true, force: true });
  await mkdir(FOLDER, { recursive: true });
  for (const [name, data] of files) await writeFile(join(FOLDER, name), data);
  const input = [...files.values()].reduce((n, d) => n + d.length, 0);
  console.log(`boot folder (${source}): ${files.size} files, ${(input / 1e6).toFixed(1)} MB`);
  for (const [name, data] of [...files].sort((a, b) => b[1].length - a[1].length).slice(0, 4)) console.log(`  ${name} ${(data.length / 1e6).toFixed(1)} MB`);

  const entries: Entry[] = [...files].map(([name, data]) => ({
    path: '/' + name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, data: new Blob([data as Uint8Array<ArrayBuffer>]),
  }));
  const JSZip = (await import('jszip')).default;
  const mtime = new Date(EPOCH * 1000);
  const pool = createNodeDeflatePool(availableParallelism());
  pool.warmUp();

  const nativeZip = join(DIR, 'native.zip');
  const variants: [string, () => Promise<{ s: number; size: number }>][] = [
    ['native zip -r -6 -X', async () => {
      await rm(nativeZip, { force: true });
      const s = timed('zip', ['-r', '-6', '-X', '-q', nativeZip, '.'], FOLDER);
      return { s, size: (await stat(nativeZip)).size };
    }],
    ['ours (zipEntries), 1 thread', () => clock(async () => {
      setDefaultDeflatePool(undefined);
      return (await zipEntries(entries, { mtime: EPOCH })).blob.size;
    })],
    [`ours (zipEntries), pool of ${availableParallelism()} threads`, () => clock(async () => {
      setDefaultDeflatePool(pool);
      const r = (await zipEntries(entries, { mtime: EPOCH })).blob.size;
      setDefaultDeflatePool(undefined);
      return r;
    })],
    ['fflate zipSync, level 6', () => clock(async () => {
      const z: Zippable = {};
      for (const [name, data] of files) z[name] = [data, { level: 6, mtime }];
      return zipSync(z).length;
    })],
    ['JSZip generateAsync, DEFLATE 6', () => clock(async () => {
      const z = new JSZip();
      for (const [name, data] of files) z.file(name, data, { date: mtime, unixPermissions: 0o644 });
      const out = await z.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 6 }, platform: 'UNIX' });
      return out.length;
    })],
  ];
  const results = variants.map(() => [] as { s: number; size: number }[]);
  for (let i = 0; i < RUNS; i++) {
    for (let v = 0; v < variants.length; v++) results[v].push(await variants[v][1]());
  }
  pool.close();
  const native = median(results[0].map((r) => r.s));
  console.log(`${RUNS} runs each, median:`);
  variants.forEach(([name], v) => {
    const s = median(results[v].map((r) => r.s));
    const size = results[v][0].size;
    console.log(`  ${name.padEnd(36)} ${s.toFixed(2)} s  ${(input / 1e6 / s).toFixed(1).padStart(5)} MB/s  ${(s / native).toFixed(2)}x native  ${(size / 1e6).toFixed(2)} MB (${((100 * size) / input).toFixed(1)}%)`);
  });
  // Same bytes each run?
  const a = await zipEntries(entries, { mtime: EPOCH });
  const b = await zipEntries(entries, { mtime: EPOCH });
  const same = Buffer.compare(Buffer.from(await a.blob.arrayBuffer()), Buffer.from(await b.blob.arrayBuffer())) === 0;
  console.log(`ours deterministic across runs: ${same ? 'yes' : 'NO'}`);
  const check = spawnSync('unzip', ['-tq', nativeZip], { encoding: 'utf8' });
  if (check.status !== 0) console.log(`native zip failed unzip -t: ${check.stdout}`);
  await writeFile(join(DIR, 'ours.zip'), Buffer.from(await a.blob.arrayBuffer()));
  const ours = spawnSync('unzip', ['-tq', join(DIR, 'ours.zip')], { encoding: 'utf8' });
  console.log(`ours: unzip -t ${ours.status === 0 ? 'OK' : 'FAILED ' + ours.stdout}`);
  await rm(DIR, { recursive: true, force: true });
}

await main();
