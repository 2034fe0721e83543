/**
 * The EndpointSlice controller's reconcile, pure (k8s.io/endpointslice reconciler.go and utils.go): from a
 * Service, its endpoints (lib/model/endpoints.ts computeEndpoints: the one home of which Pods are endpoints, their
 * conditions and their per-Pod ports) and the slices that exist, the slices to create, update and delete.
 *
 * As upstream:
 * - endpoints are grouped by their resolved port list (Pods that resolve a named targetPort differently land in
 *   different slices); at most 100 endpoints per slice (--max-endpoints-per-slice's default);
 * - existing slices keep the endpoints they hold (an endpoint moves only when it must), changed endpoints are
 *   updated in place, new ones fill the slices being updated first, then the unchanged slice closest to full, then
 *   new slices; slices left empty are deleted, or recycled for a slice that would be created;
 * - a Service without endpoints keeps one placeholder slice (no ports, no endpoints);
 * - slices not owned by this Service's uid (a previous Service of the same name) are deleted; a Service being
 *   deleted gets no new slices;
 * - labels: the Service's labels except the reserved ones, then `kubernetes.io/service-name`,
 *   `endpointslice.kubernetes.io/managed-by` and `service.kubernetes.io/headless` for headless Services;
 * - the `endpoints.kubernetes.io/last-change-trigger-time` annotation on every slice written.
 *
 * Unlike upstream, a created slice's name is derived (`<service>-<5 characters>` from the Service's uid, the port
 * list and an index) instead of random, so a retried or crashed reconcile re-creates the same slice and then finds
 * it, instead of leaking a duplicate. Endpoints are appended in address order instead of a hash set's order, so the
 * result is deterministic.
 */
import type { V1Endpoint, V1EndpointSlice, V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { canonicalJson, derivedName } from './canonical.js';
import type { Endpoint, EndpointPort } from './types.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const SLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
/** kube-controller-manager --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

export interface SlicePlan {
  create: V1EndpointSlice[];
  update: V1EndpointSlice[];
  delete: V1EndpointSlice[];
}

export interface SliceInput {
  service: V1Service;
  /** The Service's endpoints (computeEndpoints). */
  endpoints: readonly Endpoint[];
  /** Node name -> its topology.kubernetes.io/zone label (from the Node objects). */
  zones: ReadonlyMap<string, string>;
  /** Every slice labelled with the Service's name and managed by this controller. */
  existing: readonly V1EndpointSlice[];
  /** The last-change-trigger-time to record on written slices (absent: the annotation is removed). */
  triggerTime?: string;
  maxEndpointsPerSlice?: number;
}

type SlicePort = NonNullable<V1EndpointSlice['ports']>[number];

const RESERVED = new Set([LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS]);

export const isHeadless = (svc: V1Service): boolean => !svc.spec?.clusterIP || svc.spec.clusterIP === 'None';

/** setEndpointSliceLabels: the Service's labels without the reserved keys, then the reserved ones. */
export function sliceLabels(svc: V1Service, managedBy = SLICE_CONTROLLER_NAME): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (!RESERVED.has(k)) out[k] = v;
  if (isHeadless(svc)) out[LABEL_HEADLESS] = '';
  out[LABEL_SERVICE_NAME] = svc.metadata?.name ?? '';
  out[LABEL_MANAGED_BY] = managedBy;
  return out;
}

