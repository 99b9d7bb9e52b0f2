/**
 * The job, stage by stage: probe → decode → separate → finish. Each stage is a
 * thin call into its feature; this file only orders them, wires progress into
 * the store and makes cancel instant (by terminating the workers).
 */
import { createDecodeClient, type DecodeClient } from '../features/decode/client';
import { createSeparateClient, type SeparateClient } from '../features/separate/client';
import { abortable } from '../lib/abortable';
import { toVoxError, VoxError } from '../lib/errors';
import { MODEL_SAMPLE_RATE } from '../lib/limits';
import { useJob } from '../store/job';
import { useSettings } from '../store/settings';
import { probeStage } from './probe';
import { MemorySink } from './sinks/memory-sink';
import type { MediaFacts } from './types';

let decoder: DecodeClient | undefined;
let active: { controller: AbortController; dispose: () => void } | undefined;

/** ffmpeg's worker is kept between jobs (its wasm takes a while to compile) unless a cancel killed it. */
function decodeClient(): DecodeClient {
  decoder ??= createDecodeClient();
  return decoder;
}

function begin(extraDispose: () => void = () => {}): AbortController {
  cancelActive();
  const controller = new AbortController();
  active = {
    controller,
    dispose: () => {
      decoder?.dispose();
      decoder = undefined;
      extraDispose();
    },
  };
  return controller;
}

function cancelActive(): boolean {
  if (!active) return false;
  const a = active;
  active = undefined;
  a.controller.abort();
  a.dispose();
  return true;
}

function end(controller: AbortController): void {
  if (active?.controller === controller) active = undefined;
}

/** Called when a file is dropped or picked. */
export async function openFile(file: File): Promise<void> {
  const job = useJob.getState();
  const runId = job.setFile(file);
  const controller = begin();
  try {
    const facts = await abortable(probeStage(file, useSettings.getState().limits, decodeClient()), controller.signal);
    useJob.getState().setFacts(runId, facts);
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
  let separator: SeparateClient | undefined = createSeparateClient();
  const controller = begin(() => {
    separator?.dispose();
    separator = undefined;
  });
  const { signal } = controller;
  const store = () => useJob.getState();
  try {
    await runStages(runId, file, facts, separator, signal);
  } catch (e) {
    if (!signal.aborted) store().fail(runId, toVoxError(e, 'separation-failed'));
  } finally {
    separator?.dispose();
    separator = undefined;
    end(controller);
  }
}

async function runStages(runId: number, file: File, facts: MediaFacts, separator: SeparateClient, signal: AbortSignal): Promise<void> {
  const store = () => useJob.getState();
  // The model loads (hash check + session) while ffmpeg decodes.
  const modelReady = abortable(separator.load({ backend: useSettings.getState().backend }), signal);
  modelReady.catch(() => {}); // awaited below; avoids an unhandled rejection if decode fails first

  store().enterStage(runId, 'decode');
  const expected = Math.ceil(facts.durationSec * MODEL_SAMPLE_RATE);
  let sink: MemorySink | undefined;
  let pushed = 0;
  let separateStarted = false;

  const write = (blocks: Awaited<ReturnType<SeparateClient['push']>>) => {
    for (const b of blocks) sink!.write(b);
  };

  const { totalSamples } = await abortable(
    decodeClient().decode(
      file,
      facts,
      async (chunk) => {
        const model = await modelReady;
        if (!sink) {
          store().setModel(runId, model);
          sink = new MemorySink(model.sources, expected);
        }
        if (!separateStarted) {
          separateStarted = true;
          store().progress(runId, 'decode', 1);
          store().enterStage(runId, 'separate');
        }
        pushed += chunk.samples.length;
        write(await abortable(separator.push(chunk), signal));
        store().progress(runId, 'separate', Math.min(0.99, pushed / Math.max(expected, pushed)));
      },
      (fraction) => store().progress(runId, 'decode', fraction),
    ),
    signal,
  );
  if (totalSamples === 0) throw new VoxError('file-no-audio', 'The audio track contains no samples.');
  if (!sink) throw new VoxError('decode-failed', 'The decoder produced no audio.');
  write(await abortable(separator.finish(), signal));
  store().progress(runId, 'separate', 1);

  store().enterStage(runId, 'finish');
  const tracks = sink.close(totalSamples);
  store().finish(runId, tracks);
}

/** Called by Cancel (button or Escape). */
export function cancel(): void {
  if (cancelActive()) useJob.getState().cancel();
}
