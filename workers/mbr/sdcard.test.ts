import { describe, expect, it } from 'vitest';
import { errorOf } from '../compress/test-helpers.ts';
import { BootsmithError, CancelledError } from '../model/problems.ts';
import { CHUNK_SIZE, ChunkedFile } from '../wasi/store.ts';
import { parseMbr } from './mbr.ts';
import { buildSdCard, fatPartitionType, MiB, planSdCard } from './sdcard.ts';

const GiB = 1024 * MiB;
/** Byte equality without vitest's element-wise diff (slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** A fake FAT32 image: the type string in its boot sector, a marker at `marks` offsets. */
function fakeFat(size: number, fat32 = true, marks: number[] = []): ChunkedFile {
  const f = new ChunkedFile(size);
  f.write(0, Uint8Array.of(0xeb, 0x58, 0x90));
  f.write(fat32 ? 82 : 54, new TextEncoder().encode(fat32 ? 'FAT32   ' : 'FAT16   '));
  for (const m of marks) f.write(m, Uint8Array.of(0xa5, 0x5a));
  return f;
}

describe('planSdCard', () => {
  it('starts the boot partition at 4 MiB and the root right after it, both 4 MiB aligned', () => {
    const plan = planSdCard({ bootBytes: 64 * MiB, rootBytes: 100 * MiB });
    expect(plan.partitions).toEqual([
      { startBytes: 4 * MiB, sizeBytes: 64 * MiB, type: 0x0c },
      { startBytes: 68 * MiB, sizeBytes: 100 * MiB, type: 0x83 },
    ]);
    // ends at 168 MiB → 256 MiB, a power of two
    expect(plan.diskBytes).toBe(256 * MiB);
  });

  it('rounds partitions up to the alignment, never below the image', () => {
    const plan = planSdCard({ bootBytes: 40 * MiB + 512, rootBytes: 1 });
    expect(plan.partitions[0]).toEqual({ startBytes: 4 * MiB, sizeBytes: 44 * MiB, type: 0x0c });
    expect(plan.partitions[1]).toEqual({ startBytes: 48 * MiB, sizeBytes: 4 * MiB, type: 0x83 });
    expect(plan.diskBytes).toBe(64 * MiB);
    for (const p of plan.partitions) {
      expect(p.startBytes % (4 * MiB)).toBe(0);
      expect(p.sizeBytes % (4 * MiB)).toBe(0);
    }
  });

  it('makes the disk a power of two exactly when it already is one', () => {
    expect(planSdCard({ bootBytes: 60 * MiB }).diskBytes).toBe(64 * MiB);
    expect(planSdCard({ bootBytes: 60 * MiB + 1 }).diskBytes).toBe(128 * MiB);
    expect(planSdCard({ bootBytes: 4 * GiB - 4 * MiB }).diskBytes).toBe(4 * GiB);
  });

  it('takes another alignment, no power-of-two rounding, a FAT16 type', () => {
    const plan = planSdCard({ bootBytes: 3 * MiB, rootBytes: 5 * MiB, align: MiB, powerOfTwo: false, bootType: 0x0e });
    expect(plan).toEqual({
      diskBytes: 9 * MiB,
      partitions: [{ startBytes: MiB, sizeBytes: 3 * MiB, type: 0x0e }, { startBytes: 4 * MiB, sizeBytes: 5 * MiB, type: 0x83 }],
    });
  });

  it('refuses empty images, bad alignments and disks past 2 TiB', async () => {
    expect(await errorOf(() => planSdCard({ bootBytes: 0 }))).toBeInstanceOf(BootsmithError);
    expect((await errorOf(() => planSdCard({ bootBytes: MiB, rootBytes: -1 }))).message).toMatch(/-1 bytes cannot be a partition/);
    expect((await errorOf(() => planSdCard({ bootBytes: MiB, align: 1000 }))).message).toMatch(/multiple of 512/);
    expect((await errorOf(() => planSdCard({ bootBytes: MiB, rootBytes: 2 * 1024 * GiB }))).message).toMatch(/at most 2 TiB/);
  });
});

describe('fatPartitionType', () => {
  it('reads the FAT type from the boot sector', () => {
    expect(fatPartitionType(fakeFat(MiB).read(0, 512))).toBe(0x0c);
    expect(fatPartitionType(fakeFat(MiB, false).read(0, 512))).toBe(0x0e);
  });
});

