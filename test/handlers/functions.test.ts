/**
 * The deployed Lambda entry points (functions/*.ts): middy + Powertools around the handler logic, with the
 * container's Runtime built from the environment on first use, or injected with setContainerRuntime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { V1Service } from '@kubernetes/client-node';
import { TransientError } from '../../lib/errors.js';
// Type only: the module itself is loaded after the environment is set (see beforeAll).
import type { setContainerRuntime as SetContainerRuntime } from '../../lib/handlers/container.js';
import { ApiServer } from '../../lib/api/server.js';
import { readControllerEnv } from '../../lib/config-env.js';
import { buildRuntime } from '../../lib/runtime/runtime.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import {
  envelope,
  externalService,
  failDynamoFor,
  makeTestRuntime,
  sqsEvent,
  sqsRecord,
  RecordingLogger,
} from './support.js';

type Fn = (event: unknown, context: Context) => Promise<unknown>;

function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: '2026/11/21/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const clients = motoClients();
const envTable = uniqueName('fn-env');
const envCluster = uniqueName('fnc');
let queueUrl: string;
let handlers: Record<'serviceEvents' | 'nodeEvents' | 'resync' | 'dataplanePush' | 'ssmStatus', Fn>;
let setContainerRuntime: typeof SetContainerRuntime;
const saved = { ...process.env };

beforeAll(async () => {
  await ensureTable(clients.dynamodb, envTable);
  queueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('push') }))).QueueUrl!;
  // The environment the CDK construct gives the functions; set before the modules are loaded, as in Lambda.
  Object.assign(process.env, {
    TABLE_NAME: envTable,
    CLUSTER_NAME: envCluster,
    PUSH_QUEUE_URL: queueUrl,
    POWERTOOLS_SERVICE_NAME: 'handlers-test',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_NAMESPACE: 'HandlersTest',
  });
  const load = async (p: string) => (await import(p)).handler as Fn;
  handlers = {
    serviceEvents: await load('../../functions/service-events.js'),
    nodeEvents: await load('../../functions/node-events.js'),
    resync: await load('../../functions/resync.js'),
    dataplanePush: await load('../../functions/dataplane-push.js'),
    ssmStatus: await load('../../functions/ssm-status.js'),
  };
  setContainerRuntime = (await import('../../lib/handlers/container.js')).setContainerRuntime;
});

afterAll(() => {
  setContainerRuntime?.(undefined);
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('functions/*.ts with the runtime built from the environment', () => {
  it('service-events: an EventBridge event is written to TABLE_NAME and a push request lands on PUSH_QUEUE_URL', async () => {
    setContainerRuntime(undefined); // cold start: the container builds its runtime from process.env
    const ns = uniqueName('ns');
    const out = await handlers.serviceEvents(
      envelope('Service', 'ADDED', externalService(ns, 'from-env')),
      lambdaContext('service-events'),
    );
    expect(out).toBeUndefined();
    const api = new ApiServer({ dynamodb: clients.dynamodb, tableName: envTable, cfg: readControllerEnv().cluster });
    expect((await api.getService(ns, 'from-env')).spec?.clusterIP).toBeTruthy();

    const msgs = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const bodies = (msgs.Messages ?? []).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
    expect(bodies).toEqual([{ full: false, generation: 1 }]);
  });
});

describe('functions/*.ts with an injected runtime', () => {
  it('service-events: an SQS batch returns batchItemFailures for the transient record only', async () => {
    const ns = uniqueName('ns');
    const t = await makeTestRuntime({
      middleware: [failDynamoFor({ kind: 'Service', key: `${ns}/flaky` }, () => true)],
    });
    setContainerRuntime(t.rt);
    const ok = sqsRecord(envelope('Service', 'ADDED', externalService(ns, 'fine')), 'fine');
    const flaky = sqsRecord(envelope('Service', 'ADDED', externalService(ns, 'flaky')), 'flaky');
    const junk = sqsRecord('}{', 'junk');
    const out = await handlers.serviceEvents(sqsEvent([ok, flaky, junk]), lambdaContext('service-events'));
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: flaky.messageId }] });
    expect((await t.rt.api.getService(ns, 'fine')).spec?.clusterIP).toBeTruthy();
  });

  it('service-events: a direct EventBridge event acknowledges bad input and rethrows a transient failure', async () => {
    const ns = uniqueName('ns');
    const t = await makeTestRuntime({
      middleware: [failDynamoFor({ kind: 'Service', key: `${ns}/flaky` }, () => true)],
    });
    setContainerRuntime(t.rt);
    const ctx = lambdaContext('service-events');
    // Permanent: acknowledged (resolves), so Lambda's async retries do not repeat it.
    await expect(handlers.serviceEvents({ source: 'elsewhere', detail: {} }, ctx)).resolves.toBeUndefined();
    // Transient: rethrown, so the asynchronous invocation is retried.
    await expect(
      handlers.serviceEvents(envelope('Service', 'ADDED', externalService(ns, 'flaky')), ctx),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });

  it('node-events: handled, invalid (acknowledged) and transient (rethrown) events', async () => {
    const t = await makeTestRuntime();
    let failPush = false;
    const calls: string[] = [];
    const rt = buildRuntime(t.rt.env, {
      clients: t.clients,
      log: new RecordingLogger(),
      pusher: {
        async request(reason: string) {
          if (failPush) throw new TransientError('push queue unavailable', 'Unavailable');
          calls.push(reason);
        },
        async requestRaw() {},
      },
    });
    setContainerRuntime(rt);
    const ctx = lambdaContext('node-events');
    const running = {
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': 'i-0123456789abcdef0', state: 'running' },
    };
    await expect(handlers.nodeEvents(running, ctx)).resolves.toBeUndefined();
    expect(calls).toEqual(['node i-0123456789abcdef0 running']);
    await expect(
      handlers.nodeEvents({ 'detail-type': 'EC2 Instance State-change Notification', detail: {} }, ctx),
    ).resolves.toBeUndefined();
    failPush = true;
    await expect(handlers.nodeEvents(running, ctx)).rejects.toThrow('push queue unavailable');
    expect(calls).toHaveLength(1);
  });

  it('resync: returns the counts of its pass', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('ns');
    for (const name of ['a', 'b', 'c']) await t.rt.api.applyService(externalService(ns, name) as unknown as V1Service);
    setContainerRuntime(t.rt);
    const out = await handlers.resync(
      { 'detail-type': 'Scheduled Event', source: 'aws.scheduler' },
      lambdaContext('resync'),
    );
    // Control plane only (no VPC configured): nothing to sweep or requeue.
    expect(out).toEqual({ reconciled: 3, swept: [], requeue: [] });
    expect(t.pusher.reasons).toEqual(['resync']);
  });

  it('dataplane-push: without a configured data plane the batch is skipped', async () => {
    const t = await makeTestRuntime();
    setContainerRuntime(t.rt);
    const out = await handlers.dataplanePush(
      sqsEvent([sqsRecord('{"generation":1}', 'g'), sqsRecord('oops', 'g')]),
      lambdaContext('dataplane-push'),
    );
    expect(out).toEqual({ pushed: undefined, retried: [], skipped: 'data plane not configured' });
  });

  it('ssm-status: a failed invocation of our command is recorded in the table and retried', async () => {
    const t = await makeTestRuntime();
    setContainerRuntime(t.rt);
    await t.rt.dataPlaneStore.putCommand('cmd-abc', 4);
    const ctx = lambdaContext('ssm-status');
    const ev = (commandId: string, status: string) => ({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      detail: { 'command-id': commandId, 'instance-id': 'i-0123456789abcdef0', status },
    });
    expect(await handlers.ssmStatus(ev('not-ours', 'Failed'), ctx)).toBeUndefined();
    const node = await handlers.ssmStatus(ev('cmd-abc', 'Failed'), ctx);
    expect(node).toMatchObject({ instanceId: 'i-0123456789abcdef0', failedVersion: 4, lastStatus: 'Failed' });
    expect(await t.rt.dataPlaneStore.listNodes()).toMatchObject([{ failedVersion: 4 }]);
    expect(t.pusher.raw).toEqual([{ retryInstances: ['i-0123456789abcdef0'] }]);
  });
});
