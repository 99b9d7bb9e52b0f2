/**
 * What a first visit costs on the wire. The budget is 30 MB
 * compressed: the wasm engines are 97 % of the bytes, so the server must send
 * them compressed and the service worker must precache only the engines this
 * browser runs (ffmpeg core-st, ORT's WASM build), not core-mt or ORT's WebGPU
 * build. The egress proxy counts response bytes as they crossed the wire.
 */
import { isLazyEngineFile } from '../src/sw/engine-files';
import { expect, test } from './support/test';

const FIRST_VISIT_BUDGET_BYTES = 30e6;
const fileName = (url: string) => new URL(url).pathname.split('/').pop() ?? '';

test('a first visit downloads under 30 MB, compressed, and no optional engine', async ({ page, egress }) => {
  await page.goto('/');
  await expect(page.getByTestId('offline-badge')).toHaveAttribute('data-ready', 'true', { timeout: 3 * 60_000 });
  await page.evaluate(() => navigator.serviceWorker.ready);

  const app = egress.log.filter((r) => r.allowed);
  const total = app.reduce((sum, r) => sum + r.bytes, 0);
  const wasm = app.filter((r) => r.url.endsWith('.wasm'));
  const summary = app.map((r) => `${(r.bytes / 1e6).toFixed(2).padStart(7)} MB ${r.encoding ?? '-'} ${new URL(r.url).pathname}`).join('\n');
  console.log(`first visit: ${app.length} requests, ${(total / 1e6).toFixed(1)} MB on the wire\n${summary}`);
  await test.info().attach('first-visit.txt', { body: summary, contentType: 'text/plain' });

  expect(app.filter((r) => isLazyEngineFile(fileName(r.url))).map((r) => r.url), 'optional engines fetched').toEqual([]);
  expect(wasm.length, 'the two engines this browser uses').toBeGreaterThanOrEqual(2);
  for (const r of wasm) expect(r.encoding, `${r.url} compressed`).toMatch(/^(br|gzip)$/);
  expect(total).toBeLessThan(FIRST_VISIT_BUDGET_BYTES);
});
