// planExt4 (plan.ts) and the layout model (geometry.ts): pure, no tools needed. (tests/ext4
// builds real images and checks them with the native e2fsprogs, including the layout model
// against native mke2fs.)
import { describe, expect, it } from 'vitest';
import type { Entry } from '../model/entry.ts';
import { DEFAULT_EXT4, type Ext4Options } from '../model/project.ts';
import { BootsmithError } from '../model/problems.ts';
import { formatUuid } from './ext4.ts';
import { ext4Features, MAX_EXT4_BYTES, planExt4 } from './plan.ts';
import { defaultJournalBlocks, extentTreeBlocks, geometry, groupHasSuper } from './geometry.ts';

const MiB = 1024 * 1024;
const T = 1_700_000_000;

const dir = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T });
const file = (path: string, size: number, data?: Blob): Entry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, data: data ?? sized(size) });

/** A Blob of `size` bytes that costs nothing: planning reads only `.size`. */
function sized(size: number): Blob {
  return { size } as Blob;
}

const opts = (o: Partial<Ext4Options> = {}): Ext4Options => ({ ...DEFAULT_EXT4, enabled: true, ...o });

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('planExt4', () => {
  it('sizes an empty tree at the smallest image: 8 MiB with a journal, 1 MiB without', () => {
    const j = planExt4([], opts());
    expect(j).toMatchObject({ contentBytes: 0, minBytes: 8 * MiB, sizeBytes: 8 * MiB, blockSize: 4096 });
    const n = planExt4([], opts({ journal: false }));
    expect(n).toMatchObject({ contentBytes: 0, minBytes: 1 * MiB, sizeBytes: 1 * MiB });
    expect(j.inodes).toBeGreaterThanOrEqual(11 + 16);
  });

  it('auto: content plus headroom, in whole MiB, with the metadata on top', () => {
    const tree = [dir('/data'), ...Array.from({ length: 35 }, (_, i) => file(`/data/f${i}`, 1_000_000 + i))];
    const p = planExt4(tree, opts({ headroomPercent: 20 }));
    expect(p.contentBytes).toBe(35 * 1_000_000 + (34 * 35) / 2);
    expect(p.sizeBytes % MiB).toBe(0);
    expect(p.minBytes % MiB).toBe(0);
    expect(p.minBytes).toBeGreaterThan(p.contentBytes);
    expect(p.sizeBytes).toBeGreaterThanOrEqual(p.contentBytes * 1.2);
    expect(p.sizeBytes).toBeGreaterThan(p.minBytes);
    // Not wildly more: content 33.4 MiB; 20% headroom, a 4 MiB journal, inode tables, bitmaps.
    expect(p.sizeBytes).toBeLessThanOrEqual(50 * MiB);
    const none = planExt4(tree, opts({ headroomPercent: 0 }));
    expect(none.sizeBytes).toBe(none.minBytes);
    expect(none.minBytes).toBe(p.minBytes);
    const more = planExt4(tree, opts({ headroomPercent: 100 }));
    expect(more.sizeBytes).toBeGreaterThanOrEqual(2 * p.contentBytes);
  });

  it('auto: enough inodes for every entry plus the headroom', () => {
    const tree = [dir('/d'), ...Array.from({ length: 5000 }, (_, i) => file(`/d/${i}`, 10))];
    const p = planExt4(tree, opts({ headroomPercent: 20 }));
    expect(p.inodes).toBeGreaterThanOrEqual(11 + 5001 * 1.2);
    expect(p.inodes).toBeLessThan(11 + 5001 * 1.2 + 1024 + 200);
    // 5000 files of 10 bytes take a 4 KiB block each.
    expect(p.minBytes).toBeGreaterThanOrEqual(5000 * 4096);
  });

  it('counts a hard-linked file (one Blob object, same metadata) once', () => {
    const blob = sized(3 * MiB);
    const one = planExt4([dir('/b'), file('/b/x', 0, blob)], opts({ journal: false }));
    const two = planExt4([dir('/b'), file('/b/x', 0, blob), file('/b/y', 0, blob)], opts({ journal: false }));
    expect(two.contentBytes).toBe(3 * MiB);
    expect(two.minBytes).toBe(one.minBytes);
    // The same Blob with other metadata is a copy, not a link.
    const copy = planExt4([dir('/b'), file('/b/x', 0, blob), { ...file('/b/y', 0, blob), mode: 0o755 }], opts({ journal: false }));
    expect(copy.contentBytes).toBe(6 * MiB);
  });

  it('explicit: the size as given, and a message naming both sizes when it is too small', () => {
    const tree = [dir('/data'), ...Array.from({ length: 36 }, (_, i) => file(`/data/f${i}`, 1_025_000))];
    const p = planExt4(tree, opts({ size: 64 * MiB }));
    expect(p.sizeBytes).toBe(64 * MiB);
    const e = thrown(() => planExt4(tree, opts({ size: 32 * MiB })));
    expect(e).toBeInstanceOf(BootsmithError);
    const min = planExt4(tree, opts()).minBytes / MiB;
    expect(e.message).toBe(
      `The ext4 root needs at least ${min} MiB for this content (35.2 MiB of files), but its size is set to 32 MiB. Set the size to ${min} MiB or more, or choose auto.`,
    );
    // Exactly the minimum is accepted; a block less is not.
    expect(planExt4(tree, opts({ size: min * MiB })).sizeBytes).toBe(min * MiB);
    expect(() => planExt4(tree, opts({ size: min * MiB - 4096 }))).toThrow(BootsmithError);
  });

  it('explicit: a tiny size with a journal says that a journal needs 8 MiB', () => {
    const e = thrown(() => planExt4([file('/a', 10)], opts({ size: 4 * MiB })));
    expect(e.message).toContain('needs at least 8 MiB');
    expect(e.message).toContain('an ext4 journal needs 8 MiB at least');
    expect(e.message).toContain('turn the journal off');
    expect(planExt4([file('/a', 10)], opts({ size: 4 * MiB, journal: false })).sizeBytes).toBe(4 * MiB);
  });

  it('explicit: a size above the minimum that holds less (the journal grows at 128 MiB) gets its own message', () => {
    const tree = [file('/big', 118 * MiB)];
    const min = planExt4(tree, opts()).minBytes;
    expect(min).toBeLessThan(128 * MiB);
    const e = thrown(() => planExt4(tree, opts({ size: 128 * MiB })));
    expect(e).toBeInstanceOf(BootsmithError);
    const next = /or to (\d+) MiB or more/.exec(e.message)?.[1];
    expect(e.message).toBe(
      `This content (118 MiB of files) does not fit in an ext4 root of 128 MiB: at that size the journal and file-system metadata take more room than at ${min / MiB} MiB. ` +
        `Set the size to ${min / MiB} MiB, or to ${next} MiB or more, or choose auto.`,
    );
    expect(planExt4(tree, opts({ size: min })).sizeBytes).toBe(min);
    expect(planExt4(tree, opts({ size: Number(next) * MiB })).sizeBytes).toBe(Number(next) * MiB);
    expect(() => planExt4(tree, opts({ size: (Number(next) - 1) * MiB }))).toThrow(BootsmithError);
  });

  it('explicit: the usual inode density (one per 16 KiB) when there is room', () => {
    const p = planExt4([file('/a', 10)], opts({ size: 256 * MiB }));
    expect(p.inodes).toBe((256 * MiB) / 16384);
  });

  it('rejects sizes that are not sizes, and sizes past 16 TiB', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => planExt4([], opts({ size }))).toThrow(BootsmithError);
    expect(() => planExt4([], opts({ size: MAX_EXT4_BYTES + 4096 }))).toThrow(/more than/);
  });

  it('rejects a label longer than 16 bytes (UTF-8), naming it', () => {
    expect(planExt4([], opts({ label: 'exactly-16-bytes' })).sizeBytes).toBe(8 * MiB);
    expect(planExt4([], opts({ label: '' })).sizeBytes).toBe(8 * MiB);
    const e = thrown(() => planExt4([], opts({ label: 'seventeen-bytes!!' })));
    expect(e).toBeInstanceOf(BootsmithError);
    expect(e.message).toBe('The ext4 label "seventeen-bytes!!" is 17 bytes long, but ext4 keeps at most 16 bytes. Shorten the label.');
    // 9 characters, 18 bytes.
    expect(() => planExt4([], opts({ label: 'äääääääää' }))).toThrow(/18 bytes/);
  });

  it('rejects a /lost+found that is not a folder, and accepts one that is', () => {
    expect(() => planExt4([file('/lost+found', 1)], opts())).toThrow(/lost\+found/);
    expect(planExt4([{ ...dir('/lost+found'), mode: 0o700 }], opts()).sizeBytes).toBe(8 * MiB);
  });

  it('counts long symlinks, big folders and long names', () => {
    const base = planExt4([dir('/d')], opts({ journal: false, headroomPercent: 0 }));
    const names = Array.from({ length: 4000 }, (_, i) => ({ path: `/d/${'n'.repeat(200)}${i}`, type: 'symlink' as const, mode: 0o777, uid: 0, gid: 0, mtime: T, target: 't'.repeat(100) }));
    const p = planExt4([dir('/d'), ...names], opts({ journal: false, headroomPercent: 0 }));
    // 4000 blocks of targets, ~4000 * 212 bytes of folder entries (~208 blocks).
    expect(p.minBytes - base.minBytes).toBeGreaterThanOrEqual((4000 + 208) * 4096);
  });
});

