import { useEffect, useMemo, useState } from 'react';
import type { SeparatedTrack, TrackStorage } from '../pipeline/sinks/track-sink';
import { exportAll, exportTrack, saveFile } from '../pipeline/export';
import { Mixer } from './playback/mixer';
import { Waveform } from './Waveform';
import { formatDuration } from '../lib/limits';
import { useSettings } from '../store/settings';
import { toVoxError, type VoxError } from '../lib/errors';
import { ErrorPanel } from './ErrorPanel';

const COLORS = ['#4cc9f0', '#f72585', '#90be6d', '#f8961e', '#b5179e'];

export function Results({ tracks, storage, inputName, originalRate }: { tracks: SeparatedTrack[]; storage: TrackStorage; inputName: string; originalRate: number }) {
  const [time, setTime] = useState(0);
  const [spreadMs, setSpreadMs] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [muted, setMuted] = useState(() => tracks.map(() => false));
  const [solo, setSolo] = useState<number | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [percent, setPercent] = useState<number | null>(null);
  const [error, setError] = useState<VoxError | null>(null);
  const outputRate = useSettings((s) => s.outputRate);
  const rate = outputRate === 'original' && Number.isInteger(originalRate) && originalRate > 0 ? originalRate : tracks[0].sampleRate;

  const mixer = useMemo(
    () =>
      new Mixer(tracks, (s) => {
        setTime(s.time);
        setPlaying(s.playing);
        setSpreadMs(s.spreadMs);
      }),
    [tracks],
  );
  useEffect(() => () => mixer.dispose(), [mixer]);

  const audible = tracks.map((_, i) => (solo === null ? !muted[i] : solo === i));
  useEffect(() => mixer.setAudible(audible), [mixer, audible.join()]); // eslint-disable-line react-hooks/exhaustive-deps

  const toggleMix = () => (mixer.playing ? mixer.pause() : void mixer.play());
  /** A track's own play button: that track alone, or back to the mix. */
  const toggleTrack = (i: number) => {
    if (mixer.playing && solo === i) {
      mixer.pause();
      setSolo(null);
    } else {
      setSolo(i);
      void mixer.play();
    }
  };

  const download = async (label: string, make: (onProgress: (f: number) => void) => Promise<Parameters<typeof saveFile>[0]>) => {
    setBusy(label);
    setPercent(null);
    setError(null);
    try {
      saveFile(await make((f) => setPercent(Math.round(f * 100))));
    } catch (e) {
      setError(toVoxError(e, 'export-failed'));
    } finally {
      setBusy(null);
      setPercent(null);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.code === 'Space' && !['BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'SUMMARY'].includes(t.tagName)) {
        e.preventDefault();
        toggleMix();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <section className="results" data-testid="results" data-storage={storage.kind} data-job={storage.jobId ?? ''}>
      <h2>Separated tracks</h2>
      <div className="mix-bar" data-sync-spread-ms={spreadMs}>
        <button type="button" className="primary" onClick={toggleMix} aria-pressed={playing && solo === null} data-testid="mix-play" aria-keyshortcuts="Space">
          {playing && solo === null ? 'Pause mix' : 'Play mix'}
        </button>
        <span className="muted">
          {formatDuration(time)} / {formatDuration(mixer.duration)} · the mix plays every track that is not muted
        </span>
        <button
          type="button"
          disabled={busy !== null}
          onClick={() => download('all', (p) => exportAll(tracks, storage, inputName, rate, p))}
          data-testid="download-all"
        >
          {busy === 'all' ? `Preparing zip…${percent === null ? '' : ` ${percent} %`}` : 'Download all (zip)'}
        </button>
      </div>
      {storage.note && (
        <p className="muted" role="note" data-testid="storage-note">
          {storage.note}
        </p>
      )}
      {error && <ErrorPanel error={error} />}
      <ul className="tracks">
        {tracks.map((t, i) => (
          <li key={t.source.id} className="track" data-testid="track" data-source={t.source.id}>
            <div className="track-head">
              <strong style={{ color: COLORS[i % COLORS.length] }}>{t.source.label}</strong>
              <span className="muted">{t.source.kind}</span>
              <button type="button" onClick={() => toggleTrack(i)} aria-pressed={playing && solo === i} aria-label={`${playing && solo === i ? 'Pause' : 'Play'} ${t.source.label} alone`}>
                {playing && solo === i ? 'Pause' : 'Play'}
              </button>
              <button type="button" onClick={() => setSolo(solo === i ? null : i)} aria-pressed={solo === i} aria-label={`Solo ${t.source.label}`}>
                Solo
              </button>
              <button
                type="button"
                onClick={() => setMuted(muted.map((m, j) => (j === i ? !m : m)))}
                aria-pressed={muted[i]}
                aria-label={`Mute ${t.source.label}`}
              >
                {muted[i] ? 'Unmute' : 'Mute'}
              </button>
              <button
                type="button"
                disabled={busy !== null}
                onClick={() => download(t.source.id, (p) => exportTrack(t, storage, inputName, rate, p))}
                data-testid={`download-${t.source.id}`}
                aria-label={`Download ${t.source.label} as WAV`}
              >
                {busy === t.source.id ? `Preparing…${percent === null ? '' : ` ${percent} %`}` : 'Download WAV'}
              </button>
            </div>
            <Waveform peaks={t.peaks.data} duration={mixer.duration} time={time} onSeek={(s) => mixer.seek(s)} color={audible[i] ? COLORS[i % COLORS.length] : '#4a5561'} />
          </li>
        ))}
      </ul>
      <p className="muted">Downloads are 16-bit WAV at {rate} Hz, as long as the original.</p>
    </section>
  );
}
