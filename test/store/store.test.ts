import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteItemCommand, DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, GoneError, NotFoundError } from '../../lib/errors.js';
import { AllocationConflictError, DynamoStore, type LogEntry } from '../../lib/store/store.js';
import { ensureTable, TABLE_KEY_SCHEMA } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { serializingMiddleware } from '../../lib/aws/serialize.js';

const svc = (name: string, ns = 'default', port = 80): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: { type: 'ClusterIP', selector: { app: name }, ports: [{ port, protocol: 'TCP' }] },
});

describe('Store on DynamoDB (moto)', () => {
  const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });
  const table = uniqueName('store');
  const store = new DynamoStore(dynamodb, table);

  beforeAll(async () => {
    // Concurrent callers must both succeed (local mode may start several processes at once).
    await Promise.all([ensureTable(dynamodb, table), ensureTable(dynamodb, table)]);
  });

  it('creates the table with the fixed key schema, on demand, and is idempotent', async () => {
    await ensureTable(dynamodb, table);
    const d = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    expect(d.Table?.TableStatus).toBe('ACTIVE');
    expect(d.Table?.KeySchema).toEqual([
      { AttributeName: TABLE_KEY_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEY_SCHEMA.sortKey, KeyType: 'RANGE' },
    ]);
    expect(d.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(d.Table?.GlobalSecondaryIndexes ?? []).toHaveLength(0);
    // The change stream triggers the controller; TTL on expiresAt backs up log compaction and expires Events.
    expect(d.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(d.Table?.LatestStreamArn).toMatch(/^arn:aws:dynamodb:.*\/stream\//);
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('create sets uid, creationTimestamp, resourceVersion (the next global revision) and generation 1', async () => {
    const before = await store.currentRevision();
    const created = await store.create('Service', svc('web'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toBe(String(before + 1));
    expect(await store.currentRevision()).toBe(before + 1);
    expect(created.metadata?.generation).toBe(1);
    expect(new Date(String(created.metadata?.creationTimestamp)).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const got = await store.get<V1Service>('Service', 'default', 'web');
    expect(got).toEqual(created);
  });

  it('create of an existing object is AlreadyExists and changes nothing', async () => {
    const first = await store.create('Service', svc('dup'));
    const err = await store.create('Service', svc('dup', 'default', 9999)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as Error).message).toBe('services "dup" already exists');
    expect(await store.get('Service', 'default', 'dup')).toEqual(first);
  });

  it('update bumps resourceVersion always and generation only for spec changes; keeps uid and status', async () => {
    const a = await store.create('Service', svc('upd'));
    const rv0 = Number(a.metadata?.resourceVersion);
    const withStatus = await store.updateStatus('Service', a, { loadBalancer: { ingress: [{ hostname: 'x.elb' }] } });
    expect(withStatus.metadata?.resourceVersion).toBe(String(rv0 + 1));
    expect(withStatus.metadata?.generation).toBe(1);

    const relabeled = structuredClone(withStatus);
    relabeled.metadata!.labels = { app: 'upd', tier: 'web' };
    relabeled.status = {}; // ignored: main-resource writes do not change status
    const b = await store.update('Service', relabeled, withStatus);
    expect(b.metadata?.resourceVersion).toBe(String(rv0 + 2));
    expect(b.metadata?.generation).toBe(1);
    expect(b.metadata?.uid).toBe(a.metadata?.uid);
    expect(b.status?.loadBalancer?.ingress?.[0]?.hostname).toBe('x.elb');

    const respec = structuredClone(b);
    respec.spec!.ports = [{ port: 8080, protocol: 'TCP' }];
    const c = await store.update('Service', respec, b);
    expect(c.metadata?.resourceVersion).toBe(String(rv0 + 3));
    expect(c.metadata?.generation).toBe(2);
    expect(await store.get('Service', 'default', 'upd')).toEqual(c);
  });

  it('a write with a stale resourceVersion is a Conflict and changes nothing', async () => {
    const a = await store.create('Service', svc('stale'));
    const b = await store.update('Service', { ...a, metadata: { ...a.metadata, labels: { v: '2' } } }, a);
    const err = await store
      .update('Service', { ...a, metadata: { ...a.metadata, labels: { v: 'lost' } } }, a)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe(
      'Operation cannot be fulfilled on services "stale": the object has been modified; please apply your changes to the latest version and try again',
    );
    await expect(store.updateStatus('Service', a, {})).rejects.toBeInstanceOf(ConflictError);
    await expect(store.delete('Service', a)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.get('Service', 'default', 'stale')).toEqual(b);
  });

  it('concurrent updates from the same resourceVersion: exactly one wins', async () => {
    const a = await store.create('Service', svc('race'));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.update('Service', { ...a, metadata: { ...a.metadata, labels: { writer: String(i) } } }, a),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
    const now = await store.get<V1Service>('Service', 'default', 'race');
    expect(Number(now?.metadata?.resourceVersion)).toBeGreaterThan(Number(a.metadata?.resourceVersion));
    expect(now).toEqual((won[0] as PromiseFulfilledResult<V1Service>).value);
  });

  it('delete removes the object and returns it with the deletion resourceVersion; mustGet then NotFound', async () => {
    const a = await store.create('Service', svc('del'));
    const gone = await store.delete('Service', a);
    expect(gone.metadata?.resourceVersion).toBe(String(await store.currentRevision()));
    expect(gone.metadata?.uid).toBe(a.metadata?.uid);
    expect(await store.get('Service', 'default', 'del')).toBeUndefined();
    const err = await store.mustGet('Service', 'default', 'del').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe('services "del" not found');
  });

  it('lists a kind across namespaces and within one namespace (namespace prefixes do not leak)', async () => {
    await store.create('Pod', { metadata: { name: 'p1', namespace: 'team' }, spec: { containers: [] } } as V1Pod);
    await store.create('Pod', { metadata: { name: 'p2', namespace: 'team' }, spec: { containers: [] } } as V1Pod);
    // "team-b" starts with "team": the '/' separator keeps it out of the "team" listing.
    await store.create('Pod', { metadata: { name: 'p1', namespace: 'team-b' }, spec: { containers: [] } } as V1Pod);
    const team = await store.list<V1Pod>('Pod', 'team');
    expect(team.map((p) => p.metadata?.name).sort()).toEqual(['p1', 'p2']);
    const all = await store.list<V1Pod>('Pod');
    expect(all.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort()).toEqual([
      'team-b/p1',
      'team/p1',
      'team/p2',
    ]);
    // Kinds are separate partitions.
    expect((await store.list('Service', 'team')).length).toBe(0);
  });

  it('lists follow pagination past the 1 MB Query page', async () => {
    const ns = uniqueName('big');
    const blob = 'x'.repeat(250 * 1024);
    for (let i = 0; i < 6; i++) {
      await store.create('Pod', {
        metadata: { name: `p${i}`, namespace: ns, annotations: { blob } },
        spec: { containers: [] },
      } as V1Pod);
    }
    const pods = await store.list<V1Pod>('Pod', ns);
    expect(pods).toHaveLength(6);
  });

  it('refuses objects too large for one DynamoDB item, with a clear error', async () => {
    const big = svc('huge');
    big.metadata!.annotations = { blob: 'y'.repeat(400 * 1024) };
    await expect(store.create('Service', big)).rejects.toThrow(/Too long/);
    expect(await store.get('Service', 'default', 'huge')).toBeUndefined();
  });

  it('claims allocations with the object in one transaction; a taken value cancels the whole write', async () => {
    const pool = uniqueName('pool');
    const a = svc('owner-a');
    const created = await store.create('Service', a, {
      claims: [{ pool, value: '7', ownerUid: 'uid-a', owner: 'Service/default/owner-a', field: 'spec.x' }],
    });
    expect(await store.allocationOwner(pool, '7')).toBe('uid-a');
    const err = await store
      .create('Service', svc('owner-b'), {
        claims: [
          { pool, value: '8', ownerUid: 'uid-b', owner: 'Service/default/owner-b', field: 'spec.y' },
          { pool, value: '7', ownerUid: 'uid-b', owner: 'Service/default/owner-b', field: 'spec.x' },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllocationConflictError);
    expect((err as AllocationConflictError).failed.map((c) => c.value)).toEqual(['7']);
    // Nothing of the cancelled transaction was written.
    expect(await store.get('Service', 'default', 'owner-b')).toBeUndefined();
    expect(await store.allocationOwner(pool, '8')).toBeUndefined();

    // Release on delete, in the same transaction; releasing somebody else's value is refused.
    await expect(
      store.delete('Service', created, { releases: [{ pool, value: '7', ownerUid: 'uid-b' }] }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await store.get('Service', 'default', 'owner-a')).toBeDefined();
    await store.delete('Service', created, { releases: [{ pool, value: '7', ownerUid: 'uid-a' }] });
    expect(await store.allocationOwner(pool, '7')).toBeUndefined();
    expect((await store.listAllocations(pool)).size).toBe(0);
  });
});

describe('Store change log: one global revision (moto)', () => {
  const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });

  async function newTable(): Promise<string> {
    const table = uniqueName('log');
    await ensureTable(dynamodb, table);
    return table;
  }

  async function wholeLog(store: DynamoStore): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for (;;) {
      const page = await store.readLog(out.at(-1)?.rev ?? 0, 7);
      if (page.length === 0) return out;
      out.push(...page);
    }
  }

  it('writers in two processes: revisions are dense and monotonic, one log entry per write, in commit order', async () => {
    const table = await newTable();
    // Two stores = two processes (each with its own cached revision), so the counter's compare-and-set really races.
    const a = new DynamoStore(dynamodb, table);
    const b = new DynamoStore(dynamodb, table);
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).create('Service', svc(`s${i}`, 'dense'))),
    );
    const updated = await Promise.all(
      created
        .slice(0, 10)
        .map((o, i) => (i % 2 ? b : a).update('Service', { ...o, metadata: { ...o.metadata, labels: { v: '2' } } }, o)),
    );
    const deleted = await Promise.all(created.slice(10, 16).map((o, i) => (i % 2 ? a : b).delete('Service', o)));
    const writes = [...created, ...updated, ...deleted];
    const revs = writes.map((o) => Number(o.metadata?.resourceVersion)).sort((x, y) => x - y);
    expect(revs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await a.currentRevision()).toBe(40);

    const log = await wholeLog(b);
    expect(log.map((e) => e.rev)).toEqual(revs);
    const byRev = new Map(writes.map((o) => [o.metadata?.resourceVersion, o]));
    for (const e of log) {
      expect(e.object).toEqual(byRev.get(String(e.rev)));
      expect(`${e.kind} ${e.namespace}/${e.name}`).toBe(`Service dense/${e.object.metadata?.name}`);
      expect(e.uid).toBe(e.object.metadata?.uid);
    }
    expect(log.filter((e) => e.type === 'ADDED')).toHaveLength(24);
    expect(log.filter((e) => e.type === 'MODIFIED')).toHaveLength(10);
    const dels = log.filter((e) => e.type === 'DELETED');
    expect(dels).toHaveLength(6);
    // A DELETED entry carries the last stored object at the deletion's revision.
    for (const d of dels) expect(d.object.metadata?.labels).toEqual({ app: d.name });
    // Each object's entries are in its own write order (a later revision never precedes an earlier one).
    for (const o of created.slice(0, 10)) {
      const mine = log.filter((e) => e.name === o.metadata?.name).map((e) => e.type);
      expect(mine).toEqual(['ADDED', 'MODIFIED']);
    }
  });

  it('a failed write takes no revision and leaves no log entry', async () => {
    const store = new DynamoStore(dynamodb, await newTable());
    const a = await store.create('Service', svc('only'));
    await expect(store.create('Service', svc('only'))).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(
      store.delete('Service', { ...a, metadata: { ...a.metadata, resourceVersion: '99' } }),
    ).rejects.toBeInstanceOf(ConflictError);
    const b = await store.update('Service', { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } }, a);
    expect(b.metadata?.resourceVersion).toBe('2');
    expect((await wholeLog(store)).map((e) => `${e.rev} ${e.type}`)).toEqual(['1 ADDED', '2 MODIFIED']);
    expect(await store.revisions()).toEqual({ current: 2, compacted: 0 });
  });

  it('compaction removes old entries but never the newest; resuming below the horizon is Gone', async () => {
    const store = new DynamoStore(dynamodb, await newTable());
    for (let i = 0; i < 5; i++)
      await store.create('Pod', { metadata: { name: `p${i}`, namespace: 'c' }, spec: { containers: [] } } as V1Pod);
    // Everything is older than "now + 1 minute": all but the newest entry go.
    const r = await store.compact(new Date(Date.now() + 60_000));
    expect(r).toEqual({ compacted: 4, deleted: 4 });
    expect(await store.revisions()).toEqual({ current: 5, compacted: 4 });
    expect((await store.readLog(4, 10)).map((e) => e.rev)).toEqual([5]);
    // The current revision is never too old; the horizon itself is still resumable; below it is Gone.
    await store.assertWatchable(5);
    await store.assertWatchable(4);
    const gone = await store.assertWatchable(2).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(GoneError);
    expect((gone as Error).message).toBe('too old resource version: 2 (4)');
    await expect(store.readLog(2, 10)).rejects.toThrow('too old resource version: 2 (4)');
    // Reading by key up to a known head: the same entries, the same Gone.
    expect((await store.readLogTo(4, 5, 10)).map((e) => e.rev)).toEqual([5]);
    await expect(store.readLogTo(2, 5, 10)).rejects.toThrow('too old resource version: 2 (4)');
    // Entries newer than the cutoff stay; compacting again with nothing old is a no-op.
    expect(await store.compact(new Date(Date.now() - 60_000))).toEqual({ compacted: 4, deleted: 0 });
  });

  it('a revision whose next entry vanished (TTL before compaction) is Gone; an empty store is at revision 0', async () => {
    const table = await newTable();
    const store = new DynamoStore(dynamodb, table);
    expect(await store.revisions()).toEqual({ current: 0, compacted: 0 });
    await store.assertWatchable(0);
    expect(await store.readLog(0, 10)).toEqual([]);
    for (let i = 0; i < 3; i++) await store.create('Service', svc(`t${i}`, 'ttl'));
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'log' }, sk: { S: '00000000000000000002' } } }),
    );
    await expect(store.assertWatchable(1)).rejects.toThrow('too old resource version: 1 (2)');
    await store.assertWatchable(2);
  });
});

