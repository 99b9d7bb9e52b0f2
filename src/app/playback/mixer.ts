/**
 * Synced playback of every track, straight from their files: one <audio>
 * element per track on a blob URL of the track's WAV (a disk-backed OPFS file:
 * the browser streams it, nothing is decoded into memory up front), each
 * routed through a Web Audio gain so mute and solo are click-free ramps and
 * never stop a track (a muted track keeps its place).
 *
 * Sync, from measurement (scripts/measure-output.mjs and the note in the
 * report): elements routed into one AudioContext are paced by its clock, so
 * they do not drift apart; what can separate them is the start (they start in
 * the same render quantum when played in one task and the context uses the
 * default, interactive latency; with latencyHint 'playback' one started a
 * 1024-frame buffer late) and stalls. Their reported currentTimes agree with
 * each other to the millisecond, while against ctx.currentTime they jitter by
 * ±10 ms, so the master clock is the tracks' median position, not the context
 * clock (chasing a jittery clock would itself push the tracks apart). Every
 * 250 ms a track more than 4 ms from the median is nudged back through its
 * playbackRate (≤ 2 %, pitch not preserved: a brief, tiny pitch change rather
 * than time-stretch artefacts); one more than 50 ms away (a stall) is seeked.
 * The rule is planSync() in sync.ts.
 *
 * Whole AudioBuffers would be sample-accurate but cost 4 bytes × samples ×
 * tracks of memory (an hour of three tracks: 660 MiB at 16 kHz, more at the
 * output rate), which long media cannot afford.
 */
import { planSync } from './sync';

export interface MixerState {
  playing: boolean;
  time: number;
  /** Largest gap between two tracks' positions at the last sync check, in ms (measured, for display and tests). */
  spreadMs: number;
}
export type MixerListener = (state: MixerState) => void;

export interface MixerTrack {
  wav: Blob;
  frames: number;
  sampleRate: number;
}

const SYNC_EVERY_MS = 250;

export class Mixer {
  private ctx: AudioContext | undefined;
  private els: HTMLAudioElement[] = [];
  private gains: GainNode[] = [];
  private urls: string[] = [];
  private audible: boolean[];
  private running = false;
  private offset = 0;
  /** Bumped by every play/pause/seek: a start still waiting for the files gives up if it changed. */
  private generation = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private raf = 0;
  private spreadMs = 0;
  /** Intent: true from the moment play() is asked until pause/stop/end. */
  playing = false;
  readonly duration: number;
  /** Counters for tests and the benchmark. */
  readonly stats = { nudges: 0, seeks: 0, maxSpreadMs: 0 };

  constructor(
    private readonly tracks: MixerTrack[],
    private readonly listener: MixerListener,
  ) {
    this.audible = tracks.map(() => true);
    this.duration = tracks.length ? tracks[0].frames / tracks[0].sampleRate : 0;
  }

  /** Made on first play: browsers only allow audio after a gesture. */
  private context(): AudioContext {
    if (this.ctx) return this.ctx;
    // The default (interactive) latency: with 'playback', elements started in one task began a buffer apart.
    const ctx = new AudioContext();
    this.urls = this.tracks.map((t) => URL.createObjectURL(t.wav));
    this.els = this.urls.map((url) => {
      const el = new Audio();
      el.preload = 'auto';
      // A ±2 % nudge should be a tiny pitch change, not a time-stretch with artefacts.
      el.preservesPitch = false;
      el.src = url;
      return el;
    });
    this.gains = this.els.map((el, i) => {
      const g = ctx.createGain();
      g.gain.value = this.audible[i] ? 1 : 0;
      ctx.createMediaElementSource(el).connect(g);
      g.connect(ctx.destination);
      return g;
    });
    this.els[0]?.addEventListener('ended', () => {
      if (this.running) this.stop(this.duration);
    });
    this.ctx = ctx;
    return ctx;
  }

  /** Where the mix is (s): the tracks' median position while playing. */
  get time(): number {
    if (!this.running || !this.els.length) return this.offset;
    return Math.min(this.duration, planSync(this.els.map((el) => el.currentTime)).position);
  }