describe('buildSdCard', () => {
  it('writes the MBR and copies each image to its partition', async () => {
    const boot = fakeFat(40 * MiB, true, [MiB, 40 * MiB - 2]);
    const root = new ChunkedFile(10 * MiB);
    root.write(1024, new TextEncoder().encode('ext4-superblock-ish'));
    root.write(10 * MiB - 3, Uint8Array.of(1, 2, 3));
    const disk = await buildSdCard({ boot, root, diskSignature: 0x0badf00d });
    expect(disk.size).toBe(64 * MiB); // 4 + 40 + 12 = 56 MiB → 64 MiB
    const mbr = parseMbr(disk.read(0, 512), disk.size);
    expect(mbr.diskSignature).toBe(0x0badf00d);
    expect(mbr.partitions).toEqual([
      { index: 1, type: 0x0c, startLba: 8192, sectors: 40 * 2048 },
      { index: 2, type: 0x83, startLba: 44 * 2048, sectors: 12 * 2048 },
    ]);
    expect(same(disk.read(4 * MiB, 40 * MiB), boot.read(0, 40 * MiB))).toBe(true);
    expect(same(disk.read(44 * MiB, 10 * MiB), root.read(0, 10 * MiB))).toBe(true);
    expect(disk.read(54 * MiB, 10 * MiB).every((b) => b === 0)).toBe(true); // the rest of the partition and disk
    expect(disk.read(512, 4 * MiB - 512).every((b) => b === 0)).toBe(true);
  });

  it('takes Blobs and keeps their zero chunks as holes', async () => {
    const bytes = new Uint8Array(12 * MiB);
    bytes.set(fakeFat(512).read(0, 512));
    bytes[5 * MiB + 7] = 9;
    const disk = await buildSdCard({ boot: new Blob([bytes]), diskSignature: 1 });
    expect(same(disk.read(4 * MiB, 12 * MiB), bytes)).toBe(true);
    // the MBR's chunk, the boot sector's, the one holding byte 5 MiB + 7
    expect(disk.storedBytes).toBe(3 * CHUNK_SIZE);
  });

  it('assembles a 4 GiB root holding little data without materialising it', async () => {
    const boot = fakeFat(64 * MiB, true, [0x10000, 33 * MiB]);
    const root = new ChunkedFile(4 * GiB);
    const data = new Uint8Array(3 * MiB).map((_, i) => (i * 31 + 7) & 0xff);
    root.write(0, data);
    root.write(2 * GiB + 12345, data.subarray(0, 100_000));
    root.write(4 * GiB - 4, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    const before = process.memoryUsage().rss;
    const progress: [number, number][] = [];
    const disk = await buildSdCard({ boot, root, diskSignature: 42, onProgress: (d, t) => progress.push([d, t]) });
    const grew = process.memoryUsage().rss - before;
    expect(disk.size).toBe(8 * GiB); // 4 + 64 MiB + 4 GiB → 8 GiB
    // what the inputs store, plus the MBR's chunk: nothing else is held
    expect(disk.storedBytes).toBe(boot.storedBytes + root.storedBytes + CHUNK_SIZE);
    expect(disk.storedBytes).toBeLessThan(8 * MiB);
    expect(grew).toBeLessThan(256 * MiB);
    const rootAt = 68 * MiB;
    expect(same(disk.read(rootAt, data.length), data)).toBe(true);
    expect(same(disk.read(rootAt + 2 * GiB + 12345, 100_000), data.subarray(0, 100_000))).toBe(true);
    expect([...disk.read(rootAt + 4 * GiB - 4, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    const total = boot.size + root.size;
    expect(progress[0]).toEqual([0, total]);
    expect(progress.at(-1)).toEqual([total, total]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
  });

  it('uses the type it is given, and FAT16 LBA for a FAT16 image', async () => {
    const typeOf = async (boot: ChunkedFile, bootType?: number) => parseMbr((await buildSdCard({ boot, diskSignature: 1, bootType })).read(0, 512)).partitions[0].type;
    expect(await typeOf(fakeFat(MiB, false))).toBe(0x0e);
    expect(await typeOf(fakeFat(MiB, true))).toBe(0x0c);
    expect(await typeOf(fakeFat(MiB, false), 0x0c)).toBe(0x0c);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await errorOf(() => buildSdCard({ boot: fakeFat(MiB), diskSignature: 1, signal: ac.signal }))).toBeInstanceOf(CancelledError);
  });
});
