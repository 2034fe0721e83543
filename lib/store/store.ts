/**
 * The cluster's object store on one DynamoDB table (see docs/store.md): etcd's data model as kine builds it on SQL,
 * rebuilt on DynamoDB. Every object write takes the next value of ONE global revision and appends one change-log
 * entry in the same transaction, so `resourceVersion` is cluster-wide and monotonic, the log is dense, and watchers
 * can resume from any revision the log still holds.
 *
 * Why a compare-and-set counter (and what it costs). Each write is one TransactWriteItems holding: the counter Put
 * conditional on `rev = current` (-> current+1), the object Put/Delete with its own condition, the log item, and the
 * Service's allocation claims/releases. All writes therefore serialize on the counter item, like etcd's single
 * leader: commit order IS revision order and revision N's log entry exists as soon as the counter shows N. The
 * alternatives break that: an atomic `ADD` counter followed by the transaction (kine's auto-increment) hands out
 * revisions before commit, so readers meet holes they cannot tell from rollbacks (kine waits, then writes "fill"
 * rows); a per-object counter is not a global order at all. The price is throughput: a commit needs the current
 * revision, so at most one write commits per transaction round trip (~10-25 ms in a region: roughly 40-100 writes/s
 * cluster-wide), and contending writers retry. That is ample for Services, Pods and their status; high-churn data
 * (Events, Leases) would want its own log. To spend no extra read per write, the last revision seen is cached
 * in-process and writes from this process queue behind each other (they would only collide on the counter); a
 * counter conflict from another process returns the counter's value (ReturnValuesOnConditionCheckFailure=ALL_OLD,
 * which moto honours in transactions) and is retried with jittered backoff, bounded by time, not by a small count.
 *
 * Other AWS constraints this code depends on:
 * - TransactWriteItems is all-or-nothing across up to 100 items and reports, per item and in request order, a
 *   CancellationReason (`ConditionalCheckFailed`, `TransactionConflict`, ...): that is how a failed condition is
 *   traced back to the counter, the object or the claim that asked for a value.
 * - An item is at most 400 KB, so object bodies are capped well below (etcd allows 1.5 MB; ours is the smaller limit).
 * - Query returns at most 1 MB per page: every list follows LastEvaluatedKey to the end.
 * - Reads that feed a conditional write use ConsistentRead so they see every acknowledged write.
 */
import { canonicalJson } from '../model/canonical.js';
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type AttributeValue,
  type CancellationReason,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  InvalidError,
  NotFoundError,
  TransientError,
} from '../errors.js';
import { blockOf, blockUpdate, conflictsIn, groupByBlock, ownersIn, type Block } from './alloc-blocks.js';
import { entryOf, logItem } from './log.js';
import { keys, padRevision, TTL_ATTRIBUTE, type ObjectKind } from './table.js';
import {
  AllocationConflictError,
  type AllocationClaim,
  type AllocationRelease,
  type KubeObject,
  type LogEntry,
  type LogEventType,
  type Revisions,
  type Store,
  type StoredRecord,
  type WriteExtras,
} from './types.js';

export * from './types.js';

/**
 * The plural resource name kubectl prints in messages: `services "x" not found`, and for a grouped kind key
 * (`EndpointSlice.discovery.k8s.io`) the qualified resource `endpointslices.discovery.k8s.io`.
 */
export function resourceOf(kind: ObjectKind): string {
  const dot = kind.indexOf('.');
  const name = (dot < 0 ? kind : kind.slice(0, dot)).toLowerCase();
  const plural = name.endsWith('s') ? name : `${name}s`;
  return dot < 0 ? plural : `${plural}${kind.slice(dot)}`;
}

/** Item bodies above this are refused: DynamoDB's item limit is 400 KB including keys and attribute names. */
export const MAX_OBJECT_BYTES = 350 * 1024;

/** DynamoDB allows at most 100 items in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Counter, object and log item lead every transaction; the allocation blocks follow. */
const FIXED_ITEMS = 3;

/** BatchGetItem reads at most 100 keys per call. */
const MAX_BATCH_GET = 100;

/** How long one write keeps retrying counter contention before giving up with a TransientError. */
const COMMIT_BUDGET_MS = 20_000;

export interface StoreOptions {
  /** Seconds after which DynamoDB's TTL may drop a log entry if compaction never ran (default one day). */
  logTtlSeconds?: number;
}

