/**
 * Node ports of the data plane's own for Gateway backends. An NLB target group sends to instance:port, so every
 * backend of a Gateway route needs a port that every node forwards to that Service port's endpoints. A NodePort or
 * LoadBalancer Service has one; a ClusterIP Service gets one here: allocated like a NodePort (the SAME pool and
 * allocation blocks as lib/api/allocator.ts, so it can never collide with a Service's NodePort, and a Service can
 * never be given it) but never written into the Service, so `kubectl get svc` is unchanged. The data plane renders it
 * exactly like a NodePort (DataPlaneState.backendNodePorts, lib/dataplane/render).
 *
 * Layout in the store's table, both written in ONE conditional transaction:
 * - a record `gateway-backend-port` / `<ns>/<svc>:<port>/<proto>` (the RecordStore format: listRecords reads it)
 *   holding the Service's uid and the number: at most one number per Service port, since the record is created only
 *   if absent, so two concurrent callers can never end up with two numbers for one ref;
 * - the number's claim in the NodePort pool's allocation block, owned by `gateway-backend-port:<key>` (never a
 *   Service uid, so no Service write can take it or release it; the API's write path sees it as taken).
 * Deleting both is also one transaction, conditional on the record's version and the claim's owner.
 *
 * Planning is pure (planEnsure, planRelease); the store calls are the thin adapter at the end (DynamoBackendPorts).
 * Whenever an allocation is made, moved to a new uid or released, the handle's pusher is asked for a data-plane push
 * (`{ kind: 'objects' }`), as the controller does after an object change.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { POOL_NODE_PORT, rangeFullMessage, type Rand, type ServiceAllocator } from '../api/allocator.js';
import type { BackendNodePort } from '../dataplane/render/state.js';
import type { PushTrigger } from '../dataplane/triggers.js';
import { ConflictError, RequeueError, TransientError } from '../errors.js';
import { blockOf, blockUpdate } from '../store/alloc-blocks.js';
import { DynamoStore } from '../store/store.js';
import { keys } from '../store/table.js';
import { backendKeyOf } from './names.js';
import type { RecordStore, Store } from '../store/types.js';

export interface BackendPortRef {
  namespace: string;
  service: string;
  uid: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

/** The key of one Service port as a backend: the same key the Gateway builder's node-port map uses (names.ts). */
export const backendPortKey = (r: Pick<BackendPortRef, 'namespace' | 'service' | 'port' | 'protocol'>): string =>
  backendKeyOf(r);

/** The record kind (RecordStore) holding one allocation per Service port. */
export const BACKEND_PORT_RECORD = 'gateway-backend-port';
/** The owner written into the NodePort pool's allocation block: not a uid any Service can have. */
export const backendPortOwner = (key: string): string => `${BACKEND_PORT_RECORD}:${key}`;

/** One stored allocation: the record's data and version. */
export interface StoredBackendPort {
  port: BackendNodePort;
  version: number;
}

/** What ensure/release need from the controller: the API (its store and its NodePort allocator) and the pusher. */
export interface BackendPortsHandle {
  api: { store: Store; allocator: ServiceAllocator };
  /** The controller's DataPlanePusher: asked for a push whenever an allocation changed. */
  pusher?: { request(trigger: PushTrigger): Promise<void> };
  /** Random source for picks (tests). */
  rand?: Rand;
}

// ------------------------------------------------------------------------------------------------ pure planning

export interface EnsurePlan {
  /** Refs already held for the same Service uid: key -> node port. */
  held: Map<string, number>;
  /** Refs held for another uid (the Service was re-created under the same name): keep the number, record the uid. */
  adopt: { ref: BackendPortRef; stored: StoredBackendPort }[];
  /** Refs without an allocation, each with a free number picked (outside `taken` and every other pick). */
  allocate: { ref: BackendPortRef; nodePort: number }[];
  /** Refs for which no free number was left. */
  exhausted: BackendPortRef[];
}

const sameRef = (p: BackendNodePort, r: BackendPortRef): boolean =>
  p.namespace === r.namespace && p.service === r.service && p.port === r.port && p.protocol === r.protocol;

/** Wanted refs, one per key (the last one given wins: a later listing knows the newer uid). */
function uniqueRefs(wanted: readonly BackendPortRef[]): BackendPortRef[] {
  const byKey = new Map<string, BackendPortRef>();
  for (const r of wanted) byKey.set(backendPortKey(r), r);
  return [...byKey.values()];
}

/**
 * What ensure must do for `wanted`, given the stored allocations and the NodePort pool's taken values (every
 * owner's, Services' and ours). Picks use the API's allocator, so they follow the same range and band preference.
 */
