/**
 * Per-kind rules of the write path, as kube-apiserver's registry strategies hold them: defaulting and validation on
 * create and on update (Services carry over their allocated values, as upstream's Service REST does), what a
 * status-subresource write may change, whether the kind keeps `metadata.generation`, and storage TTLs. Pure: the
 * write path (lib/api/write-path.ts) calls these and does the storing.
 */
import type { V1Endpoints, V1EndpointSlice, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  defaultEndpoints,
  defaultPod,
  defaultService,
  defaultServiceUpdate,
  normalizePodIPs,
} from '../model/defaults.js';
import { formatFieldError, type FieldError } from '../model/field-errors.js';
import {
  checkGatewayStatus,
  prepareGatewayCreate,
  prepareGatewayStatus,
  prepareGatewayUpdate,
} from '../model/gateway/prepare.js';
import { GATEWAY_KINDS } from '../model/gateway/types.js';
import type { GatewayKindName } from '../model/gateway/validation.js';
import type { ClusterConfig } from '../model/types.js';
import {
  validateEndpoints,
  validateEndpointSlice,
  validateObjectMetaUpdate,
  validatePod,
  validateService,
  validateServiceUpdate,
} from '../model/validation.js';
import { validateEvent, validateNamespace, validateNode, type EventLike } from '../model/validation-meta.js';
import type { KubeObject } from '../store/types.js';
import type { ObjectKind } from '../store/table.js';
import { planAllocation, type Rand, type ServiceAllocator } from './allocator.js';

export interface StrategyContext {
  cfg: ClusterConfig;
  allocator: ServiceAllocator;
  rand: Rand;
}

export interface Prepared {
  desired: KubeObject;
  errors: FieldError[];
}

export interface Strategy {
  /** Defaults and validates a new object (`input` carries only user-settable metadata). */
  create(input: KubeObject, ctx: StrategyContext): Prepared;
  /** Defaults and validates a replacement of `prev` (main resource; the stored status is kept by the store). */
  update(input: KubeObject, prev: KubeObject, ctx: StrategyContext): Prepared;
  /** Defaults a status-subresource write in place (`next` = `prev` with the new status), before validation. */
  prepareStatus?(next: KubeObject): void;
  /** Validates a status-subresource write (`next` = `prev` with the new status). */
  validateStatus?(next: KubeObject, prev: KubeObject, ctx: StrategyContext): FieldError[];
  /** Keeps `metadata.generation` (default: objects with a spec). */
  generation?: boolean;
  /** Seconds until DynamoDB's TTL may drop the item (Events: the apiserver's default --event-ttl of one hour). */
  ttlSeconds?: number;
}

/** The write path's `spec.clusterIPs` range message is the allocator's; the model's wording of it is dropped. */
export function mergeErrors(model: FieldError[], allocator: FieldError[]): FieldError[] {
  const kept = model.filter(
    (e) =>
      !(e.field === 'spec.clusterIPs' && /is not in the valid range\. The range of valid IPs/.test(e.detail ?? '')),
  );
  const fields = new Set(kept.map((e) => e.field));
  const seen = new Set(kept.map(formatFieldError));
  return [...kept, ...allocator.filter((e) => !fields.has(e.field) && !seen.has(formatFieldError(e)))];
}

const services: Strategy = {
  create(input, ctx) {
    const desired = defaultService(withoutStatus(input) as V1Service);
    const plan = planAllocation(ctx.allocator, { next: desired, rand: ctx.rand });
    desired.status = { loadBalancer: {} };
    return { desired, errors: mergeErrors(validateService(desired, ctx.cfg), plan.errors) };
  },
  update(input, prev, ctx) {
    const given = withoutStatus(input) as V1Service;
    const desired = defaultServiceUpdate(given, prev as V1Service);
    if (desired.spec?.type === 'LoadBalancer' && desired.spec.allocateLoadBalancerNodePorts === false) {
      // Our choice (the API server would keep them): allocateLoadBalancerNodePorts=false without nodePorts in the
      // object releases the carried-over node ports; ports the object names are kept.
      (desired.spec.ports ?? []).forEach((p, i) => {
        if (!given.spec?.ports?.[i]?.nodePort) delete p.nodePort;
      });
    }
    const plan = planAllocation(ctx.allocator, { next: desired, prev: prev as V1Service, rand: ctx.rand });
    return { desired, errors: mergeErrors(validateServiceUpdate(desired, prev as V1Service, ctx.cfg), plan.errors) };
  },
  validateStatus: (next, prev) => validateObjectMetaUpdate(next.metadata, prev.metadata),
};

const pods: Strategy = {
  create: (input, ctx) => {
    const desired = defaultPod(input as V1Pod);
    return { desired, errors: validatePod(desired, ctx.cfg) };
  },
  update: (input, prev, ctx) => {
    const desired = defaultPod(input as V1Pod);
    return {
      desired,
      errors: [...validateObjectMetaUpdate(desired.metadata, prev.metadata), ...validatePod(desired, ctx.cfg)],
    };
  },
  prepareStatus: (next) => normalizePodIPs((next as V1Pod).status),
  validateStatus: (next, prev, ctx) => [
    ...validateObjectMetaUpdate(next.metadata, prev.metadata),
    ...validatePod(next, ctx.cfg),
  ],
};

