// Evidence for the WASI runtime choice (docs/wasm-tools.md, "WASI runtime"): the positional-I/O
// reproducer (wasm-tools/repro/pio.c) and mke2fs itself under
//   - runWasi (our runner on @bjorn3/browser_wasi_shim), the runtime the engine uses;
//   - the shim's own in-memory classes, unmodified;
//   - node:wasi (Node only), as the reference;
//   - @wasmer/wasi 1.2.2, which the product card named.
// @wasmer/wasi misplaces a pwrite() past the end of a file and so writes corrupt file systems;
// the assertions on it document that behaviour (if they start failing, wasmer was fixed).
// Skipped when the wasm files are not built, except in CI.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI as NodeWASI } from 'node:wasi';
import { File as ShimFile, PreopenDirectory, ConsoleStdout, WASI as ShimWASI } from '@bjorn3/browser_wasi_shim';
import { init as wasmerInit, MemFS, WASI as WasmerWASI } from '@wasmer/wasi';
import { afterAll, describe, expect, it } from 'vitest';
import { ChunkedFile, runWasi } from './runner.ts';
import { cleanup, DIST, loadModule, missing, native, REPRO, tempDir, tool, writeHostFile } from './test-helpers.ts';

afterAll(cleanup);

const PIO = join(REPRO, 'pio.wasm');
const MKE2FS = join(DIST, 'mke2fs.wasm');

/** What pio.c writes, byte by byte. */
function expectedPio(): Uint8Array {
  const b = new Uint8Array(65540);
  b.fill(0x41, 0, 4096);
  b.fill(0x42, 1024, 1536);
  b.fill(0x45, 4096, 4100);
  b.fill(0x43, 8192, 8704);
  b.fill(0x46, 65536, 65540);
  return b;
}

/** Where each byte value lies in a file, as "C@4100+512" runs: the numbers for the docs. */
function runs(bytes: Uint8Array): string {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] !== bytes[start]) {
      const v = bytes[start];
      out.push(`${v ? String.fromCharCode(v) : '0'}@${start}+${i - start}`);
      start = i;
    }
  }
  return `size ${bytes.length}: ${out.join(' ')}`;
}

const badChecks = (stdout: string) => stdout.split('\n').filter((l) => l.includes(' BAD'));

async function pioWithRunWasi() {
  const r = await runWasi(await loadModule(PIO), { args: ['pio', '/work/pio.bin'], dirs: ['/work'] });
  return { exitCode: r.exitCode, stdout: r.stdout, file: r.files.get('/work/pio.bin') as Uint8Array };
}

async function pioWithShimClasses() {
  const out: Uint8Array[] = [];
  const dir = new PreopenDirectory('/work', new Map());
  const shim = new ShimWASI(['pio', '/work/pio.bin'], [], [
    new ConsoleStdout(() => {}),
    new ConsoleStdout((c) => out.push(c)),
    new ConsoleStdout(() => {}),
    dir,
  ], { debug: false });
  const inst = await WebAssembly.instantiate(await loadModule(PIO), { wasi_snapshot_preview1: shim.wasiImport });
  const exitCode = shim.start(inst as never);
  const file = (dir.dir.contents.get('pio.bin') as ShimFile).data;
  return { exitCode, stdout: Buffer.concat(out).toString(), file };
}

