/** 16-bit PCM WAV: what every editor, player and court system opens. */

/** Bytes before the first sample in every WAV this app writes (RIFF + fmt + data headers). */
export const WAV_HEADER_BYTES = 44;

/** Largest data size a RIFF header can describe (its sizes are 32-bit). */
export const WAV_MAX_DATA_BYTES = 0xffffffff - 36;

/**
 * The 44-byte header of a mono 16-bit PCM WAV holding `frames` samples. A file
 * written while its length is unknown gets this with frames = 0 first and the
 * real header patched in at the end.
 */
export function wavHeader16(sampleRate: number, frames: number): Uint8Array<ArrayBuffer> {
  const dataBytes = frames * 2;
  if (!Number.isInteger(frames) || frames < 0 || dataBytes > WAV_MAX_DATA_BYTES) throw new RangeError(`A WAV file cannot hold ${frames} frames`);
  const out = new Uint8Array(WAV_HEADER_BYTES);
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
  return out;
}

/**
 * Float samples → little-endian 16-bit PCM bytes (2 per sample), into `out` at
 * byte `at` when given. NaN becomes silence, not full scale; out-of-range values clip.
 */
export function floatToPcm16(samples: Float32Array, out?: Uint8Array, at = 0): Uint8Array<ArrayBuffer> {
  const dst = (out ?? new Uint8Array(samples.length * 2)) as Uint8Array<ArrayBuffer>;
  const offset = dst.byteOffset + at;
  const n = samples.length;
  if (LITTLE_ENDIAN && offset % 2 === 0) {
    // Every browser in practice: write native int16s (3–4× faster than DataView calls).
    const pcm = new Int16Array(dst.buffer, offset, n);
    for (let i = 0; i < n; i++) pcm[i] = quantise(samples[i]);
  } else {
    const v = new DataView(dst.buffer, offset, n * 2);
    for (let i = 0; i < n; i++) v.setInt16(i * 2, quantise(samples[i]), true);
  }
  return dst;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function quantise(x: number): number {
  const c = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
  return c < 0 ? Math.round(c * 0x8000) : Math.round(c * 0x7fff);
}

/** Little-endian 16-bit PCM bytes (an even number) → float samples in [-1, 1). */
export function pcm16ToFloat(bytes: Uint8Array, out?: Float32Array): Float32Array {
  const n = bytes.length >> 1;
  const dst = out ?? new Float32Array(n);
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) dst[i] = pcm[i] / 0x8000;
  } else {
    const v = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
    for (let i = 0; i < n; i++) dst[i] = v.getInt16(i * 2, true) / 0x8000;
  }
  return dst;
}

export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(WAV_HEADER_BYTES + samples.length * 2);
  out.set(wavHeader16(sampleRate, samples.length));
  floatToPcm16(samples, out, WAV_HEADER_BYTES);
  return out;
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  frames: number;
}

/** Where the samples of a PCM WAV start and how many bytes they take. */
export interface WavLayout extends WavInfo {
  dataOffset: number;
  dataBytes: number;
}

/**
 * Reads the header of a PCM WAV (tests, exports and the bring-your-own checks
 * use it). `totalBytes` is the whole file's size when `bytes` is only its
 * beginning (a streamed file); otherwise the data chunk must fit in `bytes`.
 */
export function readWavLayout(bytes: Uint8Array, totalBytes = bytes.length): WavLayout {
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
      if (at + 8 + size > totalBytes) throw new Error('Truncated data chunk');
      return { ...fmt, frames: size / (fmt.channels * (fmt.bitsPerSample / 8)), dataOffset: at + 8, dataBytes: size };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('No data chunk');
}

export function readWavInfo(bytes: Uint8Array): WavInfo {
  const { sampleRate, channels, bitsPerSample, frames } = readWavLayout(bytes);
  return { sampleRate, channels, bitsPerSample, frames };
}
