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
import { ensureLocalClusterAws, launchLocalNode } from '../../tools/local/cluster-aws.js';
import type { PushTrigger } from '../../lib/dataplane/triggers.js';
import type { SsmStatusOutcome } from '../../lib/handlers/dataplane.js';
import { motoClients, uniqueName } from '../support/aws.js';
import {
  externalService,
  failDynamoFor,
  makeTestRuntime,
  messageFor,
  messageRecord,
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
  it('service-events: a message for a Service written to TABLE_NAME is reconciled and a push request lands on PUSH_QUEUE_URL', async () => {
    setContainerRuntime(undefined); // cold start: the container builds its runtime from process.env
    const ns = uniqueName('ns');
    const api = new ApiServer({ dynamodb: clients.dynamodb, tableName: envTable, cfg: readControllerEnv().cluster });
    const written = await api.applyService(externalService(ns, 'from-env') as unknown as V1Service);
    const out = await handlers.serviceEvents(
      sqsEvent([messageRecord(messageFor(written.object, 'ADDED'))]),
      lambdaContext('service-events'),
    );
    expect(out).toEqual({ batchItemFailures: [] });
    const msgs = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const bodies = (msgs.Messages ?? []).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
    expect(bodies).toEqual([{ kind: 'objects', generation: 1 }]); // a typed trigger, no text to match
  });
});

describe('functions/*.ts with an injected runtime', () => {
  it('service-events: an SQS batch returns batchItemFailures for the transient record only', async () => {
    const ns = uniqueName('ns');
    let failing = false;
    const t = await makeTestRuntime({
      middleware: [failDynamoFor({ kind: 'Service', key: `${ns}/flaky` }, () => failing)],
    });
    const fine = (await t.rt.api.applyService(externalService(ns, 'fine') as unknown as V1Service)).object;
    const bad = (await t.rt.api.applyService(externalService(ns, 'flaky') as unknown as V1Service)).object;
    failing = true;
    setContainerRuntime(t.rt);
    const ok = messageRecord(messageFor(fine, 'ADDED'));
    const flaky = messageRecord(messageFor(bad, 'ADDED'));
    const junk = sqsRecord('}{', 'junk');
    const out = await handlers.serviceEvents(sqsEvent([ok, flaky, junk]), lambdaContext('service-events'));
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: flaky.messageId }] });
    expect(t.pusher.reasons).toEqual(['objects']);
  });

  it('node-events: handled, invalid (acknowledged) and transient (rethrown) events', async () => {
    const t = await makeTestRuntime();
    const aws = await ensureLocalClusterAws(t.clients.ec2, t.clusterName, 'us-east-1');
    const node = await launchLocalNode(t.clients.ec2, t.clusterName, aws, 0);
    let failPush = false;
    const calls: PushTrigger[] = [];
    const rt = buildRuntime(t.rt.env, {
      clients: t.clients,
      log: new RecordingLogger(),
      pusher: {
        async request(trigger) {
          if (failPush) throw new TransientError('push queue unavailable', 'Unavailable');
          calls.push(trigger);
        },
      },
    });
    setContainerRuntime(rt);
    const ctx = lambdaContext('node-events');
    const running = {
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': node.instanceId, state: 'running' },
    };
    await expect(handlers.nodeEvents(running, ctx)).resolves.toBeUndefined();
    expect(calls).toEqual([{ kind: 'node-joined', instanceId: node.instanceId }]);
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
    expect(out).toEqual({ reconciled: 3, swept: [], requeue: [], failed: [] });
    expect(t.pusher.reasons).toEqual(['resync']);
  });

  it('dataplane-push: without a configured data plane the batch is skipped', async () => {
    const t = await makeTestRuntime();
    setContainerRuntime(t.rt);
    const out = await handlers.dataplanePush(
      sqsEvent([sqsRecord('{"generation":1}', 'g'), sqsRecord('oops', 'g')]),
      lambdaContext('dataplane-push'),
    );
    expect(out).toEqual({ retried: [], pruned: [], skipped: 'data plane not configured' });
  });

  it('ssm-status: a failed invocation of our command is recorded in the table and retried', async () => {
    const t = await makeTestRuntime();
    setContainerRuntime(t.rt);
    await t.rt.dataPlaneStore.putCommand('cmd-abc', { version: 4, digests: { '*': 'digest-4' } });
    const ctx = lambdaContext('ssm-status');
    const ev = (commandId: string, status: string) => ({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      detail: { 'command-id': commandId, 'instance-id': 'i-0123456789abcdef0', status },
    });
    expect(await handlers.ssmStatus(ev('not-ours', 'Failed'), ctx)).toEqual({ node: undefined, gaveUp: false });
    const out = (await handlers.ssmStatus(ev('cmd-abc', 'Failed'), ctx)) as SsmStatusOutcome;
    expect(out.node).toMatchObject({ instanceId: 'i-0123456789abcdef0', failedVersion: 4, lastStatus: 'Failed' });
    expect(await t.rt.dataPlaneStore.listNodes()).toMatchObject([{ failedVersion: 4, failures: 1 }]);
    // that node alone, after its first backoff (10 s); no new version for anyone
    expect(t.pusher.triggers).toEqual([{ kind: 'retry', instanceIds: ['i-0123456789abcdef0'], delaySeconds: 10 }]);
  });
});
