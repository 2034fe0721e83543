/**
 * The API server's write path between a decoded object and the store, for every served kind (kube-apiserver's
 * generic registry plus the per-kind strategies in strategies.ts): server-owned metadata, preconditions, defaulting
 * and validation, namespace admission, Service allocation, the status subresource, graceful deletion with
 * finalizers, dry runs, and re-reading after a lost optimistic-concurrency race. No HTTP here (lib/apiserver owns
 * that), no DynamoDB either (lib/store does).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { V1ObjectMeta, V1Service } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NotFoundError, TransientError } from '../errors.js';
import { throwIfInvalid, type FieldError } from '../model/field-errors.js';
import { validateFinalizers, validateFinalizersUpdate } from '../model/validation-meta.js';
import { canonicalJson, storableBody } from '../store/store.js';
import { AllocationConflictError, type KubeObject, type Store } from '../store/types.js';
import { heldValues, POOL_CLUSTER_IP, POOL_NODE_PORT } from './allocator.js';
import { apiVersionOf, type ResourceInfo } from './backend.js';
import { NamespaceLifecycle } from './namespaces.js';
import { qualifiedResource, storageKind } from './resources.js';
import {
  checkDeletePreconditions,
  checkObjectPreconditions,
  preconditionFailed,
  UserConflictError,
} from './preconditions.js';
import { commitService } from './service-commit.js';
import { strategyFor, type StrategyContext } from './strategies.js';

/** Re-reads after a lost optimistic-concurrency race before giving up with the ConflictError. */
const MAX_CONFLICT_RETRIES = 8;

export type WriteAction = 'created' | 'configured' | 'unchanged' | 'deleted';

export interface Outcome<T extends KubeObject = KubeObject> {
  object: T;
  action: WriteAction;
  /** The change as a watch event; absent when nothing was written (unchanged, dry run). */
  event?: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T };
  /** delete only: the object was marked for deletion and waits for its finalizers. */
  pending?: boolean;
}

export interface InternalOptions {
  dryRun?: boolean;
  /** svcctl's legacy direct mode: create a missing namespace instead of refusing (see namespaces.ts). */
  autoCreateNamespace?: boolean;
  /** Main-resource update that also replaces the status (Pods applied by their producer: there is no kubelet). */
  withStatus?: boolean;
  /** `kubectl apply` semantics for the convenience methods: finalizers the object leaves out are kept. */
  keepFinalizers?: boolean;
}

/** The user-owned content of an object, compared to find no-op writes (upstream's GuaranteedUpdate skips them). */
export function contentOf(o: KubeObject, withStatus: boolean): string {
  const { apiVersion: _a, kind: _k, metadata, status, ...body } = o as KubeObject & { status?: unknown };
  const meta = {
    labels: metadata?.labels ?? {},
    annotations: metadata?.annotations ?? {},
    finalizers: metadata?.finalizers ?? [],
    ownerReferences: metadata?.ownerReferences ?? [],
  };
  return canonicalJson({ meta, body, status: withStatus ? (status ?? {}) : undefined });
}

/** The metadata a client may set; server-owned fields (uid, resourceVersion, generation, ...) are not taken. */
function userMeta(m: V1ObjectMeta | undefined, namespace: string | undefined): V1ObjectMeta {
  const out: V1ObjectMeta = { name: m?.name };
  if (namespace !== undefined) out.namespace = namespace;
  if (m?.generateName) out.generateName = m.generateName;
  if (m?.labels && Object.keys(m.labels).length > 0) out.labels = { ...m.labels };
  if (m?.annotations && Object.keys(m.annotations).length > 0) out.annotations = { ...m.annotations };
  if (m?.finalizers?.length) out.finalizers = [...m.finalizers];
  if (m?.ownerReferences?.length) out.ownerReferences = structuredClone(m.ownerReferences);
  return out;
}

