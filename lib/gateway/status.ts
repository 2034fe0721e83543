/**
 * Status as the Gateway API defines it, from an attachment (attach.ts) and the load balancer's outcome:
 * GatewayClass Accepted; Gateway Accepted/Programmed, status.addresses (the NLB's DNS name) and per-listener
 * supportedKinds, attachedRoutes and conditions; each route's status.parents entry for this Gateway (our
 * controllerName; other controllers' entries are kept). lastTransitionTime moves only when a condition's status
 * changes, and every condition carries the observedGeneration it was computed for. Pure.
 */
import type { Gateway, GatewayClass, L4Route, ParentReference } from '../model/gateway/types.js';
import { GATEWAY_CONTROLLER_NAME, GATEWAY_GROUP } from '../model/gateway/types.js';
import type { Attachment, Cond } from './attach.js';

export interface Condition extends Cond {
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What the NLB pass reported for the Gateway. */
export interface GatewayOutcome {
  hostname?: string;
  /** A permanent failure (nothing could be built), worded for users. */
  error?: string;
  /** Still being provisioned (a requeue: quota, resources detaching). */
  pending?: string;
}

function stamp(next: Cond[], prev: Condition[] | undefined, generation: number | undefined, now: string): Condition[] {
  return next.map((c) => {
    const old = prev?.find((p) => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

const c = (type: string, ok: boolean, reason: string, message: string): Cond => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
});

export function gatewayClassStatus(gc: GatewayClass, now: string): NonNullable<GatewayClass['status']> {
  const params = gc.spec?.parametersRef;
  const accepted = params
    ? c(
        'Accepted',
        false,
        'InvalidParameters',
        'parametersRef is not supported: configure the NLB with Gateway annotations',
      )
    : c('Accepted', true, 'Accepted', `handled by ${GATEWAY_CONTROLLER_NAME}`);
  return {
    ...gc.status,
    conditions: stamp([accepted], gc.status?.conditions as Condition[] | undefined, gc.metadata?.generation, now),
  };
}

/** The Gateway's status: Accepted/Programmed, addresses, and one entry per listener in spec order. */
export function gatewayStatus(
  gw: Gateway,
  a: Attachment,
  out: GatewayOutcome,
  now: string,
): NonNullable<Gateway['status']> {
  const gen = gw.metadata?.generation;
  const unsupportedAddress = (gw.spec?.addresses ?? []).length > 0;
  const accepted = unsupportedAddress
    ? c('Accepted', false, 'UnsupportedAddress', 'spec.addresses is not supported: the NLB gets its addresses from AWS')
    : a.listeners.some((l) => !l.valid)
      ? c('Accepted', true, 'ListenersNotValid', 'some listeners are not valid; the others are programmed')
      : c('Accepted', true, 'Accepted', 'Gateway is accepted');
  const programmed = unsupportedAddress
    ? c('Programmed', false, 'AddressNotUsable', 'spec.addresses cannot be assigned to a Network Load Balancer')
    : out.error
      ? c('Programmed', false, 'Invalid', out.error)
      : out.hostname
        ? c('Programmed', true, 'Programmed', `Network Load Balancer ${out.hostname}`)
        : c('Programmed', false, 'Pending', out.pending ?? 'waiting for the Network Load Balancer');
  const prevListeners = gw.status?.listeners ?? [];
  const listeners = a.listeners.map((l) => {
    const lprog = l.valid && out.hostname && !out.error;
    const conds: Cond[] = [
      ...l.conditions,
      lprog
        ? c('Programmed', true, 'Programmed', 'Listener is programmed')
        : c(
            'Programmed',
            false,
            l.valid ? 'Pending' : 'Invalid',
            l.valid ? 'waiting for the Network Load Balancer' : 'Listener is not valid',
          ),
    ];
    const prev = prevListeners.find((p) => p.name === l.listener.name)?.conditions as Condition[] | undefined;
    return {
      name: l.listener.name,
      supportedKinds: l.supportedKinds.map((kind) => ({ group: GATEWAY_GROUP, kind })),
      attachedRoutes: l.attached.length,
      conditions: stamp(conds, prev, gen, now),
    };
  });
  return {
    ...(out.hostname && !unsupportedAddress ? { addresses: [{ type: 'Hostname', value: out.hostname }] } : {}),
    conditions: stamp([accepted, programmed], gw.status?.conditions as Condition[] | undefined, gen, now),
    listeners,
  };
}

/** Same parent: group, kind, namespace, name, sectionName and port all equal (defaults applied). */
export function sameParent(a: ParentReference, b: ParentReference, routeNs: string): boolean {
  return (
    (a.group ?? GATEWAY_GROUP) === (b.group ?? GATEWAY_GROUP) &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace ?? routeNs) === (b.namespace ?? routeNs) &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

/**
 * The route's status.parents after this Gateway's pass: our entries for parentRefs naming this Gateway replaced by
 * `results`, our entries whose parentRef is no longer in the spec dropped, other controllers' entries kept.
 */
export function routeParents(
  route: L4Route,
  gateway: Gateway,
  results: { parentRef: ParentReference; conditions: Cond[] }[],
  now: string,
): NonNullable<L4Route['status']>['parents'] {
  const ns = route.metadata?.namespace ?? 'default';
  const gen = route.metadata?.generation;
  const spec = route.spec?.parentRefs ?? [];
  const gwNs = gateway.metadata?.namespace ?? 'default';
  const names = (p: ParentReference) =>
    (p.kind ?? 'Gateway') === 'Gateway' && p.name === gateway.metadata?.name && (p.namespace ?? ns) === gwNs;
  const prev = route.status?.parents ?? [];
  const kept = prev.filter(
    (p) =>
      p.controllerName !== GATEWAY_CONTROLLER_NAME ||
      (!names(p.parentRef) && spec.some((s) => sameParent(s, p.parentRef, ns))),
  );
  const ours = results.map((r) => {
    const old = prev.find(
      (p) => p.controllerName === GATEWAY_CONTROLLER_NAME && sameParent(p.parentRef, r.parentRef, ns),
    );
    return {
      parentRef: r.parentRef,
      controllerName: GATEWAY_CONTROLLER_NAME,
      conditions: stamp(r.conditions, old?.conditions as Condition[] | undefined, gen, now),
    };
  });
  return [...kept, ...ours];
}
