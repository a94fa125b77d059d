// Projects: several of them, rename, duplicate, delete; export to a file and import it back
// losslessly (the rebuilt initramfs has the same sha256, in the browser and in the CLI).
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropFiles, freshProject, newBlank, shot, tempDir } from './helpers.ts';

const REPO = join(import.meta.dirname, '..');

test('create, rename, duplicate and delete projects', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await freshProject(page, 'Kiosk');
  await newBlank(page);
  await newBlank(page);
  const items = page.locator('.side li');
  await expect(items).toHaveCount(3);

  await page.locator('.side li', { hasText: 'Untitled project 2' }).hover();
  await page.getByRole('button', { name: 'Rename Untitled project 2' }).click();
  await page.locator('.side input.rename').fill('Sensor');
  await page.locator('.side input.rename').press('Enter');
  await expect(page.locator('.side .name')).toContainText(['Sensor']);

  await page.locator('.side li', { hasText: 'Kiosk' }).hover();
  await page.getByRole('button', { name: 'Duplicate Kiosk' }).click();
  await expect(page.locator('.side .name')).toContainText(['Kiosk copy']);
  await expect(page.locator('.side li.active .name')).toHaveText('Kiosk copy');

  await page.locator('.side li').filter({ has: page.locator('.name', { hasText: /^Untitled project$/ }) }).hover();
  await page.getByRole('button', { name: 'Delete Untitled project', exact: true }).click();
  await expect(items).toHaveCount(3);
  await shot(page, '10-projects');
  await page.reload();
  await expect(page.locator('.side .name')).toHaveText(['Kiosk', 'Sensor', 'Kiosk copy']);
});

test('export a project and import it back: same bytes in the browser and the CLI', async ({ page }) => {
  await freshProject(page, 'Roundtrip');
  await dropFiles(page, '.files', [
    { name: 'init', content: '#!/bin/sh\necho hi\n', lastModified: 1_600_000_000_000 },
    { name: 'data.bin', content: [0, 1, 2, 3, 255, 254], lastModified: 1_500_000_000_000 },
  ]);
  await page.getByRole('button', { name: 'Device' }).click();
  await page.locator('#ne-kind').selectOption('block');
  await page.locator('#ne-name').fill('sda');
  await page.locator('#ne-major').fill('8');
  await page.locator('#ne-minor').fill('0');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('button', { name: 'Build', exact: true }).click();
  const sha = (await page.locator('.results .sha').textContent())!.trim();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
  expect(download.suggestedFilename()).toBe('Roundtrip.bootsmith');
  const dir = tempDir();
  const file = join(dir, 'Roundtrip.bootsmith');
  await download.saveAs(file);

  // The CLI builds the exported project to the same bytes.
  const cli = execFileSync('node', [join(REPO, 'bin/bootsmith.mjs'), 'build', file, '-o', join(dir, 'out')], { encoding: 'utf8' });
  expect(cli).toContain(sha);

  await page.getByTestId('import-input').setInputFiles(file);
  await expect(page.locator('.side li.active .name')).toHaveText('Roundtrip 2');
  await expect(page.getByTestId('totals')).toContainText('2 files, 0 folders, 1 other');
  await page.getByRole('button', { name: 'Build', exact: true }).click();
  await expect(page.locator('.results .sha')).toHaveText(sha);
});

test('import an initramfs and a tar; a damaged archive is refused and nothing changes', async ({ page }) => {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  execFileSync('sh', ['-c', `mkdir -p ${tree}/etc ${tree}/bin && echo root:x:0:0 > ${tree}/etc/passwd && printf '#!/bin/sh\\n' > ${tree}/init && chmod 755 ${tree}/init && ln -s ../init ${tree}/bin/start && mknod ${tree}/console c 5 1`]);
  execFileSync('sh', ['-c', `cd ${tree} && tar --numeric-owner --owner=0 --group=0 -czf ${dir}/rootfs.tar.gz .`]);
  execFileSync('sh', ['-c', `cd ${tree} && find . | cpio -o -H newc --quiet | gzip > ${dir}/initrd.cpio.gz`]);
  writeFileSync(join(dir, 'broken.tar.gz'), readFileSync(join(dir, 'rootfs.tar.gz')).subarray(0, 200));

  await freshProject(page, 'Imports');
  await page.getByTestId('import-input').setInputFiles(join(dir, 'rootfs.tar.gz'));
  await expect(page.getByRole('dialog')).toContainText('tar archive with 6 entries');
  await shot(page, '11-import-dialog');
  await page.getByRole('button', { name: 'New project' }).click();
  await expect(page.locator('.side li.active .name')).toHaveText('rootfs');
  await expect(page.getByTestId('totals')).toContainText('2 files, 2 folders, 2 other');

  await page.getByTestId('import-input').setInputFiles(join(dir, 'initrd.cpio.gz'));
  await expect(page.getByRole('dialog')).toContainText('initramfs with 6 entries');
  await page.getByRole('button', { name: /Add to/ }).click();
  await expect(page.getByTestId('totals')).toContainText('2 files, 2 folders, 2 other');

  const before = await page.locator('.side li').count();
  await page.getByTestId('import-input').setInputFiles(join(dir, 'broken.tar.gz'));
  await expect(page.getByRole('alert')).toBeVisible();
  await shot(page, '12-import-error');
  await expect(page.locator('.side li')).toHaveCount(before);
});
