// A user's main flow: drag a program in, write /init, set its mode, add a symlink, a device and a
// FIFO, build, download — and GNU cpio, as root, extracts exactly that.
import { test, expect } from '@playwright/test';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { dropFiles, extractWithGnuCpio, freshProject, selectEntry, shot, tempDir } from './helpers.ts';

const INIT = '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho "hello from bootsmith"\nexec /bin/busybox sh\n';
// An ELF header is enough for the app to recognise a program and make it executable.
const PROGRAM = [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, ...Array.from({ length: 600 }, (_, i) => (i * 7) & 0xff)];

test('drop a program, write /init, build, download, extract with GNU cpio', async ({ page }) => {
  await freshProject(page, 'Puzzle box');
  await shot(page, '01-empty-project');

  await dropFiles(page, '.files', [{ name: 'puzzle', content: PROGRAM }]);
  await expect(page.locator('.row[data-path="/puzzle"]')).toBeVisible();
  await expect(page.locator('.row[data-path="/puzzle"] .mode')).toHaveText('-rwxr-xr-x');

  // A new text file, edited in place.
  await page.locator('.row[data-path="/puzzle"]').click();
  await page.getByRole('button', { name: 'New file' }).click();
  await page.locator('#ne-name').fill('init');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByLabel('Path (edit to move)')).toHaveValue('/init');
  await page.getByLabel('File content').fill(INIT);
  await page.getByLabel('File content').blur();
  await expect(page.locator('.editor .state')).toHaveText('Saved');
  // rwx boxes and the octal field are the same mode.
  await page.getByRole('checkbox', { name: 'Owner execute' }).check();
  await expect(page.getByLabel('Mode (octal or rwx)')).toHaveValue('0744');
  await page.getByLabel('Mode (octal or rwx)').fill('0755');
  await page.getByLabel('Mode (octal or rwx)').press('Enter');
  await expect(page.locator('.row[data-path="/init"] .mode')).toHaveText('-rwxr-xr-x');

  // Folders, a symlink, a device node and a FIFO.
  await page.locator('.row[data-path="/init"]').click();
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.locator('#ne-name').fill('dev');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('button', { name: 'Device' }).click();
  await page.locator('#ne-name').fill('console');
  await page.locator('#ne-major').fill('5');
  await page.locator('#ne-minor').fill('1');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('.row[data-path="/dev/console"]')).toBeVisible();
  await selectEntry(page, '/dev');
  await page.getByRole('button', { name: 'FIFO' }).click();
  await page.locator('#ne-name').fill('events');
  await page.getByRole('button', { name: 'Create' }).click();
  await selectEntry(page, '/init');
  await page.getByRole('button', { name: 'Symlink' }).click();
  await page.locator('#ne-name').fill('start');
  await page.locator('#ne-target').fill('puzzle');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('.row[data-path="/start"]')).toContainText('→ puzzle');
  // Owner and group of the program.
  await selectEntry(page, '/puzzle');
  await page.getByLabel('Owner (uid)').fill('1000');
  await page.getByLabel('Owner (uid)').press('Enter');
  await page.getByLabel('Group (gid)').fill('100');
  await page.getByLabel('Group (gid)').press('Enter');
  await expect(page.locator('.row[data-path="/puzzle"] .owner')).toHaveText('1000:100');
  await expect(page.getByTestId('totals')).toContainText('2 files, 1 folder, 3 other');
  await shot(page, '02-composed');

  await page.getByRole('button', { name: 'Build', exact: true }).click();
  const result = page.getByRole('list', { name: 'Build outputs' });
  await expect(result).toContainText('initramfs.cpio.gz');
  await shot(page, '03-built');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    result.getByRole('button', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('initramfs.cpio.gz');
  const file = join(tempDir(), 'initramfs.cpio.gz');
  await download.saveAs(file);
  const shown = (await result.locator('.sha').textContent())!.replace('sha256 ', '').trim();
  const { createHash } = await import('node:crypto');
  expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(shown);

  const root = extractWithGnuCpio(file);
  expect(readFileSync(join(root, 'init'), 'utf8')).toBe(INIT);
  expect(lstatSync(join(root, 'init')).mode & 0o7777).toBe(0o755);
  expect([...readFileSync(join(root, 'puzzle'))]).toEqual(PROGRAM);
  const prog = lstatSync(join(root, 'puzzle'));
  expect([prog.mode & 0o7777, prog.uid, prog.gid]).toEqual([0o755, 1000, 100]);
  expect(readlinkSync(join(root, 'start'))).toBe('puzzle');
  const dev = lstatSync(join(root, 'dev/console'));
  expect(dev.isCharacterDevice()).toBe(true);
  expect([Math.floor(dev.rdev / 256), dev.rdev % 256]).toEqual([5, 1]);
  expect(lstatSync(join(root, 'dev/events')).isFIFO()).toBe(true);

  // A reload brings everything back from IndexedDB.
  await page.reload();
  await expect(page.locator('.side li.active .name')).toHaveText('Puzzle box');
  await expect(page.getByTestId('totals')).toContainText('2 files, 1 folder, 3 other');
  await selectEntry(page, '/init');
  await expect(page.getByLabel('File content')).toHaveValue(INIT);
  await expect(page.getByLabel('Mode (octal or rwx)')).toHaveValue('0755');
});

