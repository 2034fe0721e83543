/**
 * Watches and consistent reads over the change log (moto DynamoDB): revision order, resuming from a revision,
 * synthetic ADDED, bookmarks, Gone for compacted revisions, namespace filtering, one poll loop however many
 * watchers, and the watch cache answering with writes made by another process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject, ApiWatchEvent, WatchOptions } from '../../lib/api/backend.js';
import { PODS, SERVICES } from '../../lib/api/resources.js';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { GoneError } from '../../lib/errors.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DynamoStore } from '../../lib/store/store.js';
import type { Store } from '../../lib/store/types.js';
import { ensureTable } from '../../lib/store/table.js';
import { serializingMiddleware } from '../../lib/aws/serialize.js';
import { motoClients, uniqueName } from '../support/aws.js';

const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });

const svc = (name: string, ns: string, port = 80): ApiObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ port }] },
});

/** Reads events until `until` says stop (or `max` events), then ends the watch. */
async function collect(
  api: StoreBackend,
  opts: Omit<WatchOptions, 'signal'> & { resource?: typeof SERVICES },
  until: (evs: ApiWatchEvent[]) => boolean,
): Promise<ApiWatchEvent[]> {
  const ctl = new AbortController();
  const out: ApiWatchEvent[] = [];
  for await (const ev of api.watch(opts.resource ?? SERVICES, { ...opts, signal: ctl.signal })) {
    out.push(ev);
    if (until(out)) ctl.abort();
  }
  return out;
}

const summary = (evs: ApiWatchEvent[]) =>
  evs.map((e) => `${e.type} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name ?? ''}`);

/** Counts log reads in flight at once (the tailer must be the only reader for watchers at the head). */
function countingStore(inner: Store): { store: Store; maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      const isRead = prop === 'readLog' || prop === 'readLogTo';
      if (!isRead || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      return async (...args: unknown[]) => {
        inFlight++;
        max = Math.max(max, inFlight);
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          inFlight--;
        }
      };
    },
  });
  return { store, maxInFlight: () => max };
}

