import { beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../lib/errors.js';
import { AllocationConflictError, Store } from '../../lib/store/store.js';
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
  const store = new Store(dynamodb, table);

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
  });

  it('create sets uid, creationTimestamp, resourceVersion "1" and generation 1', async () => {
    const created = await store.create('Service', svc('web'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toBe('1');
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
    const withStatus = await store.updateStatus('Service', a, { loadBalancer: { ingress: [{ hostname: 'x.elb' }] } });
    expect(withStatus.metadata?.resourceVersion).toBe('2');
    expect(withStatus.metadata?.generation).toBe(1);

    const relabeled = structuredClone(withStatus);
    relabeled.metadata!.labels = { app: 'upd', tier: 'web' };
    relabeled.status = {}; // ignored: main-resource writes do not change status
    const b = await store.update('Service', relabeled, withStatus);
    expect(b.metadata?.resourceVersion).toBe('3');
    expect(b.metadata?.generation).toBe(1);
    expect(b.metadata?.uid).toBe(a.metadata?.uid);
    expect(b.status?.loadBalancer?.ingress?.[0]?.hostname).toBe('x.elb');

    const respec = structuredClone(b);
    respec.spec!.ports = [{ port: 8080, protocol: 'TCP' }];
    const c = await store.update('Service', respec, b);
    expect(c.metadata?.resourceVersion).toBe('4');
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
    expect(now?.metadata?.resourceVersion).toBe('2');
    expect(now).toEqual((won[0] as PromiseFulfilledResult<V1Service>).value);
  });

  it('delete removes the object and returns it with the deletion resourceVersion; mustGet then NotFound', async () => {
    const a = await store.create('Service', svc('del'));
    const gone = await store.delete('Service', a);
    expect(gone.metadata?.resourceVersion).toBe('2');
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

describe('Store records and sequences (moto)', () => {
  const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });
  const table = uniqueName('records');
  const store = new Store(dynamodb, table);
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
