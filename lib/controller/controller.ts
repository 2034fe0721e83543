/**
 * The reconciler shared by every entry point (Lambda handlers, svcctl's inline mode, the local `npm start` loop).
 * Each method reads the store's latest state, never a message's copy, so retries, duplicates and reordering
 * converge:
 * - object messages (one per committed write, from the change log): reconcile the Service's load balancer with
 *   the latest stored Service (a missing one loses its LB) and ask for a data-plane push;
 * - node changes: one node discovery, every load balancer's targets, one data-plane push (a joining node gets all);
 * - resync: everything, plus the orphan sweep and the change log's compaction.
 * Each of the three also runs the controllers that fill in what kubectl reads (EndpointSlices, Endpoints, Nodes,
 * namespace deletion: cluster-controllers.ts), and the load-balancer work records the service controller's Events.
 */
import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ApiServer } from '../api/server.js';
import { UserConflictError } from '../api/preconditions.js';
import { NotFoundError } from '../errors.js';
import type { ObjectMessage } from '../events/object-message.js';
import {
  deleteServiceLoadBalancer,
  reconcileAll,
  reconcileTargets,
  reconcileService,
  sweep,
  isBeingDeleted,
  wantsLoadBalancer,
  type LoadBalancerContext,
  type LoadBalancerStatus,
} from '../lb/index.js';
import type { NodeDataPlaneView } from '../dataplane/node-status.js';
import type { EventObjectRef } from '../model/events.js';
import { discoverNodes } from '../nodes/discover.js';
import { eligibleNodes } from '../nodes/eligible.js';
import { ClusterControllers } from './cluster-controllers.js';
import { EventRecorder, SOURCES } from './event-recorder.js';
import { LoadBalancerEvents } from './lb-events.js';
import type { NodeSource } from './node-mirror.js';
import { defaultNodeSelector, type NodeSelector } from '../nodes/selector.js';
import { NodeLifecycle } from './node-lifecycle.js';
import { LB_CLEANUP_FINALIZER } from '../model/cluster-names.js';
import { withEligibility } from '../nodes/cluster-eligibility.js';
import { NodeEligibilityRecords } from '../nodes/eligibility-records.js';
import type { PushTrigger } from '../dataplane/triggers.js';
import { keyOf, type NodeInfo } from '../model/types.js';
import type { ChangeLog, KubeObject, RecordStore } from '../store/types.js';
import { isControllerManaged } from '../model/endpoints.js';
import { consoleLogger, type Logger } from './logger.js';
import { GatewayController, StoreBackendPorts, type BackendPorts } from '../gateway/reconcile.js';
import { GATEWAY_KINDS } from '../model/gateway/types.js';

export { consoleLogger, type Logger } from './logger.js';

/** Asks for the data plane to be re-rendered and pushed; implementations coalesce bursts into one push. */
export interface DataPlanePusher {
  request(trigger: PushTrigger): Promise<void>;
}

export interface ControllerDeps {
  /** The write path: reads of Services, Pods, Endpoints and the Service status writes. */
  api: ApiServer;
  /** Controller state (leaving nodes, the published cluster settings). */
  records: RecordStore;
  /** The change log, compacted by every resync (absent: no compaction, e.g. svcctl's inline reconciler). */
  changeLog?: Pick<ChangeLog, 'compact'>;
  /** How long the change log keeps entries, in seconds (default 600: watches may resume within ten minutes). */
  logRetentionSeconds?: number;
  ec2: EC2Client;
  clusterName: string;
  /** Which instances are nodes; default: the cluster tag, owned or shared (lib/nodes/selector.ts). */
  nodeSelector?: NodeSelector;
  /** Absent when no VPC is configured (control plane only): LoadBalancer Services then stay <pending>. */
  lb?: LoadBalancerContext;
  pusher?: DataPlanePusher;
  /** Node lifecycle (leaving nodes, their Pods, pod GC); default: built from api, ec2 and the node selector. */
  lifecycle?: NodeLifecycle;
  /** Where Node objects come from; default: every instance mirrored (node-mirror.ts). */
  nodeSource?: NodeSource;
  /** Each node's data-plane status, for the Nodes' DataPlaneReady condition (absent: data plane not configured). */
  dataPlane?: (nodes: readonly NodeInfo[]) => Promise<Map<string, NodeDataPlaneView>>;
  /** Records Events; default: one on the write path. */
  recorder?: EventRecorder;
  /** Node ports of the data plane's own for Gateway backends without a NodePort (ClusterIP Services). */
  backendPorts?: BackendPorts;
  log?: Logger;
}

