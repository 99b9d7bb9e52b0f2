/**
 * What the decode worker and its client both know: the worker's API, the
 * output format, and the time budgets that keep a bad file from hanging.
 */
import type { Limits } from '../../lib/limits';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';
import type { MediaFacts, PcmChunk } from '../../pipeline/types';

/** Decoded audio is mono float32 at the models' rate. */
export const DECODE_SAMPLE_RATE = MODEL_SAMPLE_RATE;
/** PcmChunks handed to the next stage hold this many seconds (the last one may be shorter). */
export const CHUNK_SECONDS = 10;
export const CHUNK_SAMPLES = CHUNK_SECONDS * DECODE_SAMPLE_RATE;

/**
 * Which ffmpeg core runs: the multithreaded one needs SharedArrayBuffer, i.e.
 * a cross-origin isolated page; "auto" picks it when it can and falls back to
 * the single-threaded one if it cannot load.
 */
export type CoreChoice = 'auto' | 'mt' | 'st';

export interface DecodeClientOptions {
  core?: CoreChoice;
}

export interface DecodeEngineInfo {
  core: 'mt' | 'st';
  /** Why "auto" did not get the multithreaded core, when it did not. */
  note?: string;
  /** Time to load and compile the core, in ms. */
  loadMs: number;
}

/** The comlink-exposed worker. Callbacks arrive as Comlink proxies. */
export interface DecodeWorkerApi {
  configure(options: DecodeClientOptions): void;
  engine(): Promise<DecodeEngineInfo>;
  probe(file: File, container: string, limits: Limits): Promise<MediaFacts>;
  decode(
    file: File,
    facts: MediaFacts,
    onChunk: (c: PcmChunk) => void | Promise<void>,
    onProgress: (fraction: number) => void,
  ): Promise<{ totalSamples: number }>;
}

const MiB = 1024 * 1024;

/** Loading the core: fetch + compile ~32 MB of wasm (and 32 pthread workers for core-mt). */
export const LOAD_TIMEOUT_MS = 120_000;

/** ffprobe reads headers; a file without a duration in its header is also scanned once (demux only). */
export function probeTimeoutMs(sizeBytes: number): number {
  return 30_000 + (sizeBytes / (5 * MiB)) * 1000;
}

/**
 * A guard, not an estimate: ffmpeg.wasm decodes audio many times faster than
 * real time, so this only fires when something is stuck. It grows with the
 * bytes to read (video streams are demuxed and dropped) and with the audio to decode.
 */
export function decodeTimeoutMs(sizeBytes: number, durationSec: number): number {
  const dur = Number.isFinite(durationSec) && durationSec > 0 ? durationSec : 0;
  return 60_000 + (sizeBytes / MiB) * 1000 + dur * 500;
}
