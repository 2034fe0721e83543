/**
 * The API-server write path over the DynamoDB store: what kube-apiserver does between receiving an object and
 * writing it to etcd — default, validate (create or update rules), carry over allocated values the client left out
 * (as `kubectl apply` keeps them), allocate ClusterIPs / NodePorts, persist with optimistic concurrency — and the
 * watch event the caller publishes afterwards.
 *
 * Concurrency model: every write is conditional (on "absent" for a create, on the resourceVersion read for an
 * update or delete), and a Service's allocation claims and releases are items of the same DynamoDB transaction as
 * the Service write. A losing writer gets a ConflictError from the store, re-reads and tries again (bounded); a
 * losing automatic allocation picks another value (bounded); a losing explicitly requested value is the API
 * server's "provided IP/port is already allocated" Invalid error.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, InvalidError, PermanentError, TransientError } from '../errors.js';
import { defaultEndpoints, defaultPod, defaultService, defaultServiceUpdate } from '../model/defaults.js';
import { formatFieldError, throwIfInvalid, type FieldError } from '../model/field-errors.js';
import type { ClusterConfig } from '../model/types.js';
import {
  validateEndpoints,
  validateObjectMetaUpdate,
  validatePod,
  validateService,
  validateServiceUpdate,
} from '../model/validation.js';
import {
  AllocationConflictError,
  canonicalJson,
  Store,
  type AllocationClaim,
  type AllocationRelease,
} from '../store/store.js';
import type { ObjectKind } from '../store/table.js';
import {
  alreadyAllocated,
  emptyAvoid,
  heldValues,
  planAllocation,
  POOL_CLUSTER_IP,
  POOL_NODE_PORT,
  rangeFullMessage,
  ServiceAllocator,
  type AvoidSets,
  type Pool,
  type Rand,
} from './allocator.js';
import type { ApplyResult, KubeObject, WatchEvent } from './events-types.js';

/** Re-reads after a lost optimistic-concurrency race before giving up with the ConflictError. */
const MAX_CONFLICT_RETRIES = 8;
/** Transactions tried for one write when automatic picks keep colliding with concurrent writers. */
const MAX_ALLOCATION_ATTEMPTS = 24;
/** Collisions in one pool after which the pool is listed, so the next picks (and "range is full") are exact. */
const COLLISIONS_BEFORE_LISTING = 3;

export interface ApiServerOptions {
  dynamodb: DynamoDBClient;
  tableName: string;
  cfg: ClusterConfig;
  /** Random source for automatic allocation (tests make it deterministic). */
  rand?: Rand;
}

/** Thrown by the allocator plumbing when no value is left: not retryable by re-sending the same object. */
export class RangeFullError extends PermanentError {
  constructor(pool: Pool) {
    super(rangeFullMessage(pool), 'InternalError');
  }
}

/** A resourceVersion the user put in the manifest did not match: reported, never retried. */
export class UserConflictError extends ConflictError {}

interface Prepared<T extends KubeObject> {
  kind: ObjectKind;
  namespace: string;
  name: string;
  desired: T;
  prev: T | undefined;
}

const nsOf = (o: KubeObject) => o.metadata?.namespace || 'default';

/** The user-owned parts of an object, compared to decide `unchanged` (no write when they are equal). */
function contentOf(kind: ObjectKind, o: KubeObject, withStatus: boolean): string {
  const meta = { labels: o.metadata?.labels ?? {}, annotations: o.metadata?.annotations ?? {} };
  if (kind === 'Endpoints') return canonicalJson({ meta, subsets: (o as V1Endpoints).subsets ?? [] });
  const status = withStatus ? ((o as V1Pod).status ?? {}) : undefined;
  return canonicalJson({ meta, spec: (o as V1Service | V1Pod).spec ?? {}, status });
}

/**
 * The validation errors to report: the model's, minus its wording of an out-of-range clusterIP (the allocator
 * reports that one with the API server's allocator text on `spec.clusterIPs[0]`), plus the allocator's errors on
 * fields the model did not already complain about.
 */
function mergeErrors(model: FieldError[], allocator: FieldError[]): FieldError[] {
  const kept = model.filter(
    (e) =>
      !(e.field === 'spec.clusterIPs' && /is not in the valid range\. The range of valid IPs/.test(e.detail ?? '')),
  );
  const fields = new Set(kept.map((e) => e.field));
  const seen = new Set(kept.map(formatFieldError));
  return [...kept, ...allocator.filter((e) => !fields.has(e.field) && !seen.has(formatFieldError(e)))];
}

