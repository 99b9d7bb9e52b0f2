/** Every limit the app enforces, in one place, so a check and its message never disagree. */
export interface Limits {
  /** Largest input file accepted, in bytes. */
  maxFileBytes: number;
  /** Longest input accepted, in seconds. */
  maxDurationSec: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFileBytes: 2 * 1024 ** 3,
  maxDurationSec: 3 * 3600,
};

/** The separation models' fixed I/O rate (see the model contract). */
export const MODEL_SAMPLE_RATE = 16000;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}
