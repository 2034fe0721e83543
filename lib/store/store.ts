/**
 * The cluster's object store on one DynamoDB table (see docs/store.md): Kubernetes objects with resourceVersion /
 * generation / uid bookkeeping and optimistic concurrency, allocation records written in the same transaction as
 * the object that owns them, a small versioned record API for controller state, and atomic counters.
 *
 * AWS constraints this code depends on:
 * - Conditional writes (PutItem/UpdateItem/DeleteItem ConditionExpression) are atomic per item; that is the whole
 *   optimistic-concurrency mechanism.
 * - TransactWriteItems is all-or-nothing across up to 100 items (in one region/account) and reports, per item, a
 *   CancellationReason (`ConditionalCheckFailed`, `TransactionConflict`, ...) in the same order as the request, which
 *   is how a failed allocation claim is traced back to the field that asked for it.
 * - An item is at most 400 KB, so object bodies are capped well below (etcd allows 1.5 MB; ours is the smaller limit).
 * - Query returns at most 1 MB per page: every list follows LastEvaluatedKey to the end.
 * - Reads that feed a conditional write use ConsistentRead so they see every acknowledged write.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError, TransientError } from '../errors.js';
import { keys, type ObjectKind } from './table.js';

export type KubeObject = V1Service | V1Pod | V1Endpoints;

/** The plural resource name kubectl prints in messages (`services "x" not found`). */
export function resourceOf(kind: ObjectKind): string {
  switch (kind) {
    case 'Service':
      return 'services';
    case 'Pod':
      return 'pods';
    case 'Endpoints':
      return 'endpoints';
  }
}

/** A claim on one value of an allocation pool, made in the same transaction as the owning object's write. */
export interface AllocationClaim {
  pool: string;
  value: string;
  ownerUid: string;
  /** `<Kind>/<namespace>/<name>` of the owner, for humans reading the table. */
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

/** Item bodies above this are refused: DynamoDB's item limit is 400 KB including keys and attribute names. */
export const MAX_OBJECT_BYTES = 350 * 1024;

/** DynamoDB allows at most 100 items in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

interface ObjectItem {
  pk: string;
  sk: string;
  kind: ObjectKind;
  namespace: string;
  name: string;
  uid: string;
  rv: number;
  generation: number;
  body: string;
  updatedAt: string;
}

function conflictMessage(kind: ObjectKind, name: string): string {
  // Same words as the API server's StatusReasonConflict for a stale resourceVersion.
  return `Operation cannot be fulfilled on ${resourceOf(kind)} "${name}": the object has been modified; please apply your changes to the latest version and try again`;
}

function nsName(obj: KubeObject): { namespace: string; name: string } {
  const name = obj.metadata?.name;
  if (!name)
    throw new InvalidError('metadata.name: Required value', [{ field: 'metadata.name', message: 'Required value' }]);
  return { namespace: obj.metadata?.namespace || 'default', name };
}

function rvOf(obj: KubeObject): number {
  const rv = obj.metadata?.resourceVersion;
  const n = rv === undefined ? NaN : Number(rv);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidError(`metadata.resourceVersion: Invalid value: ${JSON.stringify(rv ?? null)}`, [
      { field: 'metadata.resourceVersion', message: 'must be the resourceVersion last read' },
    ]);
  }
  return n;
}

/** Canonical JSON (sorted keys, undefined dropped) so that "did the spec change" does not depend on key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(val as Record<string, unknown>).sort()) {
        const x = (val as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = x;
      }
      return out;
    }
    return val;
  });
}

function specOf(obj: KubeObject): unknown {
  // Endpoints have no spec: their subsets are their desired state.
  return 'spec' in obj ? obj.spec : (obj as V1Endpoints).subsets;
}

export class Store {
  readonly doc: DynamoDBDocumentClient;
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  // ---------------------------------------------------------------------------------------------- objects

  async get<T extends KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.object(kind, namespace, name), ConsistentRead: true }),
    );
    return r.Item ? (JSON.parse((r.Item as ObjectItem).body) as T) : undefined;
  }

  /** Like get, but NotFoundError (`services "x" not found`) when absent. */
  async mustGet<T extends KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T> {
    const o = await this.get<T>(kind, namespace, name);
    if (!o) throw new NotFoundError(kind, name, resourceOf(kind));
    return o;
  }

