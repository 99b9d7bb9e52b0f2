import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { zipFiles } from './zip';

describe('zipFiles', () => {
  it('stores every file byte for byte', async () => {
    const a = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    const b = new TextEncoder().encode('second');
    const out = unzipSync(await zipFiles({ 'a.wav': a, 'b.wav': b }));
    expect(Object.keys(out).sort()).toEqual(['a.wav', 'b.wav']);
    expect(out['a.wav']).toEqual(a);
    expect(out['b.wav']).toEqual(b);
  });
});
