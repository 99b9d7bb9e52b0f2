/**
 * What the mixer does at each sync check, as a pure function of the tracks'
 * positions (tested in node; the mixer applies it to its media elements).
 * The reference is the median position: one stalled track cannot drag the
 * others, and positions reported by elements on one AudioContext agree with
 * each other far better than with the context's own clock.
 */

/** Gap (s) from the median below which a track is left alone. */
export const IN_SYNC = 0.004;
/** Gap (s) above which a track is seeked rather than nudged (a nudge closes 50 ms in 2.5 s; more would be a long pitch shift). */
export const TOO_FAR = 0.05;
/** Largest playbackRate nudge. */
export const MAX_NUDGE = 0.02;

/** Set the track's playbackRate (1 = in sync), or seek it. */
export type SyncAction = { kind: 'rate'; rate: number } | { kind: 'seek'; to: number };

export interface SyncPlan {
  /** Where the mix is. */
  position: number;
  /** Largest gap between two tracks, in ms. */
  spreadMs: number;
  actions: SyncAction[];
}

export function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function planSync(times: number[]): SyncPlan {
  if (!times.length) return { position: 0, spreadMs: 0, actions: [] };
  const position = median(times);
  const spreadMs = Math.round((Math.max(...times) - Math.min(...times)) * 1000);
  const actions = times.map((t): SyncAction => {
    const drift = t - position;
    if (Math.abs(drift) > TOO_FAR) return { kind: 'seek', to: position };
    // A track ahead slows down, one behind speeds up: the gap closes in about a second.
    if (Math.abs(drift) > IN_SYNC) return { kind: 'rate', rate: 1 - Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, drift)) };
    return { kind: 'rate', rate: 1 };
  });
  return { position, spreadMs, actions };
}
