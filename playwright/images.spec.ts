// Filesystem images from the app: an ext4 root and a FAT image built in the worker by the WASM
// e2fsprogs/dosfstools/mtools, checked in the page, and checked again by the native tools.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { dropFiles, freshProject, shot, tempDir } from './helpers.ts';

function run(cmd: string, args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }) };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

test('build an ext4 root and a FAT image; both check clean in the app and natively', async ({ page }) => {
  await freshProject(page, 'Disks');
  await dropFiles(page, '.files', [
    { name: 'init', content: '#!/bin/sh\necho disk\n' },
    { name: 'config.txt', content: 'arm_64bit=1\nenable_uart=1\n' },
  ]);
  await page.getByRole('button', { name: 'Symlink' }).click();
  await page.locator('#ne-name').fill('start');
  await page.locator('#ne-target').fill('init');
  await page.getByRole('button', { name: 'Create' }).click();

  await page.getByRole('checkbox', { name: 'ext4 root filesystem' }).check();
  await page.getByRole('checkbox', { name: 'FAT image' }).check();
  await page.getByLabel('ext4 label').fill('approot');
  await page.getByLabel('ext4 label').press('Enter');
  await page.getByRole('checkbox', { name: 'Journal' }).uncheck();
  await expect(page.getByRole('meter', { name: 'Space used' }).first()).toBeVisible();

  // An explicit size too small for the content is refused before any work, saying what fits.
  await page.getByLabel('fat size').fill('16K');
  await page.getByLabel('fat size').press('Enter');
  await expect(page.locator('.budget .err')).toContainText('needs at least');
  await expect(page.getByRole('button', { name: 'Build', exact: true })).toBeDisabled();
  await shot(page, '30-fat-too-small');
  await page.getByLabel('fat size').fill('auto');
  await page.getByLabel('fat size').press('Enter');
  await expect(page.locator('.budget .err')).toHaveCount(0);

  await page.getByRole('button', { name: 'Build', exact: true }).click();
  const results = page.getByRole('list', { name: 'Build outputs' });
  await expect(results).toContainText('rootfs.ext4', { timeout: 60_000 });
  await expect(page.getByTestId('check-rootfs.ext4')).toContainText('e2fsck -fn: clean');
  await expect(page.getByTestId('check-boot.vfat')).toContainText('fsck.fat -n: clean');
  await expect(results).toContainText('left out 1');
  await shot(page, '31-images-built');

  const dir = tempDir();
  for (const name of ['rootfs.ext4', 'boot.vfat']) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      results.locator('li', { hasText: name }).getByRole('button', { name: 'Download' }).click(),
    ]);
    await download.saveAs(join(dir, name));
  }
  const ext4 = join(dir, 'rootfs.ext4');
  expect(run('e2fsck', ['-fn', ext4]).code).toBe(0);
  expect(run('dumpe2fs', ['-h', ext4]).out).toMatch(/Filesystem volume name:\s+approot/);
  expect(run('dumpe2fs', ['-h', ext4]).out).not.toMatch(/has_journal/);
  expect(run('debugfs', ['-R', 'cat /config.txt', ext4]).out).toContain('enable_uart=1');
  expect(run('debugfs', ['-R', 'stat /init', ext4]).out).toMatch(/Mode:\s+0755/);
  expect(run('debugfs', ['-R', 'stat /start', ext4]).out).toMatch(/Fast link dest: "init"/);

  const vfat = join(dir, 'boot.vfat');
  expect(run('fsck.fat', ['-n', vfat]).code).toBe(0);
  const listing = run('mdir', ['-b', '-i', vfat, '::']).out;
  expect(listing).toContain('::/config.txt');
  expect(listing).toContain('::/init');
  expect(run('mtype', ['-i', vfat, '::/config.txt']).out).toBe('arm_64bit=1\nenable_uart=1\n');
});
