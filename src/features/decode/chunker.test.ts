import { describe, expect, it } from 'vitest';
import { Chunker } from './chunker';
import { CHUNK_SAMPLES } from './shared';

const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);

function collect(runs: number[], size: number) {
  const c = new Chunker(size);
  const chunks = [];
  let at = 0;
  for (const n of runs) {
    chunks.push(...c.push(ramp(at, n)));
    at += n;
  }
  chunks.push(...c.flush());
  return { chunks, total: at, emitted: c.emitted };
}

describe('Chunker', () => {
  it('defaults to 10 s at 16 kHz', () => {
    expect(CHUNK_SAMPLES).toBe(160_000);
  });

  it('cuts one long run into full chunks and a shorter last one', () => {
    const { chunks, emitted } = collect([25], 10);
    expect(chunks.map((c) => [c.start, c.samples.length])).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
    expect(emitted).toBe(25);
  });

  it('joins runs of any length, keeping every sample once and in order', () => {
    const { chunks, total } = collect([3, 7, 1, 14, 10, 2, 0, 9], 10);
    const all = chunks.flatMap((c) => Array.from(c.samples));
    expect(all).toEqual(Array.from(ramp(0, total)));
    for (const c of chunks) expect(c.samples[0]).toBe(c.start);
    expect(chunks.slice(0, -1).every((c) => c.samples.length === 10)).toBe(true);
  });

  it('gives each chunk its own buffer (transferable without detaching the input)', () => {
    const input = ramp(0, 30);
    const chunks = new Chunker(10).push(input);
    const buffers = new Set(chunks.map((c) => c.samples.buffer));
    expect(buffers.size).toBe(3);
    expect(buffers.has(input.buffer)).toBe(false);
    for (const c of chunks) expect(c.samples.byteOffset).toBe(0);
    expect(chunks[0].samples.buffer.byteLength).toBe(40);
  });

  it('emits nothing for nothing', () => {
    const c = new Chunker(10);
    expect(c.push(new Float32Array(0))).toEqual([]);
    expect(c.flush()).toEqual([]);
  });
});
