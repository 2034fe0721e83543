/**
 * The convenience write path that svcctl's direct mode, the local `npm start` loop, the controller and many tests
 * use: `kubectl apply`-like create-or-update, delete and status updates for Services, Pods and Endpoints, on the
 * same write path (lib/api/write-path.ts) and store semantics as the Kubernetes API (StoreBackend): one global
 * revision, a change log, finalizers, namespace admission. Two differences, both for manifests that predate them:
 * a missing namespace is created instead of refused, and finalizers a manifest leaves out are kept.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { InvalidError, NotFoundError } from '../errors.js';
import { throwIfInvalid, type FieldError } from '../model/field-errors.js';
import type { ClusterConfig } from '../model/types.js';
import { DynamoStore } from '../store/store.js';
import type { KubeObject, Store } from '../store/types.js';
import {
  alreadyAllocated,
  heldValues,
  POOL_CLUSTER_IP,
  POOL_NODE_PORT,
  ServiceAllocator,
  type Pool,
  type Rand,
} from './allocator.js';
import type { ResourceInfo } from './backend.js';
import type { ApplyResult, WatchEvent } from './events-types.js';
import { ENDPOINTS, PODS, resourceForKind, SERVICES } from './resources.js';
import type { ObjectKind } from '../store/table.js';
import { WritePath, type Outcome } from './write-path.js';

export { RangeFullError } from './service-commit.js';
export { UserConflictError } from './preconditions.js';
import { UserConflictError } from './preconditions.js';

export interface ApiServerOptions {
  /** The store to write; or a DynamoDB client and table to build a DynamoStore on. */
  store?: Store;
  dynamodb?: DynamoDBClient;
  tableName?: string;
  cfg: ClusterConfig;
  /** Random source for automatic allocation (tests make it deterministic). */
  rand?: Rand;
}

export type ConvenienceKind = 'Service' | 'Pod' | 'Endpoints';
const BY_KIND: Record<ConvenienceKind, ResourceInfo> = { Service: SERVICES, Pod: PODS, Endpoints: ENDPOINTS };

const nsOf = (o: KubeObject) => o.metadata?.namespace || 'default';

function result<T extends KubeObject>(o: Outcome): ApplyResult<T> {
  const action = o.action === 'deleted' ? 'configured' : o.action;
  return { object: o.object as T, action, ...(o.event ? { event: o.event as WatchEvent<T> } : {}) };
}

const asEvent = <T extends KubeObject>(o: Outcome): WatchEvent<T> =>
  (o.event ?? { type: 'DELETED', object: o.object }) as WatchEvent<T>;

/** Values a Service manifest asks for by number, with the field that asks (for the in-file duplicate check). */
function requestedValues(svc: V1Service): { pool: Pool; value: string; field: string }[] {
  const out: { pool: Pool; value: string; field: string }[] = [];
  const ip = svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP;
  if (ip && ip !== 'None') out.push({ pool: POOL_CLUSTER_IP, value: ip, field: 'spec.clusterIPs[0]' });
  (svc.spec?.ports ?? []).forEach((p, i) => {
    if (p.nodePort) out.push({ pool: POOL_NODE_PORT, value: String(p.nodePort), field: `spec.ports[${i}].nodePort` });
  });
  const hc = svc.spec?.healthCheckNodePort;
  if (hc) out.push({ pool: POOL_NODE_PORT, value: String(hc), field: 'spec.healthCheckNodePort' });
  return out;
}

export class ApiServer {
  readonly store: Store;
  readonly cfg: ClusterConfig;
  readonly allocator: ServiceAllocator;
  readonly writes: WritePath;

  constructor(opts: ApiServerOptions) {
    if (!opts.store && !(opts.dynamodb && opts.tableName)) throw new Error('ApiServer needs a store or a table');
    this.store = opts.store ?? new DynamoStore(opts.dynamodb!, opts.tableName!);
    this.cfg = opts.cfg;
    this.allocator = new ServiceAllocator(opts.cfg);
    this.writes = new WritePath(this.store, {
      cfg: opts.cfg,
      allocator: this.allocator,
      rand: opts.rand ?? Math.random,
    });
  }

  // ---------------------------------------------------------------------------------------------- reads

