import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APP_PORT, chromiumArgs } from './support/browser';
import { expect, test } from './support/test';

test("the app is installable by Chromium's criteria", async ({ playwright }) => {
  // A persistent profile: Playwright's default contexts count as incognito, where nothing is installable.
  const profile = mkdtempSync(path.join(tmpdir(), 'voxsplit-install-'));
  const context = await playwright.chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: chromiumArgs() });
  try {
    const page = await context.newPage();
    await page.goto(`http://localhost:${APP_PORT}/`);
    await expect(page.getByTestId('offline-badge')).toHaveAttribute('data-ready', 'true', { timeout: 3 * 60_000 });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
    expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);
    const manifest = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; data?: string };
    expect(manifest.errors).toEqual([]);
    expect(JSON.parse(manifest.data ?? '{}').display).toBe('standalone');
    // Cross-origin isolation is what unlocks wasm threads.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
