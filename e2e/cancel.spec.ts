import { expect, expectFacts, openFile, separateAndWait, test } from './support/test';
import { fixture } from './support/media-fixtures';

test('cancel mid-separation, then separate another file', async ({ page }) => {
  await page.goto('/');
  await openFile(page, fixture('long.wav'));
  await expectFacts(page);
  await page.getByTestId('separate').click();
  const separateRow = page.locator('[data-stage="separate"] progress');
  await expect.poll(async () => Number(await separateRow.getAttribute('value')), { timeout: 3 * 60_000, intervals: [100] }).toBeGreaterThan(0);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('cancelled')).toBeVisible({ timeout: 5_000 });
  await expect(page.getByTestId('progress')).toHaveCount(0);

  // Cancel from the button too, during decode this time.
  await page.getByTestId('separate').click();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('cancelled')).toBeVisible({ timeout: 5_000 });

  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await separateAndWait(page);
  await expect(page.getByTestId('track').first()).toBeVisible();
});
