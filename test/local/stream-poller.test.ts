/**
 * The local stand-in for the deployed Pipe: the table's real DynamoDB stream (moto) read by the stream poller,
 * each change-log INSERT forwarded to a FIFO queue as an object message with its group and deduplication id, a
 * restarted poller resuming after its checkpoint, and a running poller still following the stream after a cancelled
 * transaction.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { V1Service } from '@kubernetes/client-node';
import { ApiServer } from '../../lib/api/server.js';
import { makeStreamsClient } from '../../tools/local/clients.js';
import { EventRecorder, SOURCES } from '../../lib/controller/event-recorder.js';
import { serializeRequests } from '../../lib/aws/serialize.js';
import type { ObjectMessage } from '../../lib/events/object-message.js';
import { StreamPoller } from '../../tools/local/stream-poller.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';

const clients = motoClients();
serializeRequests(clients.dynamodb);

async function drainQueue(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) return out;
    out.push(...msgs);
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

describe('stream poller (moto DynamoDB Streams -> SQS FIFO)', () => {
  let table: string;
  let queueUrl: string;
  let store: DynamoStore;
  let api: ApiServer;
  const poller = () =>
    new StreamPoller({
      dynamodb: clients.dynamodb,
      streams: makeStreamsClient(),
      sqs: clients.sqs,
      records: store,
      tableName: table,
      queueUrl,
    });

  beforeAll(async () => {
    table = uniqueName('stream');
    await ensureTable(clients.dynamodb, table);
    const q = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: `${uniqueName('objects')}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    queueUrl = q.QueueUrl!;
    store = new DynamoStore(clients.dynamodb, table);
    api = new ApiServer({ store, cfg: DEFAULT_CLUSTER_CONFIG });
  });

  it('forwards one message per committed write, grouped per object, deduplicated by revision; nothing else', async () => {
    const web = await api.applyService({
      metadata: { name: 'web', namespace: 'team' },
      spec: { ports: [{ port: 80 }] },
    });
    await api.applyService({
      metadata: { name: 'web', namespace: 'team', labels: { v: '2' } },
      spec: { ports: [{ port: 80 }] },
    });
    await api.updateServiceStatus('team', 'web', (s) => ({ ...s, conditions: [] }));
    await api.deleteService('team', 'web');
    await store.putRecord('unrelated', 'x', { a: 1 }); // not an object write: no revision, no message
    const p = poller();
    await p.drain();
    const msgs = await drainQueue(queueUrl);
    const bodies = msgs.map((m) => JSON.parse(m.Body!) as ObjectMessage);
    const current = await store.currentRevision();
    // Every revision exactly once (the namespaces bootstrapped on first write included), in commit order.
    expect(bodies.map((b) => b.rev)).toEqual(Array.from({ length: current }, (_, i) => i + 1));
    for (const m of msgs) {
      const b = JSON.parse(m.Body!) as ObjectMessage;
      expect(m.Attributes?.MessageGroupId).toBe(`${b.kind}/${b.namespace}/${b.name}`);
      expect(m.Attributes?.MessageDeduplicationId).toBe(String(b.rev));
    }
    const mine = bodies.filter((b) => b.kind === 'Service');
    expect(mine.map((b) => `${b.type}${b.subresource ? `/${b.subresource}` : ''}`)).toEqual([
      'ADDED',
      'MODIFIED',
      'MODIFIED/status',
      'DELETED',
    ]);
    expect(mine.every((b) => b.uid === (web.object as V1Service).metadata?.uid && b.namespace === 'team')).toBe(true);
    expect(bodies.filter((b) => b.kind === 'Namespace').map((b) => b.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system', 'team']),
    );
  });

  it('a restarted poller resumes after its checkpoint: only writes made since are forwarded', async () => {
    await api.applyService({ metadata: { name: 'later', namespace: 'team' }, spec: { ports: [{ port: 81 }] } });
    const fresh = poller();
    await fresh.drain();
    const bodies = (await drainQueue(queueUrl)).map((m) => JSON.parse(m.Body!) as ObjectMessage);
    expect(bodies.map((b) => `${b.type} ${b.namespace}/${b.name}`)).toEqual(['ADDED team/later']);
    expect(bodies[0]!.rev).toBe(await store.currentRevision());
  });

  it("an Event written (and bumped) is forwarded as nothing, like the Pipe's filter: Events never reconcile", async () => {
    const rec = new EventRecorder({ writes: api.writes }).for(SOURCES.service);
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'team', name: 'later', uid: 'u' };
    await rec.event(ref, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await rec.event(ref, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await api.deleteService('team', 'later');
    await poller().drain();
    const bodies = (await drainQueue(queueUrl)).map((m) => JSON.parse(m.Body!) as ObjectMessage);
    expect(bodies.map((b) => `${b.type} ${b.kind} ${b.namespace}/${b.name}`)).toEqual(['DELETED Service team/later']);
    expect(await store.list('Event', 'team')).toHaveLength(1);
  });

  it('a cancelled transaction with an Update: a running poller forwards the writes after it, and nothing of it', async () => {
    const p = poller();
    await p.drain();
    await drainQueue(queueUrl);
    // An allocation block's Update, a change-log entry and a failed condition: DynamoDB cancels the whole
    // transaction. moto's own rollback swapped in a copy of the table and of its stream shard, so the iterator this
    // poller holds kept the cancelled records and never saw another write (tools/local/moto_server.py).
    const S = (v: string) => ({ S: v });
    const cancelled = clients.dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: { pk: S('test'), sk: S('block') },
              UpdateExpression: 'SET n = :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
          {
            Put: {
              TableName: table,
              Item: {
                pk: S('log'),
                sk: S('cancelled'),
                kind: S('Service'),
                namespace: S('team'),
                name: S('never'),
                uid: S('u'),
                rev: { N: '999999' },
                type: S('ADDED'),
                group: S('Service/team/never'),
              },
            },
          },
          {
            ConditionCheck: {
              TableName: table,
              Key: { pk: S('test'), sk: S('missing') },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
      }),
    );
    await expect(cancelled).rejects.toBeInstanceOf(TransactionCanceledException);
    await api.applyService({ metadata: { name: 'after', namespace: 'team' }, spec: { ports: [{ port: 82 }] } });
    await p.drain();
    const bodies = (await drainQueue(queueUrl)).map((m) => JSON.parse(m.Body!) as ObjectMessage);
    expect(bodies.map((b) => `${b.type} ${b.namespace}/${b.name}`)).toEqual(['ADDED team/after']);
  });
});
