/** Shared fixtures for the handler tests: event envelopes, SQS records, and a Runtime on the shared moto server. */
import type { SQSRecord } from 'aws-lambda';
import type { AwsClients, ClientMiddleware } from '../../lib/aws/clients.js';
import { readControllerEnv } from '../../lib/config-env.js';
import type { DataPlanePusher, Logger } from '../../lib/controller/controller.js';
import type { PushTrigger } from '../../lib/dataplane/triggers.js';
import type { ChangeType, ObjectMessage } from '../../lib/events/object-message.js';
import { messageGroupFor } from '../../lib/store/log.js';
import type { KubeObject } from '../../lib/store/types.js';
import { buildRuntime, type Runtime } from '../../lib/runtime/runtime.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';

/** The object message the change log's stream produces for a write whose result is `obj`. */
export function messageFor(obj: KubeObject, type: ChangeType, opts: { subresource?: 'status' } = {}): ObjectMessage {
  const m = obj.metadata ?? {};
  return {
    kind: obj.kind ?? 'Service',
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    rev: Number(m.resourceVersion),
    type,
    ...opts,
  };
}

/** The SQS FIFO record carrying `msg`, grouped as the Pipe groups it. */
export function messageRecord(msg: ObjectMessage): SQSRecord {
  return sqsRecord(msg, messageGroupFor(msg.kind, msg.namespace, msg.name));
}

let recordSeq = 0;

/** One SQS FIFO record as Lambda's event source mapping hands it over. */
export function sqsRecord(body: unknown, group: string, messageId = `msg-${++recordSeq}`): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: group,
      MessageDeduplicationId: messageId,
      SequenceNumber: String(recordSeq),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:events.fifo',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: SQSRecord[]) {
  return { Records: records };
}

/** A Service manifest in the shape an external producer (a mirror of a real cluster) would send. */
export function externalService(
  ns: string,
  name: string,
  opts: { uid?: string; rv?: string; type?: string; port?: number; annotations?: Record<string, string> } = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ns,
      ...(opts.uid ? { uid: opts.uid } : {}),
      ...(opts.rv ? { resourceVersion: opts.rv } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      type: opts.type ?? 'ClusterIP',
      selector: { app: name },
      ports: [{ name: 'http', port: opts.port ?? 80, protocol: 'TCP', targetPort: 8080 }],
    },
  };
}

export function externalPod(ns: string, name: string, opts: { uid?: string; rv?: string; ip?: string } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { app: name },
      ...(opts.uid ? { uid: opts.uid } : {}),
      ...(opts.rv ? { resourceVersion: opts.rv } : {}),
    },
    spec: { containers: [{ name: 'app', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: opts.ip ?? '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Records every push trigger, so tests can tell processed events (which ask for a push) from skipped ones. */
export class RecordingPusher implements DataPlanePusher {
  triggers: PushTrigger[] = [];
  async request(trigger: PushTrigger): Promise<void> {
    this.triggers.push(trigger);
  }
  /** The triggers as short text: `objects`, `resync`, `node-joined i-...`, `retry i-... after 10s`. */
  get reasons(): string[] {
    return this.triggers.map((t) =>
      t.kind === 'retry'
        ? `retry ${t.instanceIds.join(',')} after ${t.delaySeconds ?? 0}s`
        : 'instanceId' in t
          ? `${t.kind} ${t.instanceId}`
          : t.kind,
    );
  }
}

/**
 * Keeps the controller's structured log lines (decisions are logged as `object message`). The methods are arrow
 * properties because lib/runtime/runtime.ts passes them on unbound (`(cond ? log.error : log.info)(...)`).
 */
export class RecordingLogger implements Logger {
  lines: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
  info = (msg: string, data?: Record<string, unknown>) => {
    this.lines.push({ level: 'info', msg, data });
  };
  warn = (msg: string, data?: Record<string, unknown>) => {
    this.lines.push({ level: 'warn', msg, data });
  };
  error = (msg: string, data?: Record<string, unknown>) => {
    this.lines.push({ level: 'error', msg, data });
  };
  decisions(): string[] {
    return this.lines.filter((l) => l.msg === 'object message').map((l) => `${l.data?.key}:${l.data?.decision}`);
  }
}

/**
 * A client middleware that makes DynamoDB calls touching one object's key fail, as a throttled or unavailable
 * table would: the error is a plain SDK-style error, which the handlers must treat as transient.
 * It matches on the request input text, so it works whether the DocumentClient has marshalled the key yet or not.
 */
export function failDynamoFor(match: { kind: string; key: string }, enabled: () => boolean): ClientMiddleware {
  return {
    name: `fail-dynamo-${match.kind}-${match.key}`,
    middleware:
      (next: (a: unknown) => Promise<unknown>, context: { clientName?: string }) =>
      async (args: { input?: unknown }) => {
        const text = JSON.stringify(args.input ?? {});
        if (
          enabled() &&
          context.clientName === 'DynamoDBClient' &&
          text.includes(`obj#${match.kind}`) &&
          text.includes(match.key)
        ) {
          const err = new Error('Rate of requests exceeds the allowed throughput.');
          err.name = 'ProvisionedThroughputExceededException';
          throw err;
        }
        return next(args);
      },
  };
}

/** A client middleware that fails every call of one SDK command (by class name) while `enabled()` holds. */
export function failCommand(commandName: string, errorName: string, enabled: () => boolean): ClientMiddleware {
  return {
    name: `fail-${commandName}`,
    middleware:
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (enabled() && context.commandName === commandName) {
          const err = new Error(`injected ${errorName}`);
          err.name = errorName;
          throw err;
        }
        return next(args);
      },
  };
}

export interface TestRuntime {
  rt: Runtime;
  tableName: string;
  clusterName: string;
  clients: AwsClients;
  pusher: RecordingPusher;
  log: RecordingLogger;
}

/** A Runtime on moto with its own table (and cluster name); extra env entries add a VPC for LoadBalancer tests. */
export async function makeTestRuntime(
  opts: {
    env?: Record<string, string>;
    middleware?: ClientMiddleware[];
    clusterName?: string;
    tableName?: string;
  } = {},
): Promise<TestRuntime> {
  const clients = motoClients({ middleware: opts.middleware });
  const tableName = opts.tableName ?? uniqueName('handlers');
  const clusterName = opts.clusterName ?? uniqueName('hc');
  await ensureTable(clients.dynamodb, tableName);
  const pusher = new RecordingPusher();
  const log = new RecordingLogger();
  const env = readControllerEnv({
    TABLE_NAME: tableName,
    CLUSTER_NAME: clusterName,
    // The moto server is shared by parallel test files: their NLBs count against any small quota.
    NLB_QUOTA: '100000',
    ...opts.env,
  });
  const rt = buildRuntime(env, { clients, pusher, log });
  return { rt, tableName, clusterName, clients, pusher, log };
}
