// The Raspberry Pi story: a new Pi 4 project, a static arm64 program dropped in, build, download
// the boot folder zip — then QEMU boots the zip's kernel and initramfs and our program runs. QEMU
// has no raspi4b before version 9: there the same kernel and initramfs boot on raspi3b with the
// Pi 3 device tree from the Pi 3 kit (the Pi 4 device tree is checked statically).
import { test, expect } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dropFiles, shot, tempDir } from './helpers.ts';
import { HELLO_TEXT, helloProgram } from '../tests/fixtures/programs.ts';
import { runUntil, tail } from '../tests/boot/qemu.ts';

const KITS = join(import.meta.dirname, '..', 'public', 'kits');

function qemuMachines(): string {
  const r = spawnSync('qemu-system-aarch64', ['-machine', 'help'], { encoding: 'utf8' });
  return r.stdout ?? '';
}

test('new Pi 4 project, drop a static arm64 program, build, download the zip; QEMU boots it', async ({ page }) => {
  test.setTimeout(420_000);
  await page.goto('/');
  await page.getByRole('button', { name: /New project|\+ New/ }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.getByRole('radio', { name: /Raspberry Pi 4/ }).check();
  await dialog.getByRole('textbox', { name: 'New project name' }).fill('Puzzle box');
  await dialog.getByRole('textbox', { name: 'Program to start' }).fill('/usr/bin/hello');
  await shot(page, '40-new-pi-project');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden({ timeout: 120_000 });
  await expect(page.getByRole('tab', { name: 'Board' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('board-status')).toContainText('boot folder ready');

  // The program goes into /usr/bin on the Root filesystem tab.
  await page.getByRole('tab', { name: 'Root filesystem' }).click();
  await page.locator('.row[data-path="/usr"] .twisty').click();
  await expect(page.locator('.row[data-path="/usr/bin"]')).toBeVisible();
  await dropFiles(page, '.row[data-path="/usr/bin"]', [{ name: 'hello', content: [...readFileSync(helloProgram('arm64'))] }]);
  await expect(page.locator('.row[data-path="/usr/bin/hello"] .mode')).toHaveText('-rwxr-xr-x');
  await shot(page, '41-pi-program-added');

  // An x86 program is refused before building, with a message that names it.
  await dropFiles(page, '.row[data-path="/usr/bin"]', [{ name: 'wrong', content: [...readFileSync(helloProgram('x86_64'))] }]);
  await page.getByRole('tab', { name: 'Board' }).click();
  await expect(page.getByRole('list', { name: 'Boot folder checks' })).toContainText('/usr/bin/wrong');
  await expect(page.getByRole('button', { name: 'Build', exact: true })).toBeDisabled();
  await shot(page, '42-pi-wrong-arch');
  await page.getByRole('tab', { name: 'Root filesystem' }).click();
  await page.locator('.row[data-path="/usr/bin/wrong"]').click();
  await page.getByRole('button', { name: /^Delete/ }).click();
  await page.getByRole('tab', { name: 'Board' }).click();
  await expect(page.getByTestId('board-status')).toContainText('boot folder ready');

  // config.txt as a form: a kernel= that names a missing file is caught before building.
  const kernelField = page.getByRole('textbox', { name: 'config.txt kernel' });
  await kernelField.fill('kernel8.img');
  await kernelField.press('Tab');
  await expect(page.getByRole('list', { name: 'Boot folder checks' })).toContainText(/kernel=kernel8\.img \(line \d+\) names a file that is not in the boot folder/);
  await expect(page.getByRole('button', { name: 'Build', exact: true })).toBeDisabled();
  await page.getByText('Edit config.txt as text').click();
  await expect(page.getByRole('textbox', { name: 'config.txt text' })).toHaveValue(/^kernel=kernel8\.img$/m);
  await kernelField.scrollIntoViewIfNeeded();
  await shot(page, '44-pi-config-form');
  await kernelField.fill('vmlinuz');
  await kernelField.press('Tab');
  await expect(page.getByTestId('board-status')).toContainText('boot folder ready');

  await page.getByRole('button', { name: 'Build', exact: true }).click();
  const results = page.getByRole('list', { name: 'Build outputs' });
  await expect(results).toContainText('sdcard.img', { timeout: 180_000 });
  await expect(page.getByTestId('check-boot.vfat')).toContainText('clean');
  await shot(page, '43-pi-built');

  const zipRow = results.locator('li', { hasText: 'boot.zip' });
  const [download] = await Promise.all([page.waitForEvent('download'), zipRow.getByRole('button', { name: 'Download' }).click()]);
  expect(download.suggestedFilename()).toBe('boot.zip');
  const dir = tempDir();
  const zip = join(dir, 'boot.zip');
  await download.saveAs(zip);
  const folder = join(dir, 'boot');
  mkdirSync(folder);
  execFileSync('unzip', ['-q', zip, '-d', folder]);
  const names = readdirSync(folder);
  for (const f of ['start4.elf', 'fixup4.dat', 'bcm2711-rpi-4-b.dtb', 'vmlinuz', 'config.txt', 'cmdline.txt', 'initramfs.cpio.gz']) expect(names).toContain(f);

  const config = readFileSync(join(folder, 'config.txt'), 'utf8');
  const cmdline = readFileSync(join(folder, 'cmdline.txt'), 'utf8').split('\n')[0].trim();
  const kernel = /^kernel=(\S+)/m.exec(config)![1];
  const initrd = /^initramfs\s+(\S+)/m.exec(config)![1];
  const raspi4 = /^raspi4b\b/m.test(qemuMachines());
  const dtb = raspi4 ? join(folder, 'bcm2711-rpi-4-b.dtb') : pi3Dtb();
  const run = await runUntil('qemu-system-aarch64', [
    '-M', raspi4 ? 'raspi4b' : 'raspi3b', '-accel', 'tcg,thread=single', '-nographic', '-monitor', 'none',
    '-kernel', join(folder, kernel), '-initrd', join(folder, initrd), '-dtb', dtb, '-append', cmdline,
    '-serial', 'null', '-serial', 'stdio',
  ], ['bootsmith: starting /usr/bin/hello', HELLO_TEXT], 240_000);
  console.log(`[pi zip boot] ${raspi4 ? 'raspi4b' : 'raspi3b'}: ${run.seconds.toFixed(1)} s`);
  expect(run.matched, tail(run)).toBe(true);
});

/** The Pi 3 device tree from the Pi 3 kit, for QEMUs without raspi4b. */
function pi3Dtb(): string {
  const kit = JSON.parse(readFileSync(join(KITS, 'pi3b', 'kit.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  const f = kit.files.find((x) => x.path === 'bcm2837-rpi-3-b.dtb')!;
  const p = join(KITS, 'blobs', f.sha256);
  if (!existsSync(p)) throw new Error(`missing ${p}`);
  return p;
}
