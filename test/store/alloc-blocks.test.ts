/**
 * The allocation block layout (lib/store/alloc-blocks.ts): every write fits one transaction whatever its number of
 * node ports, never touches an item twice, and conflicts are traced to the exact values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockOf, blockUpdate, conflictsIn, groupByBlock, ownersIn } from '../../lib/store/alloc-blocks.js';
import type { AllocationClaim } from '../../lib/store/types.js';

const claim = (value: string, ownerUid = 'u', pool = 'nodeport'): AllocationClaim => ({
  pool,
  value,
  ownerUid,
  owner: 'Service/default/x',
  field: `f${value}`,
});

describe('allocation blocks', () => {
  it('lays values out in blocks of 64: ports by number, IPv4 by /26', () => {
    expect(blockOf('30000')).toBe('n:29952');
    expect(blockOf('30015')).toBe('n:29952');
    expect(blockOf('30016')).toBe('n:30016');
    expect(blockOf('10.96.0.10')).toBe('10.96.0.0/26');
    expect(blockOf('10.96.3.200')).toBe('10.96.3.192/26');
    expect(blockOf('7')).toBe('n:0');
    expect(blockOf('not-a-value')).toBe('x:not-a-value');
    // The default NodePort range is 44 blocks: any Service of it fits one 100-item transaction with room to spare.
    const blocks = new Set(Array.from({ length: 32767 - 30000 + 1 }, (_, i) => blockOf(String(30000 + i))));
    expect(blocks.size).toBe(44);
  });

  it('a write touches each block once: duplicates merged, a value claimed and released stays claimed', () => {
    const blocks = groupByBlock(
      [claim('30001'), claim('30002'), claim('30001'), claim('10.96.0.9', 'u', 'clusterip')],
      [
        { pool: 'nodeport', value: '30002', ownerUid: 'u' },
        { pool: 'nodeport', value: '32000', ownerUid: 'u' },
      ],
    );
    expect(blocks.map((b) => [b.pool, b.block, b.claims.map((c) => c.value), b.releases.map((r) => r.value)])).toEqual([
      ['nodeport', 'n:29952', ['30001', '30002'], []],
      ['clusterip', '10.96.0.0/26', ['10.96.0.9'], []],
      ['nodeport', 'n:32000', [], ['32000']],
    ]);
  });

  it('property: any set of claims and releases gives distinct (pool, block) items whose paths never overlap', () => {
    const port = fc.integer({ min: 30000, max: 32767 }).map(String);
    fc.assert(
      fc.property(fc.array(port, { maxLength: 300 }), fc.array(port, { maxLength: 300 }), (cs, rs) => {
        const blocks = groupByBlock(
          cs.map((v) => claim(v)),
          rs.map((value) => ({ pool: 'nodeport', value, ownerUid: 'u' })),
        );
        expect(blocks.length).toBeLessThanOrEqual(44);
        expect(new Set(blocks.map((b) => b.block)).size).toBe(blocks.length);
        for (const b of blocks) {
          const attrs = Object.values(blockUpdate(b).names);
          expect(new Set(attrs).size).toBe(attrs.length);
          for (const v of [...b.claims, ...b.releases]) expect(blockOf(v.value)).toBe(b.block);
        }
        // Nothing lost: every distinct claimed value is claimed; every released value not claimed is released.
        const claimed = new Set(blocks.flatMap((b) => b.claims.map((c) => c.value)));
        expect(claimed).toEqual(new Set(cs));
        const released = new Set(blocks.flatMap((b) => b.releases.map((r) => r.value)));
        expect(released).toEqual(new Set(rs.filter((v) => !claimed.has(v))));
      }),
      { numRuns: 300 },
    );
  });

  it('conflicts are the values another uid holds, read from the stored block', () => {
    const [b] = groupByBlock(
      [claim('30001'), claim('30002'), claim('30003')],
      [{ pool: 'nodeport', value: '30004', ownerUid: 'u' }],
    );
    const owners = ownersIn({
      pk: 'alloc#nodeport',
      sk: 'n:29952',
      'v:30002': 'other',
      'v:30003': 'u',
      'v:30004': 'x',
    });
    const c = conflictsIn(b!, owners);
    expect(c.claims.map((x) => x.value)).toEqual(['30002']);
    expect(c.releases.map((x) => x.value)).toEqual(['30004']);
  });
});