export class ApiServer {
  readonly store: Store;
  readonly cfg: ClusterConfig;
  readonly allocator: ServiceAllocator;
  private readonly rand: Rand;

  constructor(opts: ApiServerOptions) {
    this.store = new Store(opts.dynamodb, opts.tableName);
    this.cfg = opts.cfg;
    this.allocator = new ServiceAllocator(opts.cfg);
    this.rand = opts.rand ?? Math.random;
  }

  // ---------------------------------------------------------------------------------------------- Services

  getService(namespace: string, name: string): Promise<V1Service> {
    return this.store.mustGet<V1Service>('Service', namespace, name);
  }

  listServices(namespace?: string): Promise<V1Service[]> {
    return this.store.list<V1Service>('Service', namespace);
  }

  /** Create or update like `kubectl apply`; `unchanged` writes nothing. */
  applyService(obj: V1Service): Promise<ApplyResult<V1Service>> {
    return this.withConflictRetry(async () => this.writeService(await this.prepareService(obj)));
  }

  async deleteService(namespace: string, name: string): Promise<WatchEvent<V1Service>> {
    return this.withConflictRetry(async () => {
      const prev = await this.store.mustGet<V1Service>('Service', namespace, name);
      const held = heldValues(prev);
      const uid = prev.metadata?.uid ?? '';
      const releases: AllocationRelease[] = [
        ...[...held.clusterIP].map((value) => ({ pool: POOL_CLUSTER_IP, value, ownerUid: uid })),
        ...[...held.nodePort].map((value) => ({ pool: POOL_NODE_PORT, value, ownerUid: uid })),
      ];
      const gone = await this.store.delete('Service', prev, { releases });
      return { type: 'DELETED', object: gone };
    });
  }

  /** Read-modify-write of status (the LB controller's ingress hostname), retried on conflict. */
  updateServiceStatus(
    namespace: string,
    name: string,
    mutate: (status: NonNullable<V1Service['status']>) => V1Service['status'],
  ): Promise<ApplyResult<V1Service>> {
    return this.updateStatus<V1Service>('Service', namespace, name, mutate);
  }

  // ---------------------------------------------------------------------------------------------- Pods

  getPod(namespace: string, name: string): Promise<V1Pod> {
    return this.store.mustGet<V1Pod>('Pod', namespace, name);
  }

  listPods(namespace?: string): Promise<V1Pod[]> {
    return this.store.list<V1Pod>('Pod', namespace);
  }

  /**
   * Create or update a Pod. There is no kubelet here: the producer that applies a Pod also owns its status (podIP,
   * Ready), so a Pod's status is written with it when present; an apply without status keeps the stored one.
   */
  applyPod(obj: V1Pod): Promise<ApplyResult<V1Pod>> {
    return this.withConflictRetry(async () => this.writePlain(await this.preparePod(obj), obj.status !== undefined));
  }

  deletePod(namespace: string, name: string): Promise<WatchEvent<V1Pod>> {
    return this.deletePlain<V1Pod>('Pod', namespace, name);
  }

  updatePodStatus(
    namespace: string,
    name: string,
    mutate: (status: NonNullable<V1Pod['status']>) => V1Pod['status'],
  ): Promise<ApplyResult<V1Pod>> {
    return this.updateStatus<V1Pod>('Pod', namespace, name, mutate);
  }

  // ---------------------------------------------------------------------------------------------- Endpoints

  getEndpoints(namespace: string, name: string): Promise<V1Endpoints> {
    return this.store.mustGet<V1Endpoints>('Endpoints', namespace, name);
  }

  listEndpoints(namespace?: string): Promise<V1Endpoints[]> {
    return this.store.list<V1Endpoints>('Endpoints', namespace);
  }

  /** Manual Endpoints, for Services without a selector. */
  applyEndpoints(obj: V1Endpoints): Promise<ApplyResult<V1Endpoints>> {
    return this.withConflictRetry(async () => this.writePlain(await this.prepareEndpoints(obj), false));
  }

  deleteEndpoints(namespace: string, name: string): Promise<WatchEvent<V1Endpoints>> {
    return this.deletePlain<V1Endpoints>('Endpoints', namespace, name);
  }

  // ---------------------------------------------------------------------------------------------- many objects

