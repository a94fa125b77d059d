// sdcard.img checked from the outside: filesystems made by the native mkfs.fat and mke2fs,
// assembled by buildSdCard, then read back by sfdisk, fdisk, mtools, fsck.fat, e2fsck and debugfs.
import { closeSync, ftruncateSync, openAsBlob, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdCard } from '../../workers/mbr/sdcard.ts';
import { ChunkedFile } from '../../workers/wasi/store.ts';
import { cleanupTemp, hasCommand, must, run, sha256, tempDir } from '../helpers.ts';

const MiB = 1024 * 1024;
const TOOLS = ['sfdisk', 'fdisk', 'mkfs.fat', 'fsck.fat', 'mcopy', 'mdir', 'mtype', 'mke2fs', 'e2fsck', 'debugfs', 'dd'];
const missing = TOOLS.filter((t) => !hasCommand(t));
const SIGNATURE = 0x5eed1234;
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1' };

/** Writes a sparse image to disk as a sparse file: only its stored chunks. */
function writeSparse(file: string, image: ChunkedFile): void {
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, image.size);
    for (const { offset, data } of image.extents()) writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Copies one partition out of the disk with dd (whole MiBs). */
async function extract(disk: string, out: string, startBytes: number, sizeBytes: number): Promise<string> {
  await must('dd', [`if=${disk}`, `of=${out}`, 'bs=1M', `skip=${startBytes / MiB}`, `count=${sizeBytes / MiB}`, 'status=none']);
  return out;
}

interface SfdiskJson {
  partitiontable: { label: string; id: string; unit: string; sectorsize: number; partitions: { start: number; size: number; type: string; bootable?: boolean }[] };
}

