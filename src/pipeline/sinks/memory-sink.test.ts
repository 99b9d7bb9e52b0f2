import { describe, expect, it } from 'vitest';
import { MemorySink } from './memory-sink';
import type { SourceSpec } from '../../features/model/manifest';
import { pcm16ToFloat, readWavInfo } from '../../features/export/wav';

const sources: SourceSpec[] = [
  { index: 0, id: 'a', kind: 'speaker', label: 'A' },
  { index: 1, id: 'b', kind: 'background', label: 'B' },
];

const samplesOf = async (wav: Blob) => {
  const bytes = new Uint8Array(await wav.arrayBuffer());
  return { info: readWavInfo(bytes), samples: Array.from(pcm16ToFloat(bytes.subarray(44))) };
};

describe('MemorySink', () => {
  it('makes one WAV per source from blocks in order, trimmed to the total, with peaks', async () => {
    const sink = new MemorySink(sources);
    await sink.write({ start: 0, sources: [Float32Array.of(0.5, -0.5, 0.25), Float32Array.of(-0.25, 0, 0)] });
    await sink.write({ start: 3, sources: [Float32Array.of(0.125, 0, 0.75), Float32Array.of(0, 0, 0)] });
    const tracks = await sink.close(5);
    const a = await samplesOf(tracks[0].wav);
    expect(a.info).toEqual({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 5 });
    expect(a.samples.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.5, -0.5, 0.25, 0.125, 0]);
    expect(tracks[1].source.id).toBe('b');
    expect(tracks[0].frames).toBe(5);
    expect(Array.from(tracks[0].peaks.data)).toEqual([-0.5, 0.75]);
    expect(sink.storage).toEqual({ kind: 'memory', jobId: null, note: undefined });
  });

  it('refuses to close with missing samples', async () => {
    const sink = new MemorySink(sources);
    await sink.write({ start: 0, sources: [new Float32Array(5), new Float32Array(5)] });
    await expect(sink.close(10)).rejects.toThrow(/5 of 10/);
  });

  it('refuses blocks with the wrong number of sources, or out of order', async () => {
    const sink = new MemorySink(sources);
    await expect(sink.write({ start: 0, sources: [new Float32Array(5)] })).rejects.toThrow(/expected 2/);
    await expect(sink.write({ start: 7, sources: [new Float32Array(5), new Float32Array(5)] })).rejects.toThrow(/expected 0/);
  });
});
