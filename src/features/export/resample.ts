/**
 * 16 kHz → the original rate, with the browser's own resampler
 * (OfflineAudioContext) rather than a hand-written filter.
 */
export async function resample(samples: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate || samples.length === 0) return samples;
  const frames = Math.round((samples.length * toRate) / fromRate);
  const ctx = new OfflineAudioContext(1, frames, toRate);
  const buffer = ctx.createBuffer(1, samples.length, fromRate);
  buffer.copyToChannel(samples as Float32Array<ArrayBuffer>, 0);
  const src = ctx.createBufferSource();
  src.buffer = buffer;
  src.connect(ctx.destination);
  src.start();
  const rendered = await ctx.startRendering();
  return rendered.getChannelData(0);
}