/** names.SimpleNameGenerator: generateName plus five random lower-case alphanumerics. */
function generatedName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return prefix.slice(0, 58) + [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

export class WritePath {
  readonly namespaces: NamespaceLifecycle;
  constructor(
    readonly store: Store,
    readonly ctx: StrategyContext,
  ) {
    this.namespaces = new NamespaceLifecycle(store);
  }

  // ---------------------------------------------------------------------------------------------- create

  async create(r: ResourceInfo, namespace: string | undefined, obj: KubeObject, opts: InternalOptions = {}) {
    const kind = storageKind(r);
    const strategy = strategyFor(kind);
    const meta = userMeta(obj.metadata, r.namespaced ? (namespace ?? 'default') : undefined);
    if (!meta.name && meta.generateName) meta.name = generatedName(meta.generateName);
    const input = { ...structuredClone(obj), apiVersion: apiVersionOf(r), kind: r.kind, metadata: meta };
    const { desired, errors } = strategy.create(input, this.ctx);
    throwIfInvalid(r.kind, meta.name ?? '', [...errors, ...validateFinalizers(meta.finalizers)]);
    if (r.namespaced) {
      await this.namespaces.admitCreate(meta.namespace ?? '', {
        autoCreate: opts.autoCreateNamespace,
        dryRun: opts.dryRun,
      });
    } else if (kind === 'Namespace') await this.namespaces.bootstrap();
    let object: KubeObject;
    if (kind === 'Service') {
      const w = { namespace: meta.namespace ?? '', name: meta.name ?? '', desired: desired as V1Service };
      object = await commitService(this.store, this.ctx, { ...w, dryRun: opts.dryRun });
    } else if (opts.dryRun) object = desired;
    else
      object = await this.store.create(kind, desired, {
        generation: strategy.generation,
        ttlSeconds: strategy.ttlSeconds,
      });
    if (opts.dryRun) {
      storableBody(kind, meta.name ?? '', object);
      return { object: stampDryRun(object, undefined, strategy.generation), action: 'created' } as Outcome;
    }
    return { object, action: 'created', event: { type: 'ADDED', object } } as Outcome;
  }

  // ---------------------------------------------------------------------------------------------- update

  /** PUT of the main resource or of `status`; see ApiBackend.update for the contract. */
  update(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    obj: KubeObject,
    opts: InternalOptions & { subresource?: 'status' } = {},
  ): Promise<Outcome> {
    return this.retrying(async () => {
      const prev = await this.read(r, namespace, name);
      checkObjectPreconditions(r, obj, prev);
      if (opts.subresource === 'status') return this.updateStatusOf(r, prev, obj, opts);
      return this.updateMain(r, prev, obj, opts);
    });
  }

  private async updateMain(r: ResourceInfo, prev: KubeObject, obj: KubeObject, opts: InternalOptions) {
    const kind = storageKind(r);
    const strategy = strategyFor(kind);
    const meta = userMeta(obj.metadata, prev.metadata?.namespace);
    meta.name = prev.metadata?.name;
    if (opts.keepFinalizers && !obj.metadata?.finalizers) meta.finalizers = prev.metadata?.finalizers;
    if (prev.metadata?.deletionTimestamp) {
      meta.deletionTimestamp = prev.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = prev.metadata.deletionGracePeriodSeconds;
    }
    const input = { ...structuredClone(obj), apiVersion: apiVersionOf(r), kind: r.kind, metadata: meta };
    const { desired, errors } = strategy.update(input, prev, this.ctx);
    const metaErrors = validateFinalizersUpdate(meta, prev.metadata);
    throwIfInvalid(r.kind, prev.metadata?.name ?? '', [...errors, ...metaErrors]);
    if (prev.metadata?.deletionTimestamp && (meta.finalizers ?? []).length === 0) {
      // The last finalizer is gone from a deleting object: it is removed now (upstream's deleteWithoutFinalizers).
      return this.remove(r, prev, opts);
    }
    const withStatus = Boolean(opts.withStatus);
    if (contentOf(desired, withStatus) === contentOf(prev, withStatus))
      return { object: prev, action: 'unchanged' } as Outcome;
    let object: KubeObject;
    if (kind === 'Service') {
      const w = { namespace: prev.metadata?.namespace ?? '', name: prev.metadata?.name ?? '' };
      object = await commitService(this.store, this.ctx, {
        ...w,
        desired: desired as V1Service,
        prev: prev as V1Service,
        dryRun: opts.dryRun,
      });
    } else if (opts.dryRun) object = desired;
    else
      object = await this.store.update(kind, desired, prev, {
        withStatus,
        generation: strategy.generation,
        ttlSeconds: strategy.ttlSeconds,
      });
    if (opts.dryRun) {
      storableBody(kind, prev.metadata?.name ?? '', object);
      return { object: stampDryRun(object, prev, strategy.generation, withStatus), action: 'configured' } as Outcome;
    }
    return { object, action: 'configured', event: { type: 'MODIFIED', object } } as Outcome;
  }

  private async updateStatusOf(r: ResourceInfo, prev: KubeObject, obj: KubeObject, opts: InternalOptions) {
    const kind = storageKind(r);
    const strategy = strategyFor(kind);
    const next = {
      ...structuredClone(prev),
      status: structuredClone((obj as { status?: unknown }).status),
    } as KubeObject;
    strategy.prepareStatus?.(next);
    const status = (next as { status?: unknown }).status;
    throwIfInvalid(r.kind, prev.metadata?.name ?? '', strategy.validateStatus?.(next, prev, this.ctx) ?? []);
    const before = (prev as { status?: unknown }).status;
    if (canonicalJson(status ?? {}) === canonicalJson(before ?? {}))
      return { object: prev, action: 'unchanged' } as Outcome;
    if (opts.dryRun) {
      storableBody(kind, prev.metadata?.name ?? '', next);
      return { object: next, action: 'configured' } as Outcome;
    }
    const object = await this.store.updateStatus(kind, prev as KubeObject & { status?: unknown }, status);
    return { object, action: 'configured', event: { type: 'MODIFIED', object } } as Outcome;
  }

  /** Read-modify-write of a status (the controller's LB status), re-read and retried when someone wrote first. */
  updateStatus<S>(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    mutate: (status: S) => S | undefined,
    opts: { resourceVersion?: string } = {},
  ): Promise<Outcome> {
    return this.retrying(async () => {
      const prev = await this.read(r, namespace, name);
      if (opts.resourceVersion && prev.metadata?.resourceVersion !== opts.resourceVersion) {
        preconditionFailed('ResourceVersion', opts.resourceVersion, prev.metadata?.resourceVersion);
      }
      const before = ((prev as { status?: S }).status ?? {}) as S;
      const next = mutate(structuredClone(before)) ?? ({} as S);
      return this.updateStatusOf(r, prev, { ...prev, status: next } as KubeObject, {});
    });
  }

  // ---------------------------------------------------------------------------------------------- delete

  delete(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    opts: InternalOptions & { preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): Promise<Outcome> {
    return this.retrying(async () => {
      const prev = await this.read(r, namespace, name);
      checkDeletePreconditions(opts.preconditions ?? {}, prev);
      if (storageKind(r) === 'Namespace') return this.terminateNamespace(r, prev, opts);
      if (prev.metadata?.deletionTimestamp) return { object: prev, action: 'unchanged', pending: true } as Outcome;
      if ((prev.metadata?.finalizers ?? []).length > 0) return this.markDeleting(r, prev, opts);
      return this.remove(r, prev, opts);
    });
  }

  /** Objects with finalizers are only marked: deletionTimestamp now, grace period 0 (upstream's markAsDeleting). */
  private async markDeleting(r: ResourceInfo, prev: KubeObject, opts: InternalOptions): Promise<Outcome> {
    const next = structuredClone(prev);
    next.metadata = {
      ...next.metadata,
      deletionTimestamp: new Date().toISOString() as unknown as Date,
      deletionGracePeriodSeconds: 0,
    };
    if (opts.dryRun) return { object: next, action: 'configured', pending: true };
    const object = await this.store.update(storageKind(r), next, prev, {
      generation: strategyFor(storageKind(r)).generation,
    });
    return { object, action: 'configured', pending: true, event: { type: 'MODIFIED', object } };
  }

  private async terminateNamespace(r: ResourceInfo, prev: KubeObject, opts: InternalOptions): Promise<Outcome> {
    NamespaceLifecycle.checkDelete(prev);
    const next = NamespaceLifecycle.markTerminating(prev, new Date()) as KubeObject;
    if (opts.dryRun) return { object: next, action: 'configured', pending: true };
    const object = await this.store.update(storageKind(r), next, prev, { withStatus: true, generation: false });
    return { object, action: 'configured', pending: true, event: { type: 'MODIFIED', object } };
  }

  /** Removes the object (and a Service's allocations) in one write; DELETED carries the last stored object. */
  private async remove(r: ResourceInfo, prev: KubeObject, opts: InternalOptions): Promise<Outcome> {
    if (opts.dryRun) return { object: prev, action: 'deleted', pending: false };
    const kind = storageKind(r);
    const uid = prev.metadata?.uid ?? '';
    const held = kind === 'Service' ? heldValues(prev as V1Service) : undefined;
    const releases = held
      ? [
          ...[...held.clusterIP].map((value) => ({ pool: POOL_CLUSTER_IP, value, ownerUid: uid })),
          ...[...held.nodePort].map((value) => ({ pool: POOL_NODE_PORT, value, ownerUid: uid })),
        ]
      : [];
    const object = await this.store.delete(kind, prev, { releases });
    return { object, action: 'deleted', pending: false, event: { type: 'DELETED', object } };
  }

  // ---------------------------------------------------------------------------------------------- helpers

  async read(r: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const o = await this.store.get(storageKind(r), r.namespaced ? (namespace ?? 'default') : '', name);
    if (!o) throw new NotFoundError(r.kind, name, qualifiedResource(r));
    return o;
  }

  /**
   * Runs a read-validate-write step again when another writer got there first (a stale resourceVersion the step
   * read itself, a create that lost to a concurrent create). A user's precondition is not retried: that conflict is
   * the answer.
   */
  async retrying<R>(step: () => Promise<R>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        const lostRace =
          (err instanceof ConflictError &&
            !(err instanceof AllocationConflictError) &&
            !(err instanceof UserConflictError)) ||
          (err instanceof TransientError && err.reason === 'TransactionCancelled');
        if (!lostRace || attempt + 1 >= MAX_CONFLICT_RETRIES) throw err;
        // Jittered backoff so that racing writers spread out instead of colliding again in lockstep.
        await new Promise((res) => setTimeout(res, Math.floor(Math.random() * 20 * (attempt + 1))));
      }
    }
  }

  /** `kubectl apply`-like create-or-update; a create that lost to a concurrent create becomes an update. */
  apply(r: ResourceInfo, namespace: string, obj: KubeObject, opts: InternalOptions = {}): Promise<Outcome> {
    return this.retrying(async () => {
      const name = obj.metadata?.name ?? '';
      const prev = name ? await this.store.get(storageKind(r), r.namespaced ? namespace : '', name) : undefined;
      if (!prev) {
        if (obj.metadata?.resourceVersion) {
          throw new UserConflictError(
            `${r.kind} "${name}": resourceVersion ${obj.metadata.resourceVersion} was given but the object does not exist`,
          );
        }
        try {
          return await this.create(r, namespace, obj, opts);
        } catch (err) {
          if (err instanceof AlreadyExistsError) throw new ConflictError(err.message);
          throw err;
        }
      }
      checkObjectPreconditions(r, obj, prev);
      return this.updateMain(r, prev, obj, { ...opts, keepFinalizers: true });
    });
  }
}

/** What a dry run returns: the object as it would be stored, without a new resourceVersion. */
function stampDryRun(
  o: KubeObject,
  prev: KubeObject | undefined,
  generation: boolean | undefined,
  withStatus = false,
): KubeObject {
  const out = structuredClone(o);
  const tracks = generation ?? (o as { spec?: unknown }).spec !== undefined;
  out.metadata = {
    ...out.metadata,
    uid: prev?.metadata?.uid ?? out.metadata?.uid ?? randomUUID(),
    creationTimestamp: prev?.metadata?.creationTimestamp ?? (new Date().toISOString() as unknown as Date),
    resourceVersion: prev?.metadata?.resourceVersion,
    generation: tracks ? (prev?.metadata?.generation ?? 1) : undefined,
  };
  if (!tracks) delete out.metadata.generation;
  if (prev && !withStatus) (out as { status?: unknown }).status = (prev as { status?: unknown }).status;
  return out;
}

export type { FieldError };
