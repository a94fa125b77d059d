// Speed of buildFat against native mkfs.fat + mcopy -s on the same tree (at least 2000 files,
// 50 MB). Not a test: run `npx tsx tests/fat/measure.mts [files] [megabytes]` for a generated
// tree, or `npx tsx tests/fat/measure.mts --tree DIR` for a directory (e.g. .bench/tree-v3).
// Prints the times of three runs each and the ratio of the best ones.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openAsBlob, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../workers/model/entry.ts';
import { imageEntries } from '../../workers/pipeline.ts';
import { readDirectory } from '../../workers/cli/readdir.ts';
import { buildFat, planFat } from '../../workers/fat/fat.ts';
import { useToolsFromDisk } from '../../workers/wasi/node-tools.ts';
import { loadTool, setToolLoader } from '../../workers/wasi/tools.ts';
import { pseudoRandom } from '../../workers/wasi/test-helpers.ts';

const TREE = process.argv[2] === '--tree' ? process.argv[3] : undefined;
const FILES = Number(TREE ? 0 : process.argv[2] ?? 2000);
const MB = Number(TREE ? 0 : process.argv[3] ?? 50);
const EPOCH = 1700000000;

useToolsFromDisk();
// MTOOLS_WASM=path: measure another mtools.wasm build (e.g. one with a patch under trial).
if (process.env.MTOOLS_WASM) {
  const alt = process.env.MTOOLS_WASM;
  const { readFile } = await import('node:fs/promises');
  const { toolPath } = await import('../../workers/wasi/node-tools.ts');
  setToolLoader(async (name) => WebAssembly.compile(await readFile(name === 'mtools' ? alt : toolPath(name)!)));
}
const dir = mkdtempSync(join(tmpdir(), 'bootsmith-fat-measure-'));
const src = TREE ?? join(dir, 'tree');
try {
  // A boot-folder-like tree: 50 folders of 40 files, sizes spread from 0 to ~100 KB plus a few
  // big ones so that the total is MB megabytes.
  const entries: Entry[] = [];
  const big = Math.floor(FILES / 200);
  let left = MB * 1e6;
  for (let i = 0; i < FILES; i++) {
    const d = `d${String(i % 50).padStart(2, '0')}/sub${i % 3}`;
    mkdirSync(join(src, d), { recursive: true });
    const small = (i * 7919) % 40_000;
    const size = i < big ? Math.floor((MB * 1e6 * 0.6) / big) : Math.min(left, small);
    left -= size;
    const path = `${d}/file-${i}.bin`;
    writeFileSync(join(src, path), pseudoRandom(size, i + 1));
    entries.push({ path: '/' + path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, data: await openAsBlob(join(src, path)) });
  }
  if (TREE) entries.push(...(await readDirectory(TREE)).filter((e) => e.type === 'file' || e.type === 'dir'));
  const total = entries.reduce((n, e) => n + (e.data?.size ?? 0), 0);
  const opts = { enabled: true, size: 'auto' as const, headroomPercent: 20, fatType: 'auto' as const, label: 'BOOT' };
  const tree = imageEntries(entries, EPOCH);
  const plan = planFat(tree, opts);
  console.log(`tree: ${entries.filter((e) => e.type === 'file').length} files, ${(total / 1e6).toFixed(1)} MB; image ${plan.sizeBytes / 2 ** 20} MiB FAT${plan.fatType}, ${plan.clusterBytes}-byte clusters`);
  await loadTool('mkfs.fat');
  await loadTool('mtools');

  const img = join(dir, 'native.img');
  const nativeRun = () => {
    rmSync(img, { force: true });
    const t = performance.now();
    execFileSync('mkfs.fat', ['-C', '-F', String(plan.fatType), '-s', String(plan.clusterBytes / 512), '-g', '64/32', '-n', 'BOOT', img, String(plan.sizeBytes / 1024)], { stdio: 'ignore' });
    const tops = [...new Set(entries.map((e) => e.path.split('/')[1]))].map((t) => join(src, t));
    // Same as bench/images.ts: mkfs.fat, then one mcopy -s of the top-level entries.
    execFileSync('mcopy', ['-s', '-i', img, ...tops, '::/'], { stdio: 'ignore', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    return performance.now() - t;
  };
  const oursRun = async () => {
    const t = performance.now();
    await buildFat(tree, { ...opts, epoch: EPOCH, seed: '0'.repeat(32) });
    return performance.now() - t;
  };
  const native: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < 3; i++) {
    native.push(nativeRun());
    ours.push(await oursRun());
  }
  const n = Math.min(...native), o = Math.min(...ours);
  console.log(`native mkfs.fat + mcopy -s: ${native.map((x) => x.toFixed(0)).join(' / ')} ms (image ${statSync(img).size} bytes)`);
  console.log(`buildFat (wasm):            ${ours.map((x) => x.toFixed(0)).join(' / ')} ms`);
  console.log(`ratio (best of 3): ${(o / n).toFixed(2)}×`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
