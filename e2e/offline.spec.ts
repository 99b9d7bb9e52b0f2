import { expect, expectFacts, openFile, separateAndWait, test } from './support/test';
import { fixture } from './support/media-fixtures';

test('after one visit the app loads and separates with the network off', async ({ page, context, egress }) => {
  await page.goto('/');
  // The service worker has precached the shell, the wasm files and the model.
  await expect(page.getByTestId('offline-badge')).toHaveAttribute('data-ready', 'true', { timeout: 3 * 60_000 });
  await page.evaluate(() => navigator.serviceWorker.ready);

  egress.offline = true;
  await context.setOffline(true);
  const before = egress.log.length;
  await page.reload();
  await expect(page.getByRole('heading', { name: 'VoxSplit' })).toBeVisible();
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);

  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await separateAndWait(page);
  await expect(page.getByTestId('model-hash')).toHaveText(/^[0-9a-f]{64}$/);
  // Nothing the app asked for reached the network while offline: everything came from the cache. (Chromium's own
  // calls home, e.g. a CONNECT to accounts.google.com, may come at any moment; the fixture's check covers them.)
  expect(egress.notBrowserInternal(before).filter((r) => !r.url.includes('/sw.js'))).toEqual([]);
  await context.setOffline(false);
});