  async getService(namespace: string, name: string): Promise<V1Service> {
    return (await this.writes.read(SERVICES, namespace, name)) as V1Service;
  }
  listServices(namespace?: string): Promise<V1Service[]> {
    return this.store.list<V1Service>('Service', namespace);
  }
  async getPod(namespace: string, name: string): Promise<V1Pod> {
    return (await this.writes.read(PODS, namespace, name)) as V1Pod;
  }
  listPods(namespace?: string): Promise<V1Pod[]> {
    return this.store.list<V1Pod>('Pod', namespace);
  }
  async getEndpoints(namespace: string, name: string): Promise<V1Endpoints> {
    return (await this.writes.read(ENDPOINTS, namespace, name)) as V1Endpoints;
  }
  listEndpoints(namespace?: string): Promise<V1Endpoints[]> {
    return this.store.list<V1Endpoints>('Endpoints', namespace);
  }

  /** Every stored object of a storage kind (`Gateway.gateway.networking.k8s.io`), optionally of one namespace. */
  async list<T = KubeObject>(kind: ObjectKind, namespace?: string): Promise<T[]> {
    return (await this.store.list(kind, namespace)) as T[];
  }

  /** One object of a storage kind, or undefined when there is none. */
  async find<T = KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.writes.read(resourceForKind(kind), namespace, name)) as unknown as T;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Read-modify-write of any kind's status subresource (Gateway API status), retried on conflict. */
  async updateStatusOf<S>(
    kind: ObjectKind,
    namespace: string,
    name: string,
    mutate: (status: S) => S | undefined,
  ): Promise<ApplyResult> {
    return result(await this.writes.updateStatus(resourceForKind(kind), namespace, name, mutate));
  }

  // ---------------------------------------------------------------------------------------------- writes

  /** Create or update like `kubectl apply`; `unchanged` writes nothing. */
  async applyService(obj: V1Service): Promise<ApplyResult<V1Service>> {
    return result(await this.writes.apply(SERVICES, nsOf(obj), obj, { autoCreateNamespace: true }));
  }

  /**
   * Create or update a Pod. There is no kubelet here: the producer that applies a Pod also owns its status (podIP,
   * Ready), so a Pod's status is written with it when present; an apply without status keeps the stored one.
   */
  async applyPod(obj: V1Pod): Promise<ApplyResult<V1Pod>> {
    const opts = { autoCreateNamespace: true, withStatus: obj.status !== undefined };
    return result(await this.writes.apply(PODS, nsOf(obj), obj, opts));
  }

  /** Manual Endpoints, for Services without a selector. */
  async applyEndpoints(obj: V1Endpoints): Promise<ApplyResult<V1Endpoints>> {
    return result(await this.writes.apply(ENDPOINTS, nsOf(obj), obj, { autoCreateNamespace: true }));
  }

  /** One object of any supported kind. */
  async apply(obj: unknown): Promise<ApplyResult> {
    const kind = this.kindOf(obj);
    if (kind === 'Service') return this.applyService(obj as V1Service);
    if (kind === 'Pod') return this.applyPod(obj as V1Pod);
    return this.applyEndpoints(obj as V1Endpoints);
  }

  /** DELETED, or MODIFIED when finalizers hold the object (it is then only marked for deletion). */
  async delete(kind: ConvenienceKind, namespace: string, name: string): Promise<WatchEvent> {
    return asEvent(await this.writes.delete(BY_KIND[kind], namespace, name));
  }
  async deleteService(namespace: string, name: string): Promise<WatchEvent<V1Service>> {
    return asEvent(await this.writes.delete(SERVICES, namespace, name));
  }
  async deletePod(namespace: string, name: string): Promise<WatchEvent<V1Pod>> {
    return asEvent(await this.writes.delete(PODS, namespace, name));
  }
  async deleteEndpoints(namespace: string, name: string): Promise<WatchEvent<V1Endpoints>> {
    return asEvent(await this.writes.delete(ENDPOINTS, namespace, name));
  }

  /**
   * Read-modify-write of a Service's status (the LB controller's ingress hostname), retried on conflict. With
   * `resourceVersion`, only if the Service is still at that revision (a Conflict otherwise, not retried): the
   * controller writes the status it computed for that revision, never over a newer spec.
   */
  async updateServiceStatus(
    namespace: string,
    name: string,
    mutate: (status: NonNullable<V1Service['status']>) => V1Service['status'],
    opts: { resourceVersion?: string } = {},
  ): Promise<ApplyResult<V1Service>> {
    return result(await this.writes.updateStatus(SERVICES, namespace, name, mutate, opts));
  }

  /**
   * Removes `finalizer` from a Service (the controller's last step of a cleanup it held the Service for). Read, then
   * update at that revision, retried when another writer got there first; a Service already without it, or gone,
   * is left as it is. Removing the last finalizer of a deleting Service removes the Service (the write path's rule).
   */
  async removeServiceFinalizer(namespace: string, name: string, finalizer: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let svc: V1Service;
      try {
        svc = await this.getService(namespace, name);
      } catch (err) {
        if (err instanceof NotFoundError) return;
        throw err;
      }
      const held = svc.metadata?.finalizers ?? [];
      if (!held.includes(finalizer)) return;
      const next = { ...svc, metadata: { ...svc.metadata, finalizers: held.filter((f) => f !== finalizer) } };
      try {
        await this.writes.update(SERVICES, namespace, name, next);
        return;
      } catch (err) {
        if (!(err instanceof UserConflictError) || attempt >= 4) throw err;
      }
    }
  }

  async updatePodStatus(
    namespace: string,
    name: string,
    mutate: (status: NonNullable<V1Pod['status']>) => V1Pod['status'],
  ): Promise<ApplyResult<V1Pod>> {
    return result(await this.writes.updateStatus(PODS, namespace, name, mutate));
  }

  /**
   * Applies a whole manifest like `kubectl apply -f`, except that it is all-or-nothing for bad input: EVERY object
   * is first run as a dry run (validation, allocation against the table) and requested ClusterIPs / NodePorts are
   * checked against the other objects of the file; if any is invalid nothing is applied and one InvalidError
   * reports them all, one line each. Then the objects are applied in order. (A concurrent writer can still take a
   * requested value between the check and the write; that object then fails with the same Invalid error and the
   * ones before it stay applied, as with kubectl.)
   */
  async applyAll(objects: readonly unknown[]): Promise<ApplyResult[]> {
    const errors: InvalidError[] = [];
    const requested = new Set<string>();
    for (const raw of objects) {
      try {
        await this.dryRunApply(raw, requested);
      } catch (err) {
        if (err instanceof InvalidError) errors.push(err);
        else throw err;
      }
    }
    if (errors.length > 0) {
      throw new InvalidError(
        errors.map((e) => e.message).join('\n'),
        errors.flatMap((e) => e.causes),
      );
    }
    const out: ApplyResult[] = [];
    for (const raw of objects) out.push(await this.apply(raw));
    return out;
  }

  private async dryRunApply(raw: unknown, requested: Set<string>): Promise<void> {
    const kind = this.kindOf(raw);
    const obj = raw as KubeObject & { status?: unknown };
    const opts = { dryRun: true, autoCreateNamespace: true, withStatus: kind === 'Pod' && obj.status !== undefined };
    const out = await this.writes.apply(BY_KIND[kind], nsOf(obj), obj, opts);
    if (kind !== 'Service' || out.action === 'unchanged') return;
    const name = obj.metadata?.name ?? '';
    const prev = await this.store.get<V1Service>('Service', nsOf(obj), name);
    const before = heldValues(prev);
    const after = heldValues(out.object as V1Service);
    const errs: FieldError[] = [];
    for (const c of requestedValues(obj as V1Service)) {
      const pool = c.pool === POOL_CLUSTER_IP ? 'clusterIP' : 'nodePort';
      if (before[pool].has(c.value) || !after[pool].has(c.value)) continue;
      const key = `${c.pool}/${c.value}`;
      if (requested.has(key)) errs.push(alreadyAllocated(c));
      else requested.add(key);
    }
    throwIfInvalid('Service', name, errs);
  }

  private kindOf(raw: unknown): ConvenienceKind {
    const o = (raw ?? {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    const kind = typeof o.kind === 'string' ? o.kind : '';
    const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : 'v1';
    if (apiVersion === 'v1' && (kind === 'Service' || kind === 'Pod' || kind === 'Endpoints')) return kind;
    if (!kind) {
      throw new InvalidError(`Object 'Kind' is missing in ${JSON.stringify(raw)}`, [
        { field: 'kind', message: 'Required value' },
      ]);
    }
    // kubectl: resource mapping not found ... no matches for kind "Deployment" in version "apps/v1"
    throw new InvalidError(
      `resource mapping not found for name: ${JSON.stringify(String(o.metadata?.name ?? ''))}: no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`,
      [
        {
          field: 'kind',
          message: `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`,
        },
      ],
    );
  }
}
