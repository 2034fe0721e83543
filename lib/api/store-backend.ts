/**
 * The ApiBackend (lib/api/backend.ts) on the store: what the REST layer calls. Reads are consistent (the revision
 * is read before the objects, or the watch cache has applied it); writes go through the write path; watches are
 * fed by one log tailer per process. System-owned kinds (Nodes, EndpointSlices) refuse user writes with the
 * apiserver's 405; the controller writes them through `system`.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import { BadRequestError, MethodNotSupportedError } from '../errors.js';
import type { ClusterConfig } from '../model/types.js';
import type { KubeObject, Store } from '../store/types.js';
import { ServiceAllocator, type Rand } from './allocator.js';
import {
  apiVersionOf,
  type ApiBackend,
  type ApiObject,
  type ApiWatchEvent,
  type DeleteOptions,
  type ListResult,
  type ResourceInfo,
  type WatchOptions,
  type WriteOptions,
  type WriteResult,
} from './backend.js';
import { checkFields, type CheckedBody } from './field-validation.js';
import { LogTailer, type TailerOptions } from './log-tailer.js';
import { NAMESPACES, RESOURCES, storageKind } from './resources.js';
import { WatchCache } from './watch-cache.js';
import { watchResource } from './watch.js';
import { WritePath, type Outcome } from './write-path.js';

export interface StoreBackendOptions {
  store: Store;
  cfg: ClusterConfig;
  /** Random source for automatic allocation (tests make it deterministic). */
  rand?: Rand;
  tailer?: TailerOptions;
  /** Bookmark cadence for watches that allow them (default 10 s, as the apiserver's watch cache). */
  bookmarkIntervalMs?: number;
  /** Serve list/get from memory once the cache applied the current revision (KEP-2340). Default on. */
  watchCache?: boolean;
}

/** Writes of system-owned kinds (the controller's Nodes and EndpointSlices), with the same semantics. */
export interface SystemWriter {
  create(r: ResourceInfo, namespace: string | undefined, obj: ApiObject): Promise<ApiObject>;
  update(r: ResourceInfo, namespace: string | undefined, name: string, obj: ApiObject): Promise<ApiObject>;
  delete(r: ResourceInfo, namespace: string | undefined, name: string): Promise<ApiObject>;
}

const NOT_ALLOWED = 'the server does not allow this method on the requested resource';

export class StoreBackend implements ApiBackend {
  readonly resources = RESOURCES;
  readonly writes: WritePath;
  readonly tailer: LogTailer;
  readonly system: SystemWriter;
  private readonly store: Store;
  private readonly cache?: WatchCache;
  private readonly bookmarkMs: number;

  constructor(opts: StoreBackendOptions) {
    this.store = opts.store;
    this.writes = new WritePath(opts.store, {
      cfg: opts.cfg,
      allocator: new ServiceAllocator(opts.cfg),
      rand: opts.rand ?? Math.random,
    });
    this.tailer = new LogTailer(opts.store, opts.tailer);
    if (opts.watchCache !== false) {
      const cache = new WatchCache(opts.store, this.tailer);
      this.writes.namespaces.recent = (name) => cache.peek(NAMESPACES, '', name) as Promise<V1Namespace | undefined>;
      this.cache = cache;
    }
    this.bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;
    this.system = {
      create: async (r, ns, obj) => this.written(await this.writes.create(r, ns, obj)).object as ApiObject,
      update: async (r, ns, name, obj) => this.written(await this.writes.update(r, ns, name, obj)).object as ApiObject,
      delete: async (r, ns, name) => this.written(await this.writes.delete(r, ns, name)).object as ApiObject,
    };
  }

  async currentRevision(): Promise<string> {
    return String(await this.store.currentRevision());
  }

  async get(r: ResourceInfo, namespace: string | undefined, name: string): Promise<ApiObject> {
    if (storageKind(r) === 'Namespace') await this.writes.namespaces.bootstrap();
    if (this.cache) return (await this.cache.get(r, scopeOf(r, namespace), name)) as ApiObject;
    return (await this.writes.read(r, namespace, name)) as ApiObject;
  }

