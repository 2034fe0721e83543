/**
 * Shared vocabulary of the controller. Kubernetes object shapes come from @kubernetes/client-node (never
 * redefined here); what Kubernetes has no type for in our setting (EC2-backed nodes, per-Service endpoint sets
 * with per-Pod port resolution, cluster settings) is defined once, here.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';

export type { V1Pod, V1Service, V1ServicePort, V1ServiceSpec, V1ObjectMeta } from '@kubernetes/client-node';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

/** "namespace/name", the key Kubernetes itself uses for namespaced objects. */
export type ObjectKey = `${string}/${string}`;

export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): ObjectKey {
  return `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`;
}

/** One resolved port of one endpoint: the Service port name and the Pod port it maps to (named targetPorts resolved per Pod). */
export interface EndpointPort {
  /** The Service port's name ('' for a single unnamed port). */
  name: string;
  port: number;
  protocol: Protocol;
  /** The Service port's appProtocol, carried into EndpointSlice and Endpoints ports. */
  appProtocol?: string;
}

/** One backend of a Service (a Pod, or a manual address for selector-less Services). */
export interface Endpoint {
  ip: string;
  /** Node the Pod runs on (spec.nodeName); drives externalTrafficPolicy/internalTrafficPolicy Local. */
  nodeName?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid?: string };
  /** Pod Ready condition true and not terminating: receives traffic. */
  ready: boolean;
  /** Pod is terminating (deletionTimestamp set). */
  terminating: boolean;
  /**
   * Ready condition true regardless of termination (EndpointSlice `conditions.serving`). A terminating but serving
   * endpoint takes traffic only when a Service has no ready endpoint left, as kube-proxy does, so connections that
   * arrive during a rolling update are not refused.
   */
  serving?: boolean;
  ports: EndpointPort[];
  /** The Pod's spec.hostname when its spec.subdomain names the Service (the DNS name of a headless Service's Pod). */
  hostname?: string;
}

/** The endpoints of one Service, like an EndpointSlice set folded into one object. */
export interface ServiceEndpoints {
  namespace: string;
  name: string;
  endpoints: Endpoint[];
}

/** A cluster node as the controller sees it: an EC2 instance carrying the cluster tag. */
export interface NodeInfo {
  /** Kubernetes node name; for EC2 nodes the private DNS name (ip-10-0-1-5.ec2.internal) or the instance id. */
  name: string;
  instanceId: string;
  privateIp: string;
  availabilityZone: string;
  /** EC2 instance state name: pending | running | stopping | stopped | shutting-down | terminated. */
  state: string;
  /** Instance tags; node labels for `aws-load-balancer-target-node-labels` are matched against these. */
  labels: Record<string, string>;
  /** What the Node object mirrors (lib/model/node-object.ts); absent when discovery did not say. */
  instanceType?: string;
  /** EC2's architecture: x86_64, arm64, i386, x86_64_mac, arm64_mac. */
  architecture?: string;
  /** EC2's `Platform`: `windows` for Windows instances, absent for Linux. */
  platform?: string;
  /** Every private IPv4 address of the instance's in-use network interfaces, primary first. */
  privateIps?: string[];
  publicIp?: string;
  publicDnsName?: string;
}

export interface NodePortRange {
  min: number;
  max: number;
}

/** Settings of one cluster, shared by the API, the load-balancer controller and the data plane. */
export interface ClusterConfig {
  clusterName: string;
  /** IPv4 CIDR from which ClusterIPs are allocated (kube-apiserver --service-cluster-ip-range). */
  serviceCidr: string;
  /** kube-apiserver --service-node-port-range. */
  nodePortRange: NodePortRange;
  /** Cluster DNS domain (kubelet --cluster-domain). */
  clusterDomain: string;
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = {
  clusterName: 'demo',
  serviceCidr: '10.96.0.0/12',
  nodePortRange: { min: 30000, max: 32767 },
  clusterDomain: 'cluster.local',
};

/** A Service as stored: defaulted, validated and allocated (clusterIP/nodePorts set). */
export type StoredService = V1Service;
export type StoredPod = V1Pod;
