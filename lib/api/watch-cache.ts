/**
 * Consistent reads from memory (KEP-2340 "consistent reads from cache"): per kind, the objects as of the log
 * tailer's position, built by one Query and then kept current by the same log tailer that feeds watches. A read
 * first takes the store's current revision (one GetItem) and waits until the cache has applied it, so it sees every
 * write acknowledged before the read began, exactly as a Query would, without reading every object again.
 * Kinds with a storage TTL (Events) are not cached: DynamoDB's expiry writes no log entry, so memory would keep them.
 */
import { NotFoundError } from '../errors.js';
import type { KubeObject, LogEntry, Store } from '../store/types.js';
import type { ApiObject, ListResult, ResourceInfo } from './backend.js';
import type { LogTailer, TailListener } from './log-tailer.js';
import { qualifiedResource, storageKind } from './resources.js';
import { strategyFor } from './strategies.js';

interface KindState {
  ready: Promise<void>;
  items: Map<string, KubeObject>;
  /** Entries that arrived while the initial Query ran; applied (by revision) once it is in. */
  pending: LogEntry[] | undefined;
}

const revOf = (o: KubeObject | undefined): number => Number(o?.metadata?.resourceVersion ?? 0);
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class WatchCache implements TailListener {
  private readonly kinds = new Map<string, KindState>();
  private detach?: () => void;

  constructor(
    private readonly store: Store,
    private readonly tailer: LogTailer,
  ) {}

  apply(e: LogEntry): void {
    const st = this.kinds.get(e.kind);
    if (!st) return;
    if (st.pending) st.pending.push(e);
    else applyEntry(st, e);
  }

  /** The tailer lost its place: every kind is rebuilt on its next read. */
  reset(): void {
    this.kinds.clear();
  }

  async list(r: ResourceInfo, namespace: string | undefined): Promise<ListResult> {
    const kind = storageKind(r);
    if (strategyFor(kind).ttlSeconds) return this.listFromStore(kind, namespace);
    const rev = await this.store.currentRevision();
    const st = await this.ready(kind);
    await this.tailer.waitFor(rev);
    const prefix = namespace === undefined ? '' : `${namespace}/`;
    const items = [...st.items.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o) as ApiObject);
    return { items, resourceVersion: String(Math.max(rev, this.tailer.applied ?? rev)) };
  }

  async get(r: ResourceInfo, namespace: string, name: string): Promise<KubeObject> {
    const kind = storageKind(r);
    let o: KubeObject | undefined;
    if (strategyFor(kind).ttlSeconds) o = await this.store.get(kind, namespace, name);
    else {
      const rev = await this.store.currentRevision();
      const st = await this.ready(kind);
      await this.tailer.waitFor(rev);
      o = st.items.get(keyOf(namespace, name));
    }
    if (!o) throw new NotFoundError(r.kind, name, qualifiedResource(r));
    return structuredClone(o);
  }

  /**
   * The object as the cache holds it now, without first taking the store's revision (no store read once the kind
   * is loaded): it may lag the latest writes by the tailer's delay. Only for checks whose failure is read again
   * consistently (NamespaceLifecycle.admitCreate of a dry run).
   */
  async peek(r: ResourceInfo, namespace: string, name: string): Promise<KubeObject | undefined> {
    const kind = storageKind(r);
    if (strategyFor(kind).ttlSeconds) return undefined;
    const o = (await this.ready(kind)).items.get(keyOf(namespace, name));
    return o && structuredClone(o);
  }

  private async listFromStore(kind: string, namespace: string | undefined): Promise<ListResult> {
    const rev = await this.store.currentRevision();
    return { items: (await this.store.list(kind, namespace)) as ApiObject[], resourceVersion: String(rev) };
  }

  /**
   * The kind's state, built on first use. The tailer must have a position before the Query starts: every entry
   * after that position is delivered to `apply`, and every entry at or before it was committed before the Query.
   */
  private async ready(kind: string): Promise<KindState> {
    let st = this.kinds.get(kind);
    if (!st) {
      this.detach ??= this.tailer.addListener(this);
      await this.tailer.waitFor(0);
      st = this.kinds.get(kind);
      if (!st) {
        const fresh: KindState = { ready: Promise.resolve(), items: new Map(), pending: [] };
        fresh.ready = this.fill(kind, fresh);
        this.kinds.set(kind, fresh);
        st = fresh;
      }
    }
    await st.ready;
    return st;
  }

  private async fill(kind: string, st: KindState): Promise<void> {
    try {
      for (const o of await this.store.list(kind)) {
        st.items.set(keyOf(o.metadata?.namespace ?? '', o.metadata?.name ?? ''), o);
      }
      for (const e of st.pending ?? []) applyEntry(st, e);
      st.pending = undefined;
    } catch (err) {
      this.kinds.delete(kind);
      throw err;
    }
  }

  close(): void {
    this.detach?.();
  }
}

/**
 * Applies one change unless the cached object is already newer (the initial Query may have seen it), and records on
 * the entry the object it replaces, so a watch with a selector can tell an object leaving its selection (DELETED)
 * from one it never matched, as the apiserver's watch cache does.
 */
function applyEntry(st: KindState, e: LogEntry): void {
  const key = keyOf(e.namespace, e.name);
  const before = st.items.get(key);
  if (e.rev <= revOf(before)) return;
  if (before && e.type !== 'ADDED') e.prev = before;
  if (e.type === 'DELETED') st.items.delete(key);
  else st.items.set(key, e.object);
}
