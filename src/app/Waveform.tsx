import { useEffect, useRef } from 'react';
import WaveSurfer from 'wavesurfer.js';

/**
 * A waveform drawn from peaks computed while the track was written (the
 * samples themselves are on disk); clicking it seeks the shared mixer.
 */
export function Waveform({ peaks, duration, time, onSeek, color }: { peaks: Float32Array; duration: number; time: number; onSeek(t: number): void; color: string }) {
  const el = useRef<HTMLDivElement>(null);
  const ws = useRef<WaveSurfer>(null);
  const seek = useRef(onSeek);
  seek.current = onSeek;

  useEffect(() => {
    const w = WaveSurfer.create({
      container: el.current!,
      height: 56,
      waveColor: color,
      progressColor: '#e8eef4',
      cursorColor: '#ffd166',
      barWidth: 2,
      barGap: 1,
      peaks: [peaks],
      duration,
      interact: true,
      // Quiet tracks (a near-empty background) would otherwise draw as a flat line.
      normalize: true,
    });
    w.on('interaction', (t) => seek.current(t));
    ws.current = w;
    return () => w.destroy();
  }, [peaks, duration, color]);

  useEffect(() => {
    ws.current?.setTime(time);
  }, [time]);

  return <div ref={el} className="waveform" data-testid="waveform" />;
}
