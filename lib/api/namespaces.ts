/**
 * Namespace lifecycle as kube-apiserver's NamespaceLifecycle admission plugin and namespace registry enforce it:
 * - the system namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease` exist (created on first use, as
 *   the apiserver's bootstrap controller does) and the first three may never be deleted;
 * - creating an object in a missing namespace is NotFound (`namespaces "x" not found`), in a terminating one
 *   Forbidden (`unable to create new content in namespace x because it is being terminated`);
 * - deleting a namespace marks it Terminating (deletionTimestamp, status.phase) with spec.finalizers [kubernetes];
 *   `finalize` removes it once nothing is left in it (emptying it is the namespace controller's job).
 */
import type { V1Namespace } from '@kubernetes/client-node';
import { AlreadyExistsError, ForbiddenError, NotFoundError } from '../errors.js';
import { UserConflictError } from './preconditions.js';
import type { KubeObject, Store } from '../store/types.js';
import { NAMESPACE_FINALIZER } from './strategies.js';
import { RESOURCES, storageKind } from './resources.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;
/** NamespaceLifecycle's immortal namespaces. */
const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

const KIND = 'Namespace';

export const isTerminating = (ns: V1Namespace | undefined): boolean =>
  Boolean(ns?.metadata?.deletionTimestamp) || ns?.status?.phase === 'Terminating';

export class NamespaceLifecycle {
  private bootstrapped?: Promise<void>;
  /** A view of namespaces that may lag the latest writes (the watch cache), for dry runs: see admitCreate. */
  recent?: (name: string) => Promise<V1Namespace | undefined>;
  constructor(private readonly store: Store) {}

  /** Creates the system namespaces that do not exist yet (once per process; racing creators are fine). */
  bootstrap(): Promise<void> {
    this.bootstrapped ??= this.createSystemNamespaces().catch((err: unknown) => {
      this.bootstrapped = undefined;
      throw err;
    });
    return this.bootstrapped;
  }

  private async createSystemNamespaces(): Promise<void> {
    const existing = new Set((await this.store.list(KIND, '')).map((n) => n.metadata?.name));
    for (const name of SYSTEM_NAMESPACES) if (!existing.has(name)) await this.createNamespace(name);
  }

  /**
   * Admission of a create in `namespace`. `autoCreate` (svcctl's legacy direct mode only) creates a missing
   * namespace instead of refusing, so manifests that worked before namespaces existed keep working.
   */
  async admitCreate(namespace: string, opts: { autoCreate?: boolean; dryRun?: boolean } = {}): Promise<void> {
    await this.bootstrap();
    // A dry run takes the recent view's word for an active namespace, saving a store read per object of a large
    // `svcctl apply`. One deleted since is caught by the write, which reads it consistently, as when it goes between
    // dry run and write anyway; an absent or terminating one is read again, so one created a moment ago is admitted.
    if (opts.dryRun && this.recent) {
      const seen = await this.recent(namespace);
      if (seen && !isTerminating(seen)) return;
    }
    const ns = await this.store.get<V1Namespace>(KIND, '', namespace);
    if (!ns) {
      if (!opts.autoCreate) throw new NotFoundError(KIND, namespace, 'namespaces');
      if (!opts.dryRun) await this.createNamespace(namespace);
      return;
    }
    if (isTerminating(ns)) {
      throw new ForbiddenError(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private async createNamespace(name: string): Promise<void> {
    const ns: V1Namespace = {
      apiVersion: 'v1',
      kind: KIND,
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: [NAMESPACE_FINALIZER] },
      status: { phase: 'Active' },
    };
    await this.store.create(KIND, ns as KubeObject, { generation: false }).catch((err: unknown) => {
      if (!(err instanceof AlreadyExistsError)) throw err;
    });
  }

  /** Refuses deleting an immortal namespace, or one already terminating (upstream answers 409 then). */
  static checkDelete(ns: V1Namespace): void {
    const name = ns.metadata?.name ?? '';
    if (IMMORTAL.has(name))
      throw new ForbiddenError(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    if (isTerminating(ns)) {
      throw new UserConflictError(
        `Operation cannot be fulfilled on namespaces "${name}": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.`,
      );
    }
  }

  /** The namespace as deletion marks it: deletionTimestamp, grace period 0, phase Terminating. */
  static markTerminating(ns: V1Namespace, now: Date): V1Namespace {
    const next = structuredClone(ns);
    next.metadata = {
      ...next.metadata,
      deletionTimestamp: now.toISOString() as unknown as Date,
      deletionGracePeriodSeconds: 0,
    };
    next.status = { ...next.status, phase: 'Terminating' };
    return next;
  }

  /** True when no namespaced object of any served kind is left in `namespace`. */
  async isEmpty(namespace: string): Promise<boolean> {
    for (const r of RESOURCES.filter((x) => x.namespaced)) {
      if ((await this.store.list(storageKind(r), namespace)).length > 0) return false;
    }
    return true;
  }

  /**
   * The namespace controller's last step: once a terminating namespace is empty, drop the `kubernetes` finalizer and
   * remove it (a namespace still holding other metadata.finalizers stays until they go). Returns true when removed.
   */
  async finalize(name: string): Promise<boolean> {
    const ns = await this.store.get<V1Namespace>(KIND, '', name);
    if (!ns) return true;
    if (!isTerminating(ns) || !(await this.isEmpty(name))) return false;
    if ((ns.spec?.finalizers ?? []).length > 0) {
      const finalized = {
        ...ns,
        spec: { ...ns.spec, finalizers: ns.spec?.finalizers?.filter((f) => f !== NAMESPACE_FINALIZER) },
      };
      const stored = await this.store.update(KIND, finalized as KubeObject, ns as KubeObject, { generation: false });
      return this.finalize(stored.metadata?.name ?? name);
    }
    if ((ns.metadata?.finalizers ?? []).length > 0) return false;
    await this.store.delete(KIND, ns as KubeObject);
    return true;
  }
}