export function planEnsure(
  stored: readonly StoredBackendPort[],
  wanted: readonly BackendPortRef[],
  taken: ReadonlySet<string>,
  allocator: ServiceAllocator,
  rand: Rand = Math.random,
): EnsurePlan {
  const plan: EnsurePlan = { held: new Map(), adopt: [], allocate: [], exhausted: [] };
  const avoid = new Set(taken);
  for (const s of stored) avoid.add(String(s.port.nodePort));
  for (const ref of uniqueRefs(wanted)) {
    const key = backendPortKey(ref);
    const s = stored.find((x) => sameRef(x.port, ref));
    if (s && s.port.uid === ref.uid) plan.held.set(key, s.port.nodePort);
    else if (s) plan.adopt.push({ ref, stored: s });
    else {
      const nodePort = allocator.pickPort(avoid, rand);
      if (nodePort === undefined) plan.exhausted.push(ref);
      else {
        avoid.add(String(nodePort));
        plan.allocate.push({ ref, nodePort });
      }
    }
  }
  return plan;
}

/** The stored allocations to release: every one whose (key, uid) is not in `keep`. */
export function planRelease(
  stored: readonly StoredBackendPort[],
  keep: readonly BackendPortRef[],
): StoredBackendPort[] {
  const kept = new Set(keep.map((r) => `${backendPortKey(r)}\u0000${r.uid}`));
  return stored.filter((s) => !kept.has(`${backendPortKey(s.port)}\u0000${s.port.uid}`));
}

const portOf = (ref: BackendPortRef, nodePort: number): BackendNodePort => ({
  namespace: ref.namespace,
  service: ref.service,
  uid: ref.uid,
  port: ref.port,
  protocol: ref.protocol,
  nodePort,
});

// ------------------------------------------------------------------------------------------------ orchestration

/** Rounds of list -> plan -> conditional writes before giving up on contention (each lost write is re-planned). */
const MAX_ROUNDS = 10;

/**
 * Makes sure every wanted Service port has its node port; returns key (backendPortKey) -> node port for each.
 * Idempotent; concurrent callers converge on the same number per ref (the record is created only if absent). Refs
 * left without a number because the NodePort range is full end in a RequeueError after the others are allocated.
 */
export async function ensureBackendNodePorts(
  handle: BackendPortsHandle,
  wanted: BackendPortRef[],
): Promise<Map<string, number>> {
  const io = new DynamoBackendPorts(handle.api.store);
  let changed = false;
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const stored = await io.list();
      const needsPick = uniqueRefs(wanted).some((r) => !stored.some((s) => sameRef(s.port, r)));
      const taken = needsPick ? await io.taken() : new Set<string>();
      const plan = planEnsure(stored, wanted, taken, handle.api.allocator, handle.rand);
      let lost = false;
      for (const a of plan.adopt) {
        if (await io.adopt(a.stored, a.ref)) changed = true;
        else lost = true;
      }
      for (const a of plan.allocate) {
        if ((await io.create(portOf(a.ref, a.nodePort))) === 'created') changed = true;
        else lost = true;
      }
      if (lost) continue;
      if (plan.exhausted.length > 0) {
        const refs = plan.exhausted.map(backendPortKey).join(', ');
        throw new RequeueError(`backend node ports for ${refs}: ${rangeFullMessage(POOL_NODE_PORT)}`, 30);
      }
      const out = new Map(plan.held);
      for (const a of plan.adopt) out.set(backendPortKey(a.ref), a.stored.port.nodePort);
      for (const a of plan.allocate) out.set(backendPortKey(a.ref), a.nodePort);
      return out;
    }
    throw new TransientError('backend node ports: allocation kept colliding with concurrent writers', 'Conflict', 1);
  } finally {
    if (changed) await handle.pusher?.request({ kind: 'objects' });
  }
}

/**
 * Releases every backend node port not in `keep` (matched by key AND Service uid: an allocation made for a deleted
 * or re-created Service goes too). `keep` must list the backends of EVERY Gateway this controller serves, not of one.
 * Returns the keys released.
 */
export async function releaseBackendNodePorts(handle: BackendPortsHandle, keep: BackendPortRef[]): Promise<string[]> {
  const io = new DynamoBackendPorts(handle.api.store);
  const released: string[] = [];
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const gone = planRelease(await io.list(), keep);
      let lost = false;
      for (const s of gone) {
        if (await io.remove(s)) released.push(backendPortKey(s.port));
        else lost = true;
      }
      if (!lost) return released;
    }
    throw new TransientError('backend node ports: release kept colliding with concurrent writers', 'Conflict', 1);
  } finally {
    if (released.length > 0) await handle.pusher?.request({ kind: 'objects' });
  }
}

