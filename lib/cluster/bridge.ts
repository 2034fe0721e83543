/**
 * Cluster mode's two directions, for one watcher run:
 * - cluster -> store: each delivery of a cluster Service is admitted by the ledger (never older than what was
 *   applied, never after its deletion), then our finalizer is put on it BEFORE its mirror is written (so no AWS
 *   resource exists that the cluster could forget), then the mirror goes through the write path; the controller
 *   reconciles the mirror as it reconciles any Service;
 * - store -> cluster (`writeBack`, level-based so a crash anywhere is repaired by the next pass): the mirror's
 *   load-balancer status and Events are written to the cluster's Service, and once a deleted Service's mirror is gone
 *   (the controller removed its finalizer after the last AWS resource) our finalizer leaves the cluster's Service.
 * Node deliveries become eligibility records (lib/cluster/nodes.ts) and, when one changes, a target update.
 */
import type { CoreV1Event, KubernetesObject, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ApiServer } from '../api/server.js';
import type { Logger } from '../controller/controller.js';
import { InvalidError, NotFoundError } from '../errors.js';
import type { RecordStore } from '../store/types.js';
import { copyEvent, eventNameFor } from './events.js';
import {
  handlingOf,
  hasCleanupFinalizer,
  mirrorOf,
  podMirrorOf,
  podSourceUidOf,
  sourceUidOf,
  statusToWrite,
  type ClusterModeSettings,
} from './mirror.js';
import { EVENT_SOURCE_COMPONENT, LB_CLEANUP_FINALIZER } from '../model/cluster-names.js';
import { eligibilityChanged, eligibilityOf } from '../nodes/cluster-eligibility.js';
import { NodeEligibilityRecords, type NodeEligibility } from '../nodes/eligibility-records.js';
import { compareResourceVersions, MirrorLedger } from './records.js';
import type { RemoteCluster, RemoteEvent } from './remote.js';

