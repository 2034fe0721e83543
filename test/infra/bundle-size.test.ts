/** The deployed bundles stay within budget and load as ES modules (scripts/bundle-size.ts, same esbuild settings). */
import { describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, HANDLERS } from '../../infra/lib/bundling.js';
import { bundleAll, overBudget } from '../../scripts/bundle-size.js';

describe('handler bundles', () => {
  it('every handler bundles, is under 500 KB minified, and loads as ESM exporting handler', async () => {
    const results = await bundleAll({ load: true });
    expect(results.map((r) => r.name)).toEqual([...HANDLERS]);
    for (const r of results) {
      expect(r.error, r.name).toBeUndefined();
      expect(r.bytes, r.name).toBeGreaterThan(0);
      expect(r.bytes!, r.name).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
      expect(r.loaded, r.name).toBe(true);
    }
  }, 120_000);

  it('overBudget flags oversized and failed bundles', () => {
    expect(
      overBudget([
        { name: 'resync', bytes: BUNDLE_BUDGET_BYTES + 1 },
        { name: 'ssm-status', bytes: 10 },
        { name: 'node-events', error: 'missing entry' },
      ]).map((r) => r.name),
    ).toEqual(['resync', 'node-events']);
  });
});
