/**
 * Persisted data-plane controller state behind a small interface: the push version counter, the last push (what the
 * next one diffs against and what a retry re-sends), command id -> what that command carried, and one status item per
 * node. `InMemoryDataPlaneStateStore` serves tests; `RecordStoreDataPlaneStateStore` adapts the store's generic record
 * API (lib/store: getRecord/putRecord/listRecords/deleteRecord/nextSequence on DynamoDB).
 */
import { ConflictError } from '../errors.js';
import type { RecordStore } from '../store/types.js';
import type { NodeStatus } from './node-status.js';
import type { DataPlaneParameters } from './ssm-document.js';

export type { NodeStatus } from './node-status.js';

export interface PushRecord {
  version: number;
  /** Highest desired-state generation this push rendered (the coalescer skips requests at or below it). */
  generation: number;
  /** S3 key of the gzip'd JSON DataPlaneState this push rendered (a delta base for nodes that apply it). */
  stateKey: string;
  /**
   * Content digest of each node-specific rendering by instance id, and of every other node's under '*'. A desired
   * state rendering the same digests has nothing to push.
   */
  digests: Record<string, string>;
  /** Nodes hosting a ready (or serving, terminating) endpoint in this push: a leaving node is drained once it is not. */
  endpointNodes?: string[];
  /** S3 key of the manifest (presigned again for retries); absent for inline pushes. */
  manifestKey?: string;
  parameters: DataPlaneParameters;
  /** SendCommand ids of this push; empty when no node's content changed. */
  commandIds: string[];
  pushedAt: string;
}

/** What one command carried: its version, and the digests its manifest entries have. */
export interface CommandRecord {
  version: number;
  digests: Record<string, string>;
}

export const digestFor = (digests: Record<string, string> | undefined, instanceId: string): string | undefined =>
  digests?.[instanceId] ?? digests?.['*'];

export interface DataPlaneStateStore {
  nextVersion(): Promise<number>;
  getLastPush(): Promise<PushRecord | undefined>;
  putLastPush(p: PushRecord): Promise<void>;
  putCommand(commandId: string, c: CommandRecord): Promise<void>;
  getCommand(commandId: string): Promise<CommandRecord | undefined>;
  /** Every node status that has not expired. */
  listNodes(now?: Date): Promise<NodeStatus[]>;
  getNode(instanceId: string, now?: Date): Promise<NodeStatus | undefined>;
  /** Atomic read-modify-write of one node's item; returning undefined leaves it unchanged. */
  updateNode(
    instanceId: string,
    fn: (cur: NodeStatus | undefined) => NodeStatus | undefined,
  ): Promise<NodeStatus | undefined>;
  deleteNode(instanceId: string): Promise<void>;
  /**
   * Takes the push lease for `holder` until `until` (false: another holder has it and it has not expired). Pushes
   * of one cluster run one at a time: a push renders the state it read, so an overlapping push that read earlier
   * could otherwise land its older render under a higher version.
   */
  acquirePushLease(holder: string, until: Date, now?: Date): Promise<boolean>;
  /** Gives the lease back if `holder` still has it. */
  releasePushLease(holder: string): Promise<void>;
}

/** The push lease's content: who holds it, and until when (epoch ms). */
interface PushLease {
  holder: string;
  until: number;
}

const live = (s: NodeStatus | undefined, now: Date): NodeStatus | undefined =>
  s && Date.parse(s.expiresAt) > now.getTime() ? s : undefined;

export class InMemoryDataPlaneStateStore implements DataPlaneStateStore {
  private seq = 0;
  private last?: PushRecord;
  private commands = new Map<string, CommandRecord>();
  private nodes = new Map<string, NodeStatus>();
  async nextVersion(): Promise<number> {
    return ++this.seq;
  }
  async getLastPush(): Promise<PushRecord | undefined> {
    return this.last && structuredClone(this.last);
  }
  async putLastPush(p: PushRecord): Promise<void> {
    this.last = structuredClone(p);
  }
  async putCommand(commandId: string, c: CommandRecord): Promise<void> {
    this.commands.set(commandId, structuredClone(c));
  }
  async getCommand(commandId: string): Promise<CommandRecord | undefined> {
    const c = this.commands.get(commandId);
    return c && structuredClone(c);
  }
  async listNodes(now = new Date()): Promise<NodeStatus[]> {
    return [...this.nodes.values()].filter((n) => live(n, now)).map((n) => structuredClone(n));
  }
  async getNode(instanceId: string, now = new Date()): Promise<NodeStatus | undefined> {
    const n = live(this.nodes.get(instanceId), now);
    return n && structuredClone(n);
  }
  async updateNode(instanceId: string, fn: (cur: NodeStatus | undefined) => NodeStatus | undefined) {
    const next = fn(await this.getNode(instanceId));
    if (next) this.nodes.set(instanceId, structuredClone(next));
    return next;
  }
  async deleteNode(instanceId: string): Promise<void> {
    this.nodes.delete(instanceId);
  }
  private lease?: PushLease;
  async acquirePushLease(holder: string, until: Date, now = new Date()): Promise<boolean> {
    if (this.lease && this.lease.holder !== holder && this.lease.until > now.getTime()) return false;
    this.lease = { holder, until: until.getTime() };
    return true;
  }
  async releasePushLease(holder: string): Promise<void> {
    if (this.lease?.holder === holder) this.lease = undefined;
  }
}