const endpoints: Strategy = {
  create: (input, ctx) => {
    const desired = defaultEndpoints(input as V1Endpoints);
    return { desired, errors: validateEndpoints(desired, ctx.cfg) };
  },
  update: (input, prev, ctx) => {
    const desired = defaultEndpoints(input as V1Endpoints);
    return {
      desired,
      errors: [...validateObjectMetaUpdate(desired.metadata, prev.metadata), ...validateEndpoints(desired, ctx.cfg)],
    };
  },
};

/** The finalizer the namespace controller removes once the namespace is empty. */
export const NAMESPACE_FINALIZER = 'kubernetes';

const namespaces: Strategy = {
  // Upstream's PrepareForCreate: spec.finalizers is always [kubernetes], the phase starts Active.
  create: (input) => {
    const desired: V1Namespace = {
      ...(withoutStatus(input) as V1Namespace),
      spec: { finalizers: [NAMESPACE_FINALIZER] },
      status: { phase: 'Active' },
    };
    return { desired, errors: validateNamespace(desired.metadata) };
  },
  // PrepareForUpdate: spec.finalizers only change through finalization, the status through its subresource.
  update: (input, prev) => {
    const desired: V1Namespace = { ...(input as V1Namespace), spec: (prev as V1Namespace).spec };
    return {
      desired,
      errors: [...validateObjectMetaUpdate(desired.metadata, prev.metadata), ...validateNamespace(desired.metadata)],
    };
  },
  validateStatus: (next, prev) => validateObjectMetaUpdate(next.metadata, prev.metadata),
  generation: false,
};

const events: Strategy = {
  create: (input) => ({ desired: input, errors: validateEvent(input as EventLike) }),
  update: (input, prev) => ({
    desired: input,
    errors: [...validateObjectMetaUpdate(input.metadata, prev.metadata), ...validateEvent(input as EventLike)],
  }),
  generation: false,
  ttlSeconds: 3600,
};

const nodes: Strategy = {
  create: (input) => ({ desired: input, errors: validateNode(input.metadata) }),
  update: (input, prev) => ({
    desired: input,
    errors: [...validateObjectMetaUpdate(input.metadata, prev.metadata), ...validateNode(input.metadata)],
  }),
  validateStatus: (next, prev) => validateObjectMetaUpdate(next.metadata, prev.metadata),
  generation: false,
};

const endpointSlices: Strategy = {
  create: (input, ctx) => ({ desired: input, errors: validateEndpointSlice(input as V1EndpointSlice, ctx.cfg) }),
  update: (input, prev, ctx) => ({
    desired: input,
    errors: [
      ...validateObjectMetaUpdate(input.metadata, prev.metadata),
      ...validateEndpointSlice(input as V1EndpointSlice, ctx.cfg),
    ],
  }),
  generation: true,
};

/**
 * Gateway API kinds (lib/model/gateway/prepare.ts): pruned, defaulted and validated as their CRDs are; failures are
 * thrown there with the group-qualified kind the apiserver names custom resources by. ReferenceGrant has no status.
 */
function gatewayStrategy(kind: GatewayKindName): Strategy {
  const withStatus: Pick<Strategy, 'prepareStatus' | 'validateStatus'> = {
    prepareStatus: (next) => prepareGatewayStatus(kind, next as unknown as Record<string, unknown>),
    validateStatus: (next, prev) => {
      checkGatewayStatus(kind, next as unknown as Record<string, unknown>, prev as unknown as Record<string, unknown>);
      return [];
    },
  };
  return {
    create: (input) => ({ desired: prepareGatewayCreate(kind, input as never), errors: [] }),
    update: (input, prev) => ({ desired: prepareGatewayUpdate(kind, input as never, prev as never), errors: [] }),
    ...(kind === 'ReferenceGrant' ? {} : withStatus),
    generation: true,
  };
}

const STRATEGIES: Record<string, Strategy> = {
  Service: services,
  Pod: pods,
  Endpoints: endpoints,
  Namespace: namespaces,
  Event: events,
  Node: nodes,
  'EndpointSlice.discovery.k8s.io': endpointSlices,
  ...Object.fromEntries(
    Object.entries(GATEWAY_KINDS).map(([kind, key]) => [key, gatewayStrategy(kind as GatewayKindName)]),
  ),
};

export function strategyFor(kind: ObjectKind): Strategy {
  const s = STRATEGIES[kind];
  if (!s) throw new Error(`no write strategy for ${kind}`);
  return s;
}

function withoutStatus(o: KubeObject): KubeObject {
  const copy = structuredClone(o) as KubeObject & { status?: unknown };
  delete copy.status;
  return copy;
}