  setAudible(audible: boolean[]): void {
    this.audible = audible;
    const now = this.ctx?.currentTime ?? 0;
    this.gains.forEach((g, i) => g.gain.setTargetAtTime(audible[i] ? 1 : 0, now, 0.01));
  }

  /** Starts the mix from the current position; never rejects (a refused start just stays paused). */
  async play(): Promise<void> {
    if (this.playing) return;
    this.playing = true;
    const gen = ++this.generation;
    this.emit();
    try {
      const ctx = this.context();
      await ctx.resume();
      if (this.offset >= this.duration - 0.01) this.offset = 0;
      const at = this.offset;
      await Promise.all(this.els.map((el) => seekReady(el, at)));
      if (gen !== this.generation) return;
      await Promise.all(this.els.map((el) => el.play()));
      if (gen !== this.generation) {
        this.els.forEach((el) => el.pause());
        return;
      }
      this.running = true;
      this.timer = setInterval(this.sync, SYNC_EVERY_MS);
      this.tick();
    } catch (e) {
      console.warn('Playback could not start', e);
      if (gen === this.generation) this.stop(this.offset);
    }
  }

  pause(): void {
    if (this.playing) this.stop(this.time);
  }

  seek(time: number): void {
    const wasPlaying = this.playing;
    this.stop(Math.max(0, Math.min(this.duration, time)));
    if (wasPlaying) void this.play();
  }

  dispose(): void {
    this.stop(0);
    for (const el of this.els) {
      el.removeAttribute('src');
      el.load(); // lets go of the file
    }
    this.urls.forEach((u) => URL.revokeObjectURL(u));
    this.els = [];
    this.urls = [];
    void this.ctx?.close();
    this.ctx = undefined;
  }

  private stop(at: number): void {
    this.generation++;
    this.els.forEach((el) => {
      el.pause();
      el.playbackRate = 1;
    });
    clearInterval(this.timer);
    cancelAnimationFrame(this.raf);
    this.running = false;
    this.playing = false;
    this.offset = at;
    this.emit();
  }

  /** Brings each track back to the others. */
  private sync = () => {
    if (!this.running) return;
    const plan = planSync(this.els.map((el) => el.currentTime));
    if (plan.position >= this.duration - 0.01) return this.stop(this.duration);
    plan.actions.forEach((a, i) => {
      const el = this.els[i];
      if (a.kind === 'seek') {
        el.currentTime = a.to;
        el.playbackRate = 1;
        this.stats.seeks++;
      } else if (el.playbackRate !== a.rate) {
        el.playbackRate = a.rate;
        if (a.rate !== 1) this.stats.nudges++;
      }
    });
    this.spreadMs = plan.spreadMs;
    this.stats.maxSpreadMs = Math.max(this.stats.maxSpreadMs, this.spreadMs);
  };

  private emit(): void {
    this.listener({ playing: this.playing, time: this.time, spreadMs: this.spreadMs });
  }

  private tick = () => {
    if (!this.running) return;
    this.emit();
    this.raf = requestAnimationFrame(this.tick);
  };
}

/** Seeks `el` to `t` and waits until it can play from there. */
function seekReady(el: HTMLMediaElement, t: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      el.removeEventListener('canplay', check);
      el.removeEventListener('seeked', check);
      el.removeEventListener('error', fail);
      resolve();
    };
    const check = () => {
      if (!el.seeking && el.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) done();
    };
    const fail = () => {
      el.removeEventListener('canplay', check);
      el.removeEventListener('seeked', check);
      el.removeEventListener('error', fail);
      reject(new Error(`The track could not be read (media error ${el.error?.code ?? '?'})`));
    };
    el.addEventListener('canplay', check);
    el.addEventListener('seeked', check);
    el.addEventListener('error', fail);
    if (el.error) return fail();
    if (Math.abs(el.currentTime - t) > 0.001) el.currentTime = t;
    check();
  });
}
