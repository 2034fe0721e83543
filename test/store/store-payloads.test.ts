/**
 * Exact DynamoDB payloads and error mapping, with aws-sdk-client-mock: the conditions the global revision and the
 * concurrency guarantees rest on, the transaction layout (revision counter, object, log entry, then claims, then
 * releases) and how each CancellationReason is turned into an error or a retry — including the TransactionConflict
 * that real DynamoDB returns and moto never does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand as GetItemCommand,
  QueryCommand,
  TransactWriteCommand as TransactWriteItemsCommand,
  UpdateCommand as UpdateItemCommand,
} from '@aws-sdk/lib-dynamodb';
import type { V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, TransientError } from '../../lib/errors.js';
import { AllocationConflictError, DynamoStore } from '../../lib/store/store.js';

const ddb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
// The store speaks through lib-dynamodb's document client, so that is what is mocked (payloads unmarshalled).
const mock = mockClient(DynamoDBDocumentClient);
afterEach(() => mock.reset());

const svc: V1Service = { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } };
type Reason = { Code: string; Item?: Record<string, unknown> };
const cancelled = (...reasons: (string | Reason)[]) =>
  new TransactionCanceledException({
    $metadata: {},
    message: 'Transaction cancelled',
    CancellationReasons: reasons.map((r) => (typeof r === 'string' ? { Code: r } : (r as never))),
  });
/** The counter's old item, as ReturnValuesOnConditionCheckFailure=ALL_OLD returns it (marshalled). */
const counterAt = (rev: number): Reason => ({
  Code: 'ConditionalCheckFailed',
  Item: { pk: { S: 'rev' }, sk: { S: 'current' }, rev: { N: String(rev) } },
});
const transactItems = (i = 0) => mock.commandCalls(TransactWriteItemsCommand)[i]!.args[0].input.TransactItems!;