describe('Store records and sequences (moto)', () => {
  const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });
  const table = uniqueName('records');
  const store = new DynamoStore(dynamodb, table);
  beforeAll(() => ensureTable(dynamodb, table));

  it('put/get/list/delete with versions', async () => {
    expect(await store.getRecord('node-applied', 'i-1')).toBeUndefined();
    expect(await store.putRecord('node-applied', 'i-1', { version: 3 })).toBe(1);
    expect(await store.putRecord('node-applied', 'i-1', { version: 4 })).toBe(2);
    expect(await store.putRecord('node-applied', 'i-2', { version: 1, nested: { a: [1, 'b'] } })).toBe(1);
    expect(await store.getRecord('node-applied', 'i-1')).toEqual({ id: 'i-1', data: { version: 4 }, version: 2 });
    const all = await store.listRecords<{ version: number }>('node-applied');
    expect(all.map((r) => [r.id, r.data.version, r.version])).toEqual([
      ['i-1', 4, 2],
      ['i-2', 1, 1],
    ]);
    expect(await store.listRecords('other-kind')).toEqual([]);
    await store.deleteRecord('node-applied', 'i-2');
    expect(await store.getRecord('node-applied', 'i-2')).toBeUndefined();
  });

  it('conditional puts and deletes: expected version must match; 0 means create-only', async () => {
    expect(await store.putRecord('lease', 'a', 'x', 0)).toBe(1);
    await expect(store.putRecord('lease', 'a', 'y', 0)).rejects.toBeInstanceOf(ConflictError);
    await expect(store.putRecord('lease', 'a', 'y', 5)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.putRecord('lease', 'a', 'y', 1)).toBe(2);
    await expect(store.deleteRecord('lease', 'a', 1)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.getRecord('lease', 'a'))?.data).toBe('y');
    await store.deleteRecord('lease', 'a', 2);
    expect(await store.getRecord('lease', 'a')).toBeUndefined();
  });

  it('racing conditional puts at the same version: exactly one wins', async () => {
    await store.putRecord('race', 'r', 0);
    const res = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.putRecord('race', 'r', i, 1)));
    expect(res.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.getRecord('race', 'r'))?.version).toBe(2);
  });

  it('nextSequence is atomic under concurrency: 40 callers get 1..40 exactly once', async () => {
    const name = uniqueName('seq');
    const got = await Promise.all(Array.from({ length: 40 }, () => store.nextSequence(name)));
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await store.nextSequence(name)).toBe(41);
  });
});
