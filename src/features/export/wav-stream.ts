/**
 * A track's WAV file at another sample rate, produced as a stream: the
 * 16 kHz WAV (a disk-backed Blob) is read a slice at a time, resampled with
 * its filter state carried across slices, and written out as it goes. The
 * output length is known before the first sample (the duration is kept), so
 * the header is right from the start and nothing needs patching.
 */
import { resampledLength, StreamResampler } from './resample';
import { floatToPcm16, pcm16ToFloat, readWavLayout, WAV_MAX_DATA_BYTES, wavHeader16, type WavLayout } from './wav';

/** 1 MiB of 16-bit samples per read: about 33 s at 16 kHz. */
export const SLICE_BYTES = 1 << 20;

/** Reads and checks the header of a mono 16-bit WAV Blob (what the sinks write). */
export async function wavLayoutOf(src: Blob): Promise<WavLayout> {
  const head = new Uint8Array(await src.slice(0, Math.min(src.size, 4096)).arrayBuffer());
  const layout = readWavLayout(head, src.size);
  if (layout.channels !== 1 || layout.bitsPerSample !== 16) throw new Error(`Expected mono 16-bit PCM, got ${layout.channels} channels of ${layout.bitsPerSample} bits`);
  return layout;
}

/** Size in bytes of the WAV that wavAtRate() will produce. */
export function wavBytesAtRate(layout: WavLayout, toRate: number): number {
  return 44 + resampledLength(layout.frames, layout.sampleRate, toRate) * 2;
}

/**
 * Yields the bytes of `src` (a mono 16-bit WAV) converted to `toRate`: the
 * header, then PCM. Resampled chunks are views of one reused buffer, valid
 * until the next one is asked for: write them out (or copy them) at once.
 */
export async function* wavAtRate(src: Blob, toRate: number, sliceBytes = SLICE_BYTES): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const layout = await wavLayoutOf(src);
  const frames = resampledLength(layout.frames, layout.sampleRate, toRate);
  if (frames * 2 > WAV_MAX_DATA_BYTES) throw new RangeError(`${frames} frames at ${toRate} Hz do not fit in a WAV file`);
  yield wavHeader16(toRate, frames);
  const end = layout.dataOffset + layout.dataBytes;
  const step = sliceBytes - (sliceBytes % 2);
  if (toRate === layout.sampleRate) {
    for (let at = layout.dataOffset; at < end; at += step) yield new Uint8Array(await src.slice(at, Math.min(end, at + step)).arrayBuffer());
    return;
  }
  const r = new StreamResampler(layout.sampleRate, toRate);
  let made = 0;
  const scratch = new Float32Array(step / 2);
  let pcm = new Uint8Array(0);
  const encode = (y: Float32Array) => {
    if (pcm.length < y.length * 2) pcm = new Uint8Array(y.length * 2);
    made += y.length;
    return floatToPcm16(y, pcm).subarray(0, y.length * 2);
  };
  for (let at = layout.dataOffset; at < end; at += step) {
    const bytes = new Uint8Array(await src.slice(at, Math.min(end, at + step)).arrayBuffer());
    const y = r.push(pcm16ToFloat(bytes, scratch.subarray(0, bytes.length >> 1)));
    if (y.length) yield encode(y);
  }
  const tail = r.flush();
  if (tail.length) yield encode(tail);
  if (made !== frames) throw new Error(`Resampling made ${made} frames, expected ${frames}`);
}
