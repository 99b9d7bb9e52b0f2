import { unzipSync } from 'fflate';
import { readFileSync, writeFileSync } from 'node:fs';
import { downloadTrack, expect, expectFacts, openFile, separateAndWait, sourceIds, test } from './support/test';
import { fixture } from './support/media-fixtures';
import { correlation, readWav16, rms } from './support/wav';

test('a two-voice mp4 is separated into valid WAV tracks of the original duration', async ({ page }, info) => {
  await page.goto('/');
  await openFile(page, fixture('two-voices.mp4'));
  await expectFacts(page);
  await expect(page.getByTestId('facts-duration')).toHaveText('0:08');
  await separateAndWait(page);

  await expect(page.getByTestId('backend')).toContainText('WebAssembly');
  await expect(page.getByTestId('model-hash')).toHaveText(/^[0-9a-f]{64}$/);
  await page.screenshot({ path: 'test-results/results-view.png', fullPage: true });

  const ids = await sourceIds(page);
  expect(ids.length).toBeGreaterThanOrEqual(2);

  // Downloads at 16 kHz (the model's rate) compare sample by sample with the mixture.
  await page.getByText('Settings').click();
  await page.getByTestId('rate-setting').selectOption('model');
  const mixture = readWav16(fixture('two-voices.wav')).samples;
  const tracks = [];
  for (const id of ids) {
    const wav = readWav16(await downloadTrack(page, id, info.outputDir));
    expect(wav.sampleRate).toBe(16000);
    // 8 s; AAC in mp4 may add a few ms of padding
    expect(Math.abs(wav.samples.length - mixture.length)).toBeLessThanOrEqual(0.05 * 16000);
    expect(Math.abs(correlation(wav.samples, mixture)), `${id} is not a copy of the mixture`).toBeLessThan(0.99);
    tracks.push(wav.samples);
  }
  // The speaker tracks carry sound and differ from each other.
  expect(rms(tracks[0])).toBeGreaterThan(1e-3);
  expect(rms(tracks[1])).toBeGreaterThan(1e-3);
  expect(Math.abs(correlation(tracks[0], tracks[1]))).toBeLessThan(0.95);

  // The original rate (44.1 kHz in the mp4) and "Download all".
  await page.getByTestId('rate-setting').selectOption('original');
  const [zipDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-all').click()]);
  const zipPath = `${info.outputDir}/all.zip`;
  await zipDl.saveAs(zipPath);
  const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
  expect(Object.keys(files)).toHaveLength(ids.length);
  for (const [name, bytes] of Object.entries(files)) {
    const p = `${info.outputDir}/${name.replace(/[^\w.-]/g, '_')}`;
    writeFileSync(p, bytes);
    const wav = readWav16(p);
    expect(wav.sampleRate).toBe(44100);
    expect(Math.abs(wav.samples.length / 44100 - 8)).toBeLessThan(0.05);
  }
});

test('every supported container opens and shows its facts', async ({ page }) => {
  await page.goto('/');
  for (const ext of ['wav', 'mp3', 'm4a', 'ogg', 'opus', 'flac', 'webm', 'mov', 'mkv']) {
    await openFile(page, fixture(`two-voices.${ext}`));
    await expect(page.getByTestId('file-facts'), ext).toContainText(`two-voices.${ext}`);
    await expect(page.getByTestId('facts-duration'), ext).toHaveText('0:08');
  }
  // And one of them all the way through.
  await separateAndWait(page);
  expect((await sourceIds(page)).length).toBeGreaterThanOrEqual(2);
});

test('the results are keyboard-operable', async ({ page }) => {
  await page.goto('/');
  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await page.getByTestId('separate').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('results')).toBeVisible({ timeout: 6 * 60_000 });
  const mix = page.getByTestId('mix-play');
  await mix.focus();
  await page.keyboard.press('Enter');
  await expect(mix).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('Enter');
  await expect(mix).toHaveAttribute('aria-pressed', 'false');
});