/** metav1.NewControllerRef for `owner` of kind `kind` (v1). */
export function controllerRef(owner: { metadata?: { name?: string; uid?: string } }, kind: string): V1OwnerReference {
  return {
    apiVersion: 'v1',
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

const ownedBy = (s: V1EndpointSlice, uid: string | undefined, kind: string): boolean =>
  (s.metadata?.ownerReferences ?? []).some((o) => o.uid === uid && o.kind === kind && o.apiVersion === 'v1');

export function slicePorts(ports: readonly EndpointPort[]): SlicePort[] {
  return ports.map((p) => ({
    name: p.name,
    port: p.port,
    protocol: p.protocol,
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));
}

/** The port-map key of a port list (upstream's NewPortMapKey: order-independent). */
export const portKey = (ports: readonly SlicePort[] | undefined): string =>
  (ports ?? [])
    .map((p) => canonicalJson(p))
    .sort()
    .join(',');

/** podToEndpoint: addresses, conditions, targetRef, nodeName, zone (from the node), hostname. */
export function sliceEndpoint(e: Endpoint, zones: ReadonlyMap<string, string>): V1Endpoint {
  const out: V1Endpoint = {
    addresses: [e.ip],
    conditions: { ready: e.ready, serving: e.serving ?? e.ready, terminating: e.terminating },
  };
  if (e.hostname) out.hostname = e.hostname;
  if (e.targetRef) out.targetRef = { ...e.targetRef };
  if (e.nodeName) out.nodeName = e.nodeName;
  const zone = e.nodeName ? zones.get(e.nodeName) : undefined;
  if (zone) out.zone = zone;
  return out;
}

/** EndpointSet's identity of an endpoint: its addresses, hostname and target (not its conditions). */
const endpointId = (e: V1Endpoint): string =>
  [e.addresses.join(','), e.hostname ?? '', e.targetRef?.namespace ?? '', e.targetRef?.name ?? ''].join('|');

/** An ordered set of desired endpoints keyed by identity (upstream's EndpointSet, without its random order). */
class EndpointSet {
  private readonly byId = new Map<string, V1Endpoint>();
  constructor(endpoints: Iterable<V1Endpoint> = []) {
    for (const e of endpoints) this.byId.set(endpointId(e), e);
  }
  get size(): number {
    return this.byId.size;
  }
  get(e: V1Endpoint): V1Endpoint | undefined {
    return this.byId.get(endpointId(e));
  }
  delete(e: V1Endpoint): void {
    this.byId.delete(endpointId(e));
  }
  /** The first endpoint in address order, removed from the set. */
  pop(): V1Endpoint {
    const [id, e] = this.byId.entries().next().value as [string, V1Endpoint];
    this.byId.delete(id);
    return e;
  }
}

interface Group {
  ports: SlicePort[];
  desired: EndpointSet;
}

/** Desired endpoints grouped by their resolved ports (ShouldPodBeInEndpoints(pod, true) is computeEndpoints'). */
function groupByPorts(endpoints: readonly Endpoint[], zones: ReadonlyMap<string, string>): Map<string, Group> {
  const lists = new Map<string, { ports: SlicePort[]; endpoints: V1Endpoint[] }>();
  for (const e of endpoints) {
    const ports = slicePorts(e.ports);
    const key = portKey(ports);
    const g = lists.get(key) ?? { ports, endpoints: [] };
    g.endpoints.push(sliceEndpoint(e, zones));
    lists.set(key, g);
  }
  return new Map([...lists].map(([k, g]) => [k, { ports: g.ports, desired: new EndpointSet(g.endpoints) }]));
}

const byName = (a: V1EndpointSlice, b: V1EndpointSlice): number =>
  (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

const contentOf = (s: V1EndpointSlice): string =>
  canonicalJson({ labels: s.metadata?.labels ?? {}, endpoints: s.endpoints ?? [], ports: s.ports ?? [] });

/** The slices of one port map after step 1 of reconcileByPortMapping: kept endpoints, updated or unchanged. */
interface Working {
  slices: Map<string, V1EndpointSlice>;
  update: Set<string>;
  unchanged: Set<string>;
  remove: Set<string>;
}

/** Step 1: existing slices keep the endpoints still desired (in their desired version), drop the others. */
function keepExisting(existing: V1EndpointSlice[], desired: EndpointSet, labels: Record<string, string>): Working {
  const w: Working = { slices: new Map(), update: new Set(), unchanged: new Set(), remove: new Set() };
  for (const s of [...existing].sort(byName)) {
    const name = s.metadata?.name ?? '';
    const kept: V1Endpoint[] = [];
    for (const e of s.endpoints ?? []) {
      const want = desired.get(e);
      if (!want) continue;
      kept.push(want);
      desired.delete(e);
    }
    const next: V1EndpointSlice = { ...s, metadata: { ...s.metadata, labels }, endpoints: kept };
    w.slices.set(name, next);
    if (kept.length === 0 && (s.endpoints ?? []).length > 0) w.remove.add(name);
    else if (contentOf(next) !== contentOf(s)) w.update.add(name);
    else w.unchanged.add(name);
  }
  return w;
}

/** getSliceToFill: the unchanged slice that ends closest to full after taking `n` endpoints. */
function sliceToFill(slices: V1EndpointSlice[], n: number, max: number): V1EndpointSlice | undefined {
  let best: V1EndpointSlice | undefined;
  let closest = max;
  for (const s of slices) {
    const diff = max - (n + (s.endpoints?.length ?? 0));
    if (diff >= 0 && diff < closest) {
      closest = diff;
      best = s;
    }
  }
  return best;
}

interface PortMapContext {
  input: SliceInput;
  group: Group;
  labels: Record<string, string>;
  /** Names already used (existing slices and slices this plan creates), for derived names. */
  taken: Set<string>;
}

/** A new slice for the group, named from the Service's uid, the port list and the first free index. */
function newSlice(ctx: PortMapContext, key: string): V1EndpointSlice {
  const svc = ctx.input.service;
  const prefix = `${svc.metadata?.name ?? ''}-`;
  let name = '';
  for (let i = 0; !name || ctx.taken.has(name); i++) name = derivedName(prefix, `${svc.metadata?.uid}/${key}/${i}`);
  ctx.taken.add(name);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: svc.metadata?.namespace,
      labels: ctx.labels,
      ownerReferences: [controllerRef(svc, 'Service')],
    },
    addressType: 'IPv4',
    endpoints: [],
    ports: ctx.group.ports,
  };
}

/** reconcileByPortMapping: steps 1 to 3 for one port map. */
function reconcilePortMap(ctx: PortMapContext, key: string, existing: V1EndpointSlice[]): SlicePlan {
  const max = ctx.input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const desired = ctx.group.desired;
  const w = keepExisting(existing, desired, ctx.labels);
  // 2. Fill the slices being updated anyway, fullest first.
  const updating = [...w.update].map((n) => w.slices.get(n)!);
  updating.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0) || byName(a, b));
  for (const s of updating)
    while (desired.size > 0 && (s.endpoints?.length ?? 0) < max) s.endpoints!.push(desired.pop());
  // 3. The rest: into the unchanged slice that ends closest to full, else into new slices.
  const create: V1EndpointSlice[] = [];
  while (desired.size > 0) {
    const unchanged = [...w.unchanged].map((n) => w.slices.get(n)!).sort(byName);
    const fill = desired.size < max ? sliceToFill(unchanged, desired.size, max) : undefined;
    const target = fill ? structuredClone(fill) : newSlice(ctx, key);
    while (desired.size > 0 && (target.endpoints?.length ?? 0) < max) target.endpoints!.push(desired.pop());
    if (fill) {
      w.slices.set(fill.metadata!.name!, target);
      w.unchanged.delete(fill.metadata!.name!);
      w.update.add(fill.metadata!.name!);
    } else create.push(target);
  }
  const pick = (names: Set<string>) => [...names].sort().map((n) => w.slices.get(n)!);
  return { create, update: pick(w.update), delete: existing.filter((s) => w.remove.has(s.metadata?.name ?? '')) };
}