describe('watch over the change log (moto DynamoDB)', () => {
  let store: DynamoStore;
  let api: StoreBackend;
  let table: string;
  const ns1 = uniqueName('w1');
  const ns2 = uniqueName('w2');
  beforeAll(async () => {
    table = uniqueName('watch');
    await ensureTable(dynamodb, table);
    store = new DynamoStore(dynamodb, table);
    api = new StoreBackend({
      store,
      cfg: DEFAULT_CLUSTER_CONFIG,
      tailer: { pollIntervalMs: 25 },
      bookmarkIntervalMs: 200,
    });
    await api.writes.namespaces.admitCreate(ns1, { autoCreate: true });
    await api.writes.namespaces.admitCreate(ns2, { autoCreate: true });
  });
  afterAll(() => api.close());

  it('from a revision: every later change of the kind and namespace, in revision order, DELETED with the last object', async () => {
    const from = await api.currentRevision();
    const a = await api.create(SERVICES, ns1, svc('a', ns1), {});
    await api.create(SERVICES, ns2, svc('b', ns2), {});
    await api.create(
      PODS,
      ns1,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns1 }, spec: { containers: [{ name: 'c' }] } },
      {},
    );
    const a2 = await api.update(
      SERVICES,
      ns1,
      'a',
      { ...a.object, metadata: { ...a.object.metadata, labels: { v: '2' } } },
      {},
    );
    const gone = await api.delete(SERVICES, ns1, 'a', {});

    const inNs1 = await collect(api, { namespace: ns1, resourceVersion: from }, (evs) => evs.length === 3);
    expect(summary(inNs1)).toEqual([`ADDED ${ns1}/a`, `MODIFIED ${ns1}/a`, `DELETED ${ns1}/a`]);
    const revs = inNs1.map((e) => Number(e.object.metadata.resourceVersion));
    expect(revs).toEqual([...revs].sort((x, y) => x - y));
    expect(inNs1[1]!.object).toEqual(a2.object);
    expect(inNs1[2]!.object.metadata.labels).toEqual({ v: '2' });
    expect(inNs1[2]!.object.metadata.resourceVersion).toBe(gone.object.metadata.resourceVersion);

    const all = await collect(api, { resourceVersion: from }, (evs) => evs.length === 4);
    expect(summary(all)).toEqual([`ADDED ${ns1}/a`, `ADDED ${ns2}/b`, `MODIFIED ${ns1}/a`, `DELETED ${ns1}/a`]);
    // Resuming from the middle yields exactly what came after.
    const resumed = await collect(
      api,
      { resourceVersion: all[1]!.object.metadata.resourceVersion },
      (evs) => evs.length === 2,
    );
    expect(summary(resumed)).toEqual([`MODIFIED ${ns1}/a`, `DELETED ${ns1}/a`]);
  });

  it('without a resourceVersion: a synthetic ADDED per existing object, then live changes', async () => {
    const ns = uniqueName('w3');
    await api.writes.namespaces.admitCreate(ns, { autoCreate: true });
    await api.create(SERVICES, ns, svc('x', ns), {});
    await api.create(SERVICES, ns, svc('y', ns), {});
    const ctl = new AbortController();
    const seen: ApiWatchEvent[] = [];
    const done = (async () => {
      for await (const ev of api.watch(SERVICES, { namespace: ns, signal: ctl.signal })) {
        seen.push(ev);
        if (seen.length === 2) await api.create(SERVICES, ns, svc('z', ns), {});
        if (seen.length === 3) ctl.abort();
      }
    })();
    await done;
    expect(summary(seen)).toEqual([`ADDED ${ns}/x`, `ADDED ${ns}/y`, `ADDED ${ns}/z`]);
  });

  it('bookmarks, when allowed: an object of the kind carrying only the revision the stream is complete up to', async () => {
    const from = await api.currentRevision();
    const evs = await collect(api, { resourceVersion: from, allowBookmarks: true }, (e) =>
      e.some((x) => x.type === 'BOOKMARK'),
    );
    const bm = evs.find((e) => e.type === 'BOOKMARK')!;
    expect(bm.object).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    expect(Number(bm.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(from));
  });

  it('a compacted revision is Gone (410 Expired); the current revision is never too old', async () => {
    const ns = uniqueName('w4');
    await api.writes.namespaces.admitCreate(ns, { autoCreate: true });
    const old = await api.currentRevision();
    await api.create(SERVICES, ns, svc('c1', ns), {});
    await api.create(SERVICES, ns, svc('c2', ns), {});
    const { compacted } = await store.compact(new Date(Date.now() + 60_000));
    const err = await collect(api, { resourceVersion: old }, () => true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoneError);
    expect((err as Error).message).toBe(`too old resource version: ${old} (${compacted})`);
    const current = await api.currentRevision();
    const ctl = new AbortController();
    const it = api.watch(SERVICES, { resourceVersion: current, signal: ctl.signal })[Symbol.asyncIterator]();
    const next = it.next();
    await api.create(SERVICES, ns, svc('c3', ns), {});
    expect(((await next).value as ApiWatchEvent).object.metadata.name).toBe('c3');
    ctl.abort();
    await it.return?.();
  });

  it('many watchers at the head share one poll loop: one log read at a time, every watcher sees every change', async () => {
    const { store: counted, maxInFlight } = countingStore(new DynamoStore(dynamodb, table));
    const shared = new StoreBackend({ store: counted, cfg: DEFAULT_CLUSTER_CONFIG, tailer: { pollIntervalMs: 25 } });
    const ns = uniqueName('w5');
    await shared.writes.namespaces.admitCreate(ns, { autoCreate: true });
    const from = await shared.currentRevision();
    await shared.tailer.waitFor(Number(from));
    const watchers = Array.from({ length: 8 }, () =>
      collect(shared, { namespace: ns, resourceVersion: from }, (e) => e.length === 3),
    );
    for (const n of ['m1', 'm2', 'm3']) await shared.create(SERVICES, ns, svc(n, ns), {});
    for (const evs of await Promise.all(watchers))
      expect(summary(evs)).toEqual([`ADDED ${ns}/m1`, `ADDED ${ns}/m2`, `ADDED ${ns}/m3`]);
    expect(maxInFlight()).toBe(1);
    shared.close();
  });

  it('consistent reads from the watch cache include writes another process just made', async () => {
    const other = new StoreBackend({
      store: new DynamoStore(dynamodb, table),
      cfg: DEFAULT_CLUSTER_CONFIG,
      watchCache: false,
    });
    const ns = uniqueName('w6');
    await other.writes.namespaces.admitCreate(ns, { autoCreate: true });
    expect((await api.list(SERVICES, ns)).items).toEqual([]); // builds the cache for Services
    const made = await other.create(SERVICES, ns, svc('far', ns), {});
    const listed = await api.list(SERVICES, ns);
    expect(listed.items.map((o) => o.metadata.name)).toEqual(['far']);
    expect(Number(listed.resourceVersion)).toBeGreaterThanOrEqual(Number(made.object.metadata.resourceVersion));
    expect(await api.get(SERVICES, ns, 'far')).toEqual(made.object);
    await other.delete(SERVICES, ns, 'far', {});
    expect((await api.list(SERVICES, ns)).items).toEqual([]);
    await expect(api.get(SERVICES, ns, 'far')).rejects.toThrow('services "far" not found');
    other.close();
  });
});

describe('a backend closed under an open watch', () => {
  it('ends the watch at once; timers keep running (no loop starving the event loop)', async () => {
    const table = uniqueName('closing');
    await ensureTable(dynamodb, table);
    const api = new StoreBackend({ store: new DynamoStore(dynamodb, table), cfg: DEFAULT_CLUSTER_CONFIG });
    const rv = await api.currentRevision();
    // The signal is never aborted: only the backend's close can end this watch.
    const it = api.watch(SERVICES, { resourceVersion: rv, signal: new AbortController().signal });
    const next = it[Symbol.asyncIterator]().next();
    await new Promise((r) => setTimeout(r, 100));
    api.close();
    let ticked = false;
    setTimeout(() => (ticked = true), 10);
    expect(await next).toEqual({ done: true, value: undefined });
    await new Promise((r) => setTimeout(r, 50));
    expect(ticked).toBe(true);
  });
});
