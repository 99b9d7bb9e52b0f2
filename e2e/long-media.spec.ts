/**
 * Long media in CI, scaled down: a 3-minute file (three 60 s decode segments,
 * 23 separation windows) must stream its tracks to OPFS with the tab's JS
 * memory flat, and give the same tracks as the in-memory path (?sink=memory).
 *
 * "Flat" is measured, not assumed: JS memory of the page and all its workers
 * (V8 heap + ArrayBuffer stores, after a forced GC) at eight points of the
 * separation, and the slope of the output side (all but the decode worker)
 * against the audio separated. The in-memory path
 * keeps 16-bit tracks until the end (5.5 MiB per minute), which shows the
 * measurement sees stored audio; the OPFS path must stay flat.
 * A persistent profile: a throwaway context keeps OPFS in memory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { chromiumArgs } from './support/browser';
import { attachMemory } from './support/js-memory.mjs';
import { fixture } from './support/media-fixtures';
import { downloadTrack, expect, expectFacts, openFile, sourceIds, test } from './support/test';
import { maxAbsDiff, readWav16 } from './support/wav';

const MiB = 1024 * 1024;
/**
 * Streaming keeps no audio; what is left is noise from buffers in flight (a
 * window in the separate worker, a chunk in the page), measured at 0.4–1.5
 * MiB/min over runs here. Keeping all three tracks costs 5.5 MiB/min at 16 bits
 * and 11 at float: the limit sits below half of the first.
 */
const OPFS_SLOPE_LIMIT = 2.5 * MiB;
/** Nor does the tab as a whole grow far while separating (measured 1.8–6.5 MiB; float tracks kept would add ≈ 23). */
const OPFS_PEAK_RISE_LIMIT = 14 * MiB;
/** The in-memory path keeps 3 tracks × 16-bit × 16 kHz = 5.5 MiB per minute until the end; the measurement must see most of it. */
const MEMORY_PATH_MIN_SLOPE = 3.5 * MiB;

interface Run {
  /** Least-squares slope of the output side's JS memory (everything but the decode worker, whose ffmpeg heap ends with the input) against audio separated, bytes per minute. */
  slope: number;
  /** Largest rise of the whole tab's JS memory (page + all workers) over its first sample, bytes. */
  peakRise: number;
  samples: { atMinute: number; mib: Record<string, number> }[];
  storage: string | null;
  tracks: Map<string, Float32Array>;
}

const INPUT_MINUTES = 3;
const SAMPLE_AT = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

function slopeOf(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxy / sxx;
}

async function separateMeasured(context: BrowserContext, url: string, dir: string): Promise<Run> {
  const page = await context.newPage();
  await page.goto(url);
  const { jsMemory, gc } = await attachMemory(page);
  await page.getByText('Settings').click();
  await page.getByTestId('rate-setting').selectOption('model');
  await openFile(page, fixture('three-minutes.m4a'));
  await expectFacts(page);
  await page.getByTestId('separate').click();
  const separateProgress = page.locator('li[data-stage="separate"] progress');
  // evaluateAll does not wait for the element (getAttribute would, forever, once the results replace it).
  const progress = () => separateProgress.evaluateAll((els) => (els[0] as HTMLProgressElement | undefined)?.value ?? 0);
  const samples: Run['samples'] = [];
  const points: { x: number; y: number }[] = [];
  const totals: number[] = [];
  const results = page.getByTestId('results');
  for (const at of SAMPLE_AT) {
    // The progress view goes away when separation ends: later points are skipped, not waited for.
    await expect.poll(async () => (await results.isVisible()) || (await progress()) >= at, { timeout: 10 * 60_000, intervals: [200] }).toBe(true);
    if (await results.isVisible()) break;
    await gc();
    const mem = await jsMemory();
    const atMinute = (await progress()) * INPUT_MINUTES;
    if (await results.isVisible()) break; // ended while measuring: the in-memory tracks became Blobs
    samples.push({ atMinute: +atMinute.toFixed(2), mib: Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, +(v / MiB).toFixed(1)])) });
    points.push({ x: atMinute, y: mem.total - (mem['voxsplit-decode'] ?? 0) });
    totals.push(mem.total);
  }
  expect(points.length, 'memory samples taken while separating').toBeGreaterThanOrEqual(5);
  await expect(results).toBeVisible({ timeout: 10 * 60_000 });
  const storage = await results.getAttribute('data-storage');
  const tracks = new Map<string, Float32Array>();
  for (const id of await sourceIds(page)) tracks.set(id, readWav16(await downloadTrack(page, id, dir)).samples);
  await page.close();
  return { slope: slopeOf(points), peakRise: Math.max(...totals) - totals[0], samples, storage, tracks };
}

test('3 minutes stream to OPFS with flat memory and the same tracks as the in-memory path', async ({ playwright }, info) => {
  test.setTimeout(25 * 60_000);
  const profile = mkdtempSync(path.join(tmpdir(), 'voxsplit-e2e-'));
  const context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: chromiumArgs(),
    acceptDownloads: true,
    baseURL: test.info().project.use.baseURL,
  });
  try {
    const opfs = await separateMeasured(context, '/', path.join(info.outputDir, 'opfs'));
    const memory = await separateMeasured(context, '/?sink=memory', path.join(info.outputDir, 'memory'));
    const report = {
      opfsMiBPerMinute: +(opfs.slope / MiB).toFixed(2),
      opfsPeakRiseMiB: +(opfs.peakRise / MiB).toFixed(2),
      memoryMiBPerMinute: +(memory.slope / MiB).toFixed(2),
      opfs: opfs.samples,
      memory: memory.samples,
    };
    console.log('JS memory (page + workers, after GC) while separating', JSON.stringify(report, null, 1));
    await info.attach('long-media-memory.json', { body: JSON.stringify(report, null, 1), contentType: 'application/json' });

    expect(opfs.storage).toBe('opfs');
    expect(memory.storage).toBe('memory');
    expect(opfs.slope, 'OPFS path: memory grows with the audio').toBeLessThan(OPFS_SLOPE_LIMIT);
    expect(opfs.peakRise, 'OPFS path: the tab grew while separating').toBeLessThan(OPFS_PEAK_RISE_LIMIT);
    expect(memory.slope, 'in-memory path: the measurement does not see kept audio').toBeGreaterThan(MEMORY_PATH_MIN_SLOPE);

    // As many samples as Debian's ffmpeg decodes from the file (AAC's last frame adds a few past 180 s).
    const nativeSamples = execFileSync('ffmpeg', ['-v', 'error', '-i', fixture('three-minutes.m4a'), '-ac', '1', '-ar', '16000', '-f', 'f32le', '-'], { maxBuffer: 64 << 20 }).length / 4;
    expect(Math.abs(nativeSamples - INPUT_MINUTES * 60 * 16000)).toBeLessThan(2048);
    expect([...opfs.tracks.keys()]).toEqual([...memory.tracks.keys()]);
    for (const [id, a] of opfs.tracks) {
      const b = memory.tracks.get(id)!;
      expect(a.length, id).toBe(nativeSamples);
      expect(b.length, id).toBe(a.length);
      // Same decode, same model, same backend: the two sinks must hold the same samples.
      expect(maxAbsDiff(a, b), id).toBe(0);
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
