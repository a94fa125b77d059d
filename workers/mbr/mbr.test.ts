import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf, has, run, tempDirs } from '../compress/test-helpers.ts';
import { BootsmithError } from '../model/problems.ts';
import { chsBytes, encodeMbr, type MbrPartition, parseMbr } from './mbr.ts';

const tmp = tempDirs();
afterAll(tmp.cleanup);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function firstSector(file: string): Uint8Array {
  const fd = openSync(file, 'r');
  const b = new Uint8Array(512);
  readSync(fd, b, 0, 512, 0);
  closeSync(fd);
  return b;
}
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

// FAT32 LBA from 4 MiB (sector 8192), 40 MiB; Linux after it, 1,000,000 sectors.
const PI: MbrPartition[] = [
  { type: 0x0c, startLba: 8192, sectors: 81920 },
  { type: 0x83, startLba: 90112, sectors: 1_000_000 },
];

describe('chsBytes', () => {
  it('addresses sectors with 255 heads and 63 sectors per track', () => {
    expect(chsBytes(0)).toEqual([0, 1, 0]); // C0 H0 S1
    expect(chsBytes(62)).toEqual([0, 63, 0]);
    expect(chsBytes(63)).toEqual([1, 1, 0]);
    // 8192 = 0·16065 + 130·63 + 2 → C0 H130 S3
    expect(chsBytes(8192)).toEqual([130, 3, 0]);
    // 1090111 = 67·16065 + 218·63 + 22 → C67 H218 S23
    expect(chsBytes(1090111)).toEqual([218, 23, 67]);
  });

  it('puts cylinder bits 8–9 in the top of the sector byte', () => {
    // cylinder 1023 = 0x3ff: low byte 0xff, high bits 0b11 → 0xc0 | sector
    const lba = 1023 * 16065 + 5 * 63 + 9;
    expect(chsBytes(lba)).toEqual([5, 10 | 0xc0, 0xff]);
    expect(chsBytes(256 * 16065)).toEqual([0, 1 | 0x40, 0]);
  });

  it('saturates past cylinder 1023 to 1023/254/63 (FE FF FF)', () => {
    expect(chsBytes(1024 * 16065)).toEqual([0xfe, 0xff, 0xff]);
    expect(chsBytes(0xffffffff)).toEqual([0xfe, 0xff, 0xff]);
  });
});

describe('encodeMbr', () => {
  it('lays out the signature, four entries and 55 AA', () => {
    const s = encodeMbr(PI, 0x12345678);
    expect(s.length).toBe(512);
    expect(s.subarray(0, 440).every((b) => b === 0)).toBe(true); // no boot code
    expect(hex(s.subarray(440, 446))).toBe('785634120000');
    // entry 1: status, CHS start 82 03 00, type 0c, CHS end 9b 16 05, LBA 8192, 81920 sectors
    expect(hex(s.subarray(446, 462))).toBe('00' + '820300' + '0c' + '9b1605' + '00200000' + '00400100');
    // entry 2: CHS start 9b 17 05, type 83, CHS end da 17 43, LBA 90112, 999424 sectors
    expect(hex(s.subarray(462, 478))).toBe('00' + '9b1705' + '83' + 'da1743' + '00600100' + '40420f00');
    expect(s.subarray(478, 510).every((b) => b === 0)).toBe(true);
    expect([s[510], s[511]]).toEqual([0x55, 0xaa]);
  });

  it('sets 0x80 for a bootable partition and saturated CHS beyond 8 GiB', () => {
    const s = encodeMbr([{ type: 0x83, startLba: 20_000_000, sectors: 1_000_000, bootable: true }], 0xffffffff);
    expect(s[446]).toBe(0x80);
    expect(hex(s.subarray(447, 450))).toBe('feffff');
    expect(hex(s.subarray(451, 454))).toBe('feffff');
    expect(u32(s, 440)).toBe(0xffffffff);
    expect(u32(s, 454)).toBe(20_000_000);
    expect(u32(s, 458)).toBe(1_000_000);
  });

  it('rejects what an MBR cannot hold', async () => {
    const bad = async (parts: MbrPartition[], sig = 1) => (await errorOf(() => encodeMbr(parts, sig))).message;
    expect(await bad(Array(5).fill(PI[0]))).toMatch(/5 partitions .* four/);
    expect(await bad([{ type: 0, startLba: 1, sectors: 1 }])).toMatch(/partition 1 has type 0/);
    expect(await bad([{ type: 0x100, startLba: 1, sectors: 1 }])).toMatch(/type 256/);
    expect(await bad([{ type: 0x83, startLba: 0, sectors: 1 }])).toMatch(/sector 1 or later/);
    expect(await bad([{ type: 0x83, startLba: 1, sectors: 0 }])).toMatch(/at least one sector/);
    expect(await bad([{ type: 0x83, startLba: 2 ** 32 - 10, sectors: 11 }])).toMatch(/2 TiB/);
    expect(await bad([{ type: 0x83, startLba: 100, sectors: 100 }, { type: 0x83, startLba: 199, sectors: 5 }])).toMatch(/partitions 1 .* and 2 .* overlap/);
    expect(await bad(PI, -1)).toMatch(/disk signature/);
    expect(await bad(PI, 2 ** 32)).toMatch(/disk signature/);
    expect(await errorOf(() => encodeMbr(PI, 1.5))).toBeInstanceOf(BootsmithError);
  });

  it.skipIf(!has('sfdisk'))('writes the same sector as sfdisk for the same table', () => {
    for (const [size, parts] of [
      ['1G', PI],
      // past cylinder 1023: saturated CHS
      ['64G', [PI[0], { type: 0x83, startLba: 90112, sectors: 100_000_000 }]],
    ] as const) {
      const img = join(tmp.make('mbr'), 'disk.img');
      run('truncate', ['-s', size, img]);
      const script = 'label: dos\nlabel-id: 0xdeadbeef\n' +
        parts.map((p) => `start=${p.startLba}, size=${p.sectors}, type=${p.type.toString(16)}\n`).join('');
      run('sfdisk', ['-q', img], { input: script });
      const theirs = firstSector(img);
      expect(hex(encodeMbr([...parts], 0xdeadbeef))).toBe(hex(theirs));
    }
  });
});

