/**
 * The job state machine: idle → probing → ready → decoding → separating →
 * finishing → done, or failed / cancelled from any running phase. Every stage
 * reports into it; the UI only reads it.
 */
import { create } from 'zustand';
import type { VoxError } from '../lib/errors';
import type { MediaFacts, StageName } from '../pipeline/types';
import type { ModelInfo } from '../features/separate/client';
import type { SeparatedTrack, TrackStorage } from '../pipeline/sinks/track-sink';

export type JobPhase = 'idle' | 'probing' | 'ready' | 'decoding' | 'separating' | 'finishing' | 'done' | 'failed' | 'cancelled';

export const RUNNING_PHASES: readonly JobPhase[] = ['probing', 'decoding', 'separating', 'finishing'];

export interface StageClock {
  startedAt: number;
  endedAt?: number;
  fraction: number;
}

export interface JobState {
  phase: JobPhase;
  file?: File;
  facts?: MediaFacts;
  error?: VoxError;
  stages: Partial<Record<StageName, StageClock>>;
  model?: ModelInfo;
  tracks?: SeparatedTrack[];
  /** Where the tracks are (OPFS job folder or memory). */
  storage?: TrackStorage;
  /** Increments per started job so late events from a cancelled job are ignored. */
  runId: number;
}

interface JobActions {
  reset(): void;
  setFile(file: File): number;
  setFacts(runId: number, facts: MediaFacts): void;
  startRun(): number;
  enterStage(runId: number, stage: StageName): void;
  progress(runId: number, stage: StageName, fraction: number): void;
  setModel(runId: number, model: ModelInfo): void;
  finish(runId: number, tracks: SeparatedTrack[], storage: TrackStorage): void;
  fail(runId: number, error: VoxError): void;
  cancel(): void;
}

const PHASE_OF_STAGE: Record<StageName, JobPhase> = {
  probe: 'probing',
  decode: 'decoding',
  separate: 'separating',
  finish: 'finishing',
};

const initial: JobState = { phase: 'idle', stages: {}, runId: 0 };

export const useJob = create<JobState & JobActions>()((set, get) => {
  /** Applies an update only if it belongs to the current run. */
  const guarded = (runId: number, update: (s: JobState) => Partial<JobState>) => {
    if (get().runId !== runId) return;
    set((s) => update(s));
  };
  const closeRunningStages = (stages: JobState['stages']): JobState['stages'] => {
    const now = performance.now();
    const out: JobState['stages'] = {};
    for (const [k, v] of Object.entries(stages) as [StageName, StageClock][]) out[k] = v.endedAt ? v : { ...v, endedAt: now };
    return out;
  };

  return {
    ...initial,
    reset: () => set((s) => ({ ...initial, runId: s.runId + 1 })),
    setFile: (file) => {
      const runId = get().runId + 1;
      set({ ...initial, runId, file, phase: 'probing', stages: { probe: { startedAt: performance.now(), fraction: 0 } } });
      return runId;
    },
    setFacts: (runId, facts) =>
      guarded(runId, (s) => ({ facts, phase: 'ready', stages: closeRunningStages(s.stages) })),
    startRun: () => {
      const runId = get().runId + 1;
      set((s) => ({ runId, phase: 'decoding', error: undefined, tracks: undefined, storage: undefined, model: undefined, stages: { probe: s.stages.probe } }));
      return runId;
    },
    enterStage: (runId, stage) =>
      guarded(runId, (s) => ({
        phase: PHASE_OF_STAGE[stage],
        stages: { ...closeRunningStages(s.stages), [stage]: { startedAt: performance.now(), fraction: 0 } },
      })),
    progress: (runId, stage, fraction) =>
      guarded(runId, (s) => {
        const clock = s.stages[stage];
        if (!clock) return {};
        return { stages: { ...s.stages, [stage]: { ...clock, fraction: Math.min(1, Math.max(clock.fraction, fraction)) } } };
      }),
    setModel: (runId, model) => guarded(runId, () => ({ model })),
    finish: (runId, tracks, storage) => guarded(runId, (s) => ({ phase: 'done', tracks, storage, stages: closeRunningStages(s.stages) })),
    fail: (runId, error) => guarded(runId, (s) => ({ phase: 'failed', error, stages: closeRunningStages(s.stages) })),
    cancel: () => set((s) => ({ runId: s.runId + 1, phase: s.facts ? 'cancelled' : 'idle', stages: closeRunningStages(s.stages) })),
  };
});

/** Seconds left in a stage, from its progress rate so far; undefined until it can be estimated. */
export function stageEta(clock: StageClock | undefined, now: number): number | undefined {
  if (!clock || clock.endedAt || clock.fraction <= 0.02) return undefined;
  const elapsed = (now - clock.startedAt) / 1000;
  if (elapsed < 0.5) return undefined;
  return (elapsed * (1 - clock.fraction)) / clock.fraction;
}
