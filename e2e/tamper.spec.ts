/**
 * A copy of the built app with one byte of the model changed (and, second,
 * with a swapped manifest) is served on another port: the app must refuse it
 * and must never start onnxruntime.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { TAMPER_PORT } from './support/browser';
import { expect, expectError, expectFacts, openFile, test } from './support/test';
import { fixture } from './support/media-fixtures';

const TAMPERED = path.resolve('test-results/dist-tampered');

async function serve(dir: string): Promise<ChildProcess> {
  // Vite itself, not through npx: killing npx left vite serving the port for the next test.
  const vite = path.resolve('node_modules/vite/bin/vite.js');
  const p = spawn(process.execPath, [vite, 'preview', '--outDir', dir, '--host', 'localhost', '--port', String(TAMPER_PORT), '--strictPort'], { stdio: 'ignore' });
  p.once('exit', (code) => {
    if (code) console.error(`tampered preview server exited with ${code} (port ${TAMPER_PORT} taken?)`);
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://localhost:${TAMPER_PORT}/`);
      if (r.ok) return p;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop(p);
  throw new Error('tampered preview server did not start');
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.removeAllListeners('exit');
  const exited = new Promise((r) => p.once('exit', r));
  p.kill();
  await exited;
}

function copyDist(): string {
  rmSync(TAMPERED, { recursive: true, force: true });
  cpSync('dist', TAMPERED, { recursive: true });
  return path.join(TAMPERED, 'models');
}

/** Opens the altered app, asks for a separation and expects the given refusal. */
async function expectRefusal(page: Page, code: string): Promise<void> {
  await page.goto('/');
  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await page.getByTestId('separate').click();
  await expectError(page, code);
}

// No service worker here: it would fetch every file (ORT's wasm included) at install time,
// and this test checks that onnxruntime is never even loaded.
test.use({ serviceWorkers: 'block', baseURL: `http://localhost:${TAMPER_PORT}` });

// Every artifact the manifest lists goes through the one verifier: the separator and, when shipped, the voiceprint.
const shippedOnnx = readdirSync('public/models').filter((f) => f.endsWith('.onnx'));
for (const onnx of shippedOnnx) {
  test(`${onnx} with one changed byte is refused and nothing runs`, async ({ page, egress }) => {
    const models = copyDist();
    const bytes = readFileSync(path.join(models, onnx));
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(path.join(models, onnx), bytes);
    const server = await serve(TAMPERED);
    try {
      await expectRefusal(page, 'model-hash-mismatch');
      await expect(page.getByTestId('error')).toContainText(onnx);
      await expect(page.getByTestId('results')).toHaveCount(0);
      expect(egress.log.filter((r) => /ort-wasm/.test(r.url)), 'onnxruntime was never loaded').toEqual([]);
    } finally {
      await stop(server);
    }
  });
}

test('a manifest that differs from the one built into the app is refused', async ({ page, egress }) => {
  const models = copyDist();
  const manifestPath = path.join(models, 'manifest.json');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  m.version = `${m.version}-evil`;
  writeFileSync(manifestPath, JSON.stringify(m, null, 2));
  const server = await serve(TAMPERED);
  try {
    await expectRefusal(page, 'model-manifest-tampered');
    expect(egress.log.filter((r) => /ort-wasm|\.onnx/.test(r.url))).toEqual([]);
  } finally {
    await stop(server);
  }
});
