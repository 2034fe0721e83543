/**
 * The EndpointSlice, Endpoints and EndpointSliceMirroring controllers (kube-controller-manager's endpointslice,
 * endpoint and endpointslicemirroring), run together per Service because they read the same objects: a
 * namespace's Services, Pods, Endpoints and EndpointSlices, and the Nodes' zones. What to write is computed by the
 * pure planners (lib/model/endpoint-slices.ts, endpoints-object.ts, endpoint-slice-mirroring.ts) from the
 * endpoints lib/model/endpoints.ts computes for the data plane too, so kubectl shows what the nodes route to.
 *
 * Triggers (lib/controller/controller.ts): a Service or Endpoints message syncs that Service; a Pod message syncs
 * its namespace (the Pod's previous labels are unknown, and a namespace's Services are few); every resync syncs
 * everything and removes what belongs to no Service. Writes go through the write path (system kinds included) and
 * only when something changed; a lost optimistic-concurrency race (another sync wrote first) is retried from a
 * fresh read. Nothing here garbage-collects by ownerReferences: a deleted Service's slices and Endpoints are
 * deleted explicitly.
 *
 * Decisions where upstream differs:
 * - a Pod bound to a Node that does not exist is kept (upstream skips it unless publishNotReadyAddresses): Pods
 *   here are reported by producers that may run them on machines outside the node selector, and the data plane
 *   routes to them;
 * - when a Service stops selecting Pods (selector removed, type ExternalName), its controller-made slices and
 *   Endpoints are deleted (upstream leaves them behind), so neither kubectl nor the data plane (which takes
 *   selector-less Services' Endpoints as manual) sees stale addresses;
 * - Endpoints of a missing Service are deleted when the Service's deletion is processed (as upstream) and, at
 *   resync, only if the Endpoints controller made them: a manual Endpoints applied before its Service survives.
 */
