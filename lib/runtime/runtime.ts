/**
 * Wiring for one process (a Lambda container, svcctl, or the local loop): clients, the API write path, the
 * controller, the data-plane pusher and driver. Built once per container from the environment
 * (lib/config-env.ts); every piece is injectable so tests and the local mode substitute their own.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ApiServer } from '../api/server.js';
import { makeClients, type AwsClients } from '../aws/clients.js';
import { Throttle } from '../aws/throttle.js';
import type { ControllerEnv } from '../config-env.js';
import { Controller, type DataPlanePusher, type Logger } from '../controller/controller.js';
import { RecordStoreDataPlaneStateStore } from '../dataplane/state-store.js';
import type { DriverDeps } from '../dataplane/ssm-driver.js';
import type { DataPlaneState } from '../dataplane/render/state.js';
import type { PushRequest } from '../dataplane/coalesce.js';
import type { LoadBalancerContext } from '../lb/index.js';
import { ec2Nodes, loadDataPlaneState } from './dataplane-state.js';

export interface Runtime {
  env: ControllerEnv;
  clients: AwsClients;
  api: ApiServer;
  controller: Controller;
  pusher: DataPlanePusher & { requestRaw(req: Omit<PushRequest, 'generation'>): Promise<void> };
  /** Present when the data plane is configured (ARTIFACT_BUCKET and SSM_DOCUMENT_NAME). */
  driver?: DriverDeps & { loadDesired: () => Promise<{ generation: number; state: DataPlaneState }> };
  dataPlaneStore: RecordStoreDataPlaneStateStore;
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
}

/** Increments the desired-state generation and enqueues a push request; the push function coalesces bursts. */
class SqsPusher {
  constructor(
    private readonly rt: () => Runtime,
    private readonly queueUrl: string | undefined,
  ) {}
  async request(reason: string): Promise<void> {
    await this.requestRaw({ full: /running|joined|resync/.test(reason) });
  }
  async requestRaw(req: Omit<PushRequest, 'generation'>): Promise<void> {
    if (!this.queueUrl) return; // data plane not configured: control plane only
    const rt = this.rt();
    const generation = await rt.api.store.nextSequence(`dataplane-generation-${rt.env.cluster.clusterName}`);
    await rt.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify({ ...req, generation }) }),
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
  const api = new ApiServer({ dynamodb: clients.dynamodb, tableName: env.tableName, cfg: env.cluster });
  const dataPlaneStore = new RecordStoreDataPlaneStateStore(api.store, env.cluster.clusterName);
  // eslint-disable-next-line prefer-const
  let rt: Runtime;
  const pusher = opts.pusher ?? new SqsPusher(() => rt, env.pushQueueUrl);
  const controller = new Controller({
    api,
    ec2: clients.ec2,
    clusterName: env.cluster.clusterName,
    lb: lbContextFor(env, clients, opts.log),
    pusher,
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
          presign: opts.presign,
          loadDesired: async () => ({
            generation: 0,
            state: await loadDataPlaneState(
              api,
              env.cluster,
              ec2Nodes(clients.ec2, env.cluster.clusterName),
              opts.podCidr,
            ),
          }),
        }
      : undefined;
  rt = { env, clients, api, controller, pusher, driver, dataPlaneStore };
  return rt;
}
