import type { ModelInfo } from '../features/separate/client';
import type { JobState } from '../store/job';
import type { StageName } from '../pipeline/types';

const ORDER: StageName[] = ['probe', 'decode', 'separate', 'finish'];

export function RunInfo({ model, stages }: { model: ModelInfo; stages: JobState['stages'] }) {
  return (
    <section className="run-info" data-testid="run-info">
      <h2>How it ran</h2>
      <dl className="facts">
        <dt>Backend</dt>
        <dd data-testid="backend">
          {model.backend === 'webgpu' ? `WebGPU${model.adapter ? ` (${model.adapter})` : ''}` : `WebAssembly, ${model.threads} thread${model.threads === 1 ? '' : 's'}`}
        </dd>
        <dt>Model</dt>
        <dd>
          {model.name} <span className="muted">({model.id} v{model.version})</span>
        </dd>
        <dt>Verified SHA-256</dt>
        <dd className="hash" data-testid="model-hash">
          {model.sha256}
        </dd>
        <dt>Voices across turns</dt>
        <dd data-testid="associate">
          {model.voiceprintSha256 ? (
            <>
              kept on their own tracks by voiceprint <span className="hash">{model.voiceprintSha256}</span>
            </>
          ) : (
            'as the separator put them (associate stage off)'
          )}
        </dd>
        <dt>Verification</dt>
        <dd>
          {model.verifyMs.toFixed(0)} ms hash check, {model.sessionMs.toFixed(0)} ms session start
        </dd>
        <dt>Timings</dt>
        <dd data-testid="timings">
          {ORDER.filter((s) => stages[s]?.endedAt)
            .map((s) => `${s} ${((stages[s]!.endedAt! - stages[s]!.startedAt) / 1000).toFixed(2)} s`)
            .join(' · ')}
        </dd>
      </dl>
    </section>
  );
}
