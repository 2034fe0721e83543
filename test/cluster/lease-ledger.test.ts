/**
 * The watcher's lease (exactly one run; hand-over without a gap; a dead holder's lease expires) and the ledger
 * (older deliveries refused, an equal one admitted again, nothing after a tombstone), on the real store (moto).
 */
import { describe, expect, it } from 'vitest';
import type { ApiServer } from '../../lib/api/server.js';
import { ClusterBridge } from '../../lib/cluster/bridge.js';
import { compareResourceVersions, MirrorLedger, WatchCheckpoints, WatcherLease } from '../../lib/cluster/records.js';
import type { RemoteCluster } from '../../lib/cluster/remote.js';
import { runWatcher } from '../../lib/cluster/watcher.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { RecordingLogger } from '../handlers/support.js';
import { motoClients, uniqueName } from '../support/aws.js';

async function store() {
  const { dynamodb } = motoClients();
  const name = uniqueName('lease');
  await ensureTable(dynamodb, name);
  return new DynamoStore(dynamodb, name);
}

/** A cluster with nothing in it, whose watches last until aborted. */
const emptyCluster: RemoteCluster = {
  list: async () => ({ items: [], resourceVersion: '1' }),
  watch: (_r, _v, _e, signal) => new Promise<void>((res) => signal.addEventListener('abort', () => res())),
  setFinalizer: async () => undefined,
  writeLoadBalancerStatus: async () => undefined,
  upsertEvent: async () => undefined,
};

describe('the watcher lease', () => {
  it('one holder; a dead holder’s lease expires; a released one is free at once; a lost one cannot be renewed', async () => {
    const s = await store();
    let now = 1_000_000;
    const a = new WatcherLease(s, 'a', 30_000, () => now);
    const b = new WatcherLease(s, 'b', 30_000, () => now);
    expect(await a.acquire(now + 60_000)).toEqual({ acquired: true });
    expect(await b.acquire(now + 60_000)).toMatchObject({ acquired: false, holder: 'a' });
    now += 20_000;
    expect(await a.renew(now + 60_000)).toBe(true);
    now += 29_000;
    expect((await b.acquire(now + 60_000)).acquired).toBe(false); // renewed 29 s ago: still a's
    now += 2_000; // a stopped renewing (it died): 31 s since
    expect(await b.acquire(now + 60_000)).toEqual({ acquired: true });
    expect(await a.renew(now + 60_000)).toBe(false);
    await b.release();
    expect(await a.acquire(now + 60_000)).toEqual({ acquired: true });
  });

  it('a start stands by for a holder that ends soon and takes over at its release; it gives up on one that ends late', async () => {
    const s = await store();
    const log = new RecordingLogger();
    const bridge = new ClusterBridge({
      api: {} as ApiServer,
      records: s,
      remote: emptyCluster,
      settings: { defaultLoadBalancerClass: false, dataPlane: false },
      log,
    });
    // A 5 s lease: a take-over by expiry would come seconds after the holder's end; at the release it is immediate.
    const opts = (holder: string, deadlineIn: number, standbyMaxMs: number) => ({
      bridge,
      remote: emptyCluster,
      lease: new WatcherLease(s, holder, 5_000),
      checkpoints: new WatchCheckpoints(s),
      resources: [] as const,
      deadline: Date.now() + deadlineIn,
      nodesChanged: async () => undefined,
      log,
      renewEveryMs: 100,
      standbyMaxMs,
    });
    const holder = async () => (await s.getRecord<{ holder: string }>('cluster-watcher', 'lease'))?.data.holder;
    const first = runWatcher(opts('first', 2_000, 0));
    for (let i = 0; i < 100 && (await holder()) !== 'first'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await holder()).toBe('first');
    // Ends in about 2 s: more than this start's 100 ms window, so it returns at once.
    expect(await runWatcher(opts('late', 10_000, 100))).toMatchObject({ ran: false });
    const second = runWatcher(opts('second', 4_000, 10_000));
    expect(await first).toMatchObject({ ran: true, ended: 'deadline' });
    const released = Date.now();
    for (let i = 0; i < 150 && (await holder()) !== 'second'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await holder()).toBe('second');
    expect(Date.now() - released).toBeLessThan(2_000);
    expect(await second).toMatchObject({ ran: true, ended: 'deadline' });
  });
});

describe('the ledger', () => {
  it('orders deliveries of one object and keeps a deleted one deleted', async () => {
    const l = new MirrorLedger(await store());
    expect(await l.admit('Service', 'u1', '5')).toBe(true);
    expect(await l.admit('Service', 'u1', '4')).toBe(false); // older: a replay after a crash
    expect(await l.admit('Service', 'u1', '5')).toBe(true); // the same again: finishes an interrupted apply
    expect(await l.admit('Service', 'u1', '12')).toBe(true); // numeric, not text, order
    await l.tombstone('Service', 'u1', '13');
    expect(await l.admit('Service', 'u1', '14')).toBe(false);
    expect(await l.isDeleted('Service', 'u1')).toBe(true);
    expect(await l.admit('Service', 'u2', '3')).toBe(true); // another object is its own
  });

  it('compares decimal resourceVersions as numbers and anything else as unordered', () => {
    expect(compareResourceVersions('9', '10')).toBe(-1);
    expect(compareResourceVersions('100000000000000000001', '100000000000000000000')).toBe(1);
    expect(compareResourceVersions('abc', '10')).toBe(0);
    expect(compareResourceVersions('', '')).toBe(0);
  });
});