/** The placeholder a Service without endpoints keeps (upstream compares namespace, labels and owner). */
function isPlaceholder(s: V1EndpointSlice, labels: Record<string, string>, uid: string | undefined): boolean {
  return (
    (s.endpoints ?? []).length === 0 &&
    (s.ports ?? []).length === 0 &&
    canonicalJson(s.metadata?.labels ?? {}) === canonicalJson(labels) &&
    ownedBy(s, uid, 'Service')
  );
}

/**
 * finalize's recycling: a slice that would be created takes the name of one that would be deleted (same address
 * type, owned by the Service), so the change is one update instead of a create and a delete.
 */
function recycle(plan: SlicePlan, uid: string | undefined): SlicePlan {
  const create = [...plan.create];
  const update = [...plan.update];
  const del = [...plan.delete];
  for (let i = 0; i < del.length && create.length > 0;) {
    const old = del[i]!;
    if (old.addressType === 'IPv4' && ownedBy(old, uid, 'Service')) {
      const s = create.pop()!;
      update.push({ ...old, metadata: { ...old.metadata, ...s.metadata, name: old.metadata?.name }, ...body(s) });
      del.splice(i, 1);
    } else i++;
  }
  return { create, update, delete: del };
}

const body = (s: V1EndpointSlice) => ({ addressType: s.addressType, endpoints: s.endpoints, ports: s.ports });

