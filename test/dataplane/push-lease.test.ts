/**
 * One data-plane push at a time per cluster (lib/dataplane/push-lease.ts): overlapping pushes run one after the
 * other, an expired lease (its holder died) is taken over, a lease held past the wait fails the batch for SQS to
 * redeliver, and the DynamoDB lease is conditional so two takers cannot both win.
 */
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../lib/errors.js';
import { withPushLease } from '../../lib/dataplane/push-lease.js';
import { InMemoryDataPlaneStateStore, RecordStoreDataPlaneStateStore } from '../../lib/dataplane/state-store.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recordStore(): Promise<RecordStoreDataPlaneStateStore> {
  const { dynamodb } = motoClients();
  const table = uniqueName('lease');
  await ensureTable(dynamodb, table);
  return new RecordStoreDataPlaneStateStore(new DynamoStore(dynamodb, table), 'c1');
}

describe('push lease', () => {
  it.each([
    ['in memory', async () => new InMemoryDataPlaneStateStore()],
    ['DynamoDB records (moto)', recordStore],
  ])('%s: overlapping pushes run one after the other', async (_name, make) => {
    const store = await make();
    const log: string[] = [];
    const push = (id: string) => async () => {
      log.push(`${id} start`);
      await sleep(300);
      log.push(`${id} end`);
      return id;
    };
    const now = () => new Date();
    const results = await Promise.all([
      withPushLease(store, now, push('a'), { pollMs: 20 }),
      sleep(50).then(() => withPushLease(store, now, push('b'), { pollMs: 20 })),
    ]);
    expect(results).toEqual(['a', 'b']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
    // Released: the next push takes it at once.
    expect(await store.acquirePushLease('c', new Date(Date.now() + 1000))).toBe(true);
  });

  it('a lease held past the wait fails the batch (SQS redelivers); an expired lease is taken over', async () => {
    const store = await recordStore();
    expect(await store.acquirePushLease('dead', new Date(Date.now() + 60_000))).toBe(true);
    let ran = false;
    const err = await withPushLease(
      store,
      () => new Date(),
      async () => (ran = true),
      { waitMs: 200, pollMs: 50 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(ran).toBe(false);
    // A minute later (the holder's deadline passed): taken over, and the dead holder's release changes nothing.
    const later = () => new Date(Date.now() + 61_000);
    expect(await withPushLease(store, later, async () => 'pushed')).toBe('pushed');
    expect(await store.acquirePushLease('x', new Date(Date.now() + 1000))).toBe(true);
    await store.releasePushLease('dead');
    expect(await store.acquirePushLease('y', new Date(Date.now() + 1000))).toBe(false);
  });

  it('two takers of a free lease at once: exactly one wins', async () => {
    const store = await recordStore();
    const until = new Date(Date.now() + 10_000);
    const wins = await Promise.all(['p', 'q', 'r', 's'].map((h) => store.acquirePushLease(h, until)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});
