// Benchmark: the ext4 and FAT images from the same tree as the initramfs bench, ours (the WASM
// e2fsprogs/dosfstools/mtools run by the engine) against the native tools, in one run.
//   npx tsx bench/images.ts        (after bench/initramfs.ts has made the tree)
// Same image size and options on both sides; 3 runs each, median. No pass/fail.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDirectory } from '../workers/cli/readdir.ts';
import { DEFAULT_EXT4, DEFAULT_FAT } from '../workers/model/project.ts';
import { imageEntries } from '../workers/pipeline.ts';
import { buildExt4, planExt4 } from '../workers/ext4/ext4.ts';
import { buildFat, planFat } from '../workers/fat/fat.ts';
import { useToolsFromDisk } from '../workers/wasi/node-tools.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TREE = join(REPO, '.bench', 'tree-v3');
const OUT = join(REPO, '.bench', 'out');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EPOCH = 1_700_000_000;
const SEED = '0123456789abcdef0123456789abcdef';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

async function ours(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function main() {
  if (!existsSync(TREE)) throw new Error(`no benchmark tree at ${TREE}: run npx tsx bench/initramfs.ts first`);
  await mkdir(OUT, { recursive: true });
  useToolsFromDisk();
  const entries = imageEntries(await readDirectory(TREE), EPOCH).map((e) => ({ ...e, uid: 0, gid: 0 }));
  const files = entries.filter((e) => e.type === 'file');
  const bytes = files.reduce((n, e) => n + (e.data?.size ?? 0), 0);
  console.log(`tree: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);

  const ext4Opts = { ...DEFAULT_EXT4, enabled: true };
  const plan = planExt4(entries, ext4Opts);
  const ext4Img = join(OUT, 'native.ext4');
  const nativeExt4 = () => {
    spawnSync('rm', ['-f', ext4Img]);
    return timed('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', String(plan.blockSize), '-N', String(plan.inodes), '-d', TREE, '-E', 'root_owner=0:0', ext4Img, `${plan.sizeBytes / 1024}k`],
      { E2FSPROGS_FAKE_TIME: String(EPOCH) });
  };
  const oursExt4 = () => ours(() => buildExt4(entries, { ...ext4Opts, epoch: EPOCH, seed: SEED }));

  const fatOpts = { ...DEFAULT_FAT, enabled: true };
  const fplan = planFat(entries, fatOpts);
  const fatImg = join(OUT, 'native.vfat');
  const top = (await readdir(TREE)).map((n) => join(TREE, n));
  const nativeFat = () => {
    spawnSync('rm', ['-f', fatImg]);
    return timed('mkfs.fat', ['-C', '-F', String(fplan.fatType), '--invariant', fatImg, String(fplan.sizeBytes / 1024)]) +
      timed('mcopy', ['-s', '-Q', '-i', fatImg, ...top, '::'], { MTOOLS_SKIP_CHECK: '1' });
  };
  const oursFat = () => ours(() => buildFat(entries, { ...fatOpts, epoch: EPOCH, seed: SEED }));

  const rows: [string, number[], number[]][] = [['ext4', [], []], ['fat', [], []]];
  for (let i = 0; i < RUNS; i++) {
    rows[0][1].push(await oursExt4()); rows[0][2].push(nativeExt4());
    rows[1][1].push(await oursFat()); rows[1][2].push(nativeFat());
  }
  console.log(`ext4 (${(plan.sizeBytes / 2 ** 20).toFixed(0)} MiB image): ours ${median(rows[0][1]).toFixed(2)} s, native mke2fs -d ${median(rows[0][2]).toFixed(2)} s, ratio ${(median(rows[0][1]) / median(rows[0][2])).toFixed(2)}x (target ≤ 1.5x)`);
  console.log(`fat  (FAT${fplan.fatType}, ${(fplan.sizeBytes / 2 ** 20).toFixed(0)} MiB image): ours ${median(rows[1][1]).toFixed(2)} s, native mkfs.fat + mcopy -s ${median(rows[1][2]).toFixed(2)} s, ratio ${(median(rows[1][1]) / median(rows[1][2])).toFixed(2)}x (target ≤ 2x)`);
  const rss = process.memoryUsage().rss;
  console.log(`peak-ish RSS after the runs: ${(rss / 2 ** 20).toFixed(0)} MiB`);
  await rm(OUT, { recursive: true, force: true });
}

await main();
