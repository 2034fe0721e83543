/**
 * The upstream struct tags that drive strategic merge patch and server-side apply, transcribed from
 * staging/src/k8s.io/api/core/v1/types.go, discovery/v1/types.go and apimachinery's meta/v1/types.go
 * (`patchStrategy`, `patchMergeKey`, `+listType`, `+listMapKey`, `+mapType`). The generator attaches them to the
 * OpenAPI schemas as x-kubernetes-patch-strategy / -patch-merge-key / -list-type / -list-map-keys / -map-type, the
 * way kube-openapi does, and the server's strategic merge patch reads them back from the same schemas.
 * Keyed by definition name (without the io.k8s.* prefix) and JSON field name.
 */

export interface FieldTags {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
  mapType?: 'atomic' | 'granular';
}

const mergeBy = (key: string, mapKeys: string[] = [key]): FieldTags => ({
  patchStrategy: 'merge',
  patchMergeKey: key,
  listType: 'map',
  listMapKeys: mapKeys,
});
const atomic: FieldTags = { listType: 'atomic' };
const conditions = mergeBy('type');
const containerFields: Record<string, FieldTags> = {
  command: atomic,
  args: atomic,
  ports: mergeBy('containerPort', ['containerPort', 'protocol']),
  envFrom: atomic,
  env: mergeBy('name'),
  resizePolicy: atomic,
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

export const PATCH_TAGS: Record<string, Record<string, FieldTags>> = {
  'apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: { patchStrategy: 'merge', listType: 'set' },
    ownerReferences: mergeBy('uid'),
    managedFields: atomic,
  },
  'apimachinery.pkg.apis.meta.v1.LabelSelector': { matchExpressions: atomic },
  'apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': { values: atomic },
  'apimachinery.pkg.apis.meta.v1.StatusDetails': { causes: atomic },
  'api.core.v1.ServiceSpec': {
    ports: mergeBy('port', ['port', 'protocol']),
    selector: { mapType: 'atomic' },
    clusterIPs: atomic,
    externalIPs: atomic,
    loadBalancerSourceRanges: atomic,
    ipFamilies: atomic,
  },
  'api.core.v1.ServiceStatus': { conditions },
  'api.core.v1.LoadBalancerStatus': { ingress: atomic },
  'api.core.v1.LoadBalancerIngress': { ports: atomic },
  'api.core.v1.PodSpec': {
    volumes: { ...mergeBy('name'), patchStrategy: 'merge,retainKeys' },
    initContainers: mergeBy('name'),
    containers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    imagePullSecrets: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    topologySpreadConstraints: mergeBy('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    tolerations: atomic,
    readinessGates: atomic,
    resourceClaims: { ...mergeBy('name'), patchStrategy: 'merge,retainKeys' },
    schedulingGates: mergeBy('name'),
  },
  'api.core.v1.Container': containerFields,
  'api.core.v1.EphemeralContainer': containerFields,
  'api.core.v1.PodStatus': {
    conditions,
    podIPs: mergeBy('ip'),
    hostIPs: mergeBy('ip'),
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: { ...mergeBy('name'), patchStrategy: 'merge,retainKeys' },
  },
  'api.core.v1.PodDNSConfig': { nameservers: atomic, searches: atomic, options: atomic },
  'api.core.v1.HostAlias': { hostnames: atomic },
  'api.core.v1.NodeSpec': { podCIDRs: { patchStrategy: 'merge', listType: 'set' }, taints: atomic },
  'api.core.v1.NodeStatus': {
    conditions,
    addresses: mergeBy('type'),
    volumesInUse: atomic,
    volumesAttached: atomic,
    images: atomic,
  },
  'api.core.v1.NamespaceSpec': { finalizers: atomic },
  'api.core.v1.NamespaceStatus': { conditions },
  'api.core.v1.Endpoints': { subsets: atomic },
  'api.core.v1.EndpointSubset': { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  'api.discovery.v1.EndpointSlice': { endpoints: atomic, ports: atomic },
  'api.discovery.v1.Endpoint': { addresses: atomic },
  'api.discovery.v1.EndpointHints': { forZones: atomic, forNodes: atomic },
};
