/**
 * Persisted data-plane controller state behind a small interface: the push version counter, the last push (what to
 * diff the next one against and what to re-send to failed nodes), command id -> version, and each node's applied
 * version. `InMemoryDataPlaneStateStore` serves tests and the local mode; `RecordStoreDataPlaneStateStore` adapts the
 * store's generic record API (lib/store: getRecord/putRecord/nextSequence on DynamoDB).
 */
import { ConflictError } from '../errors.js';
import type { DataPlaneParameters } from './ssm-document.js';

export interface PushRecord {
  version: number;
  /** Highest desired-state generation this push rendered (the coalescer skips requests at or below it). */
  generation: number;
  /** S3 key of the gzip'd JSON DataPlaneState this push rendered (the base of the next push's deltas). */
  stateKey: string;
  /** S3 keys of the manifest and bundles (presigned again for retries); empty for inline pushes. */
  manifestKey?: string;
  parameters: DataPlaneParameters;
  commandId?: string;
  pushedAt: string;
}

export interface NodeStatus {
  instanceId: string;
  /** Highest version this node reported as applied (never decreases). */
  appliedVersion: number;
  lastCommandId?: string;
  /** Last SSM invocation status seen (Success, Failed, TimedOut, ...). */
  lastStatus?: string;
  /** Version of the last failed invocation, cleared once a later version succeeds. */
  failedVersion?: number;
  updatedAt: string;
}

export interface DataPlaneStateStore {
  nextVersion(): Promise<number>;
  getLastPush(): Promise<PushRecord | undefined>;
  putLastPush(p: PushRecord): Promise<void>;
  putCommand(commandId: string, version: number): Promise<void>;
  getCommandVersion(commandId: string): Promise<number | undefined>;
  listNodes(): Promise<NodeStatus[]>;
  /** Atomic read-modify-write of one node's status. */
  updateNode(instanceId: string, fn: (cur: NodeStatus | undefined) => NodeStatus): Promise<NodeStatus>;
}

export class InMemoryDataPlaneStateStore implements DataPlaneStateStore {
  private seq = 0;
  private last?: PushRecord;
  private commands = new Map<string, number>();
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
  async putCommand(commandId: string, version: number): Promise<void> {
    this.commands.set(commandId, version);
  }
  async getCommandVersion(commandId: string): Promise<number | undefined> {
    return this.commands.get(commandId);
  }
  async listNodes(): Promise<NodeStatus[]> {
    return [...this.nodes.values()].map((n) => structuredClone(n));
  }
  async updateNode(instanceId: string, fn: (cur: NodeStatus | undefined) => NodeStatus): Promise<NodeStatus> {
    const next = fn(this.nodes.get(instanceId) && structuredClone(this.nodes.get(instanceId)));
    this.nodes.set(instanceId, structuredClone(next));
    return next;
  }
}

/** The subset of lib/store's Store this adapter needs (kept structural so tests can pass a fake). */
export interface RecordApi {
  getRecord<T>(kind: string, id: string): Promise<{ id: string; data: T; version: number } | undefined>;
  putRecord<T>(kind: string, id: string, data: T, expectedVersion?: number): Promise<number>;
  nextSequence(name: string): Promise<number>;
}

const KIND = 'dataplane';

/**
 * DynamoDB-backed state through the store's record API. Node statuses live in one record (a few hundred bytes per
 * node, so thousands of nodes stay far below the store's 350 KB item cap), updated with optimistic concurrency:
 * concurrent status events for different nodes simply retry on ConflictError.
 */
export class RecordStoreDataPlaneStateStore implements DataPlaneStateStore {
  constructor(
    private readonly records: RecordApi,
    private readonly cluster: string,
  ) {}
  nextVersion(): Promise<number> {
    return this.records.nextSequence(`${KIND}-version-${this.cluster}`);
  }
  async getLastPush(): Promise<PushRecord | undefined> {
    return (await this.records.getRecord<PushRecord>(KIND, `${this.cluster}/last-push`))?.data;
  }
  async putLastPush(p: PushRecord): Promise<void> {
    await this.records.putRecord(KIND, `${this.cluster}/last-push`, p);
  }
  async putCommand(commandId: string, version: number): Promise<void> {
    await this.records.putRecord(KIND, `${this.cluster}/command/${commandId}`, { version });
  }
  async getCommandVersion(commandId: string): Promise<number | undefined> {
    return (await this.records.getRecord<{ version: number }>(KIND, `${this.cluster}/command/${commandId}`))?.data
      .version;
  }
  async listNodes(): Promise<NodeStatus[]> {
    const r = await this.records.getRecord<Record<string, NodeStatus>>(KIND, `${this.cluster}/nodes`);
    return Object.values(r?.data ?? {});
  }
  async updateNode(instanceId: string, fn: (cur: NodeStatus | undefined) => NodeStatus): Promise<NodeStatus> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.records.getRecord<Record<string, NodeStatus>>(KIND, `${this.cluster}/nodes`);
      const all = { ...(r?.data ?? {}) };
      const next = fn(all[instanceId]);
      all[instanceId] = next;
      try {
        await this.records.putRecord(KIND, `${this.cluster}/nodes`, all, r?.version ?? 0);
        return next;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 20) throw err;
      }
    }
  }
}