  async list(r: ResourceInfo, namespace: string | undefined): Promise<ListResult> {
    if (storageKind(r) === 'Namespace') await this.writes.namespaces.bootstrap();
    const ns = r.namespaced ? namespace : undefined;
    if (this.cache) return this.cache.list(r, ns);
    const rev = await this.store.currentRevision();
    const items = await this.store.list(storageKind(r), ns);
    return { items: items as ApiObject[], resourceVersion: String(rev) };
  }

  async create(
    r: ResourceInfo,
    namespace: string | undefined,
    obj: ApiObject,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    refuseUserWrite(r);
    const { object: body, warnings } = this.checkBody(r, obj, opts);
    if (r.namespaced && obj.metadata?.namespace && namespace && obj.metadata.namespace !== namespace) {
      throw new BadRequestError(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const out = this.written(await this.writes.create(r, namespace, body, { dryRun: opts.dryRun }));
    return { object: out.object as ApiObject, warnings };
  }

  async update(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    obj: ApiObject,
    opts: WriteOptions & { subresource?: 'status' },
  ): Promise<WriteResult> {
    refuseUserWrite(r);
    if (opts.subresource && !r.subresources.includes(opts.subresource)) throw new MethodNotSupportedError(NOT_ALLOWED);
    const { object: body, warnings } = this.checkBody(r, obj, opts);
    if (obj.metadata?.name && obj.metadata.name !== name) {
      throw new BadRequestError(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const out = await this.writes.update(r, namespace, name, body, {
      dryRun: opts.dryRun,
      subresource: opts.subresource,
    });
    return { object: out.object as ApiObject, warnings };
  }

  async delete(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
  ): Promise<{ object: ApiObject; pending: boolean }> {
    refuseUserWrite(r);
    const out = this.written(await this.writes.delete(r, namespace, name, opts));
    return { object: out.object as ApiObject, pending: Boolean(out.pending) };
  }

  watch(r: ResourceInfo, opts: WatchOptions): AsyncIterable<ApiWatchEvent> {
    return watchResource(
      { store: this.store, tailer: this.tailer, list: (res, ns) => this.list(res, ns), bookmarkMs: this.bookmarkMs },
      r,
      opts,
    );
  }

  /** The namespace controller's last step (see NamespaceLifecycle.finalize): true when the namespace is gone. */
  finalizeNamespace(name: string): Promise<boolean> {
    return this.writes.namespaces.finalize(name);
  }

  /** Stops the log tailer (tests and process shutdown). */
  close(): void {
    this.tailer.close();
  }

  /** A committed write wakes this process's log tailer, so its own watchers see it without a poll interval. */
  private written(out: Outcome): Outcome {
    if (out.event) this.tailer.nudge();
    return out;
  }

  private checkBody(r: ResourceInfo, obj: ApiObject, opts: WriteOptions): CheckedBody {
    const o = obj as Partial<KubeObject> | null;
    if (!o || typeof o !== 'object' || Array.isArray(o))
      throw new BadRequestError('the request body must be a JSON object');
    if (o.apiVersion && o.apiVersion !== apiVersionOf(r)) {
      throw new BadRequestError(
        `the API version in the data (${o.apiVersion}) does not match the expected API version (${apiVersionOf(r)})`,
      );
    }
    if (o.kind && o.kind !== r.kind) {
      throw new BadRequestError(`the kind in the data (${o.kind}) does not match the expected kind (${r.kind})`);
    }
    return checkFields(r, obj, opts.fieldValidation);
  }
}

function refuseUserWrite(r: ResourceInfo): void {
  if (r.systemOwned) throw new MethodNotSupportedError(NOT_ALLOWED);
}

const scopeOf = (r: ResourceInfo, namespace: string | undefined): string =>
  r.namespaced ? (namespace ?? 'default') : '';
