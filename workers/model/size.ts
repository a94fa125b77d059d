// Sizes as people write them: "64M", "1.5G", "512K", "4096" (bytes), and back.
import { BootsmithError } from './problems.ts';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses "64M", "64MiB", "1.5G", "4096"; binary units. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new BootsmithError(`"${text}" is not a size; write it like 64M, 1G or 512K`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2].toUpperCase()]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new BootsmithError(`"${text}" is not a usable size`);
  return bytes;
}

/** "37 MiB", "1.5 GiB", "812 KiB", "96 B". */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 && v !== Math.floor(v) ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