export interface BridgeDeps {
  /** Our store, through the write path. */
  api: ApiServer;
  records: RecordStore;
  remote: RemoteCluster;
  settings: ClusterModeSettings;
  log: Logger;
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class ClusterBridge {
  /** The cluster's Services as last delivered, by uid (complete after a list). */
  private readonly services = new Map<string, V1Service>();
  private readonly nodes = new Map<string, NodeEligibility>();
  /** Events already copied, by name, at the count copied (a restart copies again: create is idempotent by name). */
  private readonly copied = new Map<string, number>();
  private readonly ledger: MirrorLedger;
  private readonly nodeRecords: NodeEligibilityRecords;
  /** The store revision at the end of the last complete write-back pass, and whether the cluster changed since. */
  private passedAt = -1;
  private dirty = true;

  constructor(private readonly deps: BridgeDeps) {
    this.ledger = new MirrorLedger(deps.records);
    this.nodeRecords = new NodeEligibilityRecords(deps.records);
  }

  // ------------------------------------------------------------------------------------------ cluster -> store

  async onService(e: RemoteEvent): Promise<void> {
    const svc = e.object as V1Service;
    const uid = svc.metadata?.uid ?? '';
    const rv = svc.metadata?.resourceVersion ?? '';
    if (!uid || e.type === 'BOOKMARK') return;
    if (e.type === 'DELETED') {
      await this.ledger.tombstone('Service', uid, rv);
      this.services.delete(uid);
      this.dirty = true;
      await this.deleteMirror(svc);
      return;
    }
    if (!(await this.ledger.admit('Service', uid, rv))) {
      this.deps.log.info('cluster delivery older than applied: skipped', { key: keyOf(svc), rv });
      return;
    }
    this.services.set(uid, svc);
    this.dirty = true;
    await this.converge(svc);
  }

  /**
   * A full list replaced what is known: Services missing from it are gone (their DELETED may never come). Items at
   * or below `appliedUpTo` (the watch checkpoint: every change up to it was applied) are only remembered, for the
   * write-back; newer ones are applied.
   */
  async relistedServices(items: V1Service[], listRv: string, appliedUpTo?: string): Promise<void> {
    this.services.clear();
    this.dirty = true;
    for (const s of items) {
      const rv = s.metadata?.resourceVersion ?? '';
      if (appliedUpTo && s.metadata?.uid && compareResourceVersions(rv, appliedUpTo) <= 0 && rv !== '')
        this.services.set(s.metadata.uid, s);
      else await this.onService({ type: 'ADDED', object: s });
    }
    const live = new Set(items.map((s) => s.metadata?.uid));
    for (const m of await this.mirrors()) {
      const uid = sourceUidOf(m)!;
      if (live.has(uid)) continue;
      await this.ledger.tombstone('Service', uid, listRv);
      await this.deleteMirror(m, uid);
    }
  }

  /** One Service brought to what it should be: finalizer, then mirror; or the mirror deleted. */
  private async converge(svc: V1Service): Promise<void> {
    const handling = handlingOf(svc, this.deps.settings);
    if (svc.metadata?.deletionTimestamp || handling === 'ignore') {
      await this.deleteMirror(svc);
      return;
    }
    let cur: V1Service | undefined = svc;
    if (handling === 'load-balancer' && !hasCleanupFinalizer(svc)) {
      cur = await this.deps.remote.setFinalizer(svc, LB_CLEANUP_FINALIZER, true);
      if (!cur) return; // gone meanwhile: its DELETED follows
      this.services.set(cur.metadata!.uid!, cur);
    }
    await this.applyMirror(cur, handling);
  }

  private async applyMirror(svc: V1Service, handling: 'load-balancer' | 'mirror'): Promise<void> {
    const prev = await this.mirror(svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? '');
    if (prev && sourceUidOf(prev) !== svc.metadata?.uid) {
      // An earlier Service of that name (or one of the standalone API's own) holds the name: it goes first; a
      // later pass writes this one once it is gone.
      if (sourceUidOf(prev)) await this.deleteMirror(prev, sourceUidOf(prev));
      else this.deps.log.warn('name taken by a Service that is not a mirror', { key: keyOf(svc) });
      return;
    }
    if (prev?.metadata?.deletionTimestamp) return; // still being cleaned up
    try {
      const r = await this.deps.api.applyService(mirrorOf(svc, handling));
      if (r.action !== 'unchanged') this.deps.log.info(`mirror ${r.action}`, { key: keyOf(svc) });
    } catch (err) {
      if (!(err instanceof InvalidError)) throw err;
      // Bad input stays bad until the Service changes: said on the Service, as upstream's service controller does.
      await this.deps.remote.upsertEvent(this.warning(svc, `Error syncing load balancer: ${err.message}`));
    }
  }

  private async deleteMirror(svc: V1Service, uid = svc.metadata?.uid): Promise<void> {
    const m = await this.mirror(svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? '');
    if (!m || sourceUidOf(m) !== uid || m.metadata?.deletionTimestamp) return;
    await this.deps.api.deleteService(m.metadata!.namespace!, m.metadata!.name!).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
    this.deps.log.info('mirror deleted', { key: keyOf(m) });
  }

  private async mirror(ns: string, name: string): Promise<V1Service | undefined> {
    try {
      return await this.deps.api.getService(ns, name);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  private async mirrors(): Promise<V1Service[]> {
    return (await this.deps.api.listServices()).filter((s) => sourceUidOf(s));
  }

  private warning(svc: V1Service, message: string): CoreV1Event {
    return copyEvent(
      {
        type: 'Warning',
        reason: 'SyncLoadBalancerFailed',
        message,
        count: 1,
        name: eventNameFor(svc, 'sync', message),
      },
      svc,
      EVENT_SOURCE_COMPONENT,
    );
  }

  // ------------------------------------------------------------------------------------------ store -> cluster

  /** Status, Events and the finalizer's release written to the cluster from what the store holds now. */
  async writeBack(): Promise<void> {
    // Nothing changed on either side since the last complete pass: nothing to compare (one read, not a scan).
    const rev = await this.deps.api.store.currentRevision();
    if (!this.dirty && rev === this.passedAt) return;
    this.dirty = false;
    try {
      await this.writeBackPass();
    } catch (err) {
      this.dirty = true; // an incomplete pass is repeated whatever the revision
      throw err;
    }
    this.passedAt = rev;
  }

  private async writeBackPass(): Promise<void> {
    const byUid = new Map((await this.mirrors()).map((m) => [sourceUidOf(m)!, m]));
    const events = await this.eventsByObject();
    for (const svc of [...this.services.values()]) {
      const m = byUid.get(svc.metadata!.uid!);
      const leaving = Boolean(svc.metadata?.deletionTimestamp) || handlingOf(svc, this.deps.settings) === 'ignore';
      if (leaving) {
        if (!m && hasCleanupFinalizer(svc)) await this.release(svc);
        if (m) await this.copyEvents(events.get(m.metadata?.uid ?? '') ?? [], svc);
        continue;
      }
      if (!m) {
        await this.converge(svc); // not written yet (its name was held, or an earlier pass failed)
        continue;
      }
      if (handlingOf(svc, this.deps.settings) !== 'load-balancer') continue;
      const st = statusToWrite(svc, m);
      if (st) {
        await this.deps.remote.writeLoadBalancerStatus(svc, st);
        this.services.set(svc.metadata!.uid!, { ...svc, status: { ...svc.status, loadBalancer: st } });
      }
      await this.copyEvents(events.get(m.metadata?.uid ?? '') ?? [], svc);
    }
  }

  /** The store's Events by the uid of the object they are about: one scan per pass. */
  private async eventsByObject(): Promise<Map<string, CoreV1Event[]>> {
    const by = new Map<string, CoreV1Event[]>();
    for (const ev of await this.deps.api.store.list<CoreV1Event>('Event')) {
      const uid = ev.involvedObject?.uid ?? '';
      by.set(uid, [...(by.get(uid) ?? []), ev]);
    }
    return by;
  }

  /** Every AWS resource is gone (the mirror is): our finalizer leaves the cluster's Service. */
  private async release(svc: V1Service): Promise<void> {
    const after = await this.deps.remote.setFinalizer(svc, LB_CLEANUP_FINALIZER, false);
    if (after) this.services.set(after.metadata!.uid!, after);
    else this.services.delete(svc.metadata!.uid!);
    this.deps.log.info('cleanup finalizer removed', { key: keyOf(svc) });
  }

  private async copyEvents(events: readonly CoreV1Event[], svc: V1Service): Promise<void> {
    for (const ev of events) {
      const name = ev.metadata?.name ?? '';
      if ((this.copied.get(name) ?? 0) >= (ev.count ?? 1)) continue;
      const out = copyEvent(
        { type: ev.type ?? 'Normal', reason: ev.reason ?? '', message: ev.message ?? '', count: ev.count ?? 1, name },
        svc,
        EVENT_SOURCE_COMPONENT,
        ev,
      );
      await this.deps.remote.upsertEvent(out);
      this.copied.set(name, ev.count ?? 1);
    }
  }

  // ------------------------------------------------------------------------------------------ pods (data plane)

  /** A cluster Pod (data plane on): its mirror follows, ordered by the same ledger; refused input is logged. */
  async onPod(e: RemoteEvent): Promise<void> {
    const pod = e.object as V1Pod;
    const uid = pod.metadata?.uid ?? '';
    if (!uid || e.type === 'BOOKMARK') return;
    if (e.type === 'DELETED') {
      await this.ledger.tombstone('Pod', uid, pod.metadata?.resourceVersion ?? '');
      await this.deletePodMirror(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', uid);
      return;
    }
    if (!(await this.ledger.admit('Pod', uid, pod.metadata?.resourceVersion ?? ''))) return;
    const prev = await this.deps.api
      .getPod(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '')
      .catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
    if (prev && podSourceUidOf(prev) !== uid) {
      // An earlier Pod of that name: it goes first; this one is written on its next delivery or the next list.
      if (podSourceUidOf(prev))
        await this.deletePodMirror(prev.metadata!.namespace!, prev.metadata!.name!, podSourceUidOf(prev));
      return;
    }
    try {
      await this.deps.api.applyPod(podMirrorOf(pod));
    } catch (err) {
      if (!(err instanceof InvalidError)) throw err;
      this.deps.log.warn('cluster Pod not mirrored: invalid here', { key: keyOf(pod), error: err.message });
    }
  }

  async relistedPods(items: V1Pod[], listRv: string, appliedUpTo?: string): Promise<void> {
    for (const p of items) {
      const rv = p.metadata?.resourceVersion ?? '';
      if (appliedUpTo && rv !== '' && compareResourceVersions(rv, appliedUpTo) <= 0) continue;
      await this.onPod({ type: 'ADDED', object: p });
    }
    const live = new Set(items.map((p) => p.metadata?.uid));
    for (const m of await this.deps.api.listPods()) {
      const uid = podSourceUidOf(m);
      if (!uid || live.has(uid)) continue;
      await this.ledger.tombstone('Pod', uid, listRv);
      await this.deletePodMirror(m.metadata!.namespace!, m.metadata!.name!, uid);
    }
  }

  private async deletePodMirror(ns: string, name: string, uid: string | undefined): Promise<void> {
    const m = await this.deps.api.getPod(ns, name).catch(() => undefined);
    if (!m || podSourceUidOf(m) !== uid) return;
    await this.deps.api.deletePod(ns, name).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
  }

  // ------------------------------------------------------------------------------------------ nodes

  async onNode(e: RemoteEvent): Promise<boolean> {
    if (e.type === 'BOOKMARK') return false;
    const node = e.object as V1Node;
    const name = node.metadata?.name ?? '';
    const prev = this.nodes.get(name);
    const next = e.type === 'DELETED' ? undefined : eligibilityOf(node);
    if (!eligibilityChanged(prev, next)) return false;
    if (next) {
      this.nodes.set(name, next);
      await this.nodeRecords.put(next);
    } else {
      this.nodes.delete(name);
      if (prev) await this.nodeRecords.delete(prev.instanceId);
    }
    return true;
  }

  /** A full Node list: records of Nodes not in it go; true when anything changed (the targets then follow). */
  async relistedNodes(items: V1Node[]): Promise<boolean> {
    const stored = await this.nodeRecords.list();
    this.nodes.clear();
    for (const r of stored) this.nodes.set(r.name, r);
    let changed = false;
    for (const n of items) changed = (await this.onNode({ type: 'ADDED', object: n })) || changed;
    const live = new Set(items.map((n) => n.metadata?.name));
    for (const r of stored) {
      if (live.has(r.name)) continue;
      changed = (await this.onNode({ type: 'DELETED', object: { metadata: { name: r.name } } })) || changed;
    }
    return changed;
  }
}
