import { describe, expect, it } from 'vitest';
import { trackFileName } from './names';

describe('trackFileName', () => {
  it('replaces the extension and appends the label', () => {
    expect(trackFileName('interview.final.mp4', 'Speaker 1')).toBe('interview.final - Speaker 1.wav');
  });
  it('removes characters that are illegal in file names', () => {
    expect(trackFileName('a/b:c?.mov', 'Back*ground', 'zip')).toBe('a_b_c_ - Back_ground.zip');
  });
});
