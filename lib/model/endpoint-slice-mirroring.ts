/**
 * The EndpointSliceMirroring controller's reconcile, pure (pkg/controller/endpointslicemirroring): the manual
 * Endpoints of a Service without a selector, mirrored into EndpointSlices so that slice consumers see them too.
 *
 * As upstream:
 * - mirrored only while the Service exists and has no selector, and the Endpoints carry neither
 *   `endpointslice.kubernetes.io/skip-mirror: "true"`, nor a leader-election annotation, nor the Endpoints
 *   controller's managed-by label; otherwise every mirrored slice goes;
 * - one slice per address type and port list; subsets with the same ports merge; at most 1000 addresses per subset
 *   (the rest are skipped and reported); addresses that are no IP are skipped and reported;
 * - endpoints carry `ready` only (the Endpoints API knows nothing of serving or terminating), the address's
 *   targetRef, nodeName and hostname;
 * - labels: the Endpoints' labels, then `kubernetes.io/service-name` and
 *   `endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io`; annotations: the Endpoints'
 *   except the trigger time and kubectl's last-applied-configuration; owner: the Endpoints object;
 * - one existing slice per key is kept and updated, the others deleted.
 * Names are derived (`<endpoints>-<5 characters>` from the Endpoints' uid, the key and an index), not random.
 */
import type { V1Endpoint, V1EndpointSlice, V1Endpoints, V1EndpointSubset, V1Service } from '@kubernetes/client-node';
import { canonicalJson, derivedName } from './canonical.js';
import { isControllerManaged } from './endpoints.js';
import {
  controllerRef,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  portKey,
  TRIGGER_TIME_ANNOTATION,
  type SlicePlan,
} from './endpoint-slices.js';
import { isIPv4, isIPv6 } from './ip.js';
import { hasSelector } from './selector.js';

export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
const LEADER_ELECTION_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** --mirroring-max-endpoints-per-subset default. */
export const MAX_MIRRORED_PER_SUBSET = 1000;

export interface MirrorPlan extends SlicePlan {
  /** Addresses that are no IP (reported as InvalidIPAddress). */
  invalid: number;
  /** Addresses skipped in all (invalid, or beyond 1000 per subset: TooManyAddressesToMirror when more). */
  skipped: number;
}

type Port = NonNullable<V1EndpointSlice['ports']>[number];

/** Whether `ep` is to be mirrored for `svc` (undefined: the Service does not exist). */
export function shouldMirror(svc: V1Service | undefined, ep: V1Endpoints | undefined): boolean {
  if (!svc || !ep || hasSelector(svc.spec?.selector)) return false;
  if (ep.metadata?.labels?.[LABEL_SKIP_MIRROR] === 'true' || isControllerManaged(ep)) return false;
  return ep.metadata?.annotations?.[LEADER_ELECTION_ANNOTATION] === undefined;
}

/** epPortsToEpsPorts. */
const slicePortsOf = (subset: V1EndpointSubset): Port[] =>
  (subset.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: p.protocol || 'TCP',
    ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
  }));

interface Desired {
  addressType: 'IPv4' | 'IPv6';
  ports: Port[];
  endpoints: Map<string, V1Endpoint>;
}

/** addressToEndpoint. */
function toEndpoint(a: NonNullable<V1EndpointSubset['addresses']>[number], ready: boolean): V1Endpoint {
  const e: V1Endpoint = { addresses: [a.ip], conditions: { ready } };
  if (a.targetRef) e.targetRef = { ...a.targetRef };
  if (a.nodeName) e.nodeName = a.nodeName;
  if (a.hostname) e.hostname = a.hostname;
  return e;
}

