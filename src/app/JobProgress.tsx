import { useEffect, useState } from 'react';
import { stageEta, useJob, type JobState } from '../store/job';
import type { StageName } from '../pipeline/types';
import { formatDuration } from '../lib/limits';
import { cancel } from '../pipeline/run-job';

const STAGES: { name: StageName; label: string }[] = [
  { name: 'decode', label: 'Decode' },
  { name: 'separate', label: 'Separate' },
  { name: 'finish', label: 'Finish' },
];

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => setNow(performance.now()), 500);
    return () => clearInterval(id);
  }, [active]);
  return now;
}

function stageLine(stages: JobState['stages'], name: StageName, now: number): string {
  const c = stages[name];
  if (!c) return 'waiting';
  if (c.endedAt) return `done in ${((c.endedAt - c.startedAt) / 1000).toFixed(1)} s`;
  const eta = stageEta(c, now);
  return `${Math.round(c.fraction * 100)}%${eta !== undefined ? ` · about ${formatDuration(eta)} left` : ''}`;
}

export function JobProgress() {
  const stages = useJob((s) => s.stages);
  const phase = useJob((s) => s.phase);
  const now = useNow(true);
  return (
    <section className="progress" aria-live="polite" data-testid="progress">
      <h2>Separating…</h2>
      <ol>
        {STAGES.map(({ name, label }) => (
          <li key={name} data-stage={name}>
            <span className="stage-label">{label}</span>
            <progress max={1} value={stages[name]?.fraction ?? 0} aria-label={`${label} progress`} />
            <span className="muted">{stageLine(stages, name, now)}</span>
          </li>
        ))}
      </ol>
      <button type="button" onClick={cancel} data-testid="cancel" aria-keyshortcuts="Escape">
        Cancel
      </button>
      <span className="muted"> (Esc) · {phase}</span>
    </section>
  );
}
