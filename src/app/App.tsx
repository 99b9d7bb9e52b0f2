import { useEffect } from 'react';
import { RUNNING_PHASES, useJob } from '../store/job';
import { cancel, separate } from '../pipeline/run-job';
import { DropZone } from './DropZone';
import { FileFacts } from './FileFacts';
import { JobProgress } from './JobProgress';
import { ErrorPanel } from './ErrorPanel';
import { Results } from './Results';
import { RunInfo } from './RunInfo';
import { SettingsPanel } from './SettingsPanel';
import { OfflineBadge } from './OfflineBadge';
import { sweepStaleJobs } from '../features/storage/client';

export function App() {
  const { phase, facts, error, tracks, storage, model, stages, file } = useJob();
  const running = RUNNING_PHASES.includes(phase);

  // Job folders left by a tab that closed or crashed mid-job are never resumed: delete them.
  useEffect(() => void sweepStaleJobs(), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && RUNNING_PHASES.includes(useJob.getState().phase)) cancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <header>
        <h1>VoxSplit</h1>
        <p className="tagline">Each voice on its own track, separated on this device. Nothing is uploaded.</p>
        <OfflineBadge />
      </header>
      <main>
        <DropZone disabled={running} />
        <SettingsPanel disabled={running} />
        {phase === 'probing' && (
          <p className="muted" aria-live="polite" data-testid="probing">
            Reading {file?.name}…
          </p>
        )}
        {facts && <FileFacts facts={facts} />}
        {facts && !running && (
          <button type="button" className="primary big" onClick={() => void separate()} data-testid="separate">
            {phase === 'done' ? 'Separate again' : 'Separate'}
          </button>
        )}
        {running && phase !== 'probing' && <JobProgress />}
        {phase === 'cancelled' && (
          <p className="muted" role="status" data-testid="cancelled">
            Cancelled. Press Separate to start again, or choose another file.
          </p>
        )}
        {phase === 'failed' && error && <ErrorPanel error={error} />}
        {phase === 'done' && tracks && storage && facts && <Results tracks={tracks} storage={storage} inputName={facts.fileName} originalRate={facts.sampleRate} />}
        {phase === 'done' && model && <RunInfo model={model} stages={stages} />}
      </main>
      <footer className="muted">
        Runs offline after the first visit. Models are checked against their SHA-256 before use.
      </footer>
    </div>
  );
}
