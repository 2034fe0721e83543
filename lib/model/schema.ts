/**
 * The one schema of the kinds the API serves (Service, Pod, Endpoints, EndpointSlice, Namespace, Event, Node): the
 * field names and JSON types of the Kubernetes v1 OpenAPI, written down for the typed decoding step
 * (lib/model/decode.ts). test/model/schema.test.ts compares every object schema here with the generated models of
 * @kubernetes/client-node (the same OpenAPI), field by field.
 *
 * Closed objects list every field of their model: anything else is an unknown field (an error under
 * fieldValidation=Strict, dropped with a warning otherwise). Open objects (most of PodSpec, Container and PodStatus,
 * Node's config status) type only the fields this controller reads; the rest of them is kept as plain JSON, so a
 * Pod's volumes or probes survive a round trip without being modelled here.
 */

/**
 * Leaf types. `json`: any JSON value, copied (RawExtension-like parts such as managedFields' fieldsV1). `quantity`: a
 * resource.Quantity, which Kubernetes accepts as a JSON string or number. `date-time`: an RFC 3339 string
 * (metav1.Time), `int-or-string`: intstr.IntOrString.
 */
export type Scalar = 'string' | 'boolean' | 'int32' | 'int64' | 'int-or-string' | 'quantity' | 'date-time' | 'json';
export type Schema = Scalar | { array: Schema } | { map: Schema } | ObjectSchema;

export interface ObjectSchema {
  /** The @kubernetes/client-node model this object is (V1ServicePort), for the schema test and messages. */
  model: string;
  fields: Readonly<Record<string, Schema>>;
  /** Fields not listed are kept as JSON instead of being unknown. */
  open?: true;
}

const str = 'string' as const;
const bool = 'boolean' as const;
const int32 = 'int32' as const;
const int64 = 'int64' as const;
const time = 'date-time' as const;
const arr = (s: Schema): Schema => ({ array: s });
const map = (s: Schema): Schema => ({ map: s });
const strings = arr(str);
const stringMap = map(str);
const obj = (model: string, fields: Record<string, Schema>, open?: true): ObjectSchema =>
  open ? { model, fields, open } : { model, fields };

// ---------------------------------------------------------------------------------------------------------------
// Shared parts

const objectMeta = obj('V1ObjectMeta', {
  annotations: stringMap,
  creationTimestamp: time,
  deletionGracePeriodSeconds: int64,
  deletionTimestamp: time,
  finalizers: strings,
  generateName: str,
  generation: int64,
  labels: stringMap,
  managedFields: arr(
    obj('V1ManagedFieldsEntry', {
      apiVersion: str,
      fieldsType: str,
      fieldsV1: 'json',
      manager: str,
      operation: str,
      subresource: str,
      time,
    }),
  ),
  name: str,
  namespace: str,
  ownerReferences: arr(
    obj('V1OwnerReference', {
      apiVersion: str,
      blockOwnerDeletion: bool,
      controller: bool,
      kind: str,
      name: str,
      uid: str,
    }),
  ),
  resourceVersion: str,
  selfLink: str,
  uid: str,
});

const objectReference = obj('V1ObjectReference', {
  apiVersion: str,
  fieldPath: str,
  kind: str,
  name: str,
  namespace: str,
  resourceVersion: str,
  uid: str,
});

const condition = obj('V1Condition', {
  lastTransitionTime: time,
  message: str,
  observedGeneration: int64,
  reason: str,
  status: str,
  type: str,
});

/** apiVersion, kind, metadata, then the kind's own fields. */
const topLevel = (model: string, fields: Record<string, Schema>): ObjectSchema =>
  obj(model, { apiVersion: str, kind: str, metadata: objectMeta, ...fields });

// ---------------------------------------------------------------------------------------------------------------
// Service

const servicePort = obj('V1ServicePort', {
  appProtocol: str,
  name: str,
  nodePort: int32,
  port: int32,
  protocol: str,
  targetPort: 'int-or-string',
});

