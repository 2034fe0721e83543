/**
 * Stores a prepared Service together with its ClusterIP / NodePort claims and releases (one transaction), choosing
 * automatic values that survive concurrent writers: a lost automatic pick is avoided and re-planned, a lost
 * requested value is the API server's "provided IP/port is already allocated" Invalid error, and an exhausted pool
 * (judged on a full listing) is "range is full". A dry run plans the same way and checks requested values against
 * their current owners, but writes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { V1Service } from '@kubernetes/client-node';
import { PermanentError, TransientError } from '../errors.js';
import { throwIfInvalid } from '../model/field-errors.js';
import {
  AllocationConflictError,
  type AllocationClaim,
  type AllocationRelease,
  type ObjectStore,
} from '../store/types.js';
import {
  alreadyAllocated,
  emptyAvoid,
  planAllocation,
  POOL_CLUSTER_IP,
  rangeFullMessage,
  type AllocationPlan,
  type AvoidSets,
  type Pool,
} from './allocator.js';
import type { StrategyContext } from './strategies.js';

/** Transactions tried for one write when automatic picks keep colliding with concurrent writers. */
const MAX_ALLOCATION_ATTEMPTS = 24;
/** Collisions in one pool after which the pool is listed, so the next picks (and "range is full") are exact. */
const COLLISIONS_BEFORE_LISTING = 3;

/** Thrown by the allocator plumbing when no value is left: not retryable by re-sending the same object. */
export class RangeFullError extends PermanentError {
  constructor(pool: Pool) {
    super(rangeFullMessage(pool), 'InternalError');
  }
}

export interface ServiceWrite {
  namespace: string;
  name: string;
  /** Defaulted and validated (strategies.ts). */
  desired: V1Service;
  /** The stored Service this write replaces (undefined on create). */
  prev?: V1Service;
  dryRun?: boolean;
}

/** Per-write memory of values lost to other writers, and which pools were listed in full. */
class Avoidance {
  readonly avoid: AvoidSets = emptyAvoid();
  readonly exact = new Set<Pool>();
  private readonly collisions = new Map<Pool, number>();
  constructor(private readonly store: ObjectStore) {}

  async listPool(pool: Pool): Promise<void> {
    const taken = await this.store.listAllocations(pool);
    const set = pool === POOL_CLUSTER_IP ? this.avoid.clusterIP : this.avoid.nodePort;
    for (const v of taken.keys()) set.add(v);
    this.exact.add(pool);
  }

  /** Records lost automatic picks; under heavy contention the pool is re-listed on every collision past the limit. */
  async lost(pool: Pool, value: string): Promise<void> {
    (pool === POOL_CLUSTER_IP ? this.avoid.clusterIP : this.avoid.nodePort).add(value);
    const n = (this.collisions.get(pool) ?? 0) + 1;
    this.collisions.set(pool, n);
    if (n >= COLLISIONS_BEFORE_LISTING) await this.listPool(pool);
  }
}

export async function commitService(store: ObjectStore, ctx: StrategyContext, w: ServiceWrite): Promise<V1Service> {
  const uid = w.prev?.metadata?.uid ?? randomUUID();
  const state = new Avoidance(store);
  for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
    const plan = planAllocation(ctx.allocator, { next: w.desired, prev: w.prev, avoid: state.avoid, rand: ctx.rand });
    throwIfInvalid('Service', w.name, plan.errors);
    if (plan.exhausted) {
      if (state.exact.has(plan.exhausted)) throw new RangeFullError(plan.exhausted);
      await state.listPool(plan.exhausted);
      continue;
    }
    if (w.dryRun) return dryRunResult(store, w, plan, uid);
    try {
      return await writePlan(store, w, plan, uid);
    } catch (err) {
      if (!(err instanceof AllocationConflictError)) throw err;
      const lost = err.failed.flatMap((f) => plan.claims.filter((c) => c.pool === f.pool && c.value === f.value));
      const explicit = lost.filter((c) => c.explicit);
      if (explicit.length > 0) throwIfInvalid('Service', w.name, explicit.map(alreadyAllocated));
      for (const c of lost) await state.lost(c.pool, c.value);
      // Jittered backoff spreads writers that collided on the same picks (bounded: at most ~20 ms per attempt).
      await new Promise((r) => setTimeout(r, Math.floor(ctx.rand() * Math.min(20, 2 * (attempt + 1)))));
    }
  }
  throw new TransientError(
    `Service "${w.name}": could not allocate after ${MAX_ALLOCATION_ATTEMPTS} attempts (concurrent allocations); try again`,
    'AllocationContention',
    1,
  );
}

async function writePlan(store: ObjectStore, w: ServiceWrite, plan: AllocationPlan, uid: string): Promise<V1Service> {
  const owner = `Service/${w.namespace}/${w.name}`;
  const claims: AllocationClaim[] = plan.claims.map((c) => ({ ...c, ownerUid: uid, owner }));
  const releases: AllocationRelease[] = plan.releases.map((r) => ({ ...r, ownerUid: uid }));
  const service = plan.service;
  if (!w.prev) return store.create('Service', service, { claims, releases, uid });
  // Leaving LoadBalancer drops the load balancer's status, as the API server does.
  const leftLB = w.prev.spec?.type === 'LoadBalancer' && service.spec?.type !== 'LoadBalancer';
  if (leftLB) service.status = { ...w.prev.status, loadBalancer: {} };
  return store.update('Service', service, w.prev, { claims, releases, withStatus: leftLB });
}

/** What the write would store: requested values already owned by another Service are reported as upstream does. */
async function dryRunResult(
  store: ObjectStore,
  w: ServiceWrite,
  plan: AllocationPlan,
  uid: string,
): Promise<V1Service> {
  const taken = [];
  for (const c of plan.claims.filter((x) => x.explicit)) {
    const owner = await store.allocationOwner(c.pool, c.value);
    if (owner && owner !== uid) taken.push(alreadyAllocated(c));
  }
  throwIfInvalid('Service', w.name, taken);
  const service = plan.service;
  if (w.prev) {
    service.metadata = { ...service.metadata, uid, resourceVersion: w.prev.metadata?.resourceVersion };
    service.status = w.prev.status;
  } else service.metadata = { ...service.metadata, uid };
  return service;
}
