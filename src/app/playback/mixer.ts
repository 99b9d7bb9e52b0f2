/**
 * Synced playback of every track, straight from their files: one <audio>
 * element per track on a blob URL of the track's WAV (a disk-backed OPFS file:
 * the browser streams it, nothing is decoded into memory up front), each
 * routed through a Web Audio gain so mute and solo are click-free ramps and
 * never stop a track (a muted track keeps its place).
 *
 * Sync: the tracks start together (all seeked and ready, then played), and
 * one master clock (the AudioContext's, anchored at the start) says where
 * they should be. Every 250 ms each element is compared with it: a small
 * drift is absorbed by nudging that element's playbackRate (≤ 2 %, for about
 * a second), a large one (a stall) by a seek. Whole AudioBuffers would be
 * sample-accurate but cost 4 bytes × samples × tracks of memory (an hour of
 * three tracks at 48 kHz output: 2 GiB), which long media cannot afford.
 */
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

/** Gap (s) below which a track is left alone. */
const IN_SYNC = 0.012;
/** Gap (s) above which a track is seeked rather than nudged. */
const TOO_FAR = 0.25;
/** Largest playbackRate nudge. */
const MAX_NUDGE = 0.02;
const SYNC_EVERY_MS = 250;

export class Mixer {
  private ctx: AudioContext | undefined;
  private els: HTMLAudioElement[] = [];
  private gains: GainNode[] = [];
  private urls: string[] = [];
  private audible: boolean[];
  /** Master clock: at context time `anchorCtx` the tracks were at `anchorMedia`. */
  private anchorCtx = 0;
  private anchorMedia = 0;
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
    const ctx = new AudioContext({ latencyHint: 'playback' });
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

  /** Where the mix is (s): the master clock while playing. */
  get time(): number {
    if (!this.running || !this.ctx) return this.offset;
    return Math.min(this.duration, this.anchorMedia + this.ctx.currentTime - this.anchorCtx);
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
      this.anchorCtx = ctx.currentTime;
      this.anchorMedia = at;
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

  /** Brings each track back to the master clock. */
  private sync = () => {
    if (!this.running) return;
    const target = this.time;
    if (target >= this.duration - 0.01) return this.stop(this.duration);
    let lo = Infinity;
    let hi = -Infinity;
    for (const el of this.els) {
      const t = el.currentTime;
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
      const drift = t - target;
      if (Math.abs(drift) > TOO_FAR) {
        el.currentTime = target;
        el.playbackRate = 1;
        this.stats.seeks++;
      } else if (Math.abs(drift) > IN_SYNC) {
        // Close the gap over about a second.
        el.playbackRate = 1 - Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, drift));
        this.stats.nudges++;
      } else if (el.playbackRate !== 1) {
        el.playbackRate = 1;
      }
    }
    this.spreadMs = this.els.length > 1 ? Math.round((hi - lo) * 1000) : 0;
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
