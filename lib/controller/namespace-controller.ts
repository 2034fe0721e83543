/**
 * The namespace controller (pkg/controller/namespace/deletion): a namespace being deleted (deletionTimestamp set,
 * spec.finalizers [kubernetes]) is emptied of every namespaced kind the API serves, then finalized (the write
 * path's NamespaceLifecycle.finalize drops the `kubernetes` finalizer and removes it), so `kubectl delete namespace`
 * completes.
 *
 * Services are deleted through the write path like any other delete, so their DELETED messages remove their load
 * balancers through the normal path (the controller's LB delete by tag) and their slices and Endpoints through the
 * EndpointSlice and Endpoints controllers; the namespace does not wait for the NLB, as upstream's does not wait
 * for a cloud load balancer without a finalizer. Objects holding finalizers are only marked for deletion; the
 * namespace waits for them: any later DELETED message of an object in a terminating namespace, and every resync,
 * try again. Creates in a terminating namespace are refused at admission meanwhile (NamespaceLifecycle).
 *
 * Not done: upstream's namespace status conditions (NamespaceContentRemaining, NamespaceFinalizersRemaining, ...):
 * each would be one more write per pass; `kubectl get namespace` shows Terminating either way.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import type { WritePath } from '../api/write-path.js';
import { isTerminating } from '../api/namespaces.js';
import { RESOURCES, storageKind } from '../api/resources.js';
import { NotFoundError } from '../errors.js';
import type { ObjectStore } from '../store/types.js';
import type { Logger } from './logger.js';

export interface NamespaceControllerDeps {
  store: ObjectStore;
  writes: WritePath;
  log?: Logger;
}

export type NamespaceOutcome = 'active' | 'pending' | 'finalized';

/** Services first (their load balancers take longest to go), the kinds the controller derives from them last. */
const ORDER = ['Service', 'Pod', 'Endpoints', 'EndpointSlice.discovery.k8s.io', 'Event'];
const DELETION_ORDER = RESOURCES.filter((r) => r.namespaced).sort(
  (a, b) => rank(storageKind(a)) - rank(storageKind(b)),
);
function rank(kind: string): number {
  const i = ORDER.indexOf(kind);
  return i < 0 ? ORDER.length : i;
}

export class NamespaceController {
  constructor(private readonly deps: NamespaceControllerDeps) {}

  /** One namespace: nothing when it is not terminating; else its content deleted, and it finalized when empty. */
  async sync(name: string): Promise<NamespaceOutcome> {
    const ns = await this.deps.store.get<V1Namespace>('Namespace', '', name);
    if (!ns) return 'finalized';
    if (!isTerminating(ns)) return 'active';
    const deleted = await this.deleteContent(name);
    const done = await this.deps.writes.namespaces.finalize(name);
    this.deps.log?.info('namespace deletion', { namespace: name, deleted, finalized: done });
    return done ? 'finalized' : 'pending';
  }

  /** Resync: every terminating namespace. */
  async syncAll(): Promise<Map<string, NamespaceOutcome>> {
    const out = new Map<string, NamespaceOutcome>();
    for (const ns of await this.deps.store.list<V1Namespace>('Namespace', '')) {
      if (isTerminating(ns)) out.set(ns.metadata?.name ?? '', await this.sync(ns.metadata?.name ?? ''));
    }
    return out;
  }

  /** Deletes every object of every namespaced kind (objects with finalizers are marked); returns how many. */
  private async deleteContent(namespace: string): Promise<number> {
    let n = 0;
    for (const r of DELETION_ORDER) {
      for (const o of await this.deps.store.list(storageKind(r), namespace)) {
        if (o.metadata?.deletionTimestamp) continue; // already marked: waits for its finalizers
        try {
          await this.deps.writes.delete(r, namespace, o.metadata?.name ?? '', {
            preconditions: { uid: o.metadata?.uid },
          });
          n++;
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
    }
    return n;
  }
}
