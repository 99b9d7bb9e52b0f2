/** 16-bit PCM WAV: what every editor, player and court system opens. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array<ArrayBuffer> {
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  for (let i = 0, o = 44; i < samples.length; i++, o += 2) {
    const x = samples[i];
    // NaN must not become full scale; clip instead of wrapping.
    const c = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
    v.setInt16(o, c < 0 ? Math.round(c * 0x8000) : Math.round(c * 0x7fff), true);
  }
  return out;
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  frames: number;
}

/** Reads the header of a PCM WAV (tests and the bring-your-own checks use it). */
export function readWavInfo(bytes: Uint8Array): WavInfo {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('Not a RIFF/WAVE file');
  let at = 12;
  let fmt: Omit<WavInfo, 'frames'> | undefined;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    if (id === 'fmt ') {
      fmt = { channels: v.getUint16(at + 10, true), sampleRate: v.getUint32(at + 12, true), bitsPerSample: v.getUint16(at + 22, true) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data chunk before fmt chunk');
      if (at + 8 + size > bytes.length) throw new Error('Truncated data chunk');
      return { ...fmt, frames: size / (fmt.channels * (fmt.bitsPerSample / 8)) };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('No data chunk');
}
