import { type Page, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SHOTS = join(import.meta.dirname, 'screenshots');

export async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bootsmith-pw-'));
}

/** Creates a blank project through the New project dialog (named "Untitled project…"). */
export async function newBlank(page: Page) {
  await page.getByRole('button', { name: /New project|\+ New/ }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await expect(dialog.getByRole('radio', { name: /Blank/ })).toBeChecked();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden();
}

/** Opens the app on a clean slate and creates a project. */
export async function freshProject(page: Page, name = 'Puzzle box') {
  await page.goto('/');
  await newBlank(page);
  const title = page.getByRole('textbox', { name: 'Project name' });
  await expect(title).toHaveValue(/Untitled project/);
  await title.fill(name);
  await title.press('Enter');
  await expect(page.locator('.side li.active .name')).toHaveText(name);
}

/** Drops files onto an element the way a desktop drag does (a DataTransfer with Files). */
export async function dropFiles(page: Page, selector: string, files: { name: string; content: string | number[]; lastModified?: number }[]) {
  const dt = await page.evaluateHandle((fs) => {
    const dt = new DataTransfer();
    for (const f of fs) {
      const body = typeof f.content === 'string' ? f.content : new Uint8Array(f.content);
      dt.items.add(new File([body], f.name, { lastModified: f.lastModified ?? Date.now() }));
    }
    return dt;
  }, files);
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

/** Extracts a (gzip) newc archive with GNU cpio as root; returns the folder. */
export function extractWithGnuCpio(archive: string): string {
  const dir = tempDir();
  const out = join(dir, 'root');
  mkdirSync(out);
  const raw = join(dir, 'archive.cpio');
  writeFileSync(raw, execFileSync('sh', ['-c', `gzip -dc "${archive}" 2>/dev/null || cat "${archive}"`], { maxBuffer: 1 << 30 }));
  execFileSync('sh', ['-c', `cpio -idm --quiet --no-absolute-filenames < "${raw}"`], { cwd: out });
  return out;
}

/** Selects an entry in the tree by its path. */
export async function selectEntry(page: Page, path: string) {
  await page.locator(`.row[data-path="${path}"]`).click();
  await expect(page.getByLabel('Path (edit to move)')).toHaveValue(path);
}