test('bad edits are refused with a reason and change nothing', async ({ page }) => {
  await freshProject(page, 'Strict');
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.locator('#ne-name').fill('etc');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('button', { name: 'New file' }).click();
  await page.locator('#ne-name').fill('a/b');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert')).toContainText('contains "/"');
  await page.locator('#ne-name').fill('x'.repeat(256));
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert').last()).toContainText('255 bytes');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Device' }).click();
  await page.locator('#ne-name').fill('weird');
  await page.locator('#ne-major').fill('5000');
  await page.locator('#ne-minor').fill('1');
  // The browser's own range check stops the form first; past it, the engine's check does.
  await page.locator('#ne-major').evaluate((el: HTMLInputElement) => el.removeAttribute('max'));
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert').last()).toContainText('major number 5000 is out of range');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.row[data-path="/etc/weird"]')).toHaveCount(0);

  // A dangling symlink is a warning, not an error: the build still runs.
  await page.getByRole('button', { name: 'Symlink' }).click();
  await page.locator('#ne-name').fill('sh');
  await page.locator('#ne-target').fill('/bin/busybox');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('.footer .warn')).toContainText('1 warning');
  await shot(page, '04-warnings');
  await page.reload();
  await expect(page.getByTestId('totals')).toContainText('0 files, 1 folder, 1 other');
});

test('add a folder with its subfolders through the folder picker', async ({ page }) => {
  const dir = tempDir();
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(dir, 'overlay/etc/init.d'), { recursive: true });
  mkdirSync(join(dir, 'overlay/usr/share/app'), { recursive: true });
  writeFileSync(join(dir, 'overlay/etc/hostname'), 'puzzlebox\n');
  writeFileSync(join(dir, 'overlay/etc/init.d/rcS'), '#!/bin/sh\nmount -a\n');
  writeFileSync(join(dir, 'overlay/usr/share/app/data.json'), '{"level": 3}\n');

  await freshProject(page, 'Overlay');
  await page.getByTestId('add-folder').setInputFiles(join(dir, 'overlay'));
  await expect(page.getByTestId('totals')).toContainText('3 files, 6 folders');
  await page.locator('.row[data-path="/overlay"] .twisty').click();
  await page.locator('.row[data-path="/overlay/etc"] .twisty').click();
  await page.locator('.row[data-path="/overlay/etc/init.d"] .twisty').click();
  await expect(page.locator('.row[data-path="/overlay/etc/init.d/rcS"] .mode')).toHaveText('-rwxr-xr-x');
  await shot(page, '05-folder-added');

  // Move the folder's contents into place by editing a path: /overlay/etc → /etc.
  await page.locator('.row[data-path="/overlay/etc"]').click();
  await page.getByLabel('Path (edit to move)').fill('/etc');
  await page.getByLabel('Path (edit to move)').press('Enter');
  await expect(page.locator('.row[data-path="/etc"]')).toBeVisible();
  await expect(page.locator('.row[data-path="/etc/init.d/rcS"]')).toBeVisible();
});