/** The desired endpoints per address type and port list, with what had to be skipped. */
function desiredOf(ep: V1Endpoints): { byKey: Map<string, Desired>; invalid: number; skipped: number } {
  const byKey = new Map<string, Desired>();
  let invalid = 0;
  let skipped = 0;
  for (const subset of ep.subsets ?? []) {
    const ports = slicePortsOf(subset);
    const all = [
      ...(subset.addresses ?? []).map((a) => ({ a, ready: true })),
      ...(subset.notReadyAddresses ?? []).map((a) => ({ a, ready: false })),
    ];
    let added = 0;
    for (const { a, ready } of all) {
      if (added >= MAX_MIRRORED_PER_SUBSET) break;
      const type = isIPv4(a.ip) ? 'IPv4' : isIPv6(a.ip) ? 'IPv6' : undefined;
      if (!type) {
        invalid++;
        continue;
      }
      const key = `${type}/${portKey(ports)}`;
      const d = byKey.get(key) ?? { addressType: type, ports, endpoints: new Map() };
      d.endpoints.set(`${a.ip}|${a.targetRef?.namespace ?? ''}|${a.targetRef?.name ?? ''}`, toEndpoint(a, ready));
      byKey.set(key, d);
      added++;
    }
    skipped += all.length - added;
  }
  return { byKey, invalid, skipped };
}

function mirroredMeta(ep: V1Endpoints): { labels: Record<string, string>; annotations?: Record<string, string> } {
  const labels: Record<string, string> = { ...(ep.metadata?.labels ?? {}) };
  labels[LABEL_SERVICE_NAME] = ep.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = MIRRORING_CONTROLLER_NAME;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(ep.metadata?.annotations ?? {}))
    if (k !== TRIGGER_TIME_ANNOTATION && k !== LAST_APPLIED_ANNOTATION) annotations[k] = v;
  return { labels, ...(Object.keys(annotations).length ? { annotations } : {}) };
}

const sliceKey = (s: V1EndpointSlice): string => `${s.addressType}/${portKey(s.ports)}`;

const comparable = (s: V1EndpointSlice): string =>
  canonicalJson({
    labels: s.metadata?.labels ?? {},
    annotations: s.metadata?.annotations ?? {},
    owners: s.metadata?.ownerReferences ?? [],
    addressType: s.addressType,
    endpoints: s.endpoints ?? [],
    ports: s.ports ?? [],
  });

/**
 * The mirrored slices for `ep` (pass `mirror: false`, from shouldMirror, to remove them all). `existing`: the
 * slices labelled with its name and managed by the mirroring controller.
 */
export function planMirroredSlices(
  ep: V1Endpoints | undefined,
  existing: readonly V1EndpointSlice[],
  mirror: boolean,
): MirrorPlan {
  const plan: MirrorPlan = { create: [], update: [], delete: [], invalid: 0, skipped: 0 };
  if (!ep || !mirror) return { ...plan, delete: [...existing] };
  const { byKey, invalid, skipped } = desiredOf(ep);
  plan.invalid = invalid;
  plan.skipped = skipped;
  const sorted = [...existing].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const taken = new Set(existing.map((s) => s.metadata?.name ?? ''));
  const meta = mirroredMeta(ep);
  for (const [key, d] of byKey) {
    const [keep, ...rest] = sorted.filter((s) => sliceKey(s) === key);
    plan.delete.push(...rest);
    const want: V1EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        ...(keep?.metadata ?? {}),
        name: keep?.metadata?.name ?? freeName(ep, key, taken),
        namespace: ep.metadata?.namespace,
        labels: meta.labels,
        annotations: meta.annotations,
        ownerReferences: [controllerRef(ep, 'Endpoints')],
      },
      addressType: d.addressType,
      endpoints: [...d.endpoints.values()],
      ports: d.ports,
    };
    if (!keep) plan.create.push(want);
    else if (comparable(keep) !== comparable(want)) plan.update.push(want);
  }
  plan.delete.push(...sorted.filter((s) => !byKey.has(sliceKey(s))));
  return plan;
}

function freeName(ep: V1Endpoints, key: string, taken: Set<string>): string {
  let name = '';
  for (let i = 0; !name || taken.has(name); i++)
    name = derivedName(`${ep.metadata?.name ?? ''}-`, `${ep.metadata?.uid}/${key}/${i}`);
  taken.add(name);
  return name;
}
