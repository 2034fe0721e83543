/** tools/cli/bounded.ts: the limiter never exceeds its bound, starts in call order, and survives failures. */
import { describe, expect, it } from 'vitest';
import { limiter, settle } from '../../tools/cli/bounded.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('limiter', () => {
  it('keeps at most n in flight, starts them in call order, and frees the slot of a failed one', async () => {
    const limit = limiter(3);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        settle(
          limit(async () => {
            started.push(i);
            peak = Math.max(peak, ++active);
            await tick((i * 7) % 5);
            active--;
            if (i % 4 === 0) throw new Error(`no ${i}`);
            return i;
          }),
        ),
      ),
    );
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(outcomes.filter((o) => !o.ok)).toHaveLength(5);
    expect(outcomes[1]).toEqual({ ok: true, value: 1 });
  });
});