describe('layout model', () => {
  it('knows sparse_super backup groups and the journal sizes', () => {
    expect([0, 1, 2, 3, 5, 7, 9, 25, 27, 49, 81, 125].map(groupHasSuper)).toEqual([true, true, false, true, true, true, true, true, true, true, true, true]);
    expect(defaultJournalBlocks(2047)).toBe(0);
    expect(defaultJournalBlocks(2048)).toBe(1024);
    expect(defaultJournalBlocks(1 << 20)).toBe(16384);
    expect(extentTreeBlocks(4)).toBe(0);
    expect(extentTreeBlocks(5)).toBe(1);
  });

  it('matches what native mke2fs 1.47.0 made on this machine (dumpe2fs figures)', () => {
    // Figures recorded from `mke2fs -b 4096 -I 256 -N n -O none,<features>` + `dumpe2fs -h`;
    // tests/ext4 re-checks the model against the native tool on many more sizes.
    const modern = { journal: true, is64bit: true, orphanFile: true };
    const g = geometry(8 * MiB, 20, modern);
    expect(g).toMatchObject({ blocks: 2048, inodes: 32, journalBlocks: 1024 });
    expect(geometry(1 * MiB, 20, { journal: false, is64bit: false, orphanFile: false })).toMatchObject({ blocks: 256, freeBlocks: 244, inodes: 32 });
    expect(geometry(16 * MiB, 1000, { journal: false, is64bit: false, orphanFile: false })).toMatchObject({ blocks: 4096, freeBlocks: 4023, inodes: 1008 });
  });
});

describe('features and ids', () => {
  it('names every feature; compat leaves out what old kernels cannot mount', () => {
    expect(ext4Features({ journal: true, compat: false })).toEqual(expect.arrayContaining(['has_journal', 'metadata_csum', '64bit', 'orphan_file', 'metadata_csum_seed', 'extent']));
    const compat = ext4Features({ journal: true, compat: true });
    for (const f of ['metadata_csum', '64bit', 'orphan_file', 'metadata_csum_seed']) expect(compat).not.toContain(f);
    expect(ext4Features({ journal: false, compat: false })).not.toContain('has_journal');
    expect(ext4Features({ journal: false, compat: false })).not.toContain('orphan_file');
  });

  it('formats 16 bytes as a version-4 UUID', () => {
    expect(formatUuid(new Uint8Array(16).fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(formatUuid(Uint8Array.from({ length: 16 }, (_, i) => i))).toBe('00010203-0405-4607-8809-0a0b0c0d0e0f');
  });
});
