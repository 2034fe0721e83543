/** Gateway API objects for the pure Gateway tests (attachment, status, stack goldens). */
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import type {
  Gateway,
  GatewayClass,
  GatewayListener,
  ReferenceGrant,
  TCPRoute,
  UDPRoute,
  TLSRoute,
} from '../../lib/model/gateway/types.js';
import { GATEWAY_CONTROLLER_NAME } from '../../lib/model/gateway/types.js';
import type { RouteObject } from '../../lib/gateway/attach.js';

export const gatewayClass = (name = 'nlb', extra: Partial<GatewayClass['spec']> = {}): GatewayClass => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name, generation: 1 },
  spec: { controllerName: GATEWAY_CONTROLLER_NAME, ...extra },
});

export const gateway = (
  listeners: GatewayListener[],
  opts: { ns?: string; name?: string; annotations?: Record<string, string> } = {},
): Gateway => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: {
    namespace: opts.ns ?? 'default',
    name: opts.name ?? 'shared',
    uid: 'gw-uid-1',
    generation: 2,
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  },
  spec: { gatewayClassName: 'nlb', listeners },
});

export const listener = (
  name: string,
  protocol: string,
  port: number,
  extra: Partial<GatewayListener> = {},
): GatewayListener => ({
  name,
  protocol,
  port,
  ...extra,
});

interface RouteOpts {
  ns?: string;
  parents?: { name: string; sectionName?: string; namespace?: string; port?: number }[];
  backends?: { name: string; port: number; weight?: number; namespace?: string; kind?: string; group?: string }[];
  created?: string;
  hostnames?: string[];
}

function route<K extends 'TCPRoute' | 'UDPRoute' | 'TLSRoute'>(kind: K, name: string, o: RouteOpts) {
  return {
    apiVersion: kind === 'TLSRoute' ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2',
    kind,
    metadata: {
      namespace: o.ns ?? 'default',
      name,
      generation: 1,
      creationTimestamp: o.created ?? '2026-12-01T00:00:00Z',
    },
    spec: {
      parentRefs: o.parents ?? [{ name: 'shared' }],
      ...(o.hostnames ? { hostnames: o.hostnames } : {}),
      rules: [{ backendRefs: o.backends ?? [] }],
    },
  };
}

export const tcpRoute = (name: string, o: RouteOpts): RouteObject => ({
  kind: 'TCPRoute',
  route: route('TCPRoute', name, o) as unknown as TCPRoute,
});
export const udpRoute = (name: string, o: RouteOpts): RouteObject => ({
  kind: 'UDPRoute',
  route: route('UDPRoute', name, o) as unknown as UDPRoute,
});
export const tlsRoute = (name: string, o: RouteOpts): RouteObject => ({
  kind: 'TLSRoute',
  route: route('TLSRoute', name, o) as unknown as TLSRoute,
});

export const service = (
  name: string,
  ports: { port: number; protocol?: string; nodePort?: number }[],
  opts: { ns?: string; type?: string } = {},
): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: opts.ns ?? 'default', name, uid: `uid-${name}` },
  spec: {
    type: opts.type ?? (ports.some((p) => p.nodePort) ? 'NodePort' : 'ClusterIP'),
    ports: ports.map((p) => ({
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.nodePort ? { nodePort: p.nodePort } : {}),
    })),
  },
});

export const namespace = (name: string, labels: Record<string, string> = {}): V1Namespace => ({
  metadata: { name, labels },
});

export const grant = (ns: string, fromNs: string, kind: string, to: { name?: string } = {}): ReferenceGrant => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'ReferenceGrant',
  metadata: { namespace: ns, name: `allow-${fromNs}` },
  spec: {
    from: [{ group: 'gateway.networking.k8s.io', kind, namespace: fromNs }],
    to: [{ group: '', kind: 'Service', ...to }],
  },
});
