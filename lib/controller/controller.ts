/**
 * The reconciler shared by every entry point (Lambda handlers, svcctl's inline mode, the local `npm start` loop).
 * Each method reads the store's latest state, never the event's copy, so retries and duplicates converge:
 * - object events: ingest external intents through the API write path, then reconcile the Service's load balancer
 *   and ask for a data-plane push;
 * - node changes: one node discovery, every load balancer's targets, one data-plane push (a joining node gets all);
 * - resync: everything, plus the orphan sweep.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ApiServer } from '../api/server.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ParsedObjectEvent } from '../events/envelope.js';
import {
  deleteServiceLoadBalancer,
  reconcileAll,
  reconcileService,
  sweep,
  type LoadBalancerContext,
  type LoadBalancerStatus,
} from '../lb/index.js';
import { discoverNodes } from '../nodes/discover.js';
import { keyOf, type NodeInfo } from '../model/types.js';
import { decide, toIngestObject, type EventDecision } from './staleness.js';

export interface Logger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export const consoleLogger: Logger = {
  info: () => {},
  warn: (m, d) => console.warn(m, d ?? ''),
  error: (m, d) => console.error(m, d ?? ''),
};

/** Asks for the data plane to be re-rendered and pushed; implementations coalesce bursts into one push. */
export interface DataPlanePusher {
  request(reason: string): Promise<void>;
}

export interface ControllerDeps {
  api: ApiServer;
  ec2: EC2Client;
  clusterName: string;
  /** Absent when no VPC is configured (control plane only): LoadBalancer Services then stay <pending>. */
  lb?: LoadBalancerContext;
  pusher?: DataPlanePusher;
  log?: Logger;
}

export interface ObjectEventOutcome {
  decision: EventDecision;
  key: string;
}

/** Store record kind holding, per object name, the uids whose DELETED event was seen (see staleness.ts). */
export const DELETED_UIDS_RECORD = 'deleted-uids';
/** Instances announced as leaving, with the time until which they stay excluded. */
export const LEAVING_NODES_RECORD = { kind: 'nodes', id: 'leaving' } as const;
/** Longer than a Spot warning (2 min) and a lifecycle hook's default heartbeat; an instance gone by then is gone. */
const LEAVING_TTL_MS = 2 * 60 * 60 * 1000;
/** Where the controller publishes its ClusterConfig (written by every resync). */
export const CLUSTER_CONFIG_RECORD = { kind: 'config', id: 'cluster' } as const;
/** Incarnations remembered per name: enough for rapid delete/re-create cycles, small enough for one item. */
const MAX_DELETED_UIDS = 32;

/** Condition types written to Service status (shown by `svcctl describe`). */
export const CONDITION_LB_READY = 'LoadBalancerReady';
export const CONDITION_LB_WARNING = 'LoadBalancerWarning';

export class Controller {
  private readonly log: Logger;
  constructor(private readonly deps: ControllerDeps) {
    this.log = deps.log ?? consoleLogger;
  }

  async handleObjectEvent(ev: ParsedObjectEvent): Promise<ObjectEventOutcome> {
    const { api } = this.deps;
    const key = `${ev.namespace}/${ev.name}`;
    const stored = await this.getStored(ev.kind, ev.namespace, ev.name);
    let decision = decide(ev, stored);
    const uid = ev.object.metadata?.uid;
    // The deleted-uid list is read only when the event would write (one GetItem), and extended on every DELETED
    // naming an incarnation that is not the live one, before the delete itself (a crash in between is retried).
    if (decision === 'ingest' && uid) decision = decide(ev, stored, await this.deletedUids(ev));
    if (ev.type === 'DELETED' && uid && (decision === 'delete' || stored?.metadata?.uid !== uid)) {
      await this.rememberDeleted(ev, uid);
    }
    this.log.info('object event', { kind: ev.kind, type: ev.type, key, decision, resourceVersion: ev.resourceVersion });
    if (decision === 'stale') return { decision, key };

    if (decision === 'ingest') {
      const obj = toIngestObject(ev.object as never, ev.kind);
      if (ev.kind === 'Service') await api.applyService(obj);
      else if (ev.kind === 'Pod') await api.applyPod(obj);
      else await api.applyEndpoints(obj);
    } else if (decision === 'delete' && stored) {
      await this.deleteStored(ev.kind, ev.namespace, ev.name);
    }

    if (ev.kind === 'Service') await this.reconcileServiceLoadBalancer(ev.namespace, ev.name);
    await this.deps.pusher?.request(`${ev.kind} ${key} ${ev.type}`);
    return { decision, key };
  }

