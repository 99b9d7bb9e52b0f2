/**
 * OpfsSink against a stand-in storage worker (node has no OPFS; the e2e suite
 * runs the real one): what it sends, in which units, and that it lets go of
 * the job's lock and files exactly once.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceSpec } from '../../features/model/manifest';
import { pcm16ToFloat } from '../../features/export/wav';

const calls: { op: string; args: unknown[] }[] = [];
const released = vi.fn();
const fake = {
  open: async (...args: unknown[]) => void calls.push({ op: 'open', args }),
  write: async (...args: unknown[]) => void calls.push({ op: 'write', args }),
  close: async (...args: unknown[]) => {
    calls.push({ op: 'close', args });
    return [new File(['a'], '0.wav'), new File(['b'], '1.wav')];
  },
  remove: async (...args: unknown[]) => void calls.push({ op: 'remove', args }),
};

vi.mock('../../features/storage/client', () => ({
  newJobId: () => 'job-1',
  holdJobLock: async () => released,
  storageCall: (_: string, f: (a: typeof fake) => Promise<unknown>) => f(fake),
}));

const { OpfsSink } = await import('./opfs-sink');

const sources: SourceSpec[] = [
  { index: 0, id: 's1', kind: 'speaker', label: 'Speaker 1' },
  { index: 1, id: 'bg', kind: 'background', label: 'Background' },
];

describe('OpfsSink', () => {
  beforeEach(() => {
    calls.length = 0;
    released.mockClear();
  });

  it('opens the job with the bytes it will need, sends 16-bit PCM at frame offsets, and returns the files with peaks', async () => {
    const sink = await OpfsSink.open(sources, 1000);
    expect(calls[0]).toEqual({ op: 'open', args: ['job-1', 2, 16000, 2 * (44 + 2000)] });
    expect(sink.storage).toEqual({ kind: 'opfs', jobId: 'job-1' });
    await sink.write({ start: 0, sources: [Float32Array.of(0.5, -0.5), Float32Array.of(0, 0.25)] });
    await sink.write({ start: 2, sources: [Float32Array.of(1, 0), Float32Array.of(0, 0)] });
    const w = calls.filter((c) => c.op === 'write');
    expect(w.map((c) => c.args[1])).toEqual([0, 2]);
    const pcm = w[0].args[2] as Uint8Array[];
    expect(Array.from(pcm16ToFloat(pcm[0]))).toEqual([0.5, -0.5].map((x) => Math.round(x * (x < 0 ? 0x8000 : 0x7fff)) / 0x8000));
    const tracks = await sink.close(4);
    expect(calls.at(-1)).toEqual({ op: 'close', args: ['job-1', 4] });
    expect(tracks.map((t) => [t.source.id, t.frames, t.sampleRate, (t.wav as File).name])).toEqual([
      ['s1', 4, 16000, '0.wav'],
      ['bg', 4, 16000, '1.wav'],
    ]);
    expect(Array.from(tracks[0].peaks.data)).toEqual([-0.5, 1]);
  });

  it('discard deletes the folder and releases the lock once, however often it is called', async () => {
    const sink = await OpfsSink.open(sources, 10);
    await Promise.all([sink.discard(), sink.discard()]);
    await sink.discard();
    expect(calls.filter((c) => c.op === 'remove')).toEqual([{ op: 'remove', args: ['job-1'] }]);
    expect(released).toHaveBeenCalledTimes(1);
  });

  it('releases the lock when the folder cannot be made', async () => {
    const open = fake.open;
    fake.open = async () => {
      throw new Error('quota');
    };
    try {
      await expect(OpfsSink.open(sources, 10)).rejects.toThrow(/quota/);
      expect(released).toHaveBeenCalledTimes(1);
    } finally {
      fake.open = open;
    }
  });
});
