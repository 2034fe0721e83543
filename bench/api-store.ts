/**
 * The API's storage path against a private moto server: list of 1,000 Services (the DynamoDB Query alone, a
 * consistent list without cache, and the watch cache's consistent read), a write's latency, and how long a write
 * takes to reach a running watch.
 *
 *   npx tsx bench/api-store.ts [services=1000] [rounds=60]     (prints a Markdown table for docs/benchmarks.md)
 */
import type { ApiObject, ApiWatchEvent } from '../lib/api/backend.js';
import { SERVICES } from '../lib/api/resources.js';
import { StoreBackend } from '../lib/api/store-backend.js';
import { makeClients } from '../lib/aws/clients.js';
import { serializeRequests } from '../lib/aws/serialize.js';
import { localAwsEnv, startMoto } from '../tools/local/moto.js';
import { DEFAULT_CLUSTER_CONFIG } from '../lib/model/types.js';
import { DynamoStore } from '../lib/store/store.js';
import { ensureTable } from '../lib/store/table.js';

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 60);

const svc = (name: string): ApiObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'bench', labels: { app: name, tier: 'web' } },
  spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function time(rounds: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** Time from a write's acknowledgement to its event on a watch already running (on `api`), per write. */
async function writeToWatch(api: StoreBackend, writer: StoreBackend, rounds: number, tag: string): Promise<number[]> {
  const ctl = new AbortController();
  const acked = new Map<string, number>();
  const lat: number[] = [];
  const from = await api.currentRevision();
  const done = (async () => {
    for await (const ev of api.watch(SERVICES, {
      namespace: 'bench',
      resourceVersion: from,
      signal: ctl.signal,
    }) as AsyncIterable<ApiWatchEvent>) {
      const t = acked.get(ev.object.metadata.name ?? '');
      if (t !== undefined) lat.push(performance.now() - t);
      if (lat.length === rounds) ctl.abort();
    }
  })();
  for (let i = 0; i < rounds; i++) {
    const name = `watched-${tag}-${i}`;
    await writer.create(SERVICES, 'bench', svc(name), {});
    acked.set(name, performance.now());
    await new Promise((r) => setTimeout(r, 37)); // writes spread over the poll interval
  }
  await done;
  return lat;
}

async function main(): Promise<void> {
  const moto = await startMoto();
  Object.assign(process.env, localAwsEnv(moto.endpoint));
  try {
    const { dynamodb } = makeClients();
    serializeRequests(dynamodb);
    await ensureTable(dynamodb, 'bench');
    const store = new DynamoStore(dynamodb, 'bench');
    const cached = new StoreBackend({ store, cfg: DEFAULT_CLUSTER_CONFIG });
    // "Another process": its own client and store (own revision cache, own commit queue, own tailer).
    const other = makeClients().dynamodb;
    serializeRequests(other);
    const direct = new StoreBackend({
      store: new DynamoStore(other, 'bench'),
      cfg: DEFAULT_CLUSTER_CONFIG,
      watchCache: false,
    });
    await cached.writes.namespaces.admitCreate('bench', { autoCreate: true });
    const t0 = performance.now();
    const writes: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await direct.create(SERVICES, 'bench', svc(`svc-${i}`), {});
      writes.push(performance.now() - t);
    }
    const seeded = (performance.now() - t0) / 1000;
    const rows: [string, number[]][] = [
      [`DynamoDB Query of ${N} Services (moto)`, await time(ROUNDS, () => store.list('Service', 'bench'))],
      [`consistent list without cache (GetItem + Query)`, await time(ROUNDS, () => direct.list(SERVICES, 'bench'))],
      [`consistent list from the watch cache`, await time(ROUNDS, () => cached.list(SERVICES, 'bench'))],
      [`consistent get from the watch cache`, await time(ROUNDS, () => cached.get(SERVICES, 'bench', 'svc-7'))],
      [`create (write path, one transaction)`, writes.slice(-ROUNDS)],
      [`log Query after a revision (moto walks the partition)`, await time(ROUNDS, () => store.readLog(N, 500))],
      [
        `log read by key up to the head (the tailer's poll)`,
        await time(ROUNDS, async () => store.readLogTo(N, N + 1, 500)),
      ],
      [`write visible to a watch in the writing process`, await writeToWatch(cached, cached, ROUNDS, 'same')],
      [
        `write by another process visible to a watch (poll 150 ms)`,
        await writeToWatch(cached, direct, ROUNDS, 'other'),
      ],
    ];
    console.log(`${N} Services seeded through the write path in ${seeded.toFixed(1)} s; ${ROUNDS} rounds each\n`);
    console.log('| operation | p50 ms | p95 ms | p99 ms |\n| --- | ---: | ---: | ---: |');
    for (const [what, xs] of rows) {
      console.log(`| ${what} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 95).toFixed(1)} | ${pct(xs, 99).toFixed(1)} |`);
    }
    cached.close();
    direct.close();
  } finally {
    await moto.stop();
  }
}

void main();