  private deletedKey(ev: ParsedObjectEvent): string {
    return `${ev.kind}/${ev.namespace}/${ev.name}`;
  }

  private async deletedUids(ev: ParsedObjectEvent): Promise<string[]> {
    return (await this.deps.api.store.getRecord<string[]>(DELETED_UIDS_RECORD, this.deletedKey(ev)))?.data ?? [];
  }

  /** Appends to the name's deleted-uid list (bounded); a concurrent writer's ConflictError retries the event. */
  private async rememberDeleted(ev: ParsedObjectEvent, uid: string): Promise<void> {
    const rec = await this.deps.api.store.getRecord<string[]>(DELETED_UIDS_RECORD, this.deletedKey(ev));
    const uids = rec?.data ?? [];
    if (uids.includes(uid)) return;
    const next = [...uids, uid].slice(-MAX_DELETED_UIDS);
    await this.deps.api.store.putRecord(DELETED_UIDS_RECORD, this.deletedKey(ev), next, rec?.version ?? 0);
  }

  private async getStored(kind: ParsedObjectEvent['kind'], ns: string, name: string) {
    try {
      if (kind === 'Service') return await this.deps.api.getService(ns, name);
      if (kind === 'Pod') return await this.deps.api.getPod(ns, name);
      return await this.deps.api.getEndpoints(ns, name);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private async deleteStored(kind: ParsedObjectEvent['kind'], ns: string, name: string): Promise<void> {
    try {
      if (kind === 'Service') await this.deps.api.deleteService(ns, name);
      else if (kind === 'Pod') await this.deps.api.deletePod(ns, name);
      else await this.deps.api.deleteEndpoints(ns, name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  private nodesCache?: Promise<NodeInfo[]>;
  /**
   * One DescribeInstances per pass: callers share the promise within one handler invocation. Nodes announced as
   * leaving (Spot interruption warning, scale-in lifecycle hook, stopping) are left out even while EC2 still reports
   * them running, so no later pass registers a node that is being drained.
   */
  private nodes(): Promise<NodeInfo[]> {
    this.nodesCache ??= Promise.all([discoverNodes(this.deps.ec2, this.deps.clusterName), this.leavingNodes()]).then(
      ([nodes, leaving]) => nodes.filter((n) => !leaving.has(n.instanceId)),
    );
    return this.nodesCache;
  }

  private async leavingNodes(now = Date.now()): Promise<Set<string>> {
    const rec = await this.deps.api.store.getRecord<Record<string, number>>(
      LEAVING_NODES_RECORD.kind,
      LEAVING_NODES_RECORD.id,
    );
    return new Set(Object.entries(rec?.data ?? {}).flatMap(([id, until]) => (until > now ? [id] : [])));
  }

  /** Marks (until a TTL) or unmarks an instance as leaving; optimistic concurrency, retried on conflict. */
  private async markLeaving(instanceId: string, leaving: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const rec = await this.deps.api.store.getRecord<Record<string, number>>(
        LEAVING_NODES_RECORD.kind,
        LEAVING_NODES_RECORD.id,
      );
      const now = Date.now();
      const data = Object.fromEntries(Object.entries(rec?.data ?? {}).filter(([, until]) => until > now));
      if (leaving) data[instanceId] = now + LEAVING_TTL_MS;
      else if (!(instanceId in data)) return;
      else delete data[instanceId];
      try {
        await this.deps.api.store.putRecord(
          LEAVING_NODES_RECORD.kind,
          LEAVING_NODES_RECORD.id,
          data,
          rec?.version ?? 0,
        );
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 10) throw err;
      }
    }
  }
  /** Forget discovered nodes (a new pass begins, e.g. the next Lambda invocation on a warm container). */
  newPass(): void {
    this.nodesCache = undefined;
  }

  /** Converges one Service's NLB with what is stored (creates, updates, or removes it) and writes its status. */
  async reconcileServiceLoadBalancer(ns: string, name: string): Promise<LoadBalancerStatus | undefined> {
    const lb = this.deps.lb;
    if (!lb) return undefined;
    const svc = (await this.getStored('Service', ns, name)) as V1Service | undefined;
    if (!svc) {
      await deleteServiceLoadBalancer(lb, `${ns}/${name}`);
      return undefined;
    }
    // The API write path clears status.loadBalancer when a Service leaves type LoadBalancer (as kube-apiserver
    // does) but keeps the conditions, so the LB condition is what still says "this Service had a load balancer".
    const hadLb =
      (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 ||
      (svc.status?.conditions ?? []).some((c) => c.type === CONDITION_LB_READY || c.type === CONDITION_LB_WARNING);
    if (svc.spec?.type !== 'LoadBalancer' && !hadLb) return undefined;
    const status = await reconcileService(lb, svc, await this.nodes());
    await this.writeStatus(svc, status);
    return status;
  }

  private async writeStatus(svc: V1Service, st: LoadBalancerStatus): Promise<void> {
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const isLb = svc.spec?.type === 'LoadBalancer';
    const now = new Date();
    await this.deps.api.updateServiceStatus(ns, name, (status) => {
      const ingress = isLb && st.hostname ? [{ hostname: st.hostname }] : [];
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
    });
  }

  /**
   * A node joined or left (or is about to leave: spot interruption, scale-in hook). `leavingInstanceId` is removed
   * from the node list even while EC2 still reports it running, so traffic drains before the instance dies.
   */
  async handleNodeChange(opts: {
    reason: string;
    leavingInstanceId?: string;
    joinedInstanceId?: string;
  }): Promise<{ requeue: string[] }> {
    this.newPass();
    if (opts.leavingInstanceId) await this.markLeaving(opts.leavingInstanceId, true);
    if (opts.joinedInstanceId) await this.markLeaving(opts.joinedInstanceId, false);
    let requeue: string[] = [];
    if (this.deps.lb) {
      const nodes = (await this.nodes()).filter((n) => n.instanceId !== opts.leavingInstanceId);
      const services = await this.deps.api.listServices();
      const res = await reconcileAll(this.deps.lb, services, nodes, { scope: 'targets' });
      requeue = [...res.requeue.keys()];
      for (const [key, why] of res.requeue) this.log.warn('target update will be retried', { key, why });
    }
    await this.deps.pusher?.request(opts.reason);
    return { requeue };
  }

  /** Periodic resync: every Service's NLB converged, orphans swept, the data plane pushed. */
  async resync(): Promise<{ reconciled: number; swept: string[]; requeue: string[] }> {
    this.newPass();
    // Publish the cluster settings the controller runs with, so clients (svcctl against a deployed stack) allocate
    // from the same service CIDR and NodePort range without being told.
    await this.deps.api.store.putRecord(CLUSTER_CONFIG_RECORD.kind, CLUSTER_CONFIG_RECORD.id, this.deps.api.cfg);
    const services = await this.deps.api.listServices();
    let swept: string[] = [];
    const requeue: string[] = [];
    if (this.deps.lb) {
      const nodes = await this.nodes();
      const res = await reconcileAll(this.deps.lb, services, nodes);
      for (const svc of services) {
        const st = res.statuses.get(keyOf(svc));
        if (st && svc.spec?.type === 'LoadBalancer' && statusDiffers(svc, st)) await this.writeStatus(svc, st);
      }
      requeue.push(...res.requeue.keys());
      const live = services.filter((s) => s.spec?.type === 'LoadBalancer').map((s) => keyOf(s));
      const sw = await sweep(this.deps.lb, live);
      swept = sw.deleted;
      requeue.push(...sw.requeue.keys());
    }
    await this.deps.pusher?.request('resync');
    return { reconciled: services.length, swept, requeue };
  }
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
