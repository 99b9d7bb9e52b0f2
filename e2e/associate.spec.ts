import { readFileSync } from 'node:fs';
import { downloadTrack, expect, expectFacts, openFile, separateAndWait, sourceIds, test } from './support/test';
import { fixture } from './support/media-fixtures';
import { maxAbsDiff, readWav16 } from './support/wav';
import type { Page, TestInfo } from '@playwright/test';

const voiceprintShipped = (JSON.parse(readFileSync('public/models/manifest.json', 'utf8')).artifacts as { role: string }[]).some(
  (a) => a.role === 'voiceprint',
);

async function tracks(page: Page, info: TestInfo, tag: string): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const id of await sourceIds(page)) out.push(readWav16(await downloadTrack(page, id, `${info.outputDir}/${tag}`)).samples);
  return out;
}

/**
 * Two people taking turns (espeak-ng). With the associate stage on, the separate worker verifies and runs the
 * voiceprint too; whatever it decides, it may only move speech between the two speaker tracks: their sum and the
 * background are those of the run without it. (How well it routes real voices: training/conversations.py.)
 */
test('the associate stage runs with a verified voiceprint and only moves speech between the speaker tracks', async ({ page }, info) => {
  test.skip(!voiceprintShipped, 'public/models ships no voiceprint: the associate stage is off');
  test.setTimeout(6 * 60_000);
  await page.goto('/');
  await openFile(page, fixture('interview.wav'));
  await expectFacts(page);
  await page.getByText('Settings').click();
  await expect(page.getByTestId('associate-setting')).toBeChecked();
  await page.getByTestId('rate-setting').selectOption('model');
  await separateAndWait(page);
  await expect(page.getByTestId('associate')).toContainText(/voiceprint [0-9a-f]{64}/);
  const on = await tracks(page, info, 'on');

  // Keyboard: the checkbox toggles with Space.
  await page.getByTestId('associate-setting').press('Space');
  await expect(page.getByTestId('associate-setting')).not.toBeChecked();
  // A fresh page (the setting is kept) and the same file again.
  await page.reload();
  await openFile(page, fixture('interview.wav'));
  await expectFacts(page);
  await separateAndWait(page);
  await expect(page.getByTestId('associate')).toHaveText('as the separator put them (associate stage off)');
  const off = await tracks(page, info, 'off');

  expect(on).toHaveLength(off.length);
  const sum = (t: Float32Array[]) => t[0].map((v, i) => v + t[1][i]);
  // 16-bit WAV: each track is rounded to 1/32768, so the sums may differ by two steps.
  expect(maxAbsDiff(sum(on), sum(off))).toBeLessThanOrEqual(2.5 / 32768);
  for (let i = 2; i < on.length; i++) expect(maxAbsDiff(on[i], off[i])).toBeLessThanOrEqual(1 / 32768);
});