const service = topLevel('V1Service', {
  spec: obj('V1ServiceSpec', {
    allocateLoadBalancerNodePorts: bool,
    clusterIP: str,
    clusterIPs: strings,
    externalIPs: strings,
    externalName: str,
    externalTrafficPolicy: str,
    healthCheckNodePort: int32,
    internalTrafficPolicy: str,
    ipFamilies: strings,
    ipFamilyPolicy: str,
    loadBalancerClass: str,
    loadBalancerIP: str,
    loadBalancerSourceRanges: strings,
    ports: arr(servicePort),
    publishNotReadyAddresses: bool,
    selector: stringMap,
    sessionAffinity: str,
    sessionAffinityConfig: obj('V1SessionAffinityConfig', {
      clientIP: obj('V1ClientIPConfig', { timeoutSeconds: int32 }),
    }),
    trafficDistribution: str,
    type: str,
  }),
  status: obj('V1ServiceStatus', {
    conditions: arr(condition),
    loadBalancer: obj('V1LoadBalancerStatus', {
      ingress: arr(
        obj('V1LoadBalancerIngress', {
          hostname: str,
          ip: str,
          ipMode: str,
          ports: arr(obj('V1PortStatus', { error: str, port: int32, protocol: str })),
        }),
      ),
    }),
  }),
});

// ---------------------------------------------------------------------------------------------------------------
// Pod: what Services, endpoints and the printers read is typed; the rest is kept as JSON.

const container = obj(
  'V1Container',
  {
    name: str,
    image: str,
    ports: arr(
      obj('V1ContainerPort', { containerPort: int32, hostIP: str, hostPort: int32, name: str, protocol: str }),
    ),
    restartPolicy: str,
  },
  true,
);

const pod = topLevel('V1Pod', {
  spec: obj(
    'V1PodSpec',
    {
      containers: arr(container),
      initContainers: arr(container),
      hostNetwork: bool,
      hostname: str,
      nodeName: str,
      nodeSelector: stringMap,
      restartPolicy: str,
      subdomain: str,
    },
    true,
  ),
  status: obj(
    'V1PodStatus',
    {
      conditions: arr(
        obj('V1PodCondition', {
          lastProbeTime: time,
          lastTransitionTime: time,
          message: str,
          observedGeneration: int64,
          reason: str,
          status: str,
          type: str,
        }),
      ),
      containerStatuses: arr(obj('V1ContainerStatus', { name: str, ready: bool, restartCount: int32 }, true)),
      hostIP: str,
      hostIPs: arr(obj('V1HostIP', { ip: str })),
      message: str,
      phase: str,
      podIP: str,
      podIPs: arr(obj('V1PodIP', { ip: str })),
      reason: str,
      startTime: time,
    },
    true,
  ),
});

// ---------------------------------------------------------------------------------------------------------------
// Endpoints and EndpointSlice

const endpointAddress = obj('V1EndpointAddress', {
  hostname: str,
  ip: str,
  nodeName: str,
  targetRef: objectReference,
});

const endpointPort = (model: string) => obj(model, { appProtocol: str, name: str, port: int32, protocol: str });

const endpoints = topLevel('V1Endpoints', {
  subsets: arr(
    obj('V1EndpointSubset', {
      addresses: arr(endpointAddress),
      notReadyAddresses: arr(endpointAddress),
      ports: arr(endpointPort('CoreV1EndpointPort')),
    }),
  ),
});

const endpointSlice = topLevel('V1EndpointSlice', {
  addressType: str,
  endpoints: arr(
    obj('V1Endpoint', {
      addresses: strings,
      conditions: obj('V1EndpointConditions', { ready: bool, serving: bool, terminating: bool }),
      deprecatedTopology: stringMap,
      hints: obj('V1EndpointHints', {
        forNodes: arr(obj('V1ForNode', { name: str })),
        forZones: arr(obj('V1ForZone', { name: str })),
      }),
      hostname: str,
      nodeName: str,
      targetRef: objectReference,
      zone: str,
    }),
  ),
  ports: arr(endpointPort('DiscoveryV1EndpointPort')),
});