describe('parseMbr', () => {
  it('reads back what encodeMbr wrote', () => {
    const parts: MbrPartition[] = [...PI, { type: 0x0e, startLba: 2_000_000, sectors: 8, bootable: true }];
    const m = parseMbr(encodeMbr(parts, 0xcafe0001), 2 ** 30);
    expect(m.diskSignature).toBe(0xcafe0001);
    expect(m.partitions).toEqual([
      { index: 1, type: 0x0c, startLba: 8192, sectors: 81920 },
      { index: 2, type: 0x83, startLba: 90112, sectors: 1_000_000 },
      { index: 3, type: 0x0e, startLba: 2_000_000, sectors: 8, bootable: true },
    ]);
  });

  it('keeps slot numbers when a slot is empty', () => {
    const s = encodeMbr([PI[0], PI[1]], 7);
    s.copyWithin(478, 462, 478); // entry 2 → slot 3
    s.fill(0, 462, 478);
    expect(parseMbr(s).partitions.map((p) => p.index)).toEqual([1, 3]);
  });

  const err = async (b: Uint8Array, size?: number) => {
    const e = await errorOf(() => parseMbr(b, size));
    expect(e).toBeInstanceOf(BootsmithError);
    return e.message;
  };

  it('says clearly what is wrong', async () => {
    expect(await err(new Uint8Array(100))).toMatch(/100 bytes is shorter than one 512-byte sector/);
    expect(await err(new Uint8Array(512))).toMatch(/does not end with the boot signature 55 aa \(it has 00 00\).*whole-disk image/);

    const bad = encodeMbr(PI, 1);
    bad[462] = 0x7f;
    expect(await err(bad)).toMatch(/entry 2 has status byte 0x7f/);

    const gpt = encodeMbr([{ type: 0xee, startLba: 1, sectors: 1000 }], 0);
    expect(await err(gpt)).toMatch(/GPT/);

    const zeroStart = encodeMbr(PI, 1);
    zeroStart.fill(0, 454, 458);
    expect(await err(zeroStart)).toMatch(/partition 1 starts at sector 0/);

    const empty = encodeMbr(PI, 1);
    empty.fill(0, 474, 478);
    expect(await err(empty)).toMatch(/partition 2 has type 0x83 but a length of 0 sectors/);

    const overlap = encodeMbr(PI, 1);
    new DataView(overlap.buffer).setUint32(462 + 8, 90000, true);
    expect(await err(overlap)).toMatch(/partitions 1 .* and 2 .* overlap/);

    expect(await err(encodeMbr(PI, 1), 100 * 2 ** 20)).toMatch(/partition 2 .* runs past the end of the 104857600-byte disk/);
  });

  it.skipIf(!has('mkfs.fat'))('recognises a FAT filesystem image given instead of a disk', async () => {
    const img = join(tmp.make('mbr'), 'fat.img');
    run('mkfs.fat', ['-C', '-F', '32', img, String(40 * 1024)]);
    expect(await err(readFileSync(img).subarray(0, 512))).toMatch(/boot sector of a FAT32 filesystem, not a partition table/);
    const img16 = join(tmp.make('mbr'), 'fat16.img');
    run('mkfs.fat', ['-C', '-F', '16', img16, String(20 * 1024)]);
    expect(await err(readFileSync(img16).subarray(0, 512))).toMatch(/FAT12\/16 filesystem/);
  });
});
