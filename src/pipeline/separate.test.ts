import { describe, expect, it } from 'vitest';
import { ChunkedSeparator } from '../features/separate/chunking';
import { separateAll, separateStage } from './separate';
import type { PcmChunk, SeparatedBlock, StageProgress } from './types';

function fakeClient() {
  const sep = new ChunkedSeparator(async (w) => [w.map((x) => x / 2), w.map((x) => -x)], { chunkSeconds: 1, overlapSeconds: 0.2, sampleRate: 100 });
  return { push: (c: PcmChunk) => sep.push(c.samples), finish: () => sep.finish() };
}

function* chunks(total: number, size: number): Iterable<PcmChunk> {
  for (let start = 0; start < total; start += size) {
    yield { start, samples: Float32Array.from({ length: Math.min(size, total - start) }, (_, i) => Math.sin(start + i)) };
  }
}

describe('separate stage', () => {
  it('hands every block to the sink in order and reports monotone progress ending at 1', async () => {
    const blocks: SeparatedBlock[] = [];
    const progress: StageProgress[] = [];
    const n = await separateAll(chunks(1234, 97), {
      client: fakeClient(),
      totalSamples: 1234,
      sink: (b) => void blocks.push(b),
      onProgress: (p) => progress.push(p),
    });
    expect(n).toBe(1234);
    let at = 0;
    for (const b of blocks) {
      expect(b.start).toBe(at);
      at += b.sources[0].length;
    }
    expect(at).toBe(1234);
    const f = progress.map((p) => p.fraction);
    expect(progress.every((p) => p.stage === 'separate')).toBe(true);
    for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThanOrEqual(f[i - 1]);
    expect(f.at(-1)).toBe(1);
    expect(Math.max(...f.slice(0, -1))).toBeLessThan(1);
  });

  it('rejects with cancelled when the signal aborts', async () => {
    const controller = new AbortController();
    const stage = separateStage({
      client: { push: () => new Promise(() => {}), finish: async () => [] },
      totalSamples: 10,
      sink: () => {},
      signal: controller.signal,
    });
    const p = stage.push({ start: 0, samples: new Float32Array(10) });
    controller.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('fails if the output does not cover the input', async () => {
    const stage = separateStage({ client: { push: async () => [], finish: async () => [] }, totalSamples: 10, sink: () => {} });
    await stage.push({ start: 0, samples: new Float32Array(10) });
    await expect(stage.finish()).rejects.toMatchObject({ code: 'separation-failed' });
  });
});