// ---------------------------------------------------------------------------------------------------------------
// Namespace, Event, Node

const namespace = topLevel('V1Namespace', {
  spec: obj('V1NamespaceSpec', { finalizers: strings }),
  status: obj('V1NamespaceStatus', {
    conditions: arr(
      obj('V1NamespaceCondition', { lastTransitionTime: time, message: str, reason: str, status: str, type: str }),
    ),
    phase: str,
  }),
});

const event = topLevel('CoreV1Event', {
  action: str,
  count: int32,
  eventTime: time,
  firstTimestamp: time,
  involvedObject: objectReference,
  lastTimestamp: time,
  message: str,
  reason: str,
  related: objectReference,
  reportingComponent: str,
  reportingInstance: str,
  series: obj('CoreV1EventSeries', { count: int32, lastObservedTime: time }),
  source: obj('V1EventSource', { component: str, host: str }),
  type: str,
});

const nodeConfigSource = obj('V1NodeConfigSource', {
  configMap: obj('V1ConfigMapNodeConfigSource', {
    kubeletConfigKey: str,
    name: str,
    namespace: str,
    resourceVersion: str,
    uid: str,
  }),
});

const nodeStatus = obj(
  'V1NodeStatus',
  {
    addresses: arr(obj('V1NodeAddress', { address: str, type: str })),
    allocatable: map('quantity'),
    capacity: map('quantity'),
    conditions: arr(
      obj('V1NodeCondition', {
        lastHeartbeatTime: time,
        lastTransitionTime: time,
        message: str,
        reason: str,
        status: str,
        type: str,
      }),
    ),
    daemonEndpoints: obj('V1NodeDaemonEndpoints', { kubeletEndpoint: obj('V1DaemonEndpoint', { Port: int32 }) }),
    images: arr(obj('V1ContainerImage', { names: strings, sizeBytes: int64 })),
    nodeInfo: obj('V1NodeSystemInfo', {
      architecture: str,
      bootID: str,
      containerRuntimeVersion: str,
      kernelVersion: str,
      kubeProxyVersion: str,
      kubeletVersion: str,
      machineID: str,
      operatingSystem: str,
      osImage: str,
      swap: obj('V1NodeSwapStatus', { capacity: int64 }),
      systemUUID: str,
    }),
    phase: str,
    volumesAttached: arr(obj('V1AttachedVolume', { devicePath: str, name: str })),
    volumesInUse: strings,
  },
  true,
);

const node = topLevel('V1Node', {
  spec: obj('V1NodeSpec', {
    configSource: nodeConfigSource,
    externalID: str,
    podCIDR: str,
    podCIDRs: strings,
    providerID: str,
    taints: arr(obj('V1Taint', { effect: str, key: str, timeAdded: time, value: str })),
    unschedulable: bool,
  }),
  status: nodeStatus,
});

// ---------------------------------------------------------------------------------------------------------------

export interface KindSchema {
  apiVersion: string;
  kind: string;
  schema: ObjectSchema;
}

/** Every kind the decoding step knows, by `apiVersion` and `kind` as they appear in objects. */
export const KIND_SCHEMAS: readonly KindSchema[] = [
  { apiVersion: 'v1', kind: 'Service', schema: service },
  { apiVersion: 'v1', kind: 'Pod', schema: pod },
  { apiVersion: 'v1', kind: 'Endpoints', schema: endpoints },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', schema: endpointSlice },
  { apiVersion: 'v1', kind: 'Namespace', schema: namespace },
  { apiVersion: 'v1', kind: 'Event', schema: event },
  { apiVersion: 'v1', kind: 'Node', schema: node },
];
