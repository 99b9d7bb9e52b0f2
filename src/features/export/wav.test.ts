import { describe, expect, it } from 'vitest';
import { encodeWav16, floatToPcm16, pcm16ToFloat, readWavInfo, readWavLayout, WAV_HEADER_BYTES, wavHeader16 } from './wav';

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

  it('a file written with a placeholder header reads as empty, and as the full track once patched', () => {
    // What the OPFS writer does: header for 0 frames, blocks written at their offsets, header patched at close.
    const x = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i / 9) * 0.7);
    const file = new Uint8Array(WAV_HEADER_BYTES + 4000 * 2); // over-allocated, as a file still being written
    file.set(wavHeader16(16000, 0));
    floatToPcm16(x.subarray(1000), file, WAV_HEADER_BYTES + 1000 * 2); // a later block first
    expect(readWavInfo(file).frames).toBe(0);
    floatToPcm16(x.subarray(0, 1000), file, WAV_HEADER_BYTES);
    const closed = file.slice(0, WAV_HEADER_BYTES + x.length * 2); // truncate to the total
    closed.set(wavHeader16(16000, x.length));
    expect(closed).toEqual(encodeWav16(x, 16000));
    expect(readWavLayout(closed)).toMatchObject({ frames: 3000, dataOffset: 44, dataBytes: 6000 });
  });

  it('reads the layout of a streamed file from its first bytes and the total size', () => {
    const wav = encodeWav16(new Float32Array(100), 16000);
    expect(readWavLayout(wav.subarray(0, 64), wav.length)).toMatchObject({ frames: 100, dataOffset: 44 });
    expect(() => readWavLayout(wav.subarray(0, 64), wav.length - 2)).toThrow(/Truncated/);
  });

  it('refuses headers no RIFF file can hold', () => {
    expect(() => wavHeader16(16000, 2 ** 31)).toThrow(RangeError);
    expect(() => wavHeader16(16000, 1.5)).toThrow(RangeError);
  });

  it('converts 16-bit PCM back to float', () => {
    expect(Array.from(pcm16ToFloat(floatToPcm16(Float32Array.of(0, -1, 0.5))))).toEqual([0, -1, 16384 / 32768]);
  });
});