  /** Every object of a kind, or of a kind in one namespace: one Query, followed to the last page. */
  async list<T extends KubeObject>(kind: ObjectKind, namespace?: string): Promise<T[]> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: namespace === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues:
        namespace === undefined
          ? { ':pk': keys.objectPartition(kind) }
          : { ':pk': keys.objectPartition(kind), ':prefix': keys.namespacePrefix(namespace) },
      ProjectionExpression: 'body',
    };
    const out: T[] = [];
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const it of page.Items ?? []) out.push(JSON.parse((it as ObjectItem).body) as T);
    }
    return out;
  }

  /**
   * Stores a new object: uid (random UUID), creationTimestamp, resourceVersion "1", generation 1. Fails with
   * AlreadyExistsError when the object exists, AllocationConflictError when a claim is owned by someone else.
   */
  async create<T extends KubeObject>(kind: ObjectKind, obj: T, extras: WriteExtras = {}): Promise<T> {
    const { namespace, name } = nsName(obj);
    const stored = structuredClone(obj) as T;
    stored.kind = kind;
    stored.apiVersion = 'v1';
    stored.metadata = {
      ...stored.metadata,
      name,
      namespace,
      uid: extras.uid ?? randomUUID(),
      creationTimestamp: new Date().toISOString() as unknown as Date,
      resourceVersion: '1',
      generation: 1,
    };
    if (kind === 'Endpoints') delete stored.metadata.generation;
    const item = this.item(kind, stored, 1, 1);
    const put = {
      TableName: this.tableName,
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    await this.write(kind, name, 'create', put, 'Put', extras);
    return stored;
  }

  /**
   * Replaces an object's metadata (labels, annotations) and spec. `prev` is the object as last read: the write is
   * conditional on its resourceVersion. uid, creationTimestamp and status are kept from `prev` (status has its own
   * write, updateStatus, as with the API server's status subresource). generation is bumped only when the spec
   * changes; resourceVersion always.
   */
  async update<T extends KubeObject>(kind: ObjectKind, next: T, prev: T, extras: WriteExtras = {}): Promise<T> {
    const { namespace, name } = nsName(prev);
    const prevRv = rvOf(prev);
    const stored = structuredClone(next) as T;
    stored.kind = kind;
    stored.apiVersion = 'v1';
    const prevGen = prev.metadata?.generation ?? 1;
    const gen = canonicalJson(specOf(next)) === canonicalJson(specOf(prev)) ? prevGen : prevGen + 1;
    stored.metadata = {
      ...stored.metadata,
      name,
      namespace,
      uid: prev.metadata?.uid,
      creationTimestamp: prev.metadata?.creationTimestamp,
      resourceVersion: String(prevRv + 1),
      generation: gen,
    };
    if (kind === 'Endpoints') delete stored.metadata.generation;
    if (kind !== 'Endpoints' && !extras.withStatus) {
      (stored as V1Service | V1Pod).status = (prev as V1Service | V1Pod).status;
    }
    const put = {
      TableName: this.tableName,
      Item: this.item(kind, stored, prevRv + 1, gen),
      ConditionExpression: 'rv = :rv',
      ExpressionAttributeValues: { ':rv': prevRv },
    };
    await this.write(kind, name, 'update', put, 'Put', extras);
    return stored;
  }

  /** Writes only the status, conditional on `prev`'s resourceVersion; generation is not touched. */
  async updateStatus<T extends V1Service | V1Pod>(kind: 'Service' | 'Pod', prev: T, status: T['status']): Promise<T> {
    const { name } = nsName(prev);
    const prevRv = rvOf(prev);
    const stored = structuredClone(prev);
    stored.status = structuredClone(status) as T['status'];
    stored.metadata = { ...stored.metadata, resourceVersion: String(prevRv + 1) };
    const put = {
      TableName: this.tableName,
      Item: this.item(kind, stored, prevRv + 1, prev.metadata?.generation ?? 1),
      ConditionExpression: 'rv = :rv',
      ExpressionAttributeValues: { ':rv': prevRv },
    };
    await this.write(kind, name, 'update', put, 'Put', {});
    return stored;
  }

  /**
   * Deletes `prev` conditional on its resourceVersion, releasing its allocations in the same transaction. Returns the
   * object as a DELETED watch event carries it (resourceVersion bumped, as etcd gives the deletion its own revision).
   */
  async delete<T extends KubeObject>(kind: ObjectKind, prev: T, extras: WriteExtras = {}): Promise<T> {
    const { namespace, name } = nsName(prev);
    const prevRv = rvOf(prev);
    const del = {
      TableName: this.tableName,
      Key: keys.object(kind, namespace, name),
      ConditionExpression: 'rv = :rv',
      ExpressionAttributeValues: { ':rv': prevRv },
    };
    await this.write(kind, name, 'delete', del, 'Delete', extras);
    const gone = structuredClone(prev);
    gone.metadata = { ...gone.metadata, resourceVersion: String(prevRv + 1) };
    return gone;
  }

  /** All values of an allocation pool with their owner uid (used to find free values when random picks collide). */
  async listAllocations(pool: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.allocPartition(pool) },
      ProjectionExpression: 'sk, ownerUid',
    };
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const it of page.Items ?? []) out.set(String(it.sk), String(it.ownerUid));
    }
    return out;
  }

  /** The owner uid of one allocated value, or undefined when it is free. */
  async allocationOwner(pool: string, value: string): Promise<string | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.alloc(pool, value), ConsistentRead: true }),
    );
    return r.Item ? String(r.Item.ownerUid) : undefined;
  }

  private item(kind: ObjectKind, obj: KubeObject, rv: number, generation: number): ObjectItem {
    const { namespace, name } = nsName(obj);
    const body = JSON.stringify(obj);
    if (Buffer.byteLength(body) > MAX_OBJECT_BYTES) {
      throw new InvalidError(
        `${kind} "${name}" is invalid: metadata: Too long: must have at most ${MAX_OBJECT_BYTES} bytes`,
        [{ field: 'metadata', message: `object may not be more than ${MAX_OBJECT_BYTES} bytes` }],
      );
    }
    return {
      ...keys.object(kind, namespace, name),
      kind,
      namespace,
      name,
      uid: obj.metadata?.uid ?? '',
      rv,
      generation,
      body,
      updatedAt: new Date().toISOString(),
    };
  }

  /**
   * One object write plus its allocation claims/releases. Without claims or releases it is a single conditional
   * write (half the cost of a transaction); with them, one TransactWriteItems with the object write first, so
   * CancellationReasons[0] is the object's condition and the rest map back to claims and releases by position.
   */
  private async write(
    kind: ObjectKind,
    name: string,
    op: 'create' | 'update' | 'delete',
    input: Record<string, unknown>,
    type: 'Put' | 'Delete',
    extras: WriteExtras,
  ): Promise<void> {
    const claims = extras.claims ?? [];
    const releases = extras.releases ?? [];
    const objectFailed = () =>
      op === 'create' ? new AlreadyExistsError(resourceOf(kind), name) : new ConflictError(conflictMessage(kind, name));
    if (claims.length === 0 && releases.length === 0) {
      try {
        if (type === 'Put') await this.doc.send(new PutCommand(input as never));
        else await this.doc.send(new DeleteCommand(input as never));
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw objectFailed();
        throw err;
      }
      return;
    }
    if (1 + claims.length + releases.length > MAX_TRANSACTION_ITEMS) {
      throw new InvalidError(
        `${kind} "${name}" is invalid: spec.ports: Too many: ${claims.length + releases.length}: must have at most ${MAX_TRANSACTION_ITEMS - 1} allocation changes in one write`,
      );
    }
    const now = new Date().toISOString();
    const items = [
      { [type]: input },
      ...claims.map((c) => ({
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.alloc(c.pool, c.value),
            ownerUid: c.ownerUid,
            owner: c.owner,
            field: c.field,
            claimedAt: now,
          },
          // Free, or already ours (a retried write, or a value moving between two fields of the same object).
          ConditionExpression: 'attribute_not_exists(pk) OR ownerUid = :uid',
          ExpressionAttributeValues: { ':uid': c.ownerUid },
        },
      })),
      ...releases.map((r) => ({
        Delete: {
          TableName: this.tableName,
          Key: keys.alloc(r.pool, r.value),
          // Never free somebody else's value; an already-missing record is fine (nothing to release).
          ConditionExpression: 'attribute_not_exists(pk) OR ownerUid = :uid',
          ExpressionAttributeValues: { ':uid': r.ownerUid },
        },
      })),
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      const code = (i: number) => reasons[i]?.Code ?? 'None';
      if (code(0) === 'ConditionalCheckFailed') throw objectFailed();
      const failed = claims.filter((_c, i) => code(1 + i) === 'ConditionalCheckFailed');
      if (failed.length > 0) throw new AllocationConflictError(failed);
      const releaseFailed = releases.some((_r, i) => code(1 + claims.length + i) === 'ConditionalCheckFailed');
      if (releaseFailed) {
        // A value we believed ours belongs to another owner: the object we read is stale. Re-read and retry.
        throw new ConflictError(conflictMessage(kind, name));
      }
      // TransactionConflict (another transaction touched one of the items), throttling: retry later.
      throw new TransientError(
        `transaction for ${resourceOf(kind)} "${name}" cancelled: ${reasons.map((r) => r.Code ?? 'None').join(', ')}`,
        'TransactionCancelled',
        0,
        { cause: err },
      );
    }
  }

  // ---------------------------------------------------------------------------------------------- records

  async getRecord<T = unknown>(kind: string, id: string): Promise<StoredRecord<T> | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.record(kind, id), ConsistentRead: true }),
    );
    if (!r.Item) return undefined;
    return { id, data: JSON.parse(String(r.Item.data)) as T, version: Number(r.Item.version) };
  }

  /**
   * Writes a record and returns its new version (1 for a new record, +1 per write).
   * expectedVersion: undefined = unconditional; 0 = must not exist yet; n = must currently be at version n.
   * A failed condition is a ConflictError (re-read and retry).
   */
  async putRecord<T = unknown>(kind: string, id: string, data: T, expectedVersion?: number): Promise<number> {
    let condition: string | undefined;
    const values: Record<string, unknown> = {
      ':data': JSON.stringify(data),
      ':one': 1,
      ':now': new Date().toISOString(),
    };
    if (expectedVersion === 0) condition = 'attribute_not_exists(pk)';
    else if (expectedVersion !== undefined) {
      condition = '#version = :expected';
      values[':expected'] = expectedVersion;
    }
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.record(kind, id),
          UpdateExpression: 'SET #data = :data, updatedAt = :now ADD #version :one',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#data': 'data', '#version': 'version' },
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(r.Attributes?.version);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(
          expectedVersion === 0
            ? `record ${kind}/${id} already exists`
            : `record ${kind}/${id} is not at version ${expectedVersion}`,
        );
      }
      throw err;
    }
  }

  /** Deletes a record; with expectedVersion, only when it is at that version (ConflictError otherwise). */
  async deleteRecord(kind: string, id: string, expectedVersion?: number): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.record(kind, id),
          ...(expectedVersion === undefined
            ? {}
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`record ${kind}/${id} is not at version ${expectedVersion}`);
      }
      throw err;
    }
  }

  async listRecords<T = unknown>(kind: string): Promise<StoredRecord<T>[]> {
    const out: StoredRecord<T>[] = [];
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.recordPartition(kind) },
    };
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const it of page.Items ?? []) {
        out.push({ id: String(it.sk), data: JSON.parse(String(it.data)) as T, version: Number(it.version) });
      }
    }
    return out;
  }

  /** Atomic counter: 1, 2, 3, ... per name (UpdateItem ADD is atomic; no read-modify-write race). */
  async nextSequence(name: string): Promise<number> {
    const r = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.sequence(name),
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(r.Attributes?.value);
  }
}