/** Every stored backend node port, as the data plane renders them (lib/runtime/dataplane-state.ts). */
export async function loadBackendNodePorts(records: RecordStore): Promise<BackendNodePort[]> {
  return (await records.listRecords<BackendNodePort>(BACKEND_PORT_RECORD)).map((r) => r.data);
}

// ------------------------------------------------------------------------------------------------ adapter

/**
 * The store calls: record and allocation claim in one TransactWriteItems, in the layouts of lib/store (RecordStore's
 * item format, alloc-blocks' block items), so the API's allocator and listRecords read them as their own.
 */
export class DynamoBackendPorts {
  private readonly store: DynamoStore;

  constructor(store: Store) {
    if (!(store instanceof DynamoStore)) throw new Error('backend node ports need the DynamoDB store');
    this.store = store;
  }

  async list(): Promise<StoredBackendPort[]> {
    const rs = await this.store.listRecords<BackendNodePort>(BACKEND_PORT_RECORD);
    return rs.map((r) => ({ port: r.data, version: r.version }));
  }

  /** Every value of the NodePort pool, whoever holds it. */
  async taken(): Promise<Set<string>> {
    return new Set((await this.store.listAllocations(POOL_NODE_PORT)).keys());
  }

  /** 'created', or what was in the way: the ref's record exists already, or the number is someone else's. */
  async create(p: BackendNodePort): Promise<'created' | 'ref-exists' | 'port-taken'> {
    const key = backendPortKey(p);
    const value = String(p.nodePort);
    const u = blockUpdate({
      pool: POOL_NODE_PORT,
      block: blockOf(value),
      claims: [{ pool: POOL_NODE_PORT, value, ownerUid: backendPortOwner(key), owner: key, field: 'backend' }],
      releases: [],
    });
    const record = {
      ...keys.record(BACKEND_PORT_RECORD, key),
      data: JSON.stringify(p),
      version: 1,
      updatedAt: new Date().toISOString(),
    };
    const reasons = await this.transact([
      { Put: { TableName: this.store.tableName, Item: record, ConditionExpression: 'attribute_not_exists(pk)' } },
      this.blockItem(value, u),
    ]);
    if (!reasons) return 'created';
    return reasons[0] === 'ConditionalCheckFailed' ? 'ref-exists' : 'port-taken';
  }

  /** Records a new Service uid on an allocation (same number); false when the record moved on meanwhile. */
  async adopt(s: StoredBackendPort, ref: BackendPortRef): Promise<boolean> {
    try {
      await this.store.doc.send(
        new UpdateCommand({
          TableName: this.store.tableName,
          Key: keys.record(BACKEND_PORT_RECORD, backendPortKey(ref)),
          UpdateExpression: 'SET #data = :data, updatedAt = :now ADD #version :one',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#data': 'data', '#version': 'version' },
          ExpressionAttributeValues: {
            ':data': JSON.stringify(portOf(ref, s.port.nodePort)),
            ':now': new Date().toISOString(),
            ':one': 1,
            ':expected': s.version,
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Deletes the record and frees the number together; false when the record moved on meanwhile. */
  async remove(s: StoredBackendPort): Promise<boolean> {
    const key = backendPortKey(s.port);
    const value = String(s.port.nodePort);
    const u = blockUpdate({
      pool: POOL_NODE_PORT,
      block: blockOf(value),
      claims: [],
      releases: [{ pool: POOL_NODE_PORT, value, ownerUid: backendPortOwner(key) }],
    });
    const reasons = await this.transact([
      {
        Delete: {
          TableName: this.store.tableName,
          Key: keys.record(BACKEND_PORT_RECORD, key),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': s.version },
        },
      },
      this.blockItem(value, u),
    ]);
    if (!reasons) return true;
    if (reasons[0] === 'ConditionalCheckFailed') return false;
    // The number is held by another owner (never by this code's writes): never free it; the record alone goes.
    try {
      await this.store.deleteRecord(BACKEND_PORT_RECORD, key, s.version);
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }

  private blockItem(value: string, u: ReturnType<typeof blockUpdate>) {
    return {
      Update: {
        TableName: this.store.tableName,
        Key: keys.allocBlock(POOL_NODE_PORT, blockOf(value)),
        UpdateExpression: u.update,
        ConditionExpression: u.condition,
        ExpressionAttributeNames: u.names,
        ExpressionAttributeValues: u.values,
      },
    };
  }

  /** undefined when committed; the cancellation codes per item when a condition failed. Other conflicts retry. */
  private async transact(items: unknown[]): Promise<string[] | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
        return undefined;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const codes = (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (codes.includes('ConditionalCheckFailed')) return codes;
        if (attempt >= 5) throw new TransientError('backend node ports: transaction kept conflicting', 'Conflict', 1);
        await new Promise((r) => setTimeout(r, 10 * (attempt + 1)));
      }
    }
  }
}
