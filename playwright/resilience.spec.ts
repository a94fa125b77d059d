// What must not be lost or frozen: offline use after the first visit, a full storage quota, a
// cancelled build, and a page that stays responsive while a build runs.
import { test, expect } from '@playwright/test';
import { dropFiles, freshProject, shot } from './helpers.ts';

test('after the first visit the app loads and builds offline', async ({ page, context }) => {
  await freshProject(page, 'Offline');
  await dropFiles(page, '.files', [{ name: 'init', content: '#!/bin/sh\necho offline\n' }]);
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload(); // now the service worker controls the page
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page.locator('.side li.active .name')).toHaveText('Offline');
  await page.getByRole('button', { name: 'Build', exact: true }).click();
  await expect(page.getByRole('list', { name: 'Build outputs' })).toContainText('initramfs.cpio.gz');
  await shot(page, '20-offline-build');
  await context.setOffline(false);
});

test('a full storage quota keeps the saved project and says how much is needed', async ({ page, context, baseURL }) => {
  // A 2 MB quota for the app's origin, set before the app first opens its database (Chromium
  // fixes an origin's quota for the connections it has already opened).
  const cdp = await context.newCDPSession(page);
  const origin = new URL(baseURL!).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 2 * 1024 * 1024 });
  await freshProject(page, 'Quota');
  await dropFiles(page, '.files', [{ name: 'small.txt', content: 'kept\n' }]);
  await expect(page.locator('.row[data-path="/small.txt"]')).toBeVisible();

  await page.evaluate(() => {
    const big = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    const dt = new DataTransfer();
    dt.items.add(new File([big], 'big.bin'));
    document.querySelector('.files')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('storage is full');
  await expect(alert).toContainText('8.0 MB');
  await expect(alert).toContainText('Nothing was lost');
  await shot(page, '21-quota');
  await expect(page.locator('.row[data-path="/big.bin"]')).toHaveCount(0);

  await page.reload();
  await expect(page.locator('.row[data-path="/small.txt"]')).toBeVisible();
  await expect(page.locator('.row[data-path="/big.bin"]')).toHaveCount(0);
});

test('a long build shows progress, can be cancelled, and the page stays responsive', async ({ page }) => {
  await freshProject(page, 'Big');
  await page.evaluate(() => {
    // 48 MB of incompressible data: gzip takes seconds.
    const dt = new DataTransfer();
    for (let f = 0; f < 3; f++) {
      const big = new Uint8Array(16 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
      dt.items.add(new File([big], `blob${f}.bin`));
    }
    document.querySelector('.files')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.locator('.row[data-path="/blob2.bin"]')).toBeVisible();

  await page.getByRole('button', { name: 'Build', exact: true }).click();
  const bar = page.getByRole('progressbar', { name: 'Build progress' });
  await expect(bar).toBeVisible();
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
  // The page answers clicks while the worker builds.
  await page.locator('.row[data-path="/blob1.bin"]').click();
  await expect(page.getByLabel('Path (edit to move)')).toHaveValue('/blob1.bin');
  await shot(page, '22-building');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Build cancelled' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Build outputs' })).toHaveCount(0);

  // And a full build of the same tree completes.
  await page.getByRole('button', { name: 'Build', exact: true }).click();
  await expect(page.getByRole('list', { name: 'Build outputs' })).toContainText('initramfs.cpio.gz', { timeout: 90_000 });
});
