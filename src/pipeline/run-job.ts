/**
 * The job, stage by stage: probe → decode → separate → finish. Each stage is a
 * thin call into its feature; this file only orders them, wires progress into
 * the store and makes cancel instant (by terminating the workers).
 */
import { createDecodeClient, type DecodeClient } from '../features/decode/client';
import { requestedThreads } from '../features/model/backend';
import { createSeparateClient, type SeparateClient } from '../features/separate/client';
import { abortable } from '../lib/abortable';
import { toVoxError, VoxError } from '../lib/errors';
import { MODEL_SAMPLE_RATE } from '../lib/limits';
import { useJob } from '../store/job';
import { useSettings, type BackendSetting } from '../store/settings';
import { probeStage } from './probe';
import { openTrackSink } from './sinks/open';
import type { TrackSink } from './sinks/track-sink';
import { separateStage, type SeparateStage } from './separate';
import type { MediaFacts } from './types';

let decoder: DecodeClient | undefined;
let separator: SeparateClient | undefined;
let active: AbortController | undefined;
/** The sink of the running job, or of the results on screen: its files live until the next job, a new file, cancel or failure. */
let jobSink: TrackSink | undefined;

/** Workers are kept between jobs (wasm takes a while to compile, the model to verify) unless a cancel killed them. */
function decodeClient(): DecodeClient {
  decoder ??= createDecodeClient();
  return decoder;
}

function separateClient(): SeparateClient {
  separator ??= createSeparateClient();
  return separator;
}

/** Deletes the current tracks (their OPFS folder) and frees what they hold. */
function releaseTracks(): void {
  const s = jobSink;
  jobSink = undefined;
  void s?.discard();
}

function begin(): AbortController {
  cancelActive();
  releaseTracks();
  active = new AbortController();
  return active;
}

function cancelActive(): boolean {
  if (!active) return false;
  active.abort();
  active = undefined;
  releaseTracks();
  // Terminating is the only way to stop wasm mid-call, and it frees its memory at once.
  decoder?.dispose();
  decoder = undefined;
  separator?.dispose();
  separator = undefined;
  return true;
}

function end(controller: AbortController): void {
  if (active === controller) active = undefined;
}

/** The separator's backend, thread count and associate stage as the user set them (no count: the worker decides). */
function modelLoadOptions(): { backend: BackendSetting; threads?: number; associate: boolean } {
  const { backend, threads, associate } = useSettings.getState();
  const n = requestedThreads(threads);
  return n === undefined ? { backend, associate } : { backend, threads: n, associate };
}

/** Called when a file is dropped or picked. */
export async function openFile(file: File): Promise<void> {
  const job = useJob.getState();
  const runId = job.setFile(file);
  const controller = begin();
  try {
    const facts = await abortable(probeStage(file, useSettings.getState().limits, decodeClient()), controller.signal);
    useJob.getState().setFacts(runId, facts);
    // Verify the model and start its session while the user reads the facts: Separate then starts at once.
    // A failure here is not shown; Separate loads again and reports it.
    separateClient()
      .load(modelLoadOptions())
      .catch(() => {});
  } catch (e) {
    if (!controller.signal.aborted) useJob.getState().fail(runId, toVoxError(e, 'decode-failed'));
  } finally {
    end(controller);
  }
}

/** Called by the Separate button. */
export async function separate(): Promise<void> {
  const { file, facts } = useJob.getState();
  if (!file || !facts) return;
  const runId = useJob.getState().startRun();
  const controller = begin();
  try {
    await runStages(runId, file, facts, controller.signal);
  } catch (e) {
    if (!controller.signal.aborted) {
      // A job that failed halfway leaves the separator mid-stream: start the next one clean.
      separator?.dispose();
      separator = undefined;
      releaseTracks();
      useJob.getState().fail(runId, toVoxError(e, 'separation-failed'));
    }
  } finally {
    end(controller);
  }
}

async function runStages(runId: number, file: File, facts: MediaFacts, signal: AbortSignal): Promise<void> {
  const store = () => useJob.getState();
  const separator = separateClient();
  // The model loads (hash check + session) while ffmpeg decodes.
  const modelReady = abortable(separator.load(modelLoadOptions()), signal);
  modelReady.catch(() => {}); // awaited below; avoids an unhandled rejection if decode fails first

  store().enterStage(runId, 'decode');
  const expected = Math.ceil(facts.durationSec * MODEL_SAMPLE_RATE);
  let sink: TrackSink | undefined;
  let stage: SeparateStage | undefined;

  const startSeparating = async (): Promise<SeparateStage> => {
    const model = await modelReady;
    store().setModel(runId, model);
    store().progress(runId, 'decode', 1);
    store().enterStage(runId, 'separate');
    const s = await openTrackSink(model.sources, expected);
    if (signal.aborted) {
      // Cancelled while the files were being made: nobody else will delete them.
      void s.discard();
      throw new VoxError('cancelled');
    }
    sink = jobSink = s;
    return separateStage({
      client: separator,
      totalSamples: expected,
      sink: (block) => s.write(block),
      onProgress: (p) => store().progress(runId, 'separate', p.fraction),
      signal,
    });
  };

  // A failure inside the chunk callback (model refused, separation failed) reaches
  // us through the decode worker, which only knows it as "decode failed": keep the original.
  let downstreamError: unknown;
  const decoding = decodeClient().decode(
    file,
    facts,
    async (chunk) => {
      try {
        stage ??= await startSeparating();
        await stage.push(chunk);
      } catch (e) {
        downstreamError ??= e;
        throw e;
      }
    },
    (fraction) => store().progress(runId, 'decode', fraction),
  );
  const { totalSamples } = await abortable(decoding, signal).catch((e: unknown) => {
    throw downstreamError ?? e;
  });
  if (!stage || !sink || totalSamples === 0) throw new VoxError('file-no-audio', 'The audio track contains no samples.');
  await stage.finish();

  store().enterStage(runId, 'finish');
  store().finish(runId, await sink.close(totalSamples), sink.storage);
}

/** Called by Cancel (button or Escape). */
export function cancel(): void {
  if (cancelActive()) useJob.getState().cancel();
}
