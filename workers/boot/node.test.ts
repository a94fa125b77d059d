import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileOverlayDisk, v86WasmPath } from './node.ts';

describe('Node side of the v86 runner', () => {
  it('finds v86.wasm in node_modules', () => {
    expect(existsSync(v86WasmPath())).toBe(true);
  });

  it('a disk file reads through; guest writes stay in memory, the file is untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootsmith-disk-'));
    try {
      const file = join(dir, 'disk.img');
      const original = new Uint8Array(200_000).map((_, i) => i % 251);
      writeFileSync(file, original);
      const disk = FileOverlayDisk.open(file);
      expect(disk.size).toBe(200_000);
      expect(disk.read(70_000, 1000)).toEqual(original.subarray(70_000, 71_000));
      // A write across the 64 KiB chunk boundary, then reads that mix written and unwritten bytes.
      const patch = new Uint8Array(3000).fill(7);
      disk.write(64 * 1024 - 1000, patch);
      const expected = original.slice();
      expected.set(patch, 64 * 1024 - 1000);
      expect(disk.read(60_000, 10_000)).toEqual(expected.subarray(60_000, 70_000));
      expect(disk.read(199_990, 100)).toEqual(original.subarray(199_990));
      disk.close();
      expect(new Uint8Array(readFileSync(file))).toEqual(original);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
