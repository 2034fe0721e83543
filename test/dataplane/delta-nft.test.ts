/**
 * Properties, on the real kernel, for any two states:
 * - applying full(prev) then renderDelta(prev, next) gives exactly the table that full(next) gives;
 * - a full sync of next over a table holding prev (the agent's prelude, agent/nft-sync.awk, then full(next), in one
 *   transaction, never `delete table`) gives that same table, and the sessionAffinity sets both states declare keep
 *   their elements.
 * Run in two network namespaces created (and removed) by this file.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDelta, renderRuleset } from '../../lib/dataplane/render/nft.js';
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { runPrefix, sh, sweepDeadRuns, sweepNamespaces } from '../../tools/netns/index.js';
import { ep, node, svc } from './fixtures.js';

const BASE = 'sscdl';
const PREFIX = runPrefix(BASE);
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;

const nft = async (ns: string, args: string[], input?: string) => {
  const r = await sh('ip', ['netns', 'exec', ns, 'nft', ...args], { input });
  if (r.code !== 0) throw new Error(`nft ${args.join(' ')} in ${ns}: ${r.stderr}\n${input ?? ''}`);
  return r.stdout;
};

const tmp = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
const SYNC_AWK = fileURLToPath(new URL('../../agent/nft-sync.awk', import.meta.url));
const T = 'ip sscontroller';

/** What the node agent does for a full sync: prelude from the kernel's listing, then the ruleset, one transaction. */
async function fullSync(ns: string, ruleset: string): Promise<void> {
  const listing = await sh('ip', ['netns', 'exec', ns, 'nft', '-t', 'list', 'table', ...T.split(' ')]);
  const file = join(tmp, 'ruleset.nft');
  writeFileSync(file, ruleset);
  const prelude = await sh('awk', ['-f', SYNC_AWK, file, '-'], { input: listing.code === 0 ? listing.stdout : '' });
  if (prelude.code !== 0) throw new Error(prelude.stderr);
  await nft(ns, ['-f', '-'], prelude.stdout + ruleset);
}

const fresh = (ns: string) => sh('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'ip', 'sscontroller']);

/**
 * nft lists chains in creation order and set elements in hash order: compare as sorted blocks and sorted elements.
 * Elements of affinity sets (client addresses with running timeouts) are left out; the tests check them on their own.
 */
function normalize(listing: string): string {
  const blocks: string[] = [];
  let cur: string[] | undefined;
  for (const line of listing.split('\n')) {
    if (/^\tset affinity-/.test(line)) cur = [line, '(affinity)'];
    else if (cur?.[1] === '(affinity)' && line === '\t}') {
      blocks.push(cur[0]!);
      cur = undefined;
    } else if (cur?.[1] === '(affinity)') continue;
    else if (/^\t(set|map|chain) /.test(line)) cur = [line];
    else if (cur && line === '\t}') {
      blocks.push(
        cur.join('\n').replace(
          /elements = \{([^}]*)\}/g,
          (_m, els: string) =>
            `elements = { ${els
              .split(',')
              .map((e) => e.replace(/\s+/g, ' ').trim())
              .sort()
              .join(', ')} }`,
        ),
      );
      cur = undefined;
    } else if (cur) cur.push(line);
  }
  return blocks.sort().join('\n');
}

const IPS = ['10.244.1.2', '10.244.1.3', '10.244.2.2', '10.244.2.3'];
const arbService = (i: number) =>
  fc
    .record({
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
      etpLocal: fc.boolean(),
      itpLocal: fc.boolean(),
      affinity: fc.constantFrom(undefined, 60, 600),
      eps: fc.subarray(IPS),
      ready: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      present: fc.boolean(),
    })
    .map((r) => ({ i, ...r }));