  /**
   * Applies a whole manifest like `kubectl apply -f`, except that it is all-or-nothing for bad input: EVERY object
   * is validated first (including requested ClusterIPs / NodePorts already held by other Services or requested twice
   * in the file), and if any is invalid nothing is applied and one InvalidError reports them all, one line each.
   * Then the objects are applied in order. (A concurrent writer can still take a requested value between the check
   * and the write; that object then fails with the same Invalid error and the ones before it stay applied, as with
   * kubectl.)
   */
  async applyAll(objects: readonly unknown[]): Promise<ApplyResult[]> {
    const errors: InvalidError[] = [];
    const requested = new Map<string, string>(); // pool/value -> object that asked first
    for (const raw of objects) {
      try {
        const kind = this.kindOf(raw);
        if (kind !== 'Service') {
          if (kind === 'Pod') await this.preparePod(raw as V1Pod);
          else await this.prepareEndpoints(raw as V1Endpoints);
          continue;
        }
        const p = await this.prepareService(raw as V1Service);
        if (p.prev && contentOf('Service', p.desired, false) === contentOf('Service', p.prev, false)) continue;
        const plan = planAllocation(this.allocator, { next: p.desired, prev: p.prev, rand: this.rand });
        const errs: FieldError[] = [...plan.errors];
        for (const c of plan.claims.filter((x) => x.explicit)) {
          const key = `${c.pool}/${c.value}`;
          const owner = await this.store.allocationOwner(c.pool, c.value);
          if ((owner && owner !== p.prev?.metadata?.uid) || requested.has(key)) errs.push(alreadyAllocated(c));
          else requested.set(key, `${p.namespace}/${p.name}`);
        }
        throwIfInvalid('Service', p.name, errs);
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

  /** One object of any supported kind (what the event handler receives from external producers). */
  async apply(obj: unknown): Promise<ApplyResult> {
    const kind = this.kindOf(obj);
    if (kind === 'Service') return this.applyService(obj as V1Service);
    if (kind === 'Pod') return this.applyPod(obj as V1Pod);
    return this.applyEndpoints(obj as V1Endpoints);
  }

  /** `kubectl delete <kind> <name>` for any supported kind. */
  delete(kind: ObjectKind, namespace: string, name: string): Promise<WatchEvent> {
    if (kind === 'Service') return this.deleteService(namespace, name);
    if (kind === 'Pod') return this.deletePod(namespace, name);
    return this.deleteEndpoints(namespace, name);
  }

  // ---------------------------------------------------------------------------------------------- internals

  private kindOf(raw: unknown): ObjectKind {
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

  /** A resourceVersion in the manifest is a precondition, as on the API server (a stale one is a Conflict). */
  private checkPrecondition(kind: ObjectKind, obj: KubeObject, prev: KubeObject | undefined): void {
    const rv = obj.metadata?.resourceVersion;
    if (!rv) return;
    const name = obj.metadata?.name ?? '';
    if (!prev)
      throw new UserConflictError(`${kind} "${name}": resourceVersion ${rv} was given but the object does not exist`);
    if (prev.metadata?.resourceVersion !== rv) {
      throw new UserConflictError(
        `Operation cannot be fulfilled on ${kind.toLowerCase()}s "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
  }

  /** Metadata the client may set; server-owned fields (uid, resourceVersion, generation, ...) are not taken from it. */
  private userMeta(obj: KubeObject, namespace: string): V1Service['metadata'] {
    const m = obj.metadata ?? {};
    const out: NonNullable<V1Service['metadata']> = { name: m.name, namespace };
    if (m.labels && Object.keys(m.labels).length > 0) out.labels = { ...m.labels };
    if (m.annotations && Object.keys(m.annotations).length > 0) out.annotations = { ...m.annotations };
    if (m.ownerReferences?.length) out.ownerReferences = structuredClone(m.ownerReferences);
    return out;
  }

  private async prepareService(obj: V1Service): Promise<Prepared<V1Service>> {
    const namespace = nsOf(obj);
    const name = obj.metadata?.name ?? '';
    const prev = name ? await this.store.get<V1Service>('Service', namespace, name) : undefined;
    this.checkPrecondition('Service', obj, prev);
    const input: V1Service = { ...structuredClone(obj), metadata: this.userMeta(obj, namespace) };
    delete input.status;
    let desired: V1Service;
    let errs: FieldError[];
    if (prev) {
      desired = defaultServiceUpdate(input, prev);
      if (desired.spec?.type === 'LoadBalancer' && desired.spec.allocateLoadBalancerNodePorts === false) {
        // Our choice (the API server would keep them): applying allocateLoadBalancerNodePorts=false without
        // nodePorts in the manifest releases the carried-over node ports; ports the manifest names are kept.
        (desired.spec.ports ?? []).forEach((p, i) => {
          if (!input.spec?.ports?.[i]?.nodePort) delete p.nodePort;
        });
      }
      errs = validateServiceUpdate(desired, prev, this.cfg);
    } else {
      desired = defaultService(input);
      errs = validateService(desired, this.cfg);
    }
    const plan = planAllocation(this.allocator, { next: desired, prev, rand: this.rand });
    throwIfInvalid('Service', name, mergeErrors(errs, plan.errors));
    return { kind: 'Service', namespace, name, desired, prev };
  }

  private async preparePod(obj: V1Pod): Promise<Prepared<V1Pod>> {
    const namespace = nsOf(obj);
    const name = obj.metadata?.name ?? '';
    const prev = name ? await this.store.get<V1Pod>('Pod', namespace, name) : undefined;
    this.checkPrecondition('Pod', obj, prev);
    const desired = defaultPod({ ...structuredClone(obj), metadata: this.userMeta(obj, namespace) });
    const errs = validatePod(desired);
    if (prev) errs.unshift(...validateObjectMetaUpdate(desired.metadata, prev.metadata));
    throwIfInvalid('Pod', name, errs);
    return { kind: 'Pod', namespace, name, desired, prev };
  }

  private async prepareEndpoints(obj: V1Endpoints): Promise<Prepared<V1Endpoints>> {
    const namespace = nsOf(obj);
    const name = obj.metadata?.name ?? '';
    const prev = name ? await this.store.get<V1Endpoints>('Endpoints', namespace, name) : undefined;
    this.checkPrecondition('Endpoints', obj, prev);
    const desired = defaultEndpoints({ ...structuredClone(obj), metadata: this.userMeta(obj, namespace) });
    const errs = validateEndpoints(desired);
    if (prev) errs.unshift(...validateObjectMetaUpdate(desired.metadata, prev.metadata));
    throwIfInvalid('Endpoints', name, errs);
    return { kind: 'Endpoints', namespace, name, desired, prev };
  }

  /** Pods and Endpoints: no allocation, a single conditional write. */
  private async writePlain<T extends V1Pod | V1Endpoints>(
    p: Prepared<T>,
    withStatus: boolean,
  ): Promise<ApplyResult<T>> {
    if (p.prev) {
      if (contentOf(p.kind, p.desired, withStatus) === contentOf(p.kind, p.prev, withStatus)) {
        return { object: p.prev, action: 'unchanged' };
      }
      const object = await this.store.update(p.kind, p.desired, p.prev, { withStatus });
      return { object, action: 'configured', event: { type: 'MODIFIED', object } };
    }
    const object = await this.store.create(p.kind, p.desired);
    return { object, action: 'created', event: { type: 'ADDED', object } };
  }

  private async writeService(p: Prepared<V1Service>): Promise<ApplyResult<V1Service>> {
    if (p.prev && contentOf('Service', p.desired, false) === contentOf('Service', p.prev, false)) {
      return { object: p.prev, action: 'unchanged' };
    }
    const uid = p.prev?.metadata?.uid ?? randomUUID();
    const owner = `Service/${p.namespace}/${p.name}`;
    const avoid: AvoidSets = emptyAvoid();
    const exact = new Set<Pool>();
    const collisions = new Map<Pool, number>();
    const listPool = async (pool: Pool) => {
      const taken = await this.store.listAllocations(pool);
      const set = pool === POOL_CLUSTER_IP ? avoid.clusterIP : avoid.nodePort;
      for (const v of taken.keys()) set.add(v);
      exact.add(pool);
    };

    for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
      const plan = planAllocation(this.allocator, { next: p.desired, prev: p.prev, avoid, rand: this.rand });
      throwIfInvalid('Service', p.name, plan.errors);
      if (plan.exhausted) {
        if (exact.has(plan.exhausted)) throw new RangeFullError(plan.exhausted);
        await listPool(plan.exhausted);
        continue;
      }
      const claims: AllocationClaim[] = plan.claims.map((c) => ({ ...c, ownerUid: uid, owner }));
      const releases: AllocationRelease[] = plan.releases.map((r) => ({ ...r, ownerUid: uid }));
      const service = plan.service;
      if (!p.prev) service.status = { loadBalancer: {} };
      try {
        if (p.prev) {
          // Leaving LoadBalancer drops the load balancer's status, as the API server does.
          const leftLB = p.prev.spec?.type === 'LoadBalancer' && service.spec?.type !== 'LoadBalancer';
          if (leftLB) service.status = { ...p.prev.status, loadBalancer: {} };
          const object = await this.store.update('Service', service, p.prev, { claims, releases, withStatus: leftLB });
          return { object, action: 'configured', event: { type: 'MODIFIED', object } };
        }
        const object = await this.store.create('Service', service, { claims, releases, uid });
        return { object, action: 'created', event: { type: 'ADDED', object } };
      } catch (err) {
        if (!(err instanceof AllocationConflictError)) throw err;
        const lost = err.failed.map((f) => plan.claims.find((c) => c.pool === f.pool && c.value === f.value));
        const explicit = lost.filter((c) => c?.explicit);
        if (explicit.length > 0)
          throwIfInvalid(
            'Service',
            p.name,
            explicit.map((c) => alreadyAllocated(c!)),
          );
        for (const c of lost) {
          if (!c) continue;
          (c.pool === POOL_CLUSTER_IP ? avoid.clusterIP : avoid.nodePort).add(c.value);
          const n = (collisions.get(c.pool) ?? 0) + 1;
          collisions.set(c.pool, n);
          // Under heavy contention the pool changes between attempts: refresh the listing on every collision past
          // the threshold, so picks keep avoiding what concurrent writers took meanwhile.
          if (n >= COLLISIONS_BEFORE_LISTING) await listPool(c.pool);
        }
        // Jittered backoff spreads writers that collided on the same picks (bounded: at most ~20 ms per attempt).
        await new Promise((r) => setTimeout(r, Math.floor(this.rand() * Math.min(20, 2 * (attempt + 1)))));
      }
    }
    throw new TransientError(
      `${p.kind} "${p.name}": could not allocate after ${MAX_ALLOCATION_ATTEMPTS} attempts (concurrent allocations); try again`,
      'AllocationContention',
      1,
    );
  }

  private async deletePlain<T extends V1Pod | V1Endpoints>(
    kind: 'Pod' | 'Endpoints',
    namespace: string,
    name: string,
  ): Promise<WatchEvent<T>> {
    return this.withConflictRetry(async () => {
      const prev = await this.store.mustGet<T>(kind, namespace, name);
      return { type: 'DELETED' as const, object: await this.store.delete(kind, prev) };
    });
  }

  private updateStatus<T extends V1Service | V1Pod>(
    kind: 'Service' | 'Pod',
    namespace: string,
    name: string,
    mutate: (status: NonNullable<T['status']>) => T['status'],
  ): Promise<ApplyResult<T>> {
    return this.withConflictRetry(async () => {
      const prev = await this.store.mustGet<T>(kind, namespace, name);
      const before = (prev.status ?? {}) as NonNullable<T['status']>;
      const next = mutate(structuredClone(before)) ?? {};
      if (canonicalJson(next) === canonicalJson(before)) return { object: prev, action: 'unchanged' as const };
      const object = await this.store.updateStatus<T>(kind, prev, next as T['status']);
      return { object, action: 'configured' as const, event: { type: 'MODIFIED' as const, object } };
    });
  }

  /**
   * Runs a read-validate-write step again when another writer got there first (stale resourceVersion, or a create
   * that lost to a concurrent create and must become an update). A resourceVersion precondition from the user is
   * not retried: that conflict is the answer.
   */
  private async withConflictRetry<R>(step: () => Promise<R>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        const lostRace =
          (err instanceof ConflictError && !(err instanceof AllocationConflictError)) ||
          err instanceof AlreadyExistsError ||
          (err instanceof TransientError && err.reason === 'TransactionCancelled');
        if (!lostRace || attempt + 1 >= MAX_CONFLICT_RETRIES || this.isUserPrecondition(err)) throw err;
        // Jittered backoff so that racing writers spread out instead of colliding again in lockstep.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20 * (attempt + 1))));
      }
    }
  }

  private isUserPrecondition(err: unknown): boolean {
    return err instanceof UserConflictError;
  }
}
