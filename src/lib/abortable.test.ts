import { describe, expect, it } from 'vitest';
import { abortable } from './abortable';

describe('abortable', () => {
  it('passes results through', async () => {
    await expect(abortable(Promise.resolve(3), new AbortController().signal)).resolves.toBe(3);
  });
  it('rejects a promise that never settles once aborted', async () => {
    const c = new AbortController();
    const p = abortable(new Promise(() => {}), c.signal);
    c.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });
  it('rejects at once when already aborted', async () => {
    const c = new AbortController();
    c.abort();
    await expect(abortable(Promise.resolve(1), c.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });
});