/** Annotates what is written with the trigger time (or removes a stale one), as addTriggerTimeAnnotation does. */
function stamp(s: V1EndpointSlice, triggerTime: string | undefined): V1EndpointSlice {
  const annotations = { ...(s.metadata?.annotations ?? {}) };
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  const metadata = { ...s.metadata, annotations: Object.keys(annotations).length ? annotations : undefined };
  return { ...s, metadata };
}

/** Reconcile: what to create, update and delete so the slices represent the Service's endpoints. */
export function planEndpointSlices(input: SliceInput): SlicePlan {
  const svc = input.service;
  const uid = svc.metadata?.uid;
  const labels = sliceLabels(svc);
  const groups = groupByPorts(input.endpoints, input.zones);
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const byKey = new Map<string, V1EndpointSlice[]>();
  for (const s of input.existing) {
    if (!ownedBy(s, uid, 'Service') || s.addressType !== 'IPv4') plan.delete.push(s);
    else byKey.set(portKey(s.ports), [...(byKey.get(portKey(s.ports)) ?? []), s]);
  }
  const taken = new Set(input.existing.map((s) => s.metadata?.name ?? ''));
  for (const [key, group] of groups) {
    const part = reconcilePortMap({ input, group, labels, taken }, key, byKey.get(key) ?? []);
    plan.create.push(...part.create);
    plan.update.push(...part.update);
    plan.delete.push(...part.delete);
  }
  for (const [key, slices] of byKey) if (!groups.has(key)) plan.delete.push(...slices);
  if (input.existing.length === plan.delete.length && plan.create.length === 0) {
    const only = plan.delete.length === 1 ? plan.delete[0] : undefined;
    if (only && isPlaceholder(only, labels, uid)) plan.delete = [];
    else plan.create.push(placeholder(input, labels, taken));
  }
  const out = recycle(plan, uid);
  // Don't create new slices for a Service being deleted (the garbage collector would race them upstream).
  if (svc.metadata?.deletionTimestamp) out.create = [];
  out.create = out.create.map((s) => stamp(s, input.triggerTime));
  out.update = out.update.map((s) => stamp(s, input.triggerTime));
  return out;
}

function placeholder(input: SliceInput, labels: Record<string, string>, taken: Set<string>): V1EndpointSlice {
  const group: Group = { ports: [], desired: new EndpointSet() };
  return newSlice({ input, group, labels, taken }, '');
}

/** The Pod's trigger time (getPodTriggerTime): when its Ready condition last changed. */
const podTriggerTime = (e: Endpoint, readyTimes: ReadonlyMap<string, string>): string | undefined =>
  e.targetRef ? readyTimes.get(e.targetRef.name) : undefined;

/**
 * The `endpoints.kubernetes.io/last-change-trigger-time` of a sync (TriggerTimeTracker, without its in-memory
 * state): the Service's creation time when it has no slices yet; otherwise the earliest trigger time of the Pods
 * whose endpoint is new or changed compared with the stored slices; undefined when no changed Pod has one.
 * `readyTimes`: Pod name -> its Ready condition's lastTransitionTime.
 */
export function lastChangeTriggerTime(
  svc: V1Service,
  endpoints: readonly Endpoint[],
  zones: ReadonlyMap<string, string>,
  existing: readonly V1EndpointSlice[],
  readyTimes: ReadonlyMap<string, string>,
): string | undefined {
  if (existing.length === 0) return svc.metadata?.creationTimestamp as unknown as string | undefined;
  const before = new Map<string, string>();
  for (const s of existing) for (const e of s.endpoints ?? []) before.set(endpointId(e), canonicalJson(e));
  let min: string | undefined;
  for (const e of endpoints) {
    const want = sliceEndpoint(e, zones);
    if (before.get(endpointId(want)) === canonicalJson(want)) continue;
    const t = podTriggerTime(e, readyTimes);
    if (t && (!min || Date.parse(t) < Date.parse(min))) min = t;
  }
  return min;
}
