/**
 * The deployed bundles stay within budget and load as ES modules (scripts/bundle-size.ts, same esbuild settings), and
 * the API's request path imports neither the EC2 client nor @kubernetes/client-node (each costs most of a second to
 * load; the init time itself is measured by `scripts/bundle-size.ts --time`, in docs/benchmarks.md, not asserted).
 */
import { describe, expect, it } from 'vitest';
import { API_FORBIDDEN_MODULES, BUDGETS, BUNDLES } from '../../infra/lib/bundling.js';
import { bundleAll, overBudget, type BundleResult } from '../../scripts/bundle-size.js';

let results: BundleResult[];

describe('handler bundles', () => {
  it('every bundle builds, is within its budget, and loads as ESM exporting handler', async () => {
    results = await bundleAll({ load: true });
    expect(results.map((r) => r.name)).toEqual([...BUNDLES]);
    for (const r of results) {
      expect(r.error, r.name).toBeUndefined();
      expect(r.bytes, r.name).toBeGreaterThan(0);
      expect(r.bytes!, r.name).toBeLessThanOrEqual(BUDGETS[r.name]);
      expect(r.loaded, r.name).toBe(true);
    }
  }, 180_000);

  it("the API's init imports no EC2 client and no @kubernetes/client-node; the controller's do (the check sees them)", () => {
    const api = results.find((r) => r.name === 'api')!;
    expect(api.initModules).toContain('@aws-sdk/client-dynamodb');
    for (const m of API_FORBIDDEN_MODULES) expect(api.initModules).not.toContain(m);
    expect(results.find((r) => r.name === 'service-events')!.initModules).toContain('@aws-sdk/client-ec2');
  });

  it('overBudget flags oversized and failed bundles', () => {
    expect(
      overBudget([
        { name: 'resync', bytes: BUDGETS.resync + 1 },
        { name: 'ssm-status', bytes: 10 },
        { name: 'api', bytes: BUDGETS.resync + 1 },
        { name: 'node-events', error: 'missing entry' },
      ]).map((r) => r.name),
    ).toEqual(['resync', 'node-events']);
  });
});
