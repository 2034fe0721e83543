/**
 * What of a cluster's Service this controller takes, and the mirror it writes into its own store (through the same
 * write path, validation and change log as any other write; the controller then reconciles the mirror).
 *
 * Pure: no AWS SDK, no Kubernetes client.
 */
import type { V1LoadBalancerStatus, V1Pod, V1Service } from '@kubernetes/client-node';
import { LB_CLEANUP_FINALIZER, OWN_LOAD_BALANCER_CLASS, SOURCE_UID_ANNOTATION } from '../model/cluster-names.js';

export interface ClusterModeSettings {
  /** Class-less LoadBalancer Services are ours (the cluster's cloud-provider service controller is told to skip). */
  defaultLoadBalancerClass: boolean;
  /** Every Service (and Pod) is mirrored, for the data plane; otherwise only ours. */
  dataPlane: boolean;
}

/**
 * - `load-balancer`: ours: gets the cleanup finalizer, a mirror, an NLB, status and Events written back;
 * - `mirror`: the data plane serves it (ClusterIP, NodePort, DNS) but another controller owns its load balancer;
 * - `ignore`: nothing here concerns it.
 */
export type Handling = 'load-balancer' | 'mirror' | 'ignore';

/**
 * aws-load-balancer-controller also serves class-less Services of these `aws-load-balancer-type` values (its legacy
 * selection, before its webhook set a class): a class-less Service so marked is never ours, default class or not.
 */
const LBC_TYPES = new Set(['external', 'nlb-ip']);
const TYPE_ANNOTATION = 'service.beta.kubernetes.io/aws-load-balancer-type';

export function handlingOf(svc: V1Service, s: ClusterModeSettings): Handling {
  const cls = svc.spec?.loadBalancerClass;
  const lbcLegacy = LBC_TYPES.has(svc.metadata?.annotations?.[TYPE_ANNOTATION] ?? '');
  const ours =
    svc.spec?.type === 'LoadBalancer' &&
    (cls === OWN_LOAD_BALANCER_CLASS || (!cls && s.defaultLoadBalancerClass && !lbcLegacy));
  if (ours) return 'load-balancer';
  return s.dataPlane ? 'mirror' : 'ignore';
}

/**
 * A mirror of a LoadBalancer Service that is another controller's carries this class, so the controller here, which
 * also answers to aws-load-balancer-controller's class in its standalone API, never builds it a load balancer.
 */
export const FOREIGN_LOAD_BALANCER_CLASS = 'serverless-service-controller.io/other-controller';

/** Annotations not copied: kubectl's copy of the whole manifest is large and means nothing to the mirror. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/**
 * The mirror of `remote`: its name, namespace, labels, annotations and spec (the ClusterIPs are the cluster's, not
 * allocated here, so they are left for this store to allocate; NodePorts are kept, since the NLB's targets are the
 * nodes' kube-proxy at those ports), the source uid, and our cleanup finalizer when its load balancer is ours.
 */
export function mirrorOf(remote: V1Service, handling: Exclude<Handling, 'ignore'>): V1Service {
  const m = remote.metadata ?? {};
  const annotations = Object.fromEntries(
    Object.entries(m.annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.has(k)),
  );
  annotations[SOURCE_UID_ANNOTATION] = m.uid ?? '';
  const { clusterIP: _ip, clusterIPs: _ips, ...spec } = remote.spec ?? {};
  if (handling === 'mirror' && spec.type === 'LoadBalancer') spec.loadBalancerClass = FOREIGN_LOAD_BALANCER_CLASS;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: m.name,
      namespace: m.namespace ?? 'default',
      ...(m.labels ? { labels: { ...m.labels } } : {}),
      annotations,
      ...(handling === 'load-balancer' ? { finalizers: [LB_CLEANUP_FINALIZER] } : {}),
    },
    spec,
  };
}

/** The cluster object a mirror copies (its uid), or undefined for an object that is not a mirror. */
export const sourceUidOf = (mirror: V1Service): string | undefined =>
  mirror.metadata?.annotations?.[SOURCE_UID_ANNOTATION] || undefined;

export const hasCleanupFinalizer = (svc: V1Service): boolean =>
  (svc.metadata?.finalizers ?? []).includes(LB_CLEANUP_FINALIZER);

/** The load-balancer status to write back to the cluster, or undefined when the cluster already shows it. */
export function statusToWrite(remote: V1Service, mirror: V1Service | undefined): V1LoadBalancerStatus | undefined {
  const want: V1LoadBalancerStatus = { ingress: mirror?.status?.loadBalancer?.ingress ?? [] };
  const have: V1LoadBalancerStatus = { ingress: remote.status?.loadBalancer?.ingress ?? [] };
  return JSON.stringify(want) === JSON.stringify(have) ? undefined : want;
}

/**
 * The mirror of a cluster Pod, for the data plane (cluster mode with `dataPlane`): what endpoints are computed from
 * (labels, node, container ports, phase, IPs, readiness) and nothing else, so the Pod's frequent status updates that
 * change none of it (timestamps, container states) write nothing. Node names are the cluster's (on EKS the same
 * private DNS names the Node mirror uses).
 */
export function podMirrorOf(remote: V1Pod): V1Pod {
  const m = remote.metadata ?? {};
  const ready = (remote.status?.conditions ?? []).find((c) => c.type === 'Ready');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: m.name,
      namespace: m.namespace ?? 'default',
      ...(m.labels ? { labels: { ...m.labels } } : {}),
      annotations: { [SOURCE_UID_ANNOTATION]: m.uid ?? '' },
    },
    spec: {
      ...(remote.spec?.nodeName ? { nodeName: remote.spec.nodeName } : {}),
      ...(remote.spec?.hostNetwork ? { hostNetwork: true } : {}),
      containers: (remote.spec?.containers ?? []).map((c) => ({
        name: c.name,
        ...(c.ports?.length ? { ports: c.ports.map((p) => ({ ...p })) } : {}),
      })),
    },
    status: {
      phase: remote.status?.phase,
      ...(remote.status?.podIP ? { podIP: remote.status.podIP } : {}),
      ...(remote.status?.podIPs?.length ? { podIPs: remote.status.podIPs.map((p) => ({ ip: p.ip })) } : {}),
      ...(remote.status?.hostIP ? { hostIP: remote.status.hostIP } : {}),
      ...(ready ? { conditions: [{ type: 'Ready', status: ready.status }] } : {}),
    },
  };
}

export const podSourceUidOf = (mirror: V1Pod): string | undefined =>
  mirror.metadata?.annotations?.[SOURCE_UID_ANNOTATION] || undefined;