/**
 * What a message led to:
 * - `stale`: the stored object moved on (a later revision, or it is gone and its DELETED message follows), so the
 *   later message does the work;
 * - `status`: a Service status write (the controller's own, or a user's): nothing to converge;
 * - `reconciled`: the stored object was reconciled (its LB, a data-plane push);
 * - `deleted`: the object is gone: its LB removed, a data-plane push requested;
 * - `ignored`: a kind the controller does not act on (Namespaces, Events, Nodes, EndpointSlices).
 */
export type MessageDecision = 'stale' | 'status' | 'reconciled' | 'deleted' | 'ignored';

export interface ObjectMessageOutcome {
  decision: MessageDecision;
  key: string;
}

/** Where the controller publishes its ClusterConfig (written by every resync). */
export const CLUSTER_CONFIG_RECORD = { kind: 'config', id: 'cluster' } as const;
/** Default change-log retention: what a watch may resume from. */
export const DEFAULT_LOG_RETENTION_SECONDS = 600;

/** Condition types written to Service status (shown by `svcctl describe`). */
export const CONDITION_LB_READY = 'LoadBalancerReady';
export const CONDITION_LB_WARNING = 'LoadBalancerWarning';

const RECONCILED_KINDS = new Set(['Service', 'Pod', 'Endpoints', 'Namespace']);
/** Gateway API kinds: their changes reconcile the Gateways they affect (lib/gateway). */
const GATEWAY_MESSAGE_KINDS = new Set<string>(Object.values(GATEWAY_KINDS));

export class Controller {
  private readonly log: Logger;
  readonly lifecycle: NodeLifecycle;
  /** EndpointSlice, Endpoints, mirroring, namespace and Node controllers (cluster-controllers.ts). */
  readonly cluster: ClusterControllers;
  private readonly lbEvents: LoadBalancerEvents;
  /** One NLB per Gateway of our GatewayClasses, and Gateway API status. */
  readonly gateways: GatewayController;
  constructor(private readonly deps: ControllerDeps) {
    this.log = deps.log ?? consoleLogger;
    this.gateways = new GatewayController({
      api: deps.api,
      lb: deps.lb,
      backendPorts: deps.backendPorts ?? new StoreBackendPorts({ api: deps.api, pusher: deps.pusher }),
      log: (level, msg, data) => this.log[level](msg, data),
    });
    const recorder = deps.recorder ?? new EventRecorder({ writes: deps.api.writes, log: this.log });
    this.lifecycle =
      deps.lifecycle ??
      new NodeLifecycle({
        api: deps.api,
        ec2: deps.ec2,
        selector: deps.nodeSelector ?? defaultNodeSelector(deps.clusterName),
        recorder: recorder.for(SOURCES.node),
      });
    this.lbEvents = new LoadBalancerEvents(recorder.for(SOURCES.service));
    this.cluster = new ClusterControllers({
      api: deps.api,
      lifecycle: this.lifecycle,
      recorder,
      nodeSource: deps.nodeSource,
      dataPlane: deps.dataPlane,
      log: this.log,
    });
  }

  /**
   * One committed write. The stored object decides: a newer revision means a later message exists (skip); a
   * missing object that was not deleted by this message will get its DELETED message (skip); otherwise reconcile
   * what is stored. Never writes anything but a Service's status, and that only if the Service is still at the
   * revision that was reconciled, so a lagging consumer can neither roll a Service back nor resurrect one.
   */
  async handleObjectMessage(msg: ObjectMessage): Promise<ObjectMessageOutcome> {
    const key = `${msg.namespace}/${msg.name}`;
    const decision = await this.decideAndReconcile(msg);
    this.log.info('object message', { kind: msg.kind, type: msg.type, key, rev: msg.rev, decision });
    return { decision, key };
  }

