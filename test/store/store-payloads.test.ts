/**
 * Exact DynamoDB payloads and error mapping, with aws-sdk-client-mock: the conditions the concurrency guarantees
 * rest on, the transaction layout (object first, then claims, then releases) and how each CancellationReason is
 * turned into an error — including the TransactionConflict that real DynamoDB returns and moto never does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand as GetItemCommand,
  PutCommand as PutItemCommand,
  QueryCommand,
  TransactWriteCommand as TransactWriteItemsCommand,
  UpdateCommand as UpdateItemCommand,
} from '@aws-sdk/lib-dynamodb';
import type { V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, TransientError } from '../../lib/errors.js';
import { AllocationConflictError, Store } from '../../lib/store/store.js';
import { ApiServer } from '../../lib/api/server.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';

const ddb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
// The store speaks through lib-dynamodb's document client, so that is what is mocked (payloads unmarshalled).
const mock = mockClient(DynamoDBDocumentClient);
afterEach(() => mock.reset());

const svc: V1Service = { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    $metadata: {},
    message: 'Transaction cancelled',
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('Store payloads', () => {
  it('create is a Put conditional on absence, keyed obj#<Kind> / <ns>/<name>, rv and generation numeric', async () => {
    mock.on(PutItemCommand).resolves({});
    const store = new Store(ddb, 'T');
    const created = await store.create('Service', svc);
    const input = mock.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(input.TableName).toBe('T');
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input.Item?.pk).toBe('obj#Service');
    expect(input.Item?.sk).toBe('default/web');
    expect(input.Item?.rv).toBe(1);
    expect(input.Item?.generation).toBe(1);
    expect(input.Item?.uid).toBe(created.metadata?.uid);
    expect(JSON.parse(input.Item!.body as string)).toEqual(created);
  });

  it('update is conditional on the resourceVersion read', async () => {
    mock.on(PutItemCommand).resolves({});
    const store = new Store(ddb, 'T');
    const prev = { ...svc, metadata: { ...svc.metadata, uid: 'u', resourceVersion: '7', generation: 3 } };
    await store.update('Service', { ...prev, spec: { ports: [{ port: 81 }] } }, prev);
    const input = mock.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('rv = :rv');
    expect(input.ExpressionAttributeValues).toEqual({ ':rv': 7 });
    expect(input.Item?.rv).toBe(8);
    expect(input.Item?.generation).toBe(4);
  });

  it('claims and releases ride in one TransactWriteItems after the object write', async () => {
    mock.on(TransactWriteItemsCommand).resolves({});
    const store = new Store(ddb, 'T');
    await store.create('Service', svc, {
      uid: 'u1',
      claims: [{ pool: 'clusterip', value: '10.96.0.10', ownerUid: 'u1', owner: 'Service/default/web', field: 'f' }],
      releases: [{ pool: 'nodeport', value: '30001', ownerUid: 'u1' }],
    });
    const items = mock.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(3);
    expect(items[0]!.Put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(items[1]!.Put?.Item?.pk).toBe('alloc#clusterip');
    expect(items[1]!.Put?.Item?.sk).toBe('10.96.0.10');
    expect(items[1]!.Put?.Item?.ownerUid).toBe('u1');
    expect(items[1]!.Put?.ConditionExpression).toBe('attribute_not_exists(pk) OR ownerUid = :uid');
    expect(items[2]!.Delete?.Key).toEqual({ pk: 'alloc#nodeport', sk: '30001' });
    expect(items[2]!.Delete?.ConditionExpression).toBe('attribute_not_exists(pk) OR ownerUid = :uid');
  });

  it('maps CancellationReasons by position', async () => {
    const store = new Store(ddb, 'T');
    const claims = [
      { pool: 'nodeport', value: '30001', ownerUid: 'u', owner: 'o', field: 'a' },
      { pool: 'nodeport', value: '30002', ownerUid: 'u', owner: 'o', field: 'b' },
    ];
    mock
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled('ConditionalCheckFailed', 'None', 'None'))
      .rejectsOnce(cancelled('None', 'None', 'ConditionalCheckFailed'))
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None'));
    await expect(store.create('Service', svc, { claims })).rejects.toBeInstanceOf(AlreadyExistsError);

    const err = await store.create('Service', svc, { claims }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllocationConflictError);
    expect((err as AllocationConflictError).failed.map((c) => c.field)).toEqual(['b']);

    const tc = await store.create('Service', svc, { claims }).catch((e: unknown) => e);
    expect(tc).toBeInstanceOf(TransientError);
    expect((tc as TransientError).reason).toBe('TransactionCancelled');
  });

  it('putRecord is an UpdateItem with ADD version and the expected-version condition', async () => {
    mock.on(UpdateItemCommand).resolves({ Attributes: { version: 5 } });
    const store = new Store(ddb, 'T');
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
    const store = new Store(ddb, 'T');
    const pods = await store.list('Pod', 'x');
    expect(pods.map((p) => p.metadata?.name)).toEqual(['a', 'b']);
    const calls = mock.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.KeyConditionExpression).toBe('pk = :pk AND begins_with(sk, :prefix)');
    expect(calls[0]!.args[0].input.ConsistentRead).toBe(true);
    expect(calls[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: 'obj#Pod', sk: 'x/a' });
  });
});

describe('ApiServer retries what real DynamoDB reports as contention', () => {
  it('a TransactionConflict cancellation is retried and the write then succeeds', async () => {
    mock.on(GetItemCommand).resolves({});
    mock.on(TransactWriteItemsCommand).rejectsOnce(cancelled('None', 'TransactionConflict')).resolves({});
    const api = new ApiServer({ dynamodb: ddb, tableName: 'T', cfg: DEFAULT_CLUSTER_CONFIG });
    const r = await api.applyService({ metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
    expect(r.action).toBe('created');
    expect(mock.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
  });
});
