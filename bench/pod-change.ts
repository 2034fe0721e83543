/**
 * Pod change -> rules applied on every node, through the whole local system (`npm start`: bus, controller loop,
 * push, SSM stand-in, the node agent in each node namespace). Needs root. For each sample a Pod of a Service turns
 * Ready or not ready (written through the API write path, as svcctl does); the time runs until every
 * node's applied ruleset (the agent's kept bundle, `current/ruleset.nft`) has the Pod's address in, or out of, the
 * Service's endpoints. Only the local system's public pieces are used, so the same file runs against older trees.
 *
 *   npx tsx bench/pod-change.ts [NODES...]      # default: 3 30
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalSystem, type LocalSystem } from '../tools/local/up.js';

const SAMPLES = Number(process.env.SAMPLES ?? 20);
const POLL_MS = 5;
const quiet = { stdout: () => undefined, stderr: () => undefined };

function pod(i: number, ip: string, ready: boolean) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

async function apply(sys: LocalSystem, objects: unknown[]) {
  // Written only: the table's stream brings the changes to the controller loop.
  await sys.target.api.applyAll(objects);
}

/** Milliseconds until every node's applied ruleset holds (or lacks) `needle`. */
async function untilApplied(sys: LocalSystem, needle: string, present: boolean, t0: number): Promise<number> {
  const files = [...sys.dataplane!.nodesByInstance.values()].map((n) =>
    join(n.root, 'var/lib/sscontroller/current/ruleset.nft'),
  );
  const done = new Set<string>();
  for (;;) {
    for (const f of files) {
      if (done.has(f) || !existsSync(f)) continue;
      if (readFileSync(f, 'utf8').includes(needle) === present) done.add(f);
    }
    if (done.size === files.length) return performance.now() - t0;
    if (performance.now() - t0 > 120_000) throw new Error(`not applied on every node after 120 s (${needle})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1]!;

async function run(nodes: number): Promise<{ nodes: number; p50: number; p99: number; samples: number }> {
  // nsPrefix: the option's name in trees older than per-run namespace names (nsBase).
  const opts = { nodes, resyncSeconds: 3600, stopLocalAwsIfStarted: true, nsBase: 'sscpc', nsPrefix: 'sscpc' };
  const sys = await startLocalSystem(quiet, opts as never);
  try {
    await apply(sys, [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'bench', namespace: 'default' },
        spec: { selector: { app: 'bench' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
      pod(0, '10.244.250.10', true),
      pod(1, '10.244.250.11', true),
    ]);
    await sys.settle(120_000);
    await untilApplied(sys, '10.244.250.11 . 8080', true, performance.now());
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const ready = i % 2 === 1; // out, in, out, ...
      const t0 = performance.now();
      await apply(sys, [pod(1, '10.244.250.11', ready)]);
      times.push(await untilApplied(sys, '10.244.250.11 . 8080', ready, t0));
      await sys.settle(120_000);
    }
    return { nodes, p50: pct(times, 50), p99: pct(times, 99), samples: times.length };
  } finally {
    await sys.stop();
  }
}

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
for (const n of sizes.length ? sizes : [3, 30]) {
  const r = await run(n);
  console.log(
    `nodes ${r.nodes}: Pod change -> applied on every node p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms (${r.samples} samples)`,
  );
}
process.exit(0);
