import { describe, expect, it } from 'vitest';
import { encodeWav16, readWavInfo } from './wav';

describe('encodeWav16', () => {
  it('writes a valid mono 16-bit header and the right number of frames', () => {
    const wav = encodeWav16(new Float32Array(1600), 16000);
    expect(wav.length).toBe(44 + 3200);
    expect(readWavInfo(wav)).toEqual({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 1600 });
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe('RIFF');
  });

  it('quantises, clips out-of-range values and silences NaN', () => {
    const wav = encodeWav16(Float32Array.of(0, 0.5, -0.5, 1, -1, 2, -2, Number.NaN), 8000);
    const pcm = new Int16Array(wav.buffer.slice(44));
    expect(Array.from(pcm)).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 0]);
  });

  it('round-trips samples within one quantisation step', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 0.9);
    const pcm = new Int16Array(encodeWav16(x, 16000).buffer.slice(44));
    pcm.forEach((q, i) => expect(Math.abs(q / 32768 - x[i])).toBeLessThan(1 / 16384));
  });

  it('rejects what is not a WAV', () => {
    expect(() => readWavInfo(new TextEncoder().encode('hello world, not a wav'))).toThrow(/RIFF/);
  });
});
