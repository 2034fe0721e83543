/**
 * Wiring for one process (a Lambda container, svcctl, or the local loop): clients, the API write path, the
 * controller, the data-plane pusher and driver. Built once per container from the environment
 * (lib/config-env.ts); every piece is injectable so tests and the local mode substitute their own.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ApiServer } from '../api/server.js';
import { DynamoStore } from '../store/store.js';
import type { Store } from '../store/types.js';
import { makeClients, type AwsClients } from '../aws/clients.js';
import { Throttle } from '../aws/throttle.js';
import type { ControllerEnv } from '../config-env.js';
import { Controller, type DataPlanePusher, type Logger } from '../controller/controller.js';
import { RecordStoreDataPlaneStateStore } from '../dataplane/state-store.js';
import type { DriverDeps } from '../dataplane/ssm-driver.js';
import type { DataPlaneState } from '../dataplane/render/state.js';
import type { PushTrigger } from '../dataplane/triggers.js';
import type { RetryPolicy } from '../dataplane/node-status.js';
import type { LoadBalancerContext } from '../lb/index.js';
import { ec2Nodes, loadDataPlaneState } from './dataplane-state.js';
import { NodeLifecycle } from '../controller/node-lifecycle.js';
import { EventRecorder, SOURCES } from '../controller/event-recorder.js';
import { dataPlaneDrained } from '../dataplane/drain.js';
import { dataPlaneNodeReport } from '../dataplane/report.js';
import { discoverNodes } from '../nodes/discover.js';
import type { NodeInfo } from '../model/types.js';

export interface Runtime {
  env: ControllerEnv;
  clients: AwsClients;
  /** The store the write path, the controller and the data-plane state share. */
  store: Store;
  api: ApiServer;
  controller: Controller;
  pusher: DataPlanePusher;
  /** Present when the data plane is configured (ARTIFACT_BUCKET and SSM_DOCUMENT_NAME). */
  driver?: DriverDeps & { loadDesired: () => Promise<{ generation: number; state: DataPlaneState }> };
  dataPlaneStore: RecordStoreDataPlaneStateStore;
  /** Whether no node's rules route new connections to a leaving node's Pods any more (data plane configured only). */
  drained?: (node: NodeInfo) => Promise<boolean>;
}

export interface RuntimeOptions {
  clients?: AwsClients;
  log?: Logger;
  /** Replaces the SQS-backed pusher (local mode pushes in-process). */
  pusher?: Runtime['pusher'];
  /** Replaces the SSM client used by the data-plane driver (local mode: the namespace transport). */
  ssm?: DriverDeps['ssm'];
  presign?: DriverDeps['presign'];
  podCidr?: string;
  /** Per-node retry backoff (local mode: shorter than in AWS). */
  retryPolicy?: RetryPolicy;
}

/** SQS allows at most 900 s of DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

/**
 * Enqueues push triggers; the push function coalesces bursts. A trigger that may need a new version carries the next
 * desired-state generation; a retry carries none (it is never a new version) and waits out its backoff on the queue
 * (DelaySeconds).
 */
class SqsPusher implements DataPlanePusher {
  constructor(
    private readonly rt: () => Runtime,
    private readonly queueUrl: string | undefined,
  ) {}
  async request(t: PushTrigger): Promise<void> {
    if (!this.queueUrl) return; // data plane not configured: control plane only
    const rt = this.rt();
    if (t.kind === 'retry') {
      const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(t.delaySeconds ?? 0)));
      const body = JSON.stringify({ kind: 'retry', instanceIds: t.instanceIds });
      await rt.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body, DelaySeconds: delay }),
      );
      return;
    }
    const generation = await rt.store.nextSequence(`dataplane-generation-${rt.env.cluster.clusterName}`);
    await rt.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify({ ...t, generation }) }),
    );
  }
}

export function lbContextFor(env: ControllerEnv, clients: AwsClients, log?: Logger): LoadBalancerContext | undefined {
  if (!env.vpcId) return undefined;
  return {
    clients: { ec2: clients.ec2, elbv2: clients.elbv2 },
    clusterName: env.cluster.clusterName,
    vpcId: env.vpcId,
    nodeSecurityGroupId: env.nodeSecurityGroupId,
    nlbQuota: env.nlbQuota,
    throttle: new Throttle(),
    log: log
      ? (level, message, data) => {
          // Called as methods, so class-based loggers keep their `this`.
          if (level === 'error') log.error(message, data);
          else if (level === 'warn') log.warn(message, data);
          else log.info(message, data);
        }
      : undefined,
  };
}

export function buildRuntime(env: ControllerEnv, opts: RuntimeOptions = {}): Runtime {
  const clients = opts.clients ?? makeClients();
  const store = new DynamoStore(clients.dynamodb, env.tableName);
  const api = new ApiServer({ store, cfg: env.cluster });
  const dataPlaneStore = new RecordStoreDataPlaneStateStore(store, env.cluster.clusterName);
  // eslint-disable-next-line prefer-const
  let rt: Runtime;
  const pusher = opts.pusher ?? new SqsPusher(() => rt, env.pushQueueUrl);
  const recorder = new EventRecorder({ writes: api.writes, log: opts.log });
  const lifecycle = new NodeLifecycle({
    api,
    ec2: clients.ec2,
    selector: env.nodeSelector,
    orphanGraceSeconds: env.podGcOrphanGraceSeconds,
    recorder: recorder.for(SOURCES.node),
  });
  const controller = new Controller({
    api,
    records: store,
    changeLog: store,
    logRetentionSeconds: env.logRetentionSeconds,
    ec2: clients.ec2,
    clusterName: env.cluster.clusterName,
    nodeSelector: env.nodeSelector,
    lifecycle,
    recorder,
    lb: lbContextFor(env, clients, opts.log),
    pusher,
    dataPlane:
      env.artifactBucket && env.ssmDocumentName
        ? async (nodes) => {
            const report = await dataPlaneNodeReport(dataPlaneStore, nodes, opts.retryPolicy);
            return new Map(report.map((r) => [r.instanceId, r]));
          }
        : undefined,
    log: opts.log,
  });
  const driver =
    env.artifactBucket && env.ssmDocumentName
      ? {
          ssm: opts.ssm ?? clients.ssm,
          s3: clients.s3,
          store: dataPlaneStore,
          bucket: env.artifactBucket,
          documentName: env.ssmDocumentName,
          clusterName: env.cluster.clusterName,
          nodeSelector: env.nodeSelector,
          presign: opts.presign,
          retryPolicy: opts.retryPolicy,
          loadDesired: async () => ({
            generation: 0,
            state: await loadDataPlaneState(api, env.cluster, ec2Nodes(clients.ec2, env.nodeSelector), opts.podCidr),
          }),
        }
      : undefined;
  const drained = driver
    ? async (node: NodeInfo) => {
        const live = (await discoverNodes(clients.ec2, env.nodeSelector)).filter((n) => n.state === 'running');
        return dataPlaneDrained(
          dataPlaneStore,
          node,
          live.map((n) => n.instanceId),
        );
      }
    : undefined;
  rt = { env, clients, store, api, controller, pusher, driver, dataPlaneStore, drained };
  return rt;
}
