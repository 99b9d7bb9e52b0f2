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
 * Which ffmpeg core runs. "auto" is the single-threaded core (faster for audio
 * and lighter, see the decode worker); "mt" needs SharedArrayBuffer, i.e. a
 * cross-origin isolated page, and is fetched only when asked for.
 */
export type CoreChoice = 'auto' | 'mt' | 'st';

export interface DecodeClientOptions {
  core?: CoreChoice;
}

export interface DecodeEngineInfo {
  core: 'mt' | 'st';
  /** A remark on the core that runs, if any. */
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
 * Seconds of audio per segment: each is one ffmpeg command reading the file in
 * place and one resampling its window (segments.ts). Longer segments spend
 * less on each command's start-up (opening the file, reading an MP4's index),
 * shorter ones hold less audio at a time. Chosen by measurement (see the
 * decode notes in the commit that set it).
 */
export const SEGMENT_SECONDS = 60;

/**
 * ffmpeg.wasm 0.12 leaks a little of its wasm stack with every command (exit()
 * unwinds by throwing; the stack pointer is never restored) and its 64 KiB
 * stack overflows after ~120-160 commands ("memory access out of bounds";
 * ffmpegwasm/ffmpeg.wasm#820, #563). The engine loads a fresh core after this many.
 */
export const COMMANDS_PER_CORE = 40;

/**
 * Guards, not estimates: ffmpeg.wasm decodes audio many times faster than
 * real time, so these only fire when something is stuck. A segment's command
 * reads its part of the file, but some containers can only seek by reading
 * from the start (MP3 without an index, Matroska without cues): the guard
 * allows for reading the whole file, at a pace far below WORKERFS's.
 */
export function segmentTimeoutMs(sizeBytes: number, seconds: number): number {
  return 60_000 + (sizeBytes / (10 * MiB)) * 1000 + seconds * 500;
}

/** Resampling a window of native samples held in MEMFS. */
export function resampleTimeoutMs(seconds: number): number {
  return 30_000 + seconds * 500;
}
