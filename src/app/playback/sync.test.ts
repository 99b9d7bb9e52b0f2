import { describe, expect, it } from 'vitest';
import { MAX_NUDGE, planSync } from './sync';

/** Simulates tracks under the plan: each check, every track advances by `dt` × its rate. */
function simulate(start: number[], checks: number, dt = 0.25): number[][] {
  let t = [...start];
  let rates = t.map(() => 1);
  const history = [t];
  for (let k = 0; k < checks; k++) {
    t = t.map((x, i) => x + dt * rates[i]);
    const plan = planSync(t);
    t = t.map((x, i) => {
      const a = plan.actions[i];
      return a.kind === 'seek' ? a.to : x;
    });
    rates = plan.actions.map((a) => (a.kind === 'rate' ? a.rate : 1));
    history.push(t);
  }
  return history;
}

const spread = (t: number[]) => Math.max(...t) - Math.min(...t);

describe('planSync', () => {
  it('leaves tracks that play together alone', () => {
    const plan = planSync([10.001, 10.002, 10.0]);
    expect(plan.actions.every((a) => a.kind === 'rate' && a.rate === 1)).toBe(true);
    expect(plan.position).toBe(10.001);
    expect(plan.spreadMs).toBe(2);
  });

  it('nudges a track that is a buffer off, within the nudge limit, and the gap closes within ~2 s', () => {
    const plan = planSync([5, 5.024, 5]);
    expect(plan.actions[1]).toEqual({ kind: 'rate', rate: 1 - MAX_NUDGE });
    const h = simulate([5, 5.024, 5], 8);
    expect(spread(h.at(-1)!)).toBeLessThanOrEqual(0.004 + 1e-9);
  });

  it('seeks a stalled track instead of racing it, and the median ignores it', () => {
    const plan = planSync([30, 29.9, 30.001]);
    expect(plan.position).toBe(30);
    expect(plan.actions[1]).toEqual({ kind: 'seek', to: 30 });
    expect(plan.actions[0]).toEqual({ kind: 'rate', rate: 1 });
  });

  it('never oscillates: the spread only shrinks', () => {
    const h = simulate([0, 0.011, -0.009, 0.2], 20);
    for (let k = 1; k < h.length; k++) expect(spread(h[k])).toBeLessThanOrEqual(spread(h[k - 1]) + 1e-9);
    expect(spread(h.at(-1)!)).toBeLessThan(0.009);
  });
});