import type { V1EndpointSlice, V1Endpoints, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { WritePath } from '../api/write-path.js';
import { ENDPOINT_SLICES, ENDPOINTS } from '../api/resources.js';
import { AlreadyExistsError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { computeEndpoints, isControllerManaged } from '../model/endpoints.js';
import { desiredEndpoints } from '../model/endpoints-object.js';
import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_TOPOLOGY_ZONE,
  lastChangeTriggerTime,
  planEndpointSlices,
  SLICE_CONTROLLER_NAME,
  type SlicePlan,
} from '../model/endpoint-slices.js';
import {
  MAX_MIRRORED_PER_SUBSET,
  MIRRORING_CONTROLLER_NAME,
  planMirroredSlices,
  shouldMirror,
} from '../model/endpoint-slice-mirroring.js';
import { serviceSelectsPods } from '../model/selector.js';
import type { ClusterConfig } from '../model/types.js';
import type { KubeObject, ObjectStore } from '../store/types.js';
import type { Recorder } from './event-recorder.js';
import type { Logger } from './logger.js';

export interface EndpointsControllerDeps {
  store: ObjectStore;
  writes: WritePath;
  cfg: ClusterConfig;
  /** Events of the mirroring controller (addresses it could not mirror). */
  recorder?: Recorder;
  log?: Logger;
}

/** Why a Service is synced: only its deletion may remove an Endpoints object nobody labelled as the controller's. */
export type SyncCause = 'sync' | 'service-deleted';

/** One namespace's objects, read once for a sync (Pods and Node zones only if a Service selects Pods). */
interface Snapshot {
  namespace: string;
  services: Map<string, V1Service>;
  pods: () => Promise<V1Pod[]>;
  endpoints: Map<string, V1Endpoints>;
  slices: V1EndpointSlice[];
  zones: () => Promise<Map<string, string>>;
}

const ATTEMPTS = 5;
const SLICE_KIND = 'EndpointSlice.discovery.k8s.io';
const nameOf = (o: KubeObject): string => o.metadata?.name ?? '';
const nsOf = (o: KubeObject): string => o.metadata?.namespace ?? 'default';

export class EndpointsController {
  private zonesCache?: Promise<Map<string, string>>;
  constructor(private readonly deps: EndpointsControllerDeps) {}

  /**
   * Node zones are read once per pass (a batch of messages, a resync): they change only when Nodes come or go, and a
   * slice written with a zone one pass old is corrected by the next sync of its Service.
   */
  newPass(): void {
    this.zonesCache = undefined;
  }

  private zones(): Promise<Map<string, string>> {
    this.zonesCache ??= this.deps.store.list<V1Node>('Node', '').then(zonesOf);
    this.zonesCache.catch(() => (this.zonesCache = undefined));
    return this.zonesCache;
  }

  /** A Service or Endpoints message: that Service's slices, Endpoints and mirrored slices. */
  syncService(namespace: string, name: string, cause: SyncCause = 'sync'): Promise<void> {
    return this.retrying(async () => this.syncOne(await this.snapshot(namespace), name, cause));
  }

  /** A Pod message: every Service of the Pod's namespace (and whatever belongs to no Service there). */
  async syncNamespace(namespace: string, snap?: Snapshot): Promise<void> {
    const first = snap ?? (await this.snapshot(namespace));
    for (const name of namesIn(first)) {
      await this.retrying(async (fresh) => this.syncOne(fresh ? await this.snapshot(namespace) : first, name, 'sync'));
    }
  }

  /** Resync: every namespace that has Services, Endpoints or slices, from five cluster-wide reads. */
  async syncAll(): Promise<void> {
    const s = this.deps.store;
    const [services, endpoints, slices, pods, nodes] = await Promise.all([
      s.list<V1Service>('Service'),
      s.list<V1Endpoints>('Endpoints'),
      s.list<V1EndpointSlice>(SLICE_KIND),
      s.list<V1Pod>('Pod'),
      s.list<V1Node>('Node', ''),
    ]);
    const zones = zonesOf(nodes);
    const namespaces = new Set([...services, ...endpoints, ...slices].map(nsOf));
    for (const ns of [...namespaces].sort()) {
      const inNs = <T extends KubeObject>(list: T[]) => list.filter((o) => nsOf(o) === ns);
      await this.syncNamespace(ns, {
        namespace: ns,
        services: new Map(inNs(services).map((o) => [nameOf(o), o])),
        pods: async () => inNs(pods),
        endpoints: new Map(inNs(endpoints).map((o) => [nameOf(o), o])),
        slices: inNs(slices),
        zones: async () => zones,
      });
    }
  }

  private async snapshot(namespace: string): Promise<Snapshot> {
    const s = this.deps.store;
    const [services, endpoints, slices] = await Promise.all([
      s.list<V1Service>('Service', namespace),
      s.list<V1Endpoints>('Endpoints', namespace),
      s.list<V1EndpointSlice>(SLICE_KIND, namespace),
    ]);
    return {
      namespace,
      services: new Map(services.map((o) => [nameOf(o), o])),
      pods: once(() => s.list<V1Pod>('Pod', namespace)),
      endpoints: new Map(endpoints.map((o) => [nameOf(o), o])),
      slices,
      zones: () => this.zones(),
    };
  }

  /** Runs a sync again from a fresh read when another writer won a race (upstream requeues the key). */
  private async retrying(step: (fresh: boolean) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step(attempt > 1);
      } catch (err) {
        const raced = err instanceof ConflictError || err instanceof AlreadyExistsError;
        if (!raced || attempt >= ATTEMPTS) throw err;
      }
    }
  }

  private async syncOne(snap: Snapshot, name: string, cause: SyncCause): Promise<void> {
    const svc = snap.services.get(name);
    const mine = (by: string) =>
      snap.slices.filter(
        (s) => s.metadata?.labels?.[LABEL_SERVICE_NAME] === name && s.metadata.labels[LABEL_MANAGED_BY] === by,
      );
    const ep = snap.endpoints.get(name);
    if (svc && serviceSelectsPods(svc)) {
      const pods = await snap.pods();
      const { endpoints } = computeEndpoints(svc, pods, this.deps.cfg.serviceCidr);
      const zones = endpoints.some((e) => e.nodeName) ? await snap.zones() : new Map<string, string>();
      const existing = mine(SLICE_CONTROLLER_NAME);
      const trigger = lastChangeTriggerTime(svc, endpoints, zones, existing, readyTimes(pods));
      const plan = planEndpointSlices({ service: svc, endpoints, zones, existing, triggerTime: trigger });
      await this.applySlices(snap.namespace, plan);
      const want = desiredEndpoints(svc, endpoints, ep, trigger);
      if (want) await this.writeEndpoints(snap.namespace, want, ep);
    } else {
      await this.applySlices(snap.namespace, { create: [], update: [], delete: mine(SLICE_CONTROLLER_NAME) });
      const orphan = ep && (isControllerManaged(ep) || (!svc && cause === 'service-deleted'));
      if (orphan) await this.remove(ENDPOINTS, snap.namespace, ep);
    }
    await this.mirror(snap, svc, orphanFree(ep, svc, cause), mine(MIRRORING_CONTROLLER_NAME));
  }

  /** EndpointSliceMirroring for the Service's manual Endpoints (or removal of what it mirrored). */
  private async mirror(
    snap: Snapshot,
    svc: V1Service | undefined,
    ep: V1Endpoints | undefined,
    existing: V1EndpointSlice[],
  ) {
    const plan = planMirroredSlices(ep, existing, shouldMirror(svc, ep));
    await this.applySlices(snap.namespace, plan);
    if (!ep || !this.deps.recorder) return;
    if (plan.invalid > 0)
      await this.deps.recorder.event(
        ep,
        'Warning',
        'InvalidIPAddress',
        `Skipped ${plan.invalid} invalid IP addresses when mirroring to EndpointSlices`,
      );
    if (plan.skipped > plan.invalid)
      await this.deps.recorder.event(
        ep,
        'Warning',
        'TooManyAddressesToMirror',
        `A max of ${MAX_MIRRORED_PER_SUBSET} addresses can be mirrored to EndpointSlices per Endpoints subset. ${plan.skipped} addresses were skipped`,
      );
  }

  /** Creates (unless the namespace is terminating), updates and deletes slices as planned. */
  private async applySlices(namespace: string, plan: SlicePlan): Promise<void> {
    const w = this.deps.writes;
    for (const s of plan.create) {
      try {
        await w.create(ENDPOINT_SLICES, namespace, s as KubeObject);
      } catch (err) {
        // Creates in a terminating namespace keep failing: the item is dropped, as upstream does.
        if (err instanceof ForbiddenError) break;
        throw err;
      }
    }
    for (const s of plan.update) await w.update(ENDPOINT_SLICES, namespace, nameOf(s), s as KubeObject);
    for (const s of plan.delete) await this.remove(ENDPOINT_SLICES, namespace, s);
    const n = plan.create.length + plan.update.length + plan.delete.length;
    if (n > 0) this.deps.log?.info('endpoint slices written', { namespace, ...counts(plan) });
  }

  private async writeEndpoints(namespace: string, want: V1Endpoints, current: V1Endpoints | undefined): Promise<void> {
    try {
      if (current) await this.deps.writes.update(ENDPOINTS, namespace, nameOf(want), want as KubeObject);
      else await this.deps.writes.create(ENDPOINTS, namespace, want as KubeObject);
    } catch (err) {
      if (!current && err instanceof ForbiddenError) return; // terminating namespace
      throw err;
    }
  }

  /** Deletes the object as it was read (uid precondition: a re-created object of the same name is not touched). */
  private async remove(r: typeof ENDPOINTS, namespace: string, o: KubeObject): Promise<void> {
    try {
      await this.deps.writes.delete(r, namespace, nameOf(o), { preconditions: { uid: o.metadata?.uid } });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

/** The Endpoints the mirroring controller looks at: none once the Service's deletion removed them. */
const orphanFree = (ep: V1Endpoints | undefined, svc: V1Service | undefined, cause: SyncCause) =>
  !svc && cause === 'service-deleted' ? undefined : ep;

/** The promise of `load`, started on first use and shared after. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load());
}

/** Node name -> its topology.kubernetes.io/zone label. */
function zonesOf(nodes: readonly V1Node[]): Map<string, string> {
  const zones = new Map<string, string>();
  for (const n of nodes) {
    const zone = n.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
    if (zone) zones.set(nameOf(n), zone);
  }
  return zones;
}

/** Every name a sync of the namespace covers: Services, Endpoints, and the Services slices are labelled with. */
function namesIn(snap: Snapshot): string[] {
  const names = new Set([...snap.services.keys(), ...snap.endpoints.keys()]);
  for (const s of snap.slices) {
    const by = s.metadata?.labels?.[LABEL_MANAGED_BY];
    const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (svc && (by === SLICE_CONTROLLER_NAME || by === MIRRORING_CONTROLLER_NAME)) names.add(svc);
  }
  return [...names].sort();
}

/** Pod name -> when its Ready condition last changed (the trigger time of its endpoint). */
function readyTimes(pods: readonly V1Pod[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pods) {
    const t = p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime as unknown as
      string | undefined;
    if (t) out.set(nameOf(p), typeof t === 'string' ? t : new Date(t).toISOString());
  }
  return out;
}

const counts = (p: SlicePlan) => ({ created: p.create.length, updated: p.update.length, deleted: p.delete.length });