describe('Store payloads', () => {
  it('create: counter CAS, object Put conditional on absence, and the log entry, in one transaction', async () => {
    mock.on(GetItemCommand).resolves({});
    mock.on(TransactWriteItemsCommand).resolves({});
    const store = new DynamoStore(ddb, 'T');
    const created = await store.create('Service', svc);
    // The first write of a process reads the counter once (absent: revision 0).
    expect(mock.commandCalls(GetItemCommand)[0]!.args[0].input.Key).toEqual({ pk: 'rev', sk: 'current' });
    const [counter, object, log, ...rest] = transactItems();
    expect(rest).toEqual([]);
    expect(counter!.Put).toMatchObject({
      TableName: 'T',
      Item: { pk: 'rev', sk: 'current', rev: 1 },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(object!.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(object!.Put?.Item).toMatchObject({ pk: 'obj#Service', sk: 'default/web', rv: 1, generation: 1 });
    expect(object!.Put?.Item?.uid).toBe(created.metadata?.uid);
    expect(JSON.parse(object!.Put!.Item!.body as string)).toEqual(created);
    expect(created.metadata?.resourceVersion).toBe('1');
    expect(log!.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(log!.Put?.Item).toMatchObject({
      pk: 'log',
      sk: '00000000000000000001',
      rev: 1,
      type: 'ADDED',
      kind: 'Service',
      namespace: 'default',
      name: 'web',
      uid: created.metadata?.uid,
      group: 'Service/default/web',
    });
    expect(JSON.parse(log!.Put!.Item!.body as string)).toEqual(created);
    const expiresAt = log!.Put!.Item!.expiresAt as number;
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 3600);
  });

  it('later writes compare-and-set from the revision this process saw last, without reading the counter', async () => {
    mock.on(GetItemCommand).resolves({ Item: { pk: 'rev', sk: 'current', rev: 41 } });
    mock.on(TransactWriteItemsCommand).resolves({});
    const store = new DynamoStore(ddb, 'T');
    const a = await store.create('Service', svc);
    const prev = { ...a, metadata: { ...a.metadata, generation: 3 } };
    const b = await store.update('Service', { ...prev, spec: { ports: [{ port: 81 }] } }, prev);
    expect(mock.commandCalls(GetItemCommand)).toHaveLength(1);
    const [counter, object, log] = transactItems(1);
    expect(counter!.Put?.ConditionExpression).toBe('#rev = :cur');
    expect(counter!.Put?.ExpressionAttributeValues).toEqual({ ':cur': 42 });
    expect(counter!.Put?.Item?.rev).toBe(43);
    // The object write is conditional on the revision it was read at.
    expect(object!.Put?.ConditionExpression).toBe('rv = :rv');
    expect(object!.Put?.ExpressionAttributeValues).toEqual({ ':rv': 42 });
    expect(object!.Put?.Item).toMatchObject({ rv: 43, generation: 4 });
    expect(log!.Put?.Item).toMatchObject({ sk: '00000000000000000043', type: 'MODIFIED' });
    expect(b.metadata?.resourceVersion).toBe('43');
  });

  it('delete: Delete conditional on the revision read; the log keeps the last object at the deletion revision', async () => {
    mock.on(GetItemCommand).resolves({ Item: { rev: 9 } });
    mock.on(TransactWriteItemsCommand).resolves({});
    const store = new DynamoStore(ddb, 'T');
    const prev = { ...svc, metadata: { ...svc.metadata, uid: 'u', resourceVersion: '7' } };
    const gone = await store.delete('Service', prev);
    const [, object, log] = transactItems();
    expect(object!.Delete).toMatchObject({
      Key: { pk: 'obj#Service', sk: 'default/web' },
      ConditionExpression: 'rv = :rv',
    });
    expect(log!.Put?.Item).toMatchObject({ rev: 10, type: 'DELETED', uid: 'u' });
    expect(gone.metadata?.resourceVersion).toBe('10');
    expect(JSON.parse(log!.Put!.Item!.body as string)).toEqual(gone);
  });

  it('claims and releases ride in the same transaction, after the counter, object and log items, one item per block', async () => {
    mock.on(GetItemCommand).resolves({});
    mock.on(TransactWriteItemsCommand).resolves({});
    const store = new DynamoStore(ddb, 'T');
    await store.create('Service', svc, {
      uid: 'u1',
      claims: [
        { pool: 'clusterip', value: '10.96.0.10', ownerUid: 'u1', owner: 'Service/default/web', field: 'f' },
        { pool: 'nodeport', value: '30002', ownerUid: 'u1', owner: 'Service/default/web', field: 'g' },
      ],
      releases: [{ pool: 'nodeport', value: '30001', ownerUid: 'u1' }],
    });
    const items = transactItems();
    // 30001 and 30002 share the block 29984-30047: one UpdateItem (a transaction may not touch an item twice).
    expect(items).toHaveLength(5);
    expect(items[3]!.Update).toEqual({
      TableName: 'T',
      Key: { pk: 'alloc#clusterip', sk: '10.96.0.0/26' },
      UpdateExpression: 'SET #c0 = :c0',
      ConditionExpression: '(attribute_not_exists(#c0) OR #c0 = :c0)',
      ExpressionAttributeNames: { '#c0': 'v:10.96.0.10' },
      ExpressionAttributeValues: { ':c0': 'u1' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(items[4]!.Update).toMatchObject({
      Key: { pk: 'alloc#nodeport', sk: 'n:29952' },
      UpdateExpression: 'SET #c0 = :c0 REMOVE #r0',
      ConditionExpression: '(attribute_not_exists(#c0) OR #c0 = :c0) AND (attribute_not_exists(#r0) OR #r0 = :r0)',
      ExpressionAttributeNames: { '#c0': 'v:30002', '#r0': 'v:30001' },
      ExpressionAttributeValues: { ':c0': 'u1', ':r0': 'u1' },
    });
  });

  it("maps CancellationReasons by position: object and claim conditions are the caller's errors", async () => {
    mock.on(GetItemCommand).resolves({});
    const store = new DynamoStore(ddb, 'T');
    const claims = [
      { pool: 'nodeport', value: '30001', ownerUid: 'u', owner: 'o', field: 'a' },
      { pool: 'nodeport', value: '30002', ownerUid: 'u', owner: 'o', field: 'b' },
    ];
    // The block as it was: 30002 held by another uid, 30001 free.
    const blockHeld: Reason = { Code: 'ConditionalCheckFailed', Item: { 'v:30002': { S: 'other' } } };
    mock
      .on(TransactWriteItemsCommand)
      // A moved counter does not hide a real object conflict (conditions are checked against committed state).
      .rejectsOnce(cancelled(counterAt(3), 'ConditionalCheckFailed', 'None', 'None'))
      .rejectsOnce(cancelled('None', 'None', 'None', blockHeld))
      .rejectsOnce(cancelled('None', 'None', 'None', 'ValidationError'));
    await expect(store.create('Service', svc, { claims })).rejects.toBeInstanceOf(AlreadyExistsError);
    const err = await store.create('Service', svc, { claims }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllocationConflictError);
    expect((err as AllocationConflictError).failed.map((c) => c.field)).toEqual(['b']);
    const other = await store.create('Service', svc, { claims }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(TransientError);
    expect((other as TransientError).reason).toBe('TransactionCancelled');

    mock.reset();
    mock.on(GetItemCommand).resolves({});
    mock.on(TransactWriteItemsCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed', 'None'));
    const prev = { ...svc, metadata: { ...svc.metadata, resourceVersion: '2' } };
    const stale = await store.update('Service', prev, prev).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect((stale as Error).message).toBe(
      'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('a failed block without its old item is re-read; a value released meanwhile is retried, not reported', async () => {
    const store = new DynamoStore(ddb, 'T');
    const claims = [{ pool: 'nodeport', value: '30001', ownerUid: 'u', owner: 'o', field: 'a' }];
    mock.on(GetItemCommand, { Key: { pk: 'rev', sk: 'current' } }).resolves({ Item: { rev: 4 } });
    mock
      .on(GetItemCommand, { Key: { pk: 'alloc#nodeport', sk: 'n:29952' } })
      .resolvesOnce({ Item: { pk: 'alloc#nodeport', sk: 'n:29952', 'v:30001': 'other' } })
      .resolves({ Item: { pk: 'alloc#nodeport', sk: 'n:29952' } });
    const held = { Code: 'ConditionalCheckFailed' };
    mock.on(TransactWriteItemsCommand).rejectsOnce(cancelled('None', 'None', 'None', held));
    const err = await store.create('Service', svc, { claims }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllocationConflictError);
    expect((err as AllocationConflictError).failed.map((c) => c.value)).toEqual(['30001']);

    mock
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled('None', 'None', 'None', held))
      .resolves({});
    const created = await store.create(
      'Service',
      { ...svc, metadata: { name: 'web2', namespace: 'default' } },
      { claims },
    );
    expect(created.metadata?.name).toBe('web2');
  });

  it('a counter another process moved is retried from the value it returned, without a read', async () => {
    mock.on(GetItemCommand).resolves({ Item: { rev: 5 } });
    mock
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled(counterAt(8), 'None', 'None'))
      .rejectsOnce(cancelled('TransactionConflict', 'None', 'None'))
      .resolves({});
    const store = new DynamoStore(ddb, 'T');
    const created = await store.create('Service', svc);
    expect(created.metadata?.resourceVersion).toBe('9');
    expect(mock.commandCalls(GetItemCommand)).toHaveLength(1);
    const attempts = mock.commandCalls(TransactWriteItemsCommand).map((c) => c.args[0].input.TransactItems![0]!.Put);
    expect(attempts.map((p) => p?.ExpressionAttributeValues?.[':cur'])).toEqual([5, 8, 8]);
    expect(attempts.map((p) => p?.Item?.rev)).toEqual([6, 9, 9]);
  });

  it('putRecord is an UpdateItem with ADD version and the expected-version condition', async () => {
    mock.on(UpdateItemCommand).resolves({ Attributes: { version: 5 } });
    const store = new DynamoStore(ddb, 'T');
    expect(await store.putRecord('node', 'i-1', { v: 1 }, 4)).toBe(5);
    const input = mock.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ pk: 'rec#node', sk: 'i-1' });
    expect(input.UpdateExpression).toBe('SET #data = :data, updatedAt = :now ADD #version :one');
    expect(input.ConditionExpression).toBe('#version = :expected');
  });

  it('lists follow LastEvaluatedKey to the end', async () => {
    const body = (n: string) => ({ body: JSON.stringify({ metadata: { name: n } }) });
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [body('a')], LastEvaluatedKey: { pk: 'obj#Pod', sk: 'x/a' } })
      .resolvesOnce({ Items: [body('b')] });
    const store = new DynamoStore(ddb, 'T');
    const pods = await store.list('Pod', 'x');
    expect(pods.map((p) => p.metadata?.name)).toEqual(['a', 'b']);
    const calls = mock.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.KeyConditionExpression).toBe('pk = :pk AND begins_with(sk, :prefix)');
    expect(calls[0]!.args[0].input.ConsistentRead).toBe(true);
    expect(calls[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: 'obj#Pod', sk: 'x/a' });
  });

  it('readLog is one Query after the zero-padded revision; a hole after it is Gone', async () => {
    const entry = (rev: number) => ({
      rev,
      type: 'ADDED',
      kind: 'Service',
      namespace: 'default',
      name: `s${rev}`,
      uid: `u${rev}`,
      body: JSON.stringify({ metadata: { name: `s${rev}`, resourceVersion: String(rev) } }),
    });
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [entry(8), entry(9)] })
      .resolvesOnce({ Items: [entry(12)] });
    const store = new DynamoStore(ddb, 'T');
    expect((await store.readLog(7, 100)).map((e) => [e.rev, e.name, e.object.metadata?.resourceVersion])).toEqual([
      [8, 's8', '8'],
      [9, 's9', '9'],
    ]);
    const input = mock.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(input.KeyConditionExpression).toBe('pk = :pk AND sk > :after');
    expect(input.ExpressionAttributeValues).toEqual({ ':pk': 'log', ':after': '00000000000000000007' });
    expect(input.Limit).toBe(100);
    await expect(store.readLog(9, 100)).rejects.toThrow('too old resource version: 9 (11)');
  });

  it('readLogTo reads the entries up to a known head by key; a missing one falls back to the Query (Gone)', async () => {
    const entry = (rev: number) => ({
      rev,
      type: 'MODIFIED',
      kind: 'Pod',
      namespace: 'x',
      name: 'p',
      uid: 'u',
      body: JSON.stringify({ metadata: { name: 'p', resourceVersion: String(rev) } }),
    });
    mock
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { T: [entry(12), entry(11)] } })
      .resolvesOnce({ Responses: { T: [entry(21)] } });
    mock.on(QueryCommand).resolves({ Items: [entry(22)] });
    const store = new DynamoStore(ddb, 'T');
    expect((await store.readLogTo(10, 12, 500)).map((e) => e.rev)).toEqual([11, 12]);
    const get = mock.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems!.T!;
    expect(get).toEqual({
      Keys: [
        { pk: 'log', sk: '00000000000000000011' },
        { pk: 'log', sk: '00000000000000000012' },
      ],
      ConsistentRead: true,
    });
    // Entry 20 is gone (compacted): the Query answers, and reports where the log resumes.
    await expect(store.readLogTo(19, 21, 500)).rejects.toThrow('too old resource version: 19 (21)');
    expect(await store.readLogTo(21, 21, 500)).toEqual([]);
  });
});
