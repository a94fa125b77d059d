// Test boot in the page: a PC project boots in v86 (the PC kit's kernel and BIOS), its kit /init
// runs the user's program and then a shell on the serial console; the user types into the
// terminal and sees the reply. A blank project whose /init exits is reported as such, and an
// x86-64 program is refused before any boot.
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { dropFiles, freshProject, shot } from './helpers.ts';
import { HELLO_TEXT, helloProgram } from '../tests/fixtures/programs.ts';

/** The terminal's text (xterm's DOM renderer keeps one element per row). */
const terminal = (page: Page) => page.locator('.xterm-rows');

test('PC project: click Test boot, the prompt comes, a typed command answers', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/');
  await page.getByRole('button', { name: /New project|\+ New/ }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.getByRole('radio', { name: /^PC/ }).check();
  await dialog.getByRole('textbox', { name: 'New project name' }).fill('Kiosk');
  await dialog.getByRole('textbox', { name: 'Program to start' }).fill('echo started by the kit init');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden({ timeout: 120_000 });
  await expect(page.getByTestId('board-status')).toContainText('boot folder ready');
  await shot(page, '49-pc-board');

  await page.getByRole('tab', { name: 'Test boot' }).click();
  await page.getByRole('button', { name: 'Test boot', exact: true }).click();
  await expect(page.getByTestId('boot-status')).toContainText(/Building|Booting|prompt/);
  await expect(page.getByTestId('boot-status')).toContainText('Shell prompt after', { timeout: 120_000 });
  await expect(terminal(page)).toContainText('started by the kit init');
  console.log(`[test boot] ${await page.getByTestId('boot-status').textContent()}`);

  await page.locator('.xterm').click();
  await page.keyboard.type('echo answer=$((6*7)); uname -m\n');
  await expect(terminal(page)).toContainText('answer=42', { timeout: 30_000 });
  await expect(terminal(page)).toContainText(/i[3-6]86/);
  await shot(page, '50-test-boot');

  // Stop ends the machine; Test boot starts a fresh one.
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('boot-status')).toHaveText('Stopped');
  await expect(page.getByRole('button', { name: 'Test boot', exact: true })).toBeEnabled();

  // With the ext4 root on, the disk image is attached and /init switches to /dev/sda2.
  await page.getByRole('tab', { name: 'Board' }).click();
  await page.getByRole('checkbox', { name: /Put the root filesystem on an ext4 partition/ }).check();
  await expect(page.getByRole('checkbox', { name: /Put the root filesystem on an ext4 partition/ })).toBeEnabled();
  await page.getByRole('tab', { name: 'Test boot' }).click();
  await expect(page.getByText('Boots with the ext4 root on')).toBeVisible();
  await page.getByRole('button', { name: 'Test boot', exact: true }).click();
  await expect(page.getByTestId('boot-status')).toContainText('Shell prompt after', { timeout: 120_000 });
  await expect(terminal(page)).toContainText('bootsmith: root file system /dev/sda2');
  await page.locator('.xterm').click();
  await page.keyboard.type('mount | grep " / "\n');
  await expect(terminal(page)).toContainText('/dev/sda2 on / type ext4');
  await shot(page, '52-test-boot-disk');
});

test('a blank project whose /init exits is reported; an x86-64 program is refused before booting', async ({ page }) => {
  test.setTimeout(240_000);
  await freshProject(page, 'Exits');
  await dropFiles(page, '.files', [{ name: 'init', content: [...readFileSync(helloProgram('i386'))] }]);
  await expect(page.locator('.row[data-path="/init"] .mode')).toHaveText('-rwxr-xr-x');
  await page.getByRole('tab', { name: 'Test boot' }).click();
  await page.getByRole('button', { name: 'Test boot', exact: true }).click();
  const ended = page.getByRole('alert', { name: 'How the boot ended' });
  await expect(ended).toContainText(/init/i, { timeout: 120_000 });
  await expect(page.getByTestId('boot-status')).toHaveText('/init exited');
  await expect(terminal(page)).toContainText(HELLO_TEXT);
  await shot(page, '51-test-boot-init-exited');

  await page.getByRole('tab', { name: 'Root filesystem' }).click();
  await dropFiles(page, '.files', [{ name: 'wide', content: [...readFileSync(helloProgram('x86_64'))] }]);
  await expect(page.locator('.row[data-path="/wide"]')).toBeVisible();
  await page.getByRole('tab', { name: 'Test boot' }).click();
  await page.getByRole('button', { name: 'Test boot', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('/wide is an x86-64 program');
  await expect(page.getByTestId('boot-status')).toHaveText('Could not boot');
});