const arbState = fc.tuple(...[0, 1, 2, 3, 4, 5].map(arbService), fc.boolean()).map((parts): DataPlaneState => {
  const withCidr = parts[6] as boolean;
  const list = parts.slice(0, 6) as {
    i: number;
    type: string;
    etpLocal: boolean;
    itpLocal: boolean;
    affinity?: number;
    eps: string[];
    ready: boolean[];
    present: boolean;
  }[];
  const present = list.filter((s) => s.present);
  return {
    cfg: DEFAULT_CLUSTER_CONFIG,
    podCidr: withCidr ? '10.244.0.0/16' : undefined,
    nodes: [node('node-1', 'i-1', '172.31.0.11')],
    services: present.map((s) =>
      svc(`s${s.i}`, {
        type: s.type,
        clusterIP: `10.96.1.${s.i + 1}`,
        externalTrafficPolicy: s.type !== 'ClusterIP' && s.etpLocal ? 'Local' : 'Cluster',
        internalTrafficPolicy: s.itpLocal ? 'Local' : 'Cluster',
        healthCheckNodePort: s.type === 'LoadBalancer' && s.etpLocal ? 32100 + s.i : undefined,
        sessionAffinity: s.affinity ? 'ClientIP' : 'None',
        sessionAffinityConfig: s.affinity ? { clientIP: { timeoutSeconds: s.affinity } } : undefined,
        ports: [
          { name: 'a', port: 80, protocol: 'TCP', nodePort: s.type === 'ClusterIP' ? undefined : 30100 + s.i },
          { name: 'b', port: 53, protocol: 'UDP', nodePort: s.type === 'ClusterIP' ? undefined : 30200 + s.i },
        ],
      }),
    ),
    endpoints: present.map((s) => ({
      namespace: 'default',
      name: `s${s.i}`,
      endpoints: s.eps.map((ip, k) =>
        ep(
          ip,
          ip.startsWith('10.244.1.') ? 'node-1' : 'node-2',
          [
            { name: 'a', port: 8080, protocol: 'TCP' },
            { name: 'b', port: 5353, protocol: 'UDP' },
          ],
          s.ready[k],
        ),
      ),
    })),
  };
});

beforeAll(async () => {
  await sweepDeadRuns(BASE);
  for (const ns of [A, B]) {
    const r = await sh('ip', ['netns', 'add', ns]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
});
afterAll(async () => {
  await sweepNamespaces(PREFIX);
  rmSync(tmp, { recursive: true, force: true });
});

describe('renderDelta on the kernel', () => {
  it('full(prev) + delta(prev, next) == full(next)', async () => {
    await fc.assert(
      fc.asyncProperty(arbState, arbState, async (prev, next) => {
        await Promise.all([fresh(A), fresh(B)]);
        await nft(A, ['-f', '-'], renderRuleset(prev, 'node-1'));
        await nft(A, ['-f', '-'], renderDelta(prev, next, 'node-1')!);
        await nft(B, ['-f', '-'], renderRuleset(next, 'node-1'));
        const got = normalize(await nft(A, ['list', 'table', 'ip', 'sscontroller']));
        const want = normalize(await nft(B, ['list', 'table', 'ip', 'sscontroller']));
        expect(got).toBe(want);
      }),
      { numRuns: 40 },
    );
  });

  it('a full sync over whatever the table holds == full(next), and affinity entries survive it', async () => {
    await fc.assert(
      fc.asyncProperty(arbState, arbState, async (prev, next) => {
        await Promise.all([fresh(A), fresh(B)]);
        await nft(A, ['-f', '-'], renderRuleset(prev, 'node-1'));
        // a client remembered by every affinity set of prev (as `update @set { ip saddr }` would leave it)
        const listed = await nft(A, ['-t', 'list', 'table', 'ip', 'sscontroller']);
        const sets = [...listed.matchAll(/^\tset (affinity-\S+) \{$/gm)].map((m) => m[1]!);
        for (const s of sets) await nft(A, ['add', 'element', 'ip', 'sscontroller', s, '{ 192.0.2.7 }']);
        await fullSync(A, renderRuleset(next, 'node-1'));
        await fullSync(B, renderRuleset(next, 'node-1'));
        const after = await nft(A, ['list', 'table', 'ip', 'sscontroller']);
        expect(normalize(after)).toBe(normalize(await nft(B, ['list', 'table', 'ip', 'sscontroller'])));
        for (const s of sets) {
          const kept = renderRuleset(next, 'node-1').includes(`\tset ${s} {`);
          const body = after.split(`\tset ${s} {`)[1]?.split('\t}')[0] ?? '';
          expect(body.includes('192.0.2.7'), `${s} kept=${kept}`).toBe(kept);
        }
      }),
      { numRuns: 25 },
    );
  });
});
