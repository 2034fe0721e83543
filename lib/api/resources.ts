/**
 * The resources this API serves, as kube-apiserver's discovery describes them (verbs, short names and categories as
 * upstream), and the storage kind key of each: `<Kind>` for the core group (existing `obj#Service` items keep their
 * keys), `<Kind>.<group>` otherwise. deletecollection is served where kube-apiserver 1.32 serves it: every writable
 * namespaced kind here (Services included since upstream added it), not namespaces.
 */
import { NotFoundError } from '../errors.js';
import { GATEWAY_GROUP } from '../model/gateway/types.js';
import type { ObjectKind } from '../store/table.js';
import { apiVersionOf, type ResourceInfo } from './backend.js';

const READ = ['get', 'list', 'watch'] as const;
const WRITE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;
const WRITE_COLLECTION = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

function core(
  kind: string,
  resource: string,
  shortNames: string[],
  opts: Partial<Pick<ResourceInfo, 'namespaced' | 'subresources' | 'categories' | 'systemOwned'>> = {},
): ResourceInfo {
  const systemOwned = opts.systemOwned ?? false;
  return {
    group: '',
    version: 'v1',
    kind,
    resource,
    singular: kind.toLowerCase(),
    shortNames,
    namespaced: opts.namespaced ?? true,
    verbs: systemOwned ? READ : (opts.namespaced ?? true) ? WRITE_COLLECTION : WRITE,
    subresources: opts.subresources ?? [],
    categories: opts.categories ?? [],
    systemOwned,
  };
}

export const NAMESPACES = core('Namespace', 'namespaces', ['ns'], { namespaced: false, subresources: ['status'] });
export const SERVICES = core('Service', 'services', ['svc'], { subresources: ['status'], categories: ['all'] });
export const PODS = core('Pod', 'pods', ['po'], { subresources: ['status'], categories: ['all'] });
export const ENDPOINTS = core('Endpoints', 'endpoints', ['ep']);
/** Mirrored from EC2 by the controller: users read them. */
export const NODES = core('Node', 'nodes', ['no'], { namespaced: false, systemOwned: true });
export const EVENTS = core('Event', 'events', ['ev']);
/** Derived from Services and Pods by the controller, as the EndpointSlice controller does. */
export const ENDPOINT_SLICES: ResourceInfo = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  resource: 'endpointslices',
  singular: 'endpointslice',
  shortNames: [],
  namespaced: true,
  verbs: READ,
  subresources: [],
  categories: [],
  systemOwned: true,
};

/**
 * The Gateway API kinds (gateway.networking.k8s.io), served like their CRDs: the verbs of a namespaced or
 * cluster-scoped custom resource, the status subresource where the CRD declares it, category `gateway-api` (not
 * `all`), upstream's short names. One version per kind (the store keeps one apiVersion per kind and converts none):
 * v1, and v1alpha2 for TCPRoute and UDPRoute (the types of @kubernetes-models/gateway-api). docs/gateway.md.
 */
function gatewayKind(
  kind: string,
  resource: string,
  version: string,
  opts: { shortNames?: string[]; namespaced?: boolean; status?: boolean } = {},
): ResourceInfo {
  const namespaced = opts.namespaced ?? true;
  return {
    group: GATEWAY_GROUP,
    version,
    kind,
    resource,
    singular: kind.toLowerCase(),
    shortNames: opts.shortNames ?? [],
    namespaced,
    verbs: WRITE_COLLECTION,
    subresources: opts.status === false ? [] : ['status'],
    categories: ['gateway-api'],
    systemOwned: false,
  };
}

export const GATEWAY_CLASSES = gatewayKind('GatewayClass', 'gatewayclasses', 'v1', {
  shortNames: ['gc'],
  namespaced: false,
});
export const GATEWAYS = gatewayKind('Gateway', 'gateways', 'v1', { shortNames: ['gtw'] });
export const REFERENCE_GRANTS = gatewayKind('ReferenceGrant', 'referencegrants', 'v1', {
  shortNames: ['refgrant'],
  status: false,
});
export const TLS_ROUTES = gatewayKind('TLSRoute', 'tlsroutes', 'v1');
export const TCP_ROUTES = gatewayKind('TCPRoute', 'tcproutes', 'v1alpha2');
export const UDP_ROUTES = gatewayKind('UDPRoute', 'udproutes', 'v1alpha2');
export const GATEWAY_RESOURCES: readonly ResourceInfo[] = [
  GATEWAY_CLASSES,
  GATEWAYS,
  REFERENCE_GRANTS,
  TLS_ROUTES,
  TCP_ROUTES,
  UDP_ROUTES,
];

export const RESOURCES: readonly ResourceInfo[] = [
  NAMESPACES,
  SERVICES,
  PODS,
  ENDPOINTS,
  NODES,
  EVENTS,
  ENDPOINT_SLICES,
  ...GATEWAY_RESOURCES,
];

/** The storage kind key: `Service`, `EndpointSlice.discovery.k8s.io`. */
export const storageKind = (r: Pick<ResourceInfo, 'group' | 'kind'>): ObjectKind =>
  r.group ? `${r.kind}.${r.group}` : r.kind;

/** `services`, `endpointslices.discovery.k8s.io`: the qualified resource the apiserver names in messages. */
export const qualifiedResource = (r: Pick<ResourceInfo, 'group' | 'resource'>): string =>
  r.group ? `${r.resource}.${r.group}` : r.resource;

const BY_STORAGE_KIND = new Map(RESOURCES.map((r) => [storageKind(r), r]));

export function resourceForKind(kind: ObjectKind): ResourceInfo {
  const r = BY_STORAGE_KIND.get(kind);
  if (!r) throw new NotFoundError('resource', kind, 'resources');
  return r;
}

/** The resource an object of `apiVersion`/`kind` belongs to, if this API serves it. */
export function resourceForObject(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}
