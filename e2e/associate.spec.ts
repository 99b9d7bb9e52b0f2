import { readFileSync } from 'node:fs';
import { downloadTrack, expect, expectFacts, openFile, separateAndWait, sourceIds, test } from './support/test';
import { fixture } from './support/media-fixtures';
import { readWav16 } from './support/wav';

const voiceprintShipped = (JSON.parse(readFileSync('public/models/manifest.json', 'utf8')).artifacts as { role: string }[]).some(
  (a) => a.role === 'voiceprint',
);

/**
 * Two people taking turns (espeak-ng, no overlap). The separator alone puts a lone voice on whichever output it
 * habitually uses; the associate stage (voiceprints, in the separate worker) must give each person a track.
 */
test('people taking turns each get a track of their own', async ({ page }, info) => {
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

  const ids = await sourceIds(page);
  const tracks: Float32Array[] = [];
  for (const id of ids.slice(0, 2)) tracks.push(readWav16(await downloadTrack(page, id, info.outputDir)).samples);
  const turns: { who: 'a' | 'b'; from: number; to: number }[] = JSON.parse(readFileSync(fixture('interview.json'), 'utf8'));
  const energy = (x: Float32Array, t: { from: number; to: number }) =>
    x.subarray(Math.round(t.from * 16000), Math.round(t.to * 16000)).reduce((s, v) => s + v * v, 0);
  const shareOnFirst = (who: 'a' | 'b') => {
    const mine = turns.filter((t) => t.who === who);
    const e0 = mine.reduce((s, t) => s + energy(tracks[0], t), 0);
    const e1 = mine.reduce((s, t) => s + energy(tracks[1], t), 0);
    return e0 / (e0 + e1);
  };
  const a = shareOnFirst('a');
  const b = shareOnFirst('b');
  // One person mostly on the first speaker track, the other mostly on the second.
  expect(Math.max(a, b), `share of A on track 1: ${a}, of B: ${b}`).toBeGreaterThan(0.8);
  expect(Math.min(a, b), `share of A on track 1: ${a}, of B: ${b}`).toBeLessThan(0.2);
});

test('the associate stage can be turned off, and the run says so', async ({ page }) => {
  await page.goto('/');
  await page.getByText('Settings').click();
  await page.getByTestId('associate-setting').press('Space');
  await expect(page.getByTestId('associate-setting')).not.toBeChecked();
  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await separateAndWait(page);
  await expect(page.getByTestId('associate')).toHaveText('as the separator put them (associate stage off)');
});