async function pioWithNodeWasi() {
  const dir = mkdtempSync(join(tmpdir(), 'bootsmith-pio-'));
  const outFile = join(dir, 'stdout');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(outFile, 'w');
  try {
    const w = new NodeWASI({ version: 'preview1', args: ['pio', '/work/pio.bin'], preopens: { '/work': dir }, stdout: fd, returnOnExit: true });
    const inst = await WebAssembly.instantiate(await loadModule(PIO), w.getImportObject() as WebAssembly.Imports);
    const exitCode = w.start(inst);
    closeSync(fd);
    return { exitCode, stdout: readFileSync(outFile, 'utf8'), file: new Uint8Array(readFileSync(join(dir, 'pio.bin'))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withWasmer(module: WebAssembly.Module, args: string[], files: Record<string, Uint8Array>, env: Record<string, string> = {}) {
  await wasmerInit();
  const fs = new MemFS();
  fs.createDir('/work');
  for (const [p, data] of Object.entries(files)) {
    const f = fs.open(p, { write: true, create: true });
    f.write(data);
    f.free(); // an open handle keeps the file locked ("lock error") for the program
  }
  const w = new WasmerWASI({ args, env, preopens: { '/work': '/work' }, fs });
  const inst = w.instantiate(module, {});
  const exitCode = w.start(inst);
  const read = (p: string) => {
    const f = w.fs.open(p, { read: true }); // the fs passed in stays locked by the WASI object
    const data = f.read();
    f.free();
    return data;
  };
  return { exitCode, stdout: w.getStdoutString(), stderr: w.getStderrString(), read };
}

describe('positional I/O (wasm-tools/repro/pio.c)', () => {
  const want = expectedPio();

  it.skipIf(missing(PIO))('runWasi: every check passes and the file has the expected bytes', async () => {
    const r = await pioWithRunWasi();
    console.log(`runWasi pio: exit ${r.exitCode}; ${runs(r.file)}`);
    expect(badChecks(r.stdout)).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(Buffer.compare(Buffer.from(r.file), Buffer.from(want))).toBe(0);
  });

  it.skipIf(missing(PIO))("the shim's own classes agree", async () => {
    const r = await pioWithShimClasses();
    console.log(`browser_wasi_shim pio: exit ${r.exitCode}; ${runs(r.file)}`);
    expect(badChecks(r.stdout)).toEqual([]);
    expect(Buffer.compare(Buffer.from(r.file), Buffer.from(want))).toBe(0);
  });

  it.skipIf(missing(PIO))('node:wasi (the reference) agrees', async () => {
    const r = await pioWithNodeWasi();
    console.log(`node:wasi pio: exit ${r.exitCode}; ${runs(r.file)}`);
    expect(badChecks(r.stdout)).toEqual([]);
    expect(Buffer.compare(Buffer.from(r.file), Buffer.from(want))).toBe(0);
  });

  it.skipIf(missing(PIO))('@wasmer/wasi 1.2.2 puts a pwrite past the end of the file in the wrong place', async () => {
    const r = await withWasmer(await loadModule(PIO), ['pio', '/work/pio.bin'], {});
    const file = r.read('/work/pio.bin');
    console.log(`@wasmer/wasi pio: exit ${r.exitCode}; ${runs(file)}\n${badChecks(r.stdout).join('\n')}`);
    expect(r.exitCode).toBe(1);
    expect(badChecks(r.stdout).length).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(file), Buffer.from(want))).not.toBe(0);
  });
});

describe('mke2fs.wasm under each runtime', () => {
  const args = ['mke2fs', '-q', '-F', '-t', 'ext4', '-U', '6f1c3a2e-0000-4000-8000-000000000001', '/work/img'];
  const env = { E2FSPROGS_FAKE_TIME: '1700000000' };

  it.skipIf(missing(MKE2FS))('runWasi: native e2fsck accepts the image', async () => {
    const image = new ChunkedFile(8 << 20);
    const r = await runWasi(await tool('mke2fs'), { args, env, files: new Map([['/work/img', image]]) });
    expect(r.exitCode, r.stderr).toBe(0);
    const img = join(tempDir(), 'img');
    writeHostFile(img, image);
    const fsck = native('e2fsck', ['-fn', img]);
    console.log(`runWasi mke2fs: e2fsck -fn exit ${fsck.code}`);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
  });

  it.skipIf(missing(MKE2FS))('@wasmer/wasi 1.2.2: native e2fsck rejects the image', async () => {
    const r = await withWasmer(await tool('mke2fs'), args, { '/work/img': new Uint8Array(8 << 20) }, env);
    const bytes = r.read('/work/img');
    const img = join(tempDir(), 'img');
    writeHostFile(img, bytes);
    const fsck = native('e2fsck', ['-fn', img]);
    const summary = (fsck.stdout + fsck.stderr).split('\n').filter(Boolean).slice(0, 4).join(' | ');
    console.log(`@wasmer/wasi mke2fs: exit ${r.exitCode}, image ${bytes.length} bytes; e2fsck -fn exit ${fsck.code}: ${summary}`);
    expect(fsck.code).not.toBe(0);
  });
});