  private async decideAndReconcile(msg: ObjectMessage): Promise<MessageDecision> {
    if (GATEWAY_MESSAGE_KINDS.has(msg.kind)) return this.gatewayMessage(msg);
    if (!RECONCILED_KINDS.has(msg.kind)) return 'ignored';
    const stored = await this.getStored(msg.kind, msg.namespace, msg.name);
    const storedRev = Number(stored?.metadata?.resourceVersion ?? 0);
    if (stored ? storedRev > msg.rev : msg.type !== 'DELETED') return 'stale';
    if (msg.kind === 'Service' && msg.subresource === 'status') return 'status';
    if (msg.kind === 'Service') {
      await this.reconcileServiceMessage(msg, stored as V1Service | undefined);
      await this.reconcileGateways(await this.gateways.affectedBy('Service', msg.namespace, msg.name));
    } else {
      // The push first: the data plane computes endpoints from Pods itself, and slices must not delay its rules.
      if (msg.kind !== 'Namespace' && !derivedEndpoints(msg, stored))
        await this.deps.pusher?.request({ kind: 'objects' });
      await this.cluster.onMessage(msg, stored);
      if (msg.kind === 'Namespace')
        await this.reconcileGateways(await this.gateways.affectedBy('Namespace', '', msg.name));
    }
    return stored ? 'reconciled' : 'deleted';
  }

  /**
   * A Gateway API object's write: the Gateways it affects are converged from what is stored now. Status writes (our
   * own, mostly) change nothing a Gateway is built from. A ClusterIP backend may have got a node port: push.
   */
  private async gatewayMessage(msg: ObjectMessage): Promise<MessageDecision> {
    const stored = await this.deps.api.find(msg.kind, msg.namespace, msg.name);
    const storedRev = Number(stored?.metadata?.resourceVersion ?? 0);
    if (stored ? storedRev > msg.rev : msg.type !== 'DELETED') return 'stale';
    if (msg.subresource === 'status') return 'status';
    if (msg.kind === GATEWAY_KINDS.GatewayClass) await this.gateways.writeClassStatuses();
    await this.reconcileGateways(await this.gateways.affectedBy(msg.kind, msg.namespace, msg.name));
    return stored ? 'reconciled' : 'deleted';
  }

  /** Converges each named Gateway (`ns/name`); the first requeue is rethrown after all were tried. */
  private async reconcileGateways(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const nodes = await this.nodes();
    let first: unknown;
    for (const key of keys) {
      const [ns, name] = key.split('/') as [string, string];
      try {
        await this.gateways.reconcileGateway(ns, name, nodes);
      } catch (err) {
        first ??= err;
      }
    }
    await this.deps.pusher?.request({ kind: 'objects' });
    if (first) throw first;
  }