interface ObjectItem {
  pk: string;
  sk: string;
  kind: ObjectKind;
  namespace: string;
  name: string;
  uid: string;
  rv: number;
  generation?: number;
  body: string;
  updatedAt: string;
  expiresAt?: number;
}

/** One object write, as the commit loop needs it; the object is stamped with the revision at commit time. */
interface Mutation {
  kind: ObjectKind;
  namespace: string;
  name: string;
  op: 'create' | 'update' | 'delete';
  type: LogEventType;
  object: KubeObject;
  /** update/delete: the object's revision the write is conditional on. */
  expectRev?: number;
  generation?: number;
  subresource?: 'status';
  ttlSeconds?: number;
  claims: AllocationClaim[];
  releases: AllocationRelease[];
  /** The claims and releases grouped into their allocation blocks: one transaction item each. */
  blocks: Block[];
}

/** A low-level item's string attributes (a cancellation reason carries the raw `{ S: ... }` form). */
function stringAttributes(item: Record<string, AttributeValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(item)) if (typeof v.S === 'string') out[k] = v.S;
  return out;
}

/**
 * The object's JSON body, or the apiserver-style Invalid error when it is over what one item holds. Exported so the
 * write path applies the same check to a dry run: svcctl's all-or-nothing apply trusts a dry run to refuse whatever
 * the real write would refuse.
 */
export function storableBody(kind: ObjectKind, name: string, stored: KubeObject): string {
  const body = JSON.stringify(stored);
  if (Buffer.byteLength(body) > MAX_OBJECT_BYTES) {
    throw new InvalidError(
      `${kindName(kind)} "${name}" is invalid: metadata: Too long: must have at most ${MAX_OBJECT_BYTES} bytes`,
      [{ field: 'metadata', message: `object may not be more than ${MAX_OBJECT_BYTES} bytes` }],
    );
  }
  return body;
}

function conflictMessage(kind: ObjectKind, name: string): string {
  // Same words as the API server's StatusReasonConflict for a stale resourceVersion.
  return `Operation cannot be fulfilled on ${resourceOf(kind)} "${name}": the object has been modified; please apply your changes to the latest version and try again`;
}

