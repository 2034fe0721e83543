/**
 * Deciding what an incoming object event means relative to the store, so out-of-order or duplicate events never
 * roll state back. Pure. The store is the truth; an event only ever (a) asks for a reconcile of what is stored, or
 * (b) carries a newer intent from an external producer that must first go through the API write path.
 */
import type { ParsedObjectEvent } from '../events/envelope.js';

/** Annotations recording an external producer's identity of an ingested object (its own uid/resourceVersion). */
export const SOURCE_UID_ANNOTATION = 'service-controller.k8s.aws/source-uid';
export const SOURCE_RV_ANNOTATION = 'service-controller.k8s.aws/source-resource-version';

export type EventDecision =
  /** Older than (or the same as) what is stored and already superseded: do nothing. */
  | 'stale'
  /** The event describes what is stored (our own write): reconcile the stored object. */
  | 'current'
  /** A newer intent from outside: write it through the API, then reconcile. */
  | 'ingest'
  /** A newer delete from outside: delete through the API, then reconcile the deletion. */
  | 'delete';

interface Meta {
  uid?: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
}

const rvNum = (rv: string | undefined): number | undefined =>
  rv !== undefined && /^\d{1,15}$/.test(rv) ? Number(rv) : undefined;

/**
 * `deletedUids`: uids of this name whose DELETED event was already seen (the controller keeps them per name).
 * Kubernetes never reuses a uid and DELETED is the last event of an incarnation, so any other event for such a uid
 * is older than the deletion, whatever order it arrived in: without this, a late ADDED/MODIFIED after the
 * DELETED would re-create the object (EventBridge does not guarantee delivery order).
 */
export function decide(
  ev: ParsedObjectEvent,
  stored: { metadata?: Meta } | undefined,
  deletedUids: readonly string[] = [],
): EventDecision {
  const evUid = ev.object.metadata?.uid;
  const evRv = ev.resourceVersion;
  if (evUid !== undefined && evUid !== stored?.metadata?.uid && deletedUids.includes(evUid)) {
    return ev.type === 'DELETED' && !stored ? 'current' : 'stale';
  }
  if (!stored) return ev.type === 'DELETED' ? 'current' : 'ingest';
  const meta = stored.metadata ?? {};
  const storedRv = rvNum(meta.resourceVersion);

  if (evUid !== undefined && evUid === meta.uid) {
    // Same incarnation, versions from our own store: compare directly.
    if (evRv === undefined || storedRv === undefined) return ev.type === 'DELETED' ? 'delete' : 'current';
    if (evRv < storedRv) return 'stale';
    if (evRv === storedRv) return ev.type === 'DELETED' ? 'delete' : 'current';
    return ev.type === 'DELETED' ? 'delete' : 'ingest';
  }

  // A different uid: either an external producer (its own uid/rv, remembered in annotations) or an older
  // incarnation of the same name.
  const srcUid = meta.annotations?.[SOURCE_UID_ANNOTATION];
  const srcRv = rvNum(meta.annotations?.[SOURCE_RV_ANNOTATION]);
  if (evUid !== undefined && srcUid === evUid && evRv !== undefined && srcRv !== undefined && evRv <= srcRv) {
    return 'stale';
  }
  if (ev.type === 'DELETED') {
    // A delete naming another incarnation must not delete the one that exists now.
    if (evUid !== undefined && evUid !== srcUid) return 'stale';
    return 'delete';
  }
  return 'ingest';
}

/** The object to hand to the API write path for an external event: the producer's identity moved to annotations. */
export function toIngestObject<T extends { metadata?: Meta & Record<string, unknown> }>(obj: T, kind: string): T {
  const copy = structuredClone(obj);
  const meta = (copy.metadata ??= {});
  const annotations = { ...(meta.annotations ?? {}) };
  if (meta.uid) annotations[SOURCE_UID_ANNOTATION] = meta.uid;
  if (meta.resourceVersion) annotations[SOURCE_RV_ANNOTATION] = meta.resourceVersion;
  if (Object.keys(annotations).length) meta.annotations = annotations;
  delete meta.uid;
  delete meta.resourceVersion;
  delete meta.generation;
  delete meta.creationTimestamp;
  // A Service's status belongs to the controller; a Pod's status is the producer's report (there is no kubelet here).
  if (kind === 'Service') delete (copy as Record<string, unknown>).status;
  return copy;
}
