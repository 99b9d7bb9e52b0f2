import { describe, expect, it } from 'vitest';
import { MemorySink } from './memory-sink';
import type { SourceSpec } from '../../features/model/manifest';

const sources: SourceSpec[] = [
  { index: 0, id: 'a', kind: 'speaker', label: 'A' },
  { index: 1, id: 'b', kind: 'background', label: 'B' },
];

describe('MemorySink', () => {
  it('places blocks at their offsets and trims to the total', () => {
    const sink = new MemorySink(sources, 4);
    sink.write({ start: 0, sources: [Float32Array.of(1, 2, 3), Float32Array.of(-1, -2, -3)] });
    sink.write({ start: 3, sources: [Float32Array.of(4, 5, 6), Float32Array.of(-4, -5, -6)] });
    const tracks = sink.close(6);
    expect(Array.from(tracks[0].samples)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(tracks[1].samples)).toEqual([-1, -2, -3, -4, -5, -6]);
    expect(tracks[1].source.id).toBe('b');
  });

  it('refuses to close with missing samples', () => {
    const sink = new MemorySink(sources, 10);
    sink.write({ start: 0, sources: [new Float32Array(5), new Float32Array(5)] });
    expect(() => sink.close(10)).toThrow(/5 of 10/);
  });

  it('refuses blocks with the wrong number of sources', () => {
    const sink = new MemorySink(sources, 10);
    expect(() => sink.write({ start: 0, sources: [new Float32Array(5)] })).toThrow(/expected 2/);
  });
});