/** The object's key: a cluster-scoped object (Namespace, Node) has no namespace and is keyed under ''. */
function nsName(obj: KubeObject): { namespace: string; name: string } {
  const name = obj.metadata?.name;
  if (!name)
    throw new InvalidError('metadata.name: Required value', [{ field: 'metadata.name', message: 'Required value' }]);
  return { namespace: obj.metadata?.namespace ?? '', name };
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

/** One home: lib/model/canonical.ts (re-exported for the store's callers). */
export { canonicalJson };

const specOf = (obj: KubeObject): unknown => (obj as { spec?: unknown }).spec;
const statusOf = (obj: KubeObject): unknown => (obj as { status?: unknown }).status;
/** `Service` for `Service`, `EndpointSlice` for `EndpointSlice.discovery.k8s.io`. */
const kindName = (kind: ObjectKind): string => kind.split('.')[0] ?? kind;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DynamoStore implements Store {
  readonly doc: DynamoDBDocumentClient;
  private readonly logTtlSeconds: number;
  /** The highest revision this process has seen committed: the next write's compare-and-set base. */
  private knownRev: number | undefined;
  /** Writes of this process go one at a time: concurrent ones would only collide on the counter. */
  private commitTail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    opts: StoreOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.logTtlSeconds = opts.logTtlSeconds ?? 24 * 3600;
  }

  // ---------------------------------------------------------------------------------------------- objects

  async get<T extends KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.object(kind, namespace, name), ConsistentRead: true }),
    );
    const it = r.Item as ObjectItem | undefined;
    return it && !expired(it) ? (JSON.parse(it.body) as T) : undefined;
  }

  async mustGet<T extends KubeObject>(kind: ObjectKind, namespace: string, name: string): Promise<T> {
    const o = await this.get<T>(kind, namespace, name);
    if (!o) throw new NotFoundError(kindName(kind), name, resourceOf(kind));
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
      ProjectionExpression: '#body, #ttl',
      ExpressionAttributeNames: { '#body': 'body', '#ttl': TTL_ATTRIBUTE },
    };
    const out: T[] = [];
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const it of (page.Items ?? []) as ObjectItem[]) if (!expired(it)) out.push(JSON.parse(it.body) as T);
    }
    return out;
  }

  /**
   * Stores a new object: uid (random UUID unless given), creationTimestamp, generation 1 (for kinds that keep one),
   * resourceVersion = the write's revision. AlreadyExistsError when the object exists, AllocationConflictError when
   * a claim is owned by someone else.
   */
  async create<T extends KubeObject>(kind: ObjectKind, obj: T, extras: WriteExtras = {}): Promise<T> {
    const { namespace, name } = nsName(obj);
    const stored = structuredClone(obj);
    stored.kind = kindName(kind);
    stored.apiVersion = obj.apiVersion ?? 'v1';
    const tracks = extras.generation ?? specOf(obj) !== undefined;
    stored.metadata = {
      ...stored.metadata,
      name,
      namespace: obj.metadata?.namespace,
      uid: extras.uid ?? randomUUID(),
      creationTimestamp: new Date().toISOString() as unknown as Date,
      generation: tracks ? 1 : undefined,
    };
    delete stored.metadata.resourceVersion;
    if (!tracks) delete stored.metadata.generation;
    return this.commitQueued<T>({
      ...this.base(kind, namespace, name, extras),
      op: 'create',
      type: 'ADDED',
      object: stored,
      generation: tracks ? 1 : undefined,
    });
  }

  /**
   * Replaces an object's metadata (labels, annotations, finalizers, deletionTimestamp) and spec. `prev` is the object
   * as last read: the write is conditional on its resourceVersion. uid and creationTimestamp are kept from `prev`,
   * and so is the status unless `withStatus` (status has its own write, as with the API server's status
   * subresource). generation is bumped when the spec changes or the object starts deleting (upstream's
   * markAsDeleting); resourceVersion always moves to the write's revision.
   */
  async update<T extends KubeObject>(kind: ObjectKind, next: T, prev: T, extras: WriteExtras = {}): Promise<T> {
    const { namespace, name } = nsName(prev);
    const stored = structuredClone(next);
    stored.kind = kindName(kind);
    stored.apiVersion = next.apiVersion ?? prev.apiVersion ?? 'v1';
    const prevGen = prev.metadata?.generation;
    const tracks = extras.generation ?? (prevGen !== undefined || specOf(prev) !== undefined);
    const changed =
      canonicalJson(specOf(next)) !== canonicalJson(specOf(prev)) ||
      (Boolean(next.metadata?.deletionTimestamp) && !prev.metadata?.deletionTimestamp);
    const gen = tracks ? (prevGen ?? 1) + (changed ? 1 : 0) : undefined;
    stored.metadata = {
      ...stored.metadata,
      name,
      namespace: prev.metadata?.namespace,
      uid: prev.metadata?.uid,
      creationTimestamp: prev.metadata?.creationTimestamp,
      generation: gen,
    };
    if (gen === undefined) delete stored.metadata.generation;
    delete stored.metadata.resourceVersion;
    if (!extras.withStatus) {
      const s = statusOf(prev);
      if (s === undefined) delete (stored as { status?: unknown }).status;
      else (stored as { status?: unknown }).status = structuredClone(s);
    }
    return this.commitQueued<T>({
      ...this.base(kind, namespace, name, extras),
      op: 'update',
      type: 'MODIFIED',
      object: stored,
      expectRev: rvOf(prev),
      generation: gen,
    });
  }

  /** Writes only the status, conditional on `prev`'s resourceVersion; generation is not touched. */
  async updateStatus<T extends KubeObject & { status?: unknown }>(
    kind: ObjectKind,
    prev: T,
    status: T['status'],
  ): Promise<T> {
    const { namespace, name } = nsName(prev);
    const stored = structuredClone(prev);
    stored.status = structuredClone(status);
    return this.commitQueued<T>({
      ...this.base(kind, namespace, name, {}),
      op: 'update',
      type: 'MODIFIED',
      object: stored,
      expectRev: rvOf(prev),
      generation: prev.metadata?.generation,
      subresource: 'status',
    });
  }

  /**
   * Deletes `prev` conditional on its resourceVersion, releasing its allocations in the same transaction. Returns the
   * object as a DELETED watch event carries it: the last stored object at the deletion's revision.
   */
  async delete<T extends KubeObject>(kind: ObjectKind, prev: T, extras: WriteExtras = {}): Promise<T> {
    const { namespace, name } = nsName(prev);
    return this.commitQueued<T>({
      ...this.base(kind, namespace, name, extras),
      op: 'delete',
      type: 'DELETED',
      object: structuredClone(prev),
      expectRev: rvOf(prev),
      generation: prev.metadata?.generation,
    });
  }

  private base(kind: ObjectKind, namespace: string, name: string, extras: WriteExtras) {
    const claims = extras.claims ?? [];
    const releases = extras.releases ?? [];
    const blocks = groupByBlock(claims, releases);
    if (FIXED_ITEMS + blocks.length > MAX_TRANSACTION_ITEMS) {
      // Only reachable with a node-port range wider than 97 blocks of 64 ports and values spread over all of them.
      throw new InvalidError(
        `${kindName(kind)} "${name}" is invalid: spec.ports: Too many: ${claims.length + releases.length}: allocation changes span ${blocks.length} allocation blocks, at most ${MAX_TRANSACTION_ITEMS - FIXED_ITEMS} fit in one write`,
      );
    }
    return { kind, namespace, name, claims, releases, blocks, ttlSeconds: extras.ttlSeconds };
  }

  /** All values of an allocation pool with their owner uid (used to find free values when random picks collide). */
  async listAllocations(pool: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.allocPartition(pool) },
    };
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const it of page.Items ?? []) for (const [v, uid] of ownersIn(it)) out.set(v, uid);
    }
    return out;
  }

  /** The owner uid of one allocated value, or undefined when it is free. */
  async allocationOwner(pool: string, value: string): Promise<string | undefined> {
    return (await this.blockOwners(pool, blockOf(value))).get(value);
  }

  /** Every value held in one allocation block, with its owner uid. */
  private async blockOwners(pool: string, block: string): Promise<Map<string, string>> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.allocBlock(pool, block), ConsistentRead: true }),
    );
    return r.Item ? ownersIn(r.Item) : new Map<string, string>();
  }

  // ---------------------------------------------------------------------------------------------- commit

  /** Runs the commit after every earlier commit of this process has finished (see the module comment). */
  private commitQueued<T extends KubeObject>(m: Mutation): Promise<T> {
    const run = this.commitTail.then(
      () => this.commit(m),
      () => this.commit(m),
    );
    this.commitTail = run.catch(() => undefined);
    return run as Promise<T>;
  }

  private async commit(m: Mutation): Promise<KubeObject> {
    const deadline = Date.now() + COMMIT_BUDGET_MS;
    for (let attempt = 0; ; attempt++) {
      const cur = this.knownRev ?? (await this.currentRevision());
      const rev = cur + 1;
      const stored = structuredClone(m.object);
      stored.metadata = { ...stored.metadata, resourceVersion: String(rev) };
      try {
        await this.doc.send(
          new TransactWriteCommand({ TransactItems: this.transactItems(m, stored, cur, rev) as never }),
        );
        this.noteRevision(rev);
        return stored;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const counter = await this.counterAfterCancel(err, m);
        if (Date.now() > deadline) {
          throw new TransientError(
            `write of ${resourceOf(m.kind)} "${m.name}" gave up after ${attempt + 1} attempts: the revision counter kept moving`,
            'TransactionCancelled',
            1,
            { cause: err },
          );
        }
        this.knownRev = counter;
        // Jittered backoff spreads writers of several processes that keep colliding on the counter.
        await sleep(Math.floor(Math.random() * Math.min(50, 2 * (attempt + 1))));
      }
    }
  }

  private noteRevision(rev: number): void {
    if (this.knownRev === undefined || rev > this.knownRev) this.knownRev = rev;
  }

  private transactItems(m: Mutation, stored: KubeObject, cur: number, rev: number): unknown[] {
    const now = Date.now();
    const body = this.checkedBody(m, stored);
    const counter = {
      Put: {
        TableName: this.tableName,
        Item: { ...keys.revisionCounter, rev },
        ...(cur === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: '#rev = :cur', ExpressionAttributeNames: { '#rev': 'rev' } }),
        ...(cur === 0 ? {} : { ExpressionAttributeValues: { ':cur': cur } }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
    const log = {
      Put: {
        TableName: this.tableName,
        Item: logItem({ ...this.entryHead(m, stored, rev), body }, now, this.logTtlSeconds),
        // The log is append-only: a revision is written once (the counter guarantees it; this states it).
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    return [counter, this.objectItem(m, stored, body, rev, now), log, ...this.allocationItems(m)];
  }

  private entryHead(m: Mutation, stored: KubeObject, rev: number): Omit<LogEntry, 'object'> {
    return {
      rev,
      type: m.type,
      kind: m.kind,
      namespace: m.namespace,
      name: m.name,
      uid: stored.metadata?.uid ?? '',
      ...(m.subresource ? { subresource: m.subresource } : {}),
    };
  }

  private objectItem(m: Mutation, stored: KubeObject, body: string, rev: number, now: number): unknown {
    const key = keys.object(m.kind, m.namespace, m.name);
    const cond =
      m.expectRev === undefined
        ? createCondition(m, now)
        : { ConditionExpression: 'rv = :rv', ExpressionAttributeValues: { ':rv': m.expectRev } };
    if (m.op === 'delete') return { Delete: { TableName: this.tableName, Key: key, ...cond } };
    const item: ObjectItem = {
      ...key,
      kind: m.kind,
      namespace: m.namespace,
      name: m.name,
      uid: stored.metadata?.uid ?? '',
      rv: rev,
      generation: m.generation,
      body,
      updatedAt: new Date(now).toISOString(),
      ...(m.ttlSeconds ? { expiresAt: Math.ceil(now / 1000) + m.ttlSeconds } : {}),
    };
    return { Put: { TableName: this.tableName, Item: item, ...cond } };
  }

  private checkedBody(m: Mutation, stored: KubeObject): string {
    return storableBody(m.kind, m.name, stored);
  }

  private allocationItems(m: Mutation): unknown[] {
    return m.blocks.map((b) => {
      const u = blockUpdate(b);
      return {
        Update: {
          TableName: this.tableName,
          Key: keys.allocBlock(b.pool, b.block),
          UpdateExpression: u.update,
          ConditionExpression: u.condition,
          ExpressionAttributeNames: u.names,
          ExpressionAttributeValues: u.values,
          // The block as it was: which of its values someone else holds (see counterAfterCancel).
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      };
    });
  }

  /**
   * Maps a cancelled transaction to the caller's error, or returns the counter value to retry from when only the
   * counter moved (or a concurrent transaction held an item: DynamoDB's TransactionConflict, which moto never
   * returns). Items are [counter, object, log, ...allocation blocks]; conditions are evaluated against committed
   * state, so an object or claim condition failing is real even when the counter failed too.
   */
  private async counterAfterCancel(err: TransactionCanceledException, m: Mutation): Promise<number | undefined> {
    const reasons = err.CancellationReasons ?? [];
    const code = (i: number) => reasons[i]?.Code ?? 'None';
    if (code(1) === 'ConditionalCheckFailed') {
      throw m.op === 'create'
        ? new AlreadyExistsError(resourceOf(m.kind), m.name)
        : new ConflictError(conflictMessage(m.kind, m.name));
    }
    await this.throwAllocationConflicts(m, reasons);
    const retryable = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);
    // The log entry of a revision another process took exists already: that is the counter conflict itself. With
    // the counter condition passing it would mean a corrupt log, which retrying cannot mend.
    const logTaken = code(2) === 'ConditionalCheckFailed' && code(0) !== 'ConditionalCheckFailed';
    if (!reasons.every((r) => retryable.has(r.Code ?? 'None')) || logTaken) {
      throw new TransientError(
        `transaction for ${resourceOf(m.kind)} "${m.name}" cancelled: ${reasons.map((r) => r.Code ?? 'None').join(', ')}`,
        'TransactionCancelled',
        0,
        { cause: err },
      );
    }
    if (code(0) !== 'ConditionalCheckFailed') return this.knownRev;
    const seen = (reasons[0]?.Item as { rev?: { N?: string } } | undefined)?.rev?.N;
    // Without the old item (a counter that vanished, or a DynamoDB that omits it) re-read before retrying.
    return seen === undefined ? undefined : Number(seen);
  }

  /**
   * A block whose condition failed: the claims another owner holds end the write (AllocationConflictError, for the
   * caller to report or re-pick), as does a release of a value another owner holds (the object we read is stale:
   * ConflictError, re-read and retry). One UpdateItem checks every value of its block, so the block as it was (the
   * cancellation's ALL_OLD item, or a fresh read when a response omits it) tells which values conflicted; when none
   * does any more (released meanwhile), the write is simply retried.
   */
  private async throwAllocationConflicts(m: Mutation, reasons: CancellationReason[]): Promise<void> {
    const claims: AllocationClaim[] = [];
    let staleRelease = false;
    for (const [i, b] of m.blocks.entries()) {
      const r = reasons[FIXED_ITEMS + i];
      if (r?.Code !== 'ConditionalCheckFailed') continue;
      const owners = r.Item ? ownersIn(stringAttributes(r.Item)) : await this.blockOwners(b.pool, b.block);
      const c = conflictsIn(b, owners);
      claims.push(...c.claims);
      staleRelease ||= c.releases.length > 0;
    }
    if (claims.length > 0) throw new AllocationConflictError(claims);
    if (staleRelease) throw new ConflictError(conflictMessage(m.kind, m.name));
  }

  // ---------------------------------------------------------------------------------------------- change log

  async currentRevision(): Promise<number> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.revisionCounter, ConsistentRead: true }),
    );
    const rev = r.Item ? Number(r.Item.rev) : 0;
    this.noteRevision(rev);
    return rev;
  }

  /** The counter and the compaction record: one Query on their partition. */
  async revisions(): Promise<Revisions> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.REVISION_PARTITION },
      }),
    );
    const bySk = new Map((r.Items ?? []).map((it) => [String(it.sk), Number(it.rev)]));
    const current = bySk.get(keys.revisionCounter.sk) ?? 0;
    this.noteRevision(current);
    return { current, compacted: bySk.get(keys.compactRecord.sk) ?? 0 };
  }

  async readLog(afterRev: number, limit: number): Promise<LogEntry[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND sk > :after',
        ExpressionAttributeValues: { ':pk': keys.LOG_PARTITION, ':after': padRevision(afterRev) },
        Limit: limit,
      }),
    );
    const entries = (r.Items ?? []).map(entryOf);
    const first = entries[0];
    // Commit order is revision order, so a hole right after afterRev can only be compaction (or TTL) at work.
    if (first && first.rev !== afterRev + 1) throw tooOld(afterRev, first.rev - 1);
    const last = entries.at(-1);
    if (last) this.noteRevision(last.rev);
    return entries;
  }

  async readLogTo(afterRev: number, head: number, limit: number): Promise<LogEntry[]> {
    const last = Math.min(head, afterRev + Math.min(limit, MAX_BATCH_GET));
    if (last <= afterRev) return [];
    let pending = Array.from({ length: last - afterRev }, (_, i) => keys.log(afterRev + 1 + i));
    const items: Record<string, unknown>[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const r = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(r.Responses?.[this.tableName] ?? []));
      pending = (r.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof pending;
      if (pending.length && attempt >= 8) throw new TransientError('log read: keys left unprocessed', 'Busy');
      if (pending.length) await sleep(20 * 2 ** attempt);
    }
    // A missing entry is compaction at work: the Query finds where the log resumes and reports Gone.
    if (items.length < last - afterRev) return this.readLog(afterRev, limit);
    const entries = items.map(entryOf).sort((a, b) => a.rev - b.rev);
    this.noteRevision(last);
    return entries;
  }

  async assertWatchable(rev: number): Promise<void> {
    const { current, compacted } = await this.revisions();
    if (rev >= current) return; // the current revision (or a future one) is never too old
    if (rev < compacted) throw tooOld(rev, compacted);
    // Below the horizon record but with its next entry gone (TTL ran before compaction recorded it).
    const next = await this.readLog(rev, 1);
    if (next.length === 0) throw tooOld(rev, current);
  }

  /**
   * Compaction (run by the scheduled resync): records the new horizon first, so watchers get a clean Gone, then
   * deletes the entries at or below it. Entries committed at or after `olderThan` stay, and so does the newest entry
   * whatever its age, so a quiet cluster keeps a non-empty log and "no entry after R" always means "R is current".
   */
  async compact(olderThan: Date): Promise<{ compacted: number; deleted: number }> {
    const { compacted } = await this.revisions();
    const old = await this.oldLogRevisions(olderThan.getTime());
    const target = old.at(-1) ?? 0;
    if (target > compacted) await this.recordCompaction(target);
    for (let i = 0; i < old.length; i += 25) await this.deleteLogBatch(old.slice(i, i + 25));
    return { compacted: Math.max(target, compacted), deleted: old.length };
  }

  /** Revisions of log entries older than `cutoff` ms, oldest first, never including the newest entry. */
  private async oldLogRevisions(cutoff: number): Promise<number[]> {
    const out: number[] = [];
    let newest = 0;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.LOG_PARTITION },
      ProjectionExpression: 'rev, #at',
      ExpressionAttributeNames: { '#at': 'at' },
    };
    for await (const page of paginateQuery({ client: this.doc }, input)) {
      for (const it of page.Items ?? []) {
        newest = Number(it.rev);
        if (Number(it.at) >= cutoff) return out;
        out.push(newest);
      }
    }
    return out.filter((r) => r !== newest);
  }

  private async recordCompaction(target: number): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.compactRecord, rev: target, updatedAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(pk) OR #rev < :rev',
          ExpressionAttributeNames: { '#rev': 'rev' },
          ExpressionAttributeValues: { ':rev': target },
        }),
      );
    } catch (err) {
      // A concurrent compaction recorded a higher horizon: ours is covered by it.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  private async deleteLogBatch(revs: number[]): Promise<void> {
    let requests = revs.map((rev) => ({ DeleteRequest: { Key: keys.log(rev) } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
      requests = (r.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      if (requests.length && attempt >= 8) throw new TransientError('log compaction: items left unprocessed', 'Busy');
      if (requests.length) await sleep(50 * 2 ** attempt);
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
   * A failed condition is a ConflictError (re-read and retry). opts.expiresAt sets the item's `ttl` attribute (epoch
   * seconds; the table's TTL attribute): DynamoDB deletes the item some time after (typically within days, never
   * before), so readers must still ignore expired data themselves.
   */
  async putRecord<T = unknown>(
    kind: string,
    id: string,
    data: T,
    expectedVersion?: number,
    opts: { expiresAt?: Date } = {},
  ): Promise<number> {
    let condition: string | undefined;
    const values: Record<string, unknown> = {
      ':data': JSON.stringify(data),
      ':one': 1,
      ':now': new Date().toISOString(),
    };
    let ttl = '';
    if (opts.expiresAt) {
      values[':ttl'] = Math.ceil(opts.expiresAt.getTime() / 1000);
      ttl = ', #ttl = :ttl';
    }
    if (expectedVersion === 0) return this.createRecord(kind, id, values, opts.expiresAt);
    if (expectedVersion !== undefined) {
      condition = '#version = :expected';
      values[':expected'] = expectedVersion;
    }
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.record(kind, id),
          UpdateExpression: `SET #data = :data, updatedAt = :now${ttl} ADD #version :one`,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#data': 'data',
            '#version': 'version',
            ...(ttl ? { '#ttl': TTL_ATTRIBUTE } : {}),
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(r.Attributes?.version);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`record ${kind}/${id} is not at version ${expectedVersion}`);
      }
      throw err;
    }
  }

  /**
   * A new record as one PutItem. DynamoDB applies an UpdateItem atomically, but moto builds a new item from an
   * UpdateItem attribute by attribute, so a concurrent read could see the key without `data`; a PutItem is stored
   * whole on both.
   */
  private async createRecord(kind: string, id: string, values: Record<string, unknown>, expiresAt?: Date) {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.record(kind, id),
            data: values[':data'],
            updatedAt: values[':now'],
            version: 1,
            ...(expiresAt ? { [TTL_ATTRIBUTE]: Math.ceil(expiresAt.getTime() / 1000) } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 1;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        throw new ConflictError(`record ${kind}/${id} already exists`);
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

/** Objects with a TTL (Events) stay readable until DynamoDB removes them, which may take hours: hide them. */
/**
 * A create's condition: nothing there yet. For kinds with a TTL (Events), an item past its `expiresAt` counts as
 * gone (reads hide it already; DynamoDB deletes it up to days later), so an object whose name is derived from its
 * content, like an Event's, can be created again once the old one expired.
 */
function createCondition(m: Mutation, now: number): Record<string, unknown> {
  if (!m.ttlSeconds) return { ConditionExpression: 'attribute_not_exists(pk)' };
  return {
    ConditionExpression: 'attribute_not_exists(pk) OR #exp < :now',
    ExpressionAttributeNames: { '#exp': TTL_ATTRIBUTE },
    ExpressionAttributeValues: { ':now': Math.floor(now / 1000) },
  };
}

function expired(it: { expiresAt?: number }): boolean {
  return it.expiresAt !== undefined && it.expiresAt * 1000 < Date.now();
}

/** The apiserver's wording (watch cache): `too old resource version: <requested> (<oldest available - 1>)`. */
function tooOld(requested: number, horizon: number): GoneError {
  return new GoneError(`too old resource version: ${requested} (${horizon})`);
}
