/**
 * Sample-accurate playback of all tracks together: one AudioContext, one
 * buffer source per track, started at the same context time. Mute and solo
 * are gains, so the mix stays in sync however often they change.
 */
export type MixerListener = (state: { playing: boolean; time: number }) => void;

export class Mixer {
  private ctx: AudioContext | undefined;
  private buffers: AudioBuffer[] = [];
  private gains: GainNode[] = [];
  private nodes: AudioBufferSourceNode[] = [];
  private audible: boolean[];
  private startedAt = 0;
  private offset = 0;
  private raf = 0;
  playing = false;
  readonly duration: number;

  constructor(
    private readonly tracks: { samples: Float32Array; sampleRate: number }[],
    private readonly listener: MixerListener,
  ) {
    this.audible = tracks.map(() => true);
    this.duration = tracks.length ? tracks[0].samples.length / tracks[0].sampleRate : 0;
  }

  /** The context is made on first play: browsers only allow audio after a gesture. */
  private context(): AudioContext {
    if (this.ctx) return this.ctx;
    const ctx = new AudioContext();
    this.buffers = this.tracks.map((t) => {
      const b = ctx.createBuffer(1, Math.max(1, t.samples.length), t.sampleRate);
      b.copyToChannel(t.samples as Float32Array<ArrayBuffer>, 0);
      return b;
    });
    this.gains = this.tracks.map((_, i) => {
      const g = ctx.createGain();
      g.gain.value = this.audible[i] ? 1 : 0;
      g.connect(ctx.destination);
      return g;
    });
    this.ctx = ctx;
    return ctx;
  }

  get time(): number {
    if (!this.playing || !this.ctx) return this.offset;
    return Math.min(this.duration, this.offset + this.ctx.currentTime - this.startedAt);
  }

  setAudible(audible: boolean[]): void {
    this.audible = audible;
    this.gains.forEach((g, i) => g.gain.setTargetAtTime(audible[i] ? 1 : 0, this.ctx!.currentTime, 0.01));
  }

  async play(): Promise<void> {
    if (this.playing) return;
    const ctx = this.context();
    await ctx.resume();
    if (this.offset >= this.duration) this.offset = 0;
    this.nodes = this.buffers.map((b, i) => {
      const n = ctx.createBufferSource();
      n.buffer = b;
      n.connect(this.gains[i]);
      return n;
    });
    this.startedAt = ctx.currentTime + 0.05;
    this.nodes.forEach((n) => n.start(this.startedAt, this.offset));
    this.nodes[0]?.addEventListener('ended', () => {
      if (this.playing && this.time >= this.duration - 0.01) this.stop(this.duration);
    });
    this.playing = true;
    this.tick();
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
    void this.ctx?.close();
    this.ctx = undefined;
  }

  private stop(at: number): void {
    this.nodes.forEach((n) => {
      try {
        n.stop();
      } catch {
        /* never started */
      }
      n.disconnect();
    });
    this.nodes = [];
    this.playing = false;
    this.offset = at;
    cancelAnimationFrame(this.raf);
    this.listener({ playing: false, time: at });
  }

  private tick = () => {
    if (!this.playing) return;
    this.listener({ playing: true, time: this.time });
    this.raf = requestAnimationFrame(this.tick);
  };
}
