import { expect, expectError, expectFacts, openFile, separateAndWait, test } from './support/test';
import { fixture } from './support/media-fixtures';

const BAD: [file: string, code: string][] = [
  ['random-bytes.mp4', 'file-not-media'],
  ['empty.mp4', 'file-empty'],
  ['truncated.mp4', 'file-truncated'],
  ['notes.txt', 'file-not-media'],
  ['no-audio.mp4', 'file-no-audio'],
];

test('each bad input gets its own message, and a good file still works afterwards', async ({ page }) => {
  await page.goto('/');
  for (const [file, code] of BAD) {
    await openFile(page, fixture(file));
    await expectError(page, code);
    // The message says what to do, not just that it failed.
    await expect(page.getByTestId('error').locator('p').last()).not.toBeEmpty();
    await expect(page.getByTestId('separate')).toHaveCount(0);
  }
  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await separateAndWait(page);
});