/** What this adapter needs of lib/store: the record API (structural, so tests can pass a fake). */
export type RecordApi = RecordStore;

const KIND = 'dataplane';
/** One item per node (`<cluster>/<instance id>`), so no item grows with the cluster (DynamoDB items are <= 400 KB). */
const NODE_KIND = 'dataplane-node';
/** Status events arrive within SSM's delivery and execution timeouts (minutes); a day is plenty. */
const COMMAND_TTL_MS = 24 * 3600 * 1000;

/**
 * DynamoDB-backed state through the store's record API. Node statuses are separate items with a TTL attribute,
 * updated with optimistic concurrency per item: concurrent status events for different nodes never conflict, and
 * two events for one node retry on ConflictError.
 */
export class RecordStoreDataPlaneStateStore implements DataPlaneStateStore {
  constructor(
    private readonly records: RecordApi,
    private readonly cluster: string,
  ) {}
  private nodeId = (instanceId: string): string => `${this.cluster}/${instanceId}`;
  nextVersion(): Promise<number> {
    return this.records.nextSequence(`${KIND}-version-${this.cluster}`);
  }
  async getLastPush(): Promise<PushRecord | undefined> {
    return (await this.records.getRecord<PushRecord>(KIND, `${this.cluster}/last-push`))?.data;
  }
  async putLastPush(p: PushRecord): Promise<void> {
    await this.records.putRecord(KIND, `${this.cluster}/last-push`, p);
  }
  async putCommand(commandId: string, c: CommandRecord): Promise<void> {
    await this.records.putRecord(KIND, `${this.cluster}/command/${commandId}`, c, undefined, {
      expiresAt: new Date(Date.now() + COMMAND_TTL_MS),
    });
  }
  async getCommand(commandId: string): Promise<CommandRecord | undefined> {
    return (await this.records.getRecord<CommandRecord>(KIND, `${this.cluster}/command/${commandId}`))?.data;
  }
  async listNodes(now = new Date()): Promise<NodeStatus[]> {
    const prefix = `${this.cluster}/`;
    return (await this.records.listRecords<NodeStatus>(NODE_KIND))
      .filter((r) => r.id.startsWith(prefix))
      .flatMap((r) => (live(r.data, now) ? [r.data] : []));
  }
  async getNode(instanceId: string, now = new Date()): Promise<NodeStatus | undefined> {
    return live((await this.records.getRecord<NodeStatus>(NODE_KIND, this.nodeId(instanceId)))?.data, now);
  }
  async updateNode(instanceId: string, fn: (cur: NodeStatus | undefined) => NodeStatus | undefined) {
    for (let attempt = 0; ; attempt++) {
      const r = await this.records.getRecord<NodeStatus>(NODE_KIND, this.nodeId(instanceId));
      const next = fn(live(r?.data, new Date()));
      if (!next) return undefined;
      try {
        await this.records.putRecord(NODE_KIND, this.nodeId(instanceId), next, r?.version ?? 0, {
          expiresAt: new Date(next.expiresAt),
        });
        return next;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 10) throw err;
      }
    }
  }
  async deleteNode(instanceId: string): Promise<void> {
    await this.records.deleteRecord(NODE_KIND, this.nodeId(instanceId));
  }
  private leaseId = (): string => `${this.cluster}/push-lease`;
  async acquirePushLease(holder: string, until: Date, now = new Date()): Promise<boolean> {
    const cur = await this.records.getRecord<PushLease>(KIND, this.leaseId());
    if (cur && cur.data.holder !== holder && cur.data.until > now.getTime()) return false;
    try {
      // Conditional on the version read (0: absent), so two takers of a free or expired lease cannot both win.
      await this.records.putRecord<PushLease>(
        KIND,
        this.leaseId(),
        { holder, until: until.getTime() },
        cur?.version ?? 0,
        {
          expiresAt: until,
        },
      );
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }
  async releasePushLease(holder: string): Promise<void> {
    const cur = await this.records.getRecord<PushLease>(KIND, this.leaseId());
    if (!cur || cur.data.holder !== holder) return;
    try {
      await this.records.deleteRecord(KIND, this.leaseId(), cur.version);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err; // taken over after it expired: not ours to delete
    }
  }
}