describe.skipIf(missing.length > 0)(`sdcard.img read by native tools${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`, () => {
  let dir: string;
  let bootImg: string;
  let rootImg: string;
  const hello = 'hello from the boot partition\n';
  const motd = 'root filesystem content ü\n';
  const big = new Uint8Array(3 * MiB).map((_, i) => (i * 2654435761) >>> 24);

  beforeAll(async () => {
    dir = await tempDir('bootsmith-sd-');
    // FAT32 needs at least ~32 MiB with 512-byte sectors: 40 MiB.
    bootImg = join(dir, 'boot.vfat');
    await must('mkfs.fat', ['-F', '32', '-C', '-n', 'BOOT', '-i', '1234abcd', bootImg, String(40 * 1024)]);
    await writeFile(join(dir, 'hello.txt'), hello);
    await must('mcopy', ['-i', bootImg, join(dir, 'hello.txt'), '::hello.txt'], { env: MTOOLS_ENV });
    // ext4 from a folder: a small file, a nested one, a 3 MiB one; 32 MiB image, mostly empty
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'etc'), { recursive: true });
    await writeFile(join(tree, 'etc', 'motd'), motd);
    await writeFile(join(tree, 'big.bin'), big);
    rootImg = join(dir, 'root.ext4');
    await must('mke2fs', ['-F', '-q', '-t', 'ext4', '-d', tree, '-E', 'root_owner=0:0', rootImg, '32M'], { env: { E2FSPROGS_FAKE_TIME: '1700000000' } });
  });
  afterAll(cleanupTemp);

  async function assemble(kind: 'blob' | 'chunked', withRoot = true): Promise<{ file: string; image: ChunkedFile }> {
    const load = async (f: string) => (kind === 'blob' ? openAsBlob(f) : ChunkedFile.from(readFileSync(f)));
    const image = await buildSdCard({ boot: await load(bootImg), root: withRoot ? await load(rootImg) : undefined, diskSignature: SIGNATURE });
    const file = join(dir, `sd-${kind}-${withRoot ? 2 : 1}.img`);
    writeSparse(file, image);
    return { file, image };
  }

  it('has the partition table sfdisk and fdisk expect', async () => {
    const { file, image } = await assemble('blob');
    const size = statSync(file).size;
    expect(size).toBe(image.size);
    // 4 MiB gap + 40 MiB FAT + 32 MiB ext4 = 76 MiB → 128 MiB
    expect(size).toBe(128 * MiB);
    expect(size & (size - 1)).toBe(0);

    const t = (JSON.parse((await must('sfdisk', ['--json', file])).stdout) as SfdiskJson).partitiontable;
    expect(t.label).toBe('dos');
    expect(t.id).toBe('0x5eed1234');
    expect(t.sectorsize).toBe(512);
    expect(t.partitions.map(({ start, size: n, type, bootable }) => ({ start, size: n, type, bootable }))).toEqual([
      { start: 8192, size: 40 * 2048, type: 'c', bootable: undefined },
      { start: 44 * 2048, size: 32 * 2048, type: '83', bootable: undefined },
    ]);

    const fdisk = (await must('fdisk', ['-l', file])).stdout;
    expect(fdisk).toContain('Disklabel type: dos');
    expect(fdisk).toContain('Disk identifier: 0x5eed1234');
    expect(fdisk).toMatch(/1\s+8192\s+90111\s+81920\s+40M\s+c W95 FAT32 \(LBA\)/);
    expect(fdisk).toMatch(/2\s+90112\s+155647\s+65536\s+32M\s+83 Linux/);
    // fdisk warns about partitions that do not start on a physical-sector or cylinder boundary, or
    // about CHS that disagrees with LBA; none of that here.
    expect(fdisk).not.toMatch(/does not start on|differ|inconsistent/i);
    const verify = await run('sfdisk', ['--verify', file]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('No errors detected.');
    expect(verify.stdout + verify.stderr).not.toMatch(/warning/i);
  });

  it('holds a clean FAT boot partition that mtools reads in place', async () => {
    const { file } = await assemble('blob');
    const at = `${file}@@${4 * MiB}`;
    const listing = (await must('mdir', ['-i', at, '::'], { env: MTOOLS_ENV })).stdout;
    expect(listing).toMatch(/Volume in drive : is BOOT/);
    expect(listing).toMatch(/hello\s+txt/);
    expect((await must('mtype', ['-i', at, '::hello.txt'], { env: MTOOLS_ENV })).stdout).toBe(hello);
    const part = await extract(file, join(dir, 'p1.vfat'), 4 * MiB, 40 * MiB);
    const fsck = await run('fsck.fat', ['-n', part]);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    expect(sha256(readFileSync(part))).toBe(sha256(readFileSync(bootImg)));
  });

  it('holds a clean ext4 root partition whose files debugfs reads back', async () => {
    const { file } = await assemble('blob');
    const part = await extract(file, join(dir, 'p2.ext4'), 44 * MiB, 32 * MiB);
    const fsck = await run('e2fsck', ['-fn', part]);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    expect((await must('debugfs', ['-R', 'cat /etc/motd', part])).stdout).toBe(motd);
    const got = await run('sh', ['-c', `debugfs -R 'cat /big.bin' ${part} 2>/dev/null | sha256sum`]);
    expect(got.stdout.split(' ')[0]).toBe(sha256(big));
  });

  it('is the same image from Blobs and from ChunkedFiles, and stays sparse', async () => {
    const a = await assemble('blob');
    const b = await assemble('chunked');
    expect(sha256(readFileSync(a.file))).toBe(sha256(readFileSync(b.file)));
    // 128 MiB of disk, most of it never stored: FAT tables and a small ext4 with 3 MiB of data
    expect(a.image.storedBytes).toBeLessThan(16 * MiB);
    expect(b.image.storedBytes).toBe(a.image.storedBytes);
  });

  it('makes a boot-only card, and types a FAT16 boot partition 0x0e', async () => {
    const one = await assemble('blob', false);
    expect(statSync(one.file).size).toBe(64 * MiB); // 4 + 40 → 64
    const t1 = (JSON.parse((await must('sfdisk', ['--json', one.file])).stdout) as SfdiskJson).partitiontable;
    expect(t1.partitions.map((p) => [p.start, p.size, p.type])).toEqual([[8192, 81920, 'c']]);

    const fat16 = join(dir, 'boot16.vfat');
    await must('mkfs.fat', ['-F', '16', '-C', fat16, String(16 * 1024)]);
    const image = await buildSdCard({ boot: await openAsBlob(fat16), diskSignature: 1 });
    const file = join(dir, 'sd16.img');
    writeSparse(file, image);
    const t2 = (JSON.parse((await must('sfdisk', ['--json', file])).stdout) as SfdiskJson).partitiontable;
    expect(t2.partitions.map((p) => [p.start, p.size, p.type])).toEqual([[8192, 16 * 2048, 'e']]);
    expect(t2.id).toBe('0x00000001');
    expect((await run('mdir', ['-i', `${file}@@${4 * MiB}`, '::'], { env: MTOOLS_ENV })).code).toBe(0);
  });
});
