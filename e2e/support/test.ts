/**
 * The e2e `test`: every test runs behind the egress proxy and fails if any
 * request left the app's origin or the page threw an uncaught error or an
 * unhandled promise rejection.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { ALLOWED_ORIGINS } from './browser';
import { EgressProxy } from './egress-proxy';

interface WorkerFixtures {
  egress: EgressProxy;
}
interface TestFixtures {
  pageErrors: string[];
  appRequests: string[];
  guard: void;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  egress: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const proxy = new EgressProxy();
      await proxy.start();
      await use(proxy);
      await proxy.stop();
    },
    { scope: 'worker', auto: true },
  ],
  pageErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Unhandled rejection/.test(m.text())) errors.push(m.text());
    });
    await use(errors);
  },
  /** Every request made by the app's page, its workers and its service worker. */
  appRequests: async ({ context }, use) => {
    const urls: string[] = [];
    context.on('request', (r) => urls.push(r.url()));
    await use(urls);
  },
  guard: [
    async ({ egress, pageErrors, appRequests }, use, info) => {
      egress.log.length = 0;
      egress.offline = false;
      await use();
      const offenders = egress.offenders();
      await info.attach('requests.json', { body: JSON.stringify(egress.log, null, 1), contentType: 'application/json' });
      expect(offenders, 'requests that left the app origin').toEqual([]);
      const foreign = appRequests.filter((u) => !/^(data|blob):/.test(u) && !ALLOWED_ORIGINS.some((o) => u.startsWith(`${o}/`)));
      expect(foreign, 'app requests to another origin').toEqual([]);
      expect(egress.log.length, 'the proxy saw the test traffic').toBeGreaterThan(0);
      expect(pageErrors, 'uncaught errors / unhandled rejections').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function openFile(page: Page, file: string): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(file);
}

export async function expectFacts(page: Page): Promise<void> {
  await expect(page.getByTestId('file-facts')).toBeVisible();
}

export async function separateAndWait(page: Page): Promise<void> {
  await page.getByTestId('separate').click();
  await expect(page.getByTestId('results')).toBeVisible({ timeout: 6 * 60_000 });
}

export async function expectError(page: Page, code: string): Promise<void> {
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', code);
}

/** Downloads one track through the UI and returns the saved path. */
export async function downloadTrack(page: Page, sourceId: string, dir: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`download-${sourceId}`).click()]);
  const to = `${dir}/${sourceId}.wav`;
  await download.saveAs(to);
  return to;
}

export async function sourceIds(page: Page): Promise<string[]> {
  return page.getByTestId('track').evaluateAll((els) => els.map((e) => e.getAttribute('data-source') ?? ''));
}
