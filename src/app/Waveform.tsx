import { useEffect, useRef } from 'react';
import WaveSurfer from 'wavesurfer.js';
import { peaks } from './playback/peaks';

/** A waveform drawn from precomputed peaks; clicking it seeks the shared mixer. */
export function Waveform({ samples, duration, time, onSeek, color }: { samples: Float32Array; duration: number; time: number; onSeek(t: number): void; color: string }) {
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
      peaks: [peaks(samples, 2000)],
      duration,
      interact: true,
      // Quiet tracks (a near-empty background) would otherwise draw as a flat line.
      normalize: true,
    });
    w.on('interaction', (t) => seek.current(t));
    ws.current = w;
    return () => w.destroy();
  }, [samples, duration, color]);

  useEffect(() => {
    ws.current?.setTime(time);
  }, [time]);

  return <div ref={el} className="waveform" />;
}
