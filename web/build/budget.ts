// Space budgets for the filesystem images, computed in the page from the same pure planners the
// engine uses, so a tree that cannot fit is flagged before a build starts.
import type { Project } from '../../workers/model/project.ts';
import { imageEntries } from '../../workers/pipeline.ts';
import { planExt4 } from '../../workers/ext4/plan.ts';
import { planFat } from '../../workers/fat/plan.ts';

export interface Budget {
  content: number;
  size: number;
  error?: string;
}

function budgetOf(plan: () => { contentBytes: number; sizeBytes: number }, fallbackContent: number): Budget {
  try {
    const p = plan();
    return { content: p.contentBytes, size: p.sizeBytes };
  } catch (err) {
    return { content: fallbackContent, size: 0, error: (err as Error).message };
  }
}

export function budgets(project: Project): { ext4?: Budget; fat?: Budget } {
  const entries = imageEntries(project.entries, project.sourceDateEpoch);
  const bytes = entries.reduce((n, e) => n + (e.data?.size ?? 0), 0);
  // A board's FAT holds the boot folder plus the initramfs, whose size is known only after the
  // build: count the root tree uncompressed, an upper bound.
  const fatEntries = project.board
    ? [...imageEntries(project.boot, project.sourceDateEpoch), { path: '/initramfs.cpio.gz', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 0, data: { size: bytes } as Blob }]
    : entries;
  const fatBytes = fatEntries.reduce((n, e) => n + (e.data?.size ?? 0), 0);
  const fatWanted = project.fat.enabled || (!!project.board && project.sdcard.enabled);
  return {
    ext4: project.ext4.enabled ? budgetOf(() => planExt4(entries, project.ext4), bytes) : undefined,
    fat: fatWanted ? budgetOf(() => planFat(fatEntries, project.fat), fatBytes) : undefined,
  };
}
