/**
 * The Event recorder on the write path against moto (DynamoDB): the same event from two processes bumps one Event,
 * an expired Event of the same name does not block recording, and recording never fails its caller (a terminating
 * namespace drops the Event silently; a failing table is logged).
 */
import { describe, expect, it } from 'vitest';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { CoreV1Event } from '@kubernetes/client-node';
import { NAMESPACES } from '../../lib/api/resources.js';
import { EventRecorder, SOURCES } from '../../lib/controller/event-recorder.js';
import { keys } from '../../lib/store/table.js';
import { failDynamoFor, makeTestRuntime, RecordingLogger } from '../handlers/support.js';
import { uniqueName } from '../support/aws.js';

const svcRef = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'web', uid: 'u-1' });

describe('EventRecorder (moto)', () => {
  it('the same event recorded by two processes: one Event, count 2', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('ev');
    await t.rt.api.applyService({ metadata: { name: 'web', namespace: ns }, spec: { ports: [{ port: 80 }] } });
    const a = new EventRecorder({ writes: t.rt.api.writes }).for(SOURCES.service);
    const b = new EventRecorder({ writes: t.rt.api.writes }).for(SOURCES.service);
    await a.event(svcRef(ns), 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await b.event(svcRef(ns), 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    const [ev, ...more] = await t.rt.store.list<CoreV1Event>('Event', ns);
    expect(more).toEqual([]);
    expect(ev).toMatchObject({
      count: 2,
      reason: 'EnsuringLoadBalancer',
      metadata: { name: expect.stringMatching(/^web\./) },
    });
  });

  it('an expired Event of the same name (still in the table until TTL removes it) does not block recording', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('ev');
    await t.rt.api.applyService({ metadata: { name: 'web', namespace: ns }, spec: { ports: [{ port: 80 }] } });
    const rec = new EventRecorder({ writes: t.rt.api.writes }).for(SOURCES.service);
    await rec.event(svcRef(ns), 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await rec.event(svcRef(ns), 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    const [old] = await t.rt.store.list<CoreV1Event>('Event', ns);
    // Expired an hour ago: hidden from reads, but DynamoDB's TTL may take days to delete the item.
    await t.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: { pk: { S: keys.object('Event', ns, '').pk }, sk: { S: `${ns}/${old!.metadata.name}` } },
        UpdateExpression: 'SET expiresAt = :t',
        ExpressionAttributeValues: { ':t': { N: String(Math.floor(Date.now() / 1000) - 3600) } },
      }),
    );
    expect(await t.rt.store.list('Event', ns)).toEqual([]);
    await new EventRecorder({ writes: t.rt.api.writes })
      .for(SOURCES.service)
      .event(svcRef(ns), 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    const [fresh] = await t.rt.store.list<CoreV1Event>('Event', ns);
    expect(fresh).toMatchObject({ count: 1, metadata: { name: old!.metadata.name } });
  });

  it('never fails its caller: a terminating namespace drops the Event, a failing table is logged', async () => {
    let failing = false;
    const t = await makeTestRuntime({ middleware: [failDynamoFor({ kind: 'Event', key: '/' }, () => failing)] });
    const ns = uniqueName('ev');
    await t.rt.api.applyService({ metadata: { name: 'web', namespace: ns }, spec: { ports: [{ port: 80 }] } });
    const log = new RecordingLogger();
    const rec = new EventRecorder({ writes: t.rt.api.writes, log }).for(SOURCES.service);
    failing = true;
    await rec.event(svcRef(ns), 'Warning', 'SyncLoadBalancerFailed', 'Error syncing load balancer: x');
    expect(log.lines.map((l) => [l.msg, l.data?.reason])).toEqual([['event not recorded', 'SyncLoadBalancerFailed']]);
    failing = false;
    await t.rt.api.writes.delete(NAMESPACES, undefined, ns);
    await rec.event(svcRef(ns), 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
    expect(log.lines).toHaveLength(1);
    expect(await t.rt.store.list('Event', ns)).toEqual([]);
  });
});
