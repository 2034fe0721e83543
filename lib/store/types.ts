/**
 * The storage interface the rest of the code depends on (the API write path, the controller, the data-plane state):
 * Kubernetes objects under ONE global, monotonic revision with a dense change log (etcd's model, as kine implements
 * it over SQL), allocation claims that commit with their owner, versioned controller records and atomic sequences.
 * `DynamoStore` (lib/store/store.ts) implements it on one DynamoDB table.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { ConflictError } from '../errors.js';
import type { ObjectKind } from './table.js';

/** Any stored Kubernetes object (V1Service, V1Pod, ... and the API's plain JSON objects all fit). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/** A claim on one value of an allocation pool, made in the same transaction as the owning object's write. */
export interface AllocationClaim {
  pool: string;
  value: string;
  ownerUid: string;
  /** `<Kind>/<namespace>/<name>` of the owner, for messages (the table stores only the uid, see alloc-blocks.ts). */
  owner: string;
  /** The field that asked for the value (`spec.clusterIPs[0]`, `spec.ports[1].nodePort`); reported on conflict. */
  field: string;
}

export interface AllocationRelease {
  pool: string;
  value: string;
  ownerUid: string;
}

export interface WriteExtras {
  claims?: AllocationClaim[];
  releases?: AllocationRelease[];
  /**
   * update only: also replace the status with `next.status`. Off by default, as the API server ignores status in a
   * main-resource write; Pods applied by their external producer (there is no kubelet here) turn it on.
   */
  withStatus?: boolean;
  /** create only: the uid to give the object (the caller needs it up front to own its allocation claims). */
  uid?: string;
  /**
   * Whether the kind keeps `metadata.generation` (bumped when the spec changes). Default: objects with a `spec`.
   * EndpointSlices track it without a spec; Namespaces and Nodes do not upstream.
   */
  generation?: boolean;
  /** Seconds until DynamoDB's TTL may remove the object item (Events: the apiserver's --event-ttl). */
  ttlSeconds?: number;
}

/**
 * A transaction was cancelled because one or more allocation claims are owned by someone else (and the object write
 * itself would have succeeded). `failed` lists those claims so the caller can report the field or pick another value.
 */
export class AllocationConflictError extends ConflictError {
  readonly failed: AllocationClaim[];
  constructor(failed: AllocationClaim[]) {
    super(`allocation conflict on ${failed.map((c) => `${c.pool} ${c.value}`).join(', ')}`);
    this.failed = failed;
  }
}

export interface StoredRecord<T> {
  id: string;
  data: T;
  version: number;
}

export type LogEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One entry of the change log: the write that took revision `rev`. */
export interface LogEntry {
  rev: number;
  type: LogEventType;
  kind: ObjectKind;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid: string;
  /** The object as stored by this write (for DELETED: the last stored object, at the deletion's revision). */
  object: KubeObject;
  /** 'status' when the write changed only the status subresource. */
  subresource?: 'status';
  /**
   * The object as stored before this write, when this process knew it (the watch cache fills it in as the entry
   * passes). Not stored in the log: DynamoDB's 400 KB item limit leaves no room for two bodies of up to 350 KB.
   */
  prev?: KubeObject;
}

export interface Revisions {
  /** The revision of the last committed write (0 on an empty store). */
  current: number;
  /** Every log entry at or below this revision has been (or is being) removed. */
  compacted: number;
}

/** Versioned controller state and atomic counters (not Kubernetes objects: no revision, no log). */
export interface RecordStore {
  getRecord<T = unknown>(kind: string, id: string): Promise<StoredRecord<T> | undefined>;
  /** expectedVersion: undefined = unconditional; 0 = must not exist yet; n = must be at version n (else Conflict). */
  putRecord<T = unknown>(
    kind: string,
    id: string,
    data: T,
    expectedVersion?: number,
    opts?: { expiresAt?: Date },
  ): Promise<number>;
  deleteRecord(kind: string, id: string, expectedVersion?: number): Promise<void>;
  listRecords<T = unknown>(kind: string): Promise<StoredRecord<T>[]>;
  nextSequence(name: string): Promise<number>;
}

/** Reading the change log: watches, the watch cache and compaction. */
export interface ChangeLog {
  currentRevision(): Promise<number>;
  revisions(): Promise<Revisions>;
  /**
   * Entries with revision > afterRev, oldest first, at most `limit`. GoneError (`too old resource version: A (B)`)
   * when entry afterRev+1 no longer exists but later ones do (compacted, or expired by TTL).
   */
  readLog(afterRev: number, limit: number): Promise<LogEntry[]>;
  /**
   * The entries after `afterRev` up to `head` (a revision known to be committed), at most `limit`: read by key,
   * which costs the same as readLog on DynamoDB and does not depend on the log's length. Falls back to readLog
   * (and its GoneError) when an entry in the range is gone.
   */
  readLogTo(afterRev: number, head: number, limit: number): Promise<LogEntry[]>;
  /** GoneError when a watch may not resume from `rev` (below the compaction horizon, or its next entry is gone). */
  assertWatchable(rev: number): Promise<void>;
  /** Removes log entries committed before `olderThan` (never the newest one); returns the new compact revision. */
  compact(olderThan: Date): Promise<{ compacted: number; deleted: number }>;
}

export interface ObjectStore {
  get<T extends KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T | undefined>;
  /** Like get, but NotFoundError (`services "x" not found`) when absent. */
  mustGet<T extends KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T>;
  list<T extends KubeObject>(kind: ObjectKind, namespace?: string): Promise<T[]>;
  create<T extends KubeObject>(kind: ObjectKind, obj: T, extras?: WriteExtras): Promise<T>;
  update<T extends KubeObject>(kind: ObjectKind, next: T, prev: T, extras?: WriteExtras): Promise<T>;
  updateStatus<T extends KubeObject & { status?: unknown }>(kind: ObjectKind, prev: T, status: T['status']): Promise<T>;
  delete<T extends KubeObject>(kind: ObjectKind, prev: T, extras?: WriteExtras): Promise<T>;
  listAllocations(pool: string): Promise<Map<string, string>>;
  allocationOwner(pool: string, value: string): Promise<string | undefined>;
}

export interface Store extends ObjectStore, ChangeLog, RecordStore {}
