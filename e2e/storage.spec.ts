/**
 * Long media support, output side: tracks live in the Origin Private File
 * System (one folder per job), are played and downloaded from there, and the
 * folders go away with their job: on the next job, on cancel, and (for a tab
 * that closed mid-job) on the next start.
 */
import type { Page } from '@playwright/test';
import { downloadTrack, expect, expectFacts, openFile, separateAndWait, sourceIds, test } from './support/test';
import { fixture } from './support/media-fixtures';
import { readWav16 } from './support/wav';

interface JobFolder {
  name: string;
  files: string[];
}

/**
 * What the app keeps in OPFS: jobs/<id>/ with its files (and export/ when downloads were made). The app may be
 * deleting a folder while this reads it (a sweep at start, a cancel): a read that meets a vanished entry starts over.
 */
async function jobFolders(page: Page): Promise<JobFolder[]> {
  return page.evaluate(async () => {
    type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };
    const read = async (): Promise<JobFolder[]> => {
      const root = (await navigator.storage.getDirectory()) as Dir;
      let jobs: Dir;
      try {
        jobs = (await root.getDirectoryHandle('jobs')) as Dir;
      } catch {
        return [];
      }
      const out: JobFolder[] = [];
      for await (const [name, h] of jobs.entries()) {
        const files: string[] = [];
        const walk = async (d: Dir, prefix: string) => {
          for await (const [n, c] of d.entries()) {
            if (c.kind === 'directory') await walk(c as Dir, `${prefix}${n}/`);
            else files.push(`${prefix}${n}`);
          }
        };
        if (h.kind === 'directory') await walk(h as Dir, '');
        out.push({ name, files: files.sort() });
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    };
    for (let attempt = 0; ; attempt++) {
      try {
        return await read();
      } catch (e) {
        if (!(e instanceof DOMException && e.name === 'NotFoundError') || attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
}

const currentJob = (page: Page) => page.getByTestId('results').getAttribute('data-job');

test('tracks are written to OPFS, played and downloaded from there, and only the current job is kept', async ({ page }, info) => {
  await page.goto('/');
  await openFile(page, fixture('two-voices.wav'));
  await expectFacts(page);
  await separateAndWait(page);
  await expect(page.getByTestId('results')).toHaveAttribute('data-storage', 'opfs');
  const first = await currentJob(page);
  const ids = await sourceIds(page);
  expect(await jobFolders(page)).toEqual([{ name: first, files: ids.map((_, i) => `${i}.wav`).sort() }]);

  // The 16 kHz download is the OPFS file itself: complete header, every sample.
  await page.getByText('Settings').click();
  await page.getByTestId('rate-setting').selectOption('model');
  const wav = readWav16(await downloadTrack(page, ids[0], info.outputDir));
  expect(wav.sampleRate).toBe(16000);
  expect(Math.abs(wav.samples.length - 8 * 16000)).toBeLessThanOrEqual(160);

  // Another rate is streamed into the job's export folder, and downloaded from there.
  await page.getByTestId('rate-setting').selectOption('original');
  const hi = readWav16(await downloadTrack(page, ids[1], info.outputDir));
  expect(hi.sampleRate).toBe(16000); // two-voices.wav is 16 kHz: "original" is the model's rate here
  await page.getByTestId('download-all').click();
  await expect.poll(async () => (await jobFolders(page))[0]?.files.some((f) => f.startsWith('export/all-'))).toBe(true);

  // Playback from the files: the mix runs, the tracks stay together, and seeking by the waveform works.
  const mix = page.getByTestId('mix-play');
  await mix.click();
  await expect(mix).toHaveAttribute('aria-pressed', 'true');
  await page.waitForTimeout(2500);
  const spread = Number(await page.locator('.mix-bar').getAttribute('data-sync-spread-ms'));
  expect(spread, 'largest gap between tracks (ms)').toBeLessThan(40);
  await page.getByRole('button', { name: `Mute ${await page.getByTestId('track').first().locator('strong').innerText()}` }).click();
  await mix.click();
  await expect(mix).toHaveAttribute('aria-pressed', 'false');
  const wave = page.getByTestId('waveform').first();
  const box = (await wave.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  await expect(page.locator('.mix-bar .muted')).toContainText(/^0:0[5-7] \//);

  // A second job replaces the first: its folder is deleted.
  await page.getByTestId('separate').click();
  await expect(page.getByTestId('results')).toBeVisible({ timeout: 6 * 60_000 });
  const second = await currentJob(page);
  expect(second).not.toBe(first);
  await expect.poll(async () => (await jobFolders(page)).map((f) => f.name)).toEqual([second]);
});

test('cancel deletes the job folder; a tab closed mid-job leaves a folder that an open tab or the next start deletes', async ({ page, context }) => {
  await page.goto('/');
  await openFile(page, fixture('long.wav'));
  await expectFacts(page);
  await page.getByTestId('separate').click();
  const separateRow = page.locator('[data-stage="separate"] progress');
  await expect.poll(async () => Number(await separateRow.getAttribute('value')), { timeout: 3 * 60_000, intervals: [100] }).toBeGreaterThan(0);
  // Mid-separation, the job's files exist and grow.
  await expect.poll(async () => (await jobFolders(page)).length).toBe(1);
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('cancelled')).toBeVisible({ timeout: 5_000 });
  await expect.poll(async () => jobFolders(page), { timeout: 5_000 }).toEqual([]);

  // A tab that closes mid-job cannot clean up after itself.
  const startElsewhere = async () => {
    const other = await context.newPage();
    await other.goto('/');
    await openFile(other, fixture('long.wav'));
    await expectFacts(other);
    await other.getByTestId('separate').click();
    await expect.poll(async () => (await jobFolders(other)).length, { timeout: 3 * 60_000 }).toBe(1);
    return other;
  };
  let other = await startElsewhere();
  const running = await jobFolders(page);
  // Another tab's live job is never swept (its Web Lock is held): a fresh start here leaves it alone...
  await page.reload();
  await page.waitForTimeout(2_000);
  expect((await jobFolders(page)).map((f) => f.name)).toEqual(running.map((f) => f.name));
  // ...and deletes its folder once that tab is closed: a job interrupted by closing the tab is never resumed.
  await other.close();
  await expect.poll(async () => jobFolders(page), { timeout: 15_000 }).toEqual([]);

  // With no VoxSplit tab open when one closes mid-job, the folder stays until the next start deletes it.
  await page.goto('about:blank');
  other = await startElsewhere();
  await other.close();
  await page.goto('/');
  await expect.poll(async () => jobFolders(page), { timeout: 15_000 }).toEqual([]);
});

test('without OPFS the tracks stay in memory, say so, and still play and download', async ({ page }, info) => {
  await page.goto('/?sink=memory');
  await openFile(page, fixture('two-voices.mp4'));
  await expectFacts(page);
  await separateAndWait(page);
  await expect(page.getByTestId('results')).toHaveAttribute('data-storage', 'memory');
  await expect(page.getByTestId('storage-note')).toContainText('memory');
  expect(await jobFolders(page)).toEqual([]);
  const ids = await sourceIds(page);
  // Original rate (44.1 kHz): resampled in the storage worker into a Blob.
  const wav = readWav16(await downloadTrack(page, ids[0], info.outputDir));
  expect(wav.sampleRate).toBe(44100);
  expect(Math.abs(wav.samples.length / 44100 - 8)).toBeLessThan(0.05);
  const mix = page.getByTestId('mix-play');
  await mix.click();
  await expect(page.locator('.mix-bar .muted')).toContainText(/^0:0[1-9] \//, { timeout: 10_000 });
  await mix.click();
  await expect(mix).toHaveAttribute('aria-pressed', 'false');
});