  /** A Service's write: its slices and Endpoints, its NLB (with Events), a push, then its LB status. */
  private async reconcileServiceMessage(msg: ObjectMessage, svc: V1Service | undefined): Promise<void> {
    // Slices and Endpoints first: store writes only, and an LB that must be retried does not hold them up.
    await this.cluster.onMessage(msg, svc);
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: msg.namespace, name: msg.name, uid: msg.uid };
    const status = await this.reconcileLoadBalancerOf(`${msg.namespace}/${msg.name}`, svc, ref);
    // The push is asked for before the status write: once that write lands, this message may be skipped as stale.
    await this.deps.pusher?.request({ kind: 'objects' });
    if (svc && status) await this.writeStatus(svc, status, { ifAt: svc.metadata?.resourceVersion });
  }

  private async getStored(kind: string, ns: string, name: string) {
    try {
      if (kind === 'Service') return await this.deps.api.getService(ns, name);
      if (kind === 'Pod') return await this.deps.api.getPod(ns, name);
      if (kind === 'Namespace') return await this.deps.api.store.get('Namespace', '', name);
      return await this.deps.api.getEndpoints(ns, name);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private discoveredCache?: Promise<NodeInfo[]>;
  private nodesCache?: Promise<NodeInfo[]>;
  /** One DescribeInstances per pass: callers share the promise within one handler invocation. */
  private discovered(): Promise<NodeInfo[]> {
    this.discoveredCache ??= discoverNodes(this.deps.ec2, this.deps.nodeSelector ?? this.deps.clusterName);
    return this.discoveredCache;
  }

  /**
   * The nodes of this pass. Nodes announced as leaving (Spot interruption warning, scale-in lifecycle hook, stopping)
   * are left out even while EC2 still reports them running, so no later pass registers a node that is being drained.
   */
  private nodes(): Promise<NodeInfo[]> {
    this.nodesCache ??= Promise.all([
      this.discovered(),
      this.lifecycle.leavingIds(),
      new NodeEligibilityRecords(this.deps.records).list(),
    ]).then(([nodes, leaving, eligibility]) =>
      // Cluster mode: what the cluster's Node objects say (exclusion label, removal taints, labels); none otherwise.
      withEligibility(
        nodes.filter((n) => !leaving.has(n.instanceId)),
        eligibility,
      ),
    );
    return this.nodesCache;
  }

  /** Forget discovered nodes (a new pass begins, e.g. the next Lambda invocation on a warm container). */
  newPass(): void {
    this.discoveredCache = undefined;
    this.nodesCache = undefined;
    this.cluster.newPass();
  }

  /** Converges one Service's NLB with what is stored (creates, updates, or removes it) and writes its status. */
  async reconcileServiceLoadBalancer(ns: string, name: string): Promise<LoadBalancerStatus | undefined> {
    const svc = (await this.getStored('Service', ns, name)) as V1Service | undefined;
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: ns, name };
    const status = await this.reconcileLoadBalancerOf(`${ns}/${name}`, svc, ref);
    if (svc && status) await this.writeStatus(svc, status, { ifAt: svc.metadata?.resourceVersion });
    return status;
  }

  /**
   * The NLB of `key` converged with `svc` as stored (undefined: the Service is gone, so is its NLB, by tag), with
   * the service controller's Events about it (lb-events.ts); `ref` names the Service for Events when it is gone.
   */
  private async reconcileLoadBalancerOf(
    key: string,
    svc: V1Service | undefined,
    ref: EventObjectRef,
  ): Promise<LoadBalancerStatus | undefined> {
    const lb = this.deps.lb;
    if (!lb) {
      // Nothing here makes load balancers, so nothing can be left to clean up.
      if (svc && isBeingDeleted(svc))
        await this.deps.api.removeServiceFinalizer(ref.namespace ?? 'default', ref.name, LB_CLEANUP_FINALIZER);
      return undefined;
    }
    if (!svc || isBeingDeleted(svc)) {
      // Gone, or held for cleanup by our finalizer (cluster mode's mirrors): every resource goes, then the finalizer.
      await this.lbEvents.delete(svc ?? ref, () => deleteServiceLoadBalancer(lb, key));
      if (svc) await this.deps.api.removeServiceFinalizer(ref.namespace ?? 'default', ref.name, LB_CLEANUP_FINALIZER);
      return undefined;
    }
    // The API write path clears status.loadBalancer when a Service leaves type LoadBalancer (as kube-apiserver
    // does) but keeps the conditions, so the LB condition is what still says "this Service had a load balancer".
    const hadLb =
      (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 ||
      (svc.status?.conditions ?? []).some((c) => c.type === CONDITION_LB_READY || c.type === CONDITION_LB_WARNING);
    if (svc.spec?.type !== 'LoadBalancer' && !hadLb) return undefined;
    const nodes = await this.nodes();
    if (wantsLoadBalancer(svc))
      return this.lbEvents.ensure(svc, eligibleNodes(nodes).length, () => reconcileService(lb, svc, nodes));
    if (svc.spec?.type === 'LoadBalancer') return reconcileService(lb, svc, nodes); // another controller's class
    let status: LoadBalancerStatus | undefined;
    await this.lbEvents.delete(svc, async () => {
      status = await reconcileService(lb, svc, nodes);
      return true;
    });
    return status;
  }

  /**
   * Writes the LB status computed for `svc` as it was read, only while the Service is still at that revision
   * (`ifAt`): when it changed meanwhile, its newer message reconciles the newer spec and writes the status then.
   */
  private async writeStatus(svc: V1Service, st: LoadBalancerStatus, opts: { ifAt?: string }): Promise<void> {
    try {
      await this.deps.api.updateServiceStatus(
        svc.metadata?.namespace ?? 'default',
        svc.metadata?.name ?? '',
        (status) => lbStatus(svc, st, status),
        { resourceVersion: opts.ifAt },
      );
    } catch (err) {
      if (!(err instanceof UserConflictError || err instanceof NotFoundError)) throw err;
      this.log.info('status not written: the Service changed since it was reconciled', { key: keyOf(svc) });
    }
  }

  /**
   * A node joined or left (or is about to leave: spot interruption, scale-in hook): every load balancer's targets
   * follow (the caller marked a leaving node first, so it is left out even while EC2 still reports it running), then
   * the data plane is asked to push (`trigger`).
   */
  async handleNodeChange(opts: { trigger: PushTrigger }): Promise<{ requeue: string[] }> {
    this.newPass();
    let requeue: string[] = [];
    if (this.deps.lb)
      requeue = [...(await this.updateTargets()), ...(await this.gateways.updateTargets(await this.nodes()))];
    await this.deps.pusher?.request(opts.trigger);
    // The Node objects follow last: draining a leaving node (targets, rules) is what the clock runs against, and a
    // failure here must not hold up a lifecycle hook (the next resync mirrors the Nodes again).
    await this.cluster.onNodes(await this.discovered()).catch((err: unknown) => {
      this.log.warn('nodes not mirrored; the next resync does it', { error: (err as Error).message });
    });
    return { requeue };
  }

  /** Every load balancer's targets follow the nodes of this pass (UpdatedLoadBalancer where they changed). */
  private async updateTargets(): Promise<string[]> {
    const services = await this.deps.api.listServices();
    const nodes = await this.nodes();
    const res = await reconcileTargets(this.deps.lb!, services, nodes);
    const hosts = eligibleNodes(nodes).map((n) => n.name);
    for (const svc of services) {
      const key = keyOf(svc);
      const why = res.requeue.get(key);
      if (why) this.log.warn('target update will be retried', { key, why });
      if (why || res.changed.has(key)) await this.lbEvents.hostsUpdated(svc, hosts, why);
    }
    return [...res.requeue.keys()];
  }

  /**
   * Periodic resync: Nodes, terminating namespaces, slices and Endpoints converged (`failed` names the steps that
   * could not be; the next resync retries them), every Service's NLB converged, orphans swept, the data plane pushed.
   */
  async resync(): Promise<{ reconciled: number; swept: string[]; requeue: string[]; failed: string[] }> {
    this.newPass();
    // Publish the cluster settings the controller runs with, so clients (svcctl against a deployed stack) allocate
    // from the same service CIDR and NodePort range without being told.
    await this.deps.records.putRecord(CLUSTER_CONFIG_RECORD.kind, CLUSTER_CONFIG_RECORD.id, this.deps.api.cfg);
    // Node lifecycle first (Pods of gone nodes not ready, orphans collected), so this pass pushes the result.
    const gc = await this.lifecycle.observe(await this.discovered());
    if (gc.deleted.length) this.log.info('deleted Pods of gone nodes', { pods: gc.deleted });
    // Nodes, terminating namespaces, every Service's slices and Endpoints: store writes, repaired if changed.
    const failed = await this.cluster.resync(await this.discovered());
    const services = await this.deps.api.listServices();
    let swept: string[] = [];
    const requeue: string[] = [];
    if (this.deps.lb) {
      const nodes = await this.nodes();
      const res = await reconcileAll(this.deps.lb, services, nodes);
      for (const svc of services) {
        const st = res.statuses.get(keyOf(svc));
        // A periodic pass records failures only (a Service's or a node's change records the rest).
        if (st?.error && wantsLoadBalancer(svc)) await this.lbEvents.failed(svc, st.error);
        if (isBeingDeleted(svc)) {
          // Its stack was removed above (a deleting Service wants none); the finalizer goes once nothing is left.
          if (!res.requeue.has(keyOf(svc)) && !st?.error)
            await this.deps.api.removeServiceFinalizer(
              svc.metadata!.namespace!,
              svc.metadata!.name!,
              LB_CLEANUP_FINALIZER,
            );
        } else if (st && svc.spec?.type === 'LoadBalancer' && statusDiffers(svc, st)) {
          await this.writeStatus(svc, st, { ifAt: svc.metadata?.resourceVersion });
        }
      }
      requeue.push(...res.requeue.keys());
      const gw = await this.gateways.reconcileAll(nodes);
      requeue.push(...gw.results.filter((r) => r.requeue).map((r) => `gateway ${r.key}`));
      const live: string[] = services
        .filter((s) => s.spec?.type === 'LoadBalancer' && !isBeingDeleted(s))
        .map((s) => keyOf(s));
      live.push(...gw.live);
      const sw = await sweep(this.deps.lb, live);
      swept = sw.deleted;
      requeue.push(...sw.requeue.keys());
    }
    await this.deps.pusher?.request({ kind: 'resync' });
    await this.compactLog();
    return { reconciled: services.length, swept, requeue, failed };
  }

  /** Drops change-log entries older than the retention: watches may resume within it, and get Gone after. */
  private async compactLog(): Promise<void> {
    if (!this.deps.changeLog) return;
    const retention = this.deps.logRetentionSeconds ?? DEFAULT_LOG_RETENTION_SECONDS;
    const r = await this.deps.changeLog.compact(new Date(Date.now() - retention * 1000));
    if (r.deleted > 0) this.log.info('change log compacted', r);
  }
}

/**
 * An Endpoints object the Endpoints controller wrote for a selector Service: the data plane computes that Service's
 * endpoints from its Pods (whose own message asked for the push), so this write needs no push of its own.
 */
const derivedEndpoints = (msg: ObjectMessage, stored: KubeObject | undefined): boolean =>
  msg.kind === 'Endpoints' && stored !== undefined && isControllerManaged(stored as V1Endpoints);

/** The Service status for a reconciled load balancer: ingress hostname and the LB conditions (others kept); exported for its test. */
export function lbStatus(
  svc: V1Service,
  st: LoadBalancerStatus,
  status: NonNullable<V1Service['status']>,
): V1Service['status'] {
  const isLb = svc.spec?.type === 'LoadBalancer';
  const now = new Date();
  // A failed sync keeps the address the Service had, as the upstream service controller does (it writes status only
  // after EnsureLoadBalancer succeeds): the NLB still serves, and clients must not see it come and go.
  const kept = st.error ? (status.loadBalancer?.ingress ?? []) : [];
  const ingress = isLb && st.hostname ? [{ hostname: st.hostname }] : isLb ? kept : [];
  const conditions = (status.conditions ?? []).filter(
    (c) => c.type !== CONDITION_LB_READY && c.type !== CONDITION_LB_WARNING,
  );
  if (isLb) {
    const ready = Boolean(st.hostname) && !st.error;
    const prev = status.conditions?.find((c) => c.type === CONDITION_LB_READY);
    const s = ready ? 'True' : 'False';
    conditions.push({
      type: CONDITION_LB_READY,
      status: s,
      reason: st.error ? 'SyncLoadBalancerFailed' : ready ? 'EnsuredLoadBalancer' : 'EnsuringLoadBalancer',
      message: st.error ?? (ready ? `Network Load Balancer ${st.hostname}` : 'waiting for the load balancer'),
      lastTransitionTime: prev?.status === s ? prev.lastTransitionTime : now,
      observedGeneration: svc.metadata?.generation,
    });
    if (st.warnings.length) {
      conditions.push({
        type: CONDITION_LB_WARNING,
        status: 'True',
        reason: 'LoadBalancerWarning',
        message: st.warnings.join('; '),
        lastTransitionTime: now,
        observedGeneration: svc.metadata?.generation,
      });
    }
  }
  return { ...status, loadBalancer: { ingress }, conditions: conditions.length ? conditions : undefined };
}

function statusDiffers(svc: V1Service, st: LoadBalancerStatus): boolean {
  const host = svc.status?.loadBalancer?.ingress?.[0]?.hostname;
  const cond = svc.status?.conditions?.find((c) => c.type === CONDITION_LB_READY);
  const warn = svc.status?.conditions?.find((c) => c.type === CONDITION_LB_WARNING)?.message ?? '';
  return (
    host !== st.hostname ||
    (cond?.message ?? '') !== (st.error ?? cond?.message ?? '') ||
    warn !== st.warnings.join('; ')
  );
}
