/**
 * A cluster instance as a Node object, as a kubelet plus cloud-provider-aws would register it, pure:
 *
 * - name: the private DNS name (cloud-provider-aws's node name), else the instance id;
 * - labels: kubernetes.io/hostname, kubernetes.io/os and kubernetes.io/arch with their beta twins (the kubelet sets
 *   both), node.kubernetes.io/instance-type, topology.kubernetes.io/region and zone with their beta twins (the cloud
 *   node controller sets both). Instance tags are NOT copied into labels: neither the kubelet nor cloud-provider-aws
 *   does that (kubernetes/kubernetes#63022 was closed unimplemented);
 * - spec.providerID `aws:///<zone>/<instance-id>`;
 * - status.addresses in cloud-provider-aws's order: the private IPs (InternalIP), the public IP (ExternalIP), the
 *   private DNS name (InternalDNS and Hostname), the public DNS name (ExternalDNS);
 * - status.nodeInfo: architecture and operating system from EC2; what only a kubelet could report (kernel, OS image,
 *   container runtime, kubelet version, machine and boot ids) is left empty, which `kubectl get nodes -o wide`
 *   prints as `<unknown>`, rather than made up;
 * - Ready: True while the instance runs and is not leaving; False with the reason why otherwise;
 * - DataPlaneReady (when the data plane is configured): whether the node holds the latest rules;
 * - leaving nodes (Spot interruption, scale-in hook) are cordoned as `kubectl drain` would: spec.unschedulable and
 *   the node.kubernetes.io/unschedulable:NoSchedule taint. The cluster-autoscaler's ToBeDeletedByClusterAutoscaler is
 *   that tool's own mark and is not imitated. A not-ready node gets the node lifecycle controller's
 *   node.kubernetes.io/not-ready taints (NoSchedule, NoExecute); a stopped instance also the cloud node lifecycle
 *   controller's node.cloudprovider.kubernetes.io/shutdown:NoSchedule.
 *
 * No revision churn: a condition's lastTransitionTime moves only when its status changes and its lastHeartbeatTime
 * only when its status, reason or message changes (there is no kubelet heartbeat to report); taints keep their
 * timeAdded. So mirroring an unchanged instance produces the stored object again, and the write path writes nothing.
 */
import type { V1Node, V1NodeAddress, V1NodeCondition, V1Taint } from '@kubernetes/client-node';
import type { NodeDataPlaneView } from '../dataplane/node-status.js';
import type { NodeInfo } from './types.js';

export const NODE_READY = 'Ready';
export const NODE_DATA_PLANE_READY = 'DataPlaneReady';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_SHUTDOWN = 'node.cloudprovider.kubernetes.io/shutdown';

export interface NodeObjectInput {
  node: NodeInfo;
  /** Announced as leaving (the node lifecycle's Leaving phase), with why. */
  leaving?: { reason: string };
  /** The node's data-plane status; absent when the data plane is not configured. */
  dataPlane?: NodeDataPlaneView;
  /** The Node as stored, whose timestamps are kept when nothing changed. */
  previous?: V1Node;
  now: Date;
}

/** EC2 architecture -> GOARCH, as the kubelet reports runtime.GOARCH. */
const ARCH: Record<string, string> = {
  x86_64: 'amd64',
  x86_64_mac: 'amd64',
  arm64: 'arm64',
  arm64_mac: 'arm64',
  i386: '386',
};

/** cloud-provider-aws azToRegion: the leading `<letters>-...-<digits>` of the zone (us-east-1a -> us-east-1). */
export function regionOf(zone: string): string {
  return /^([a-zA-Z]+-)+\d+/.exec(zone)?.[0] ?? '';
}

/** EC2's `Platform` is `windows` (the API reference also spells it `Windows`) for Windows, absent for Linux. */
const isWindows = (n: NodeInfo): boolean => n.platform?.toLowerCase() === 'windows';

export const providerIdOf = (n: NodeInfo): string => `aws:///${n.availabilityZone}/${n.instanceId}`;

/** The instance id in a providerID `aws:///<zone>/<id>` (or `aws://<zone>/<id>`, as older clusters wrote it). */
export function instanceIdOf(providerId: string | undefined): string | undefined {
  const m = /^aws:\/\/\/?(?:[^/]*\/)?(i-[0-9a-f]+)$/.exec(providerId ?? '');
  return m?.[1];
}

function nodeLabels(n: NodeInfo): Record<string, string> {
  const os = isWindows(n) ? 'windows' : 'linux';
  const arch = ARCH[n.architecture ?? ''] ?? 'amd64';
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': os,
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': n.name.toLowerCase(),
    'kubernetes.io/os': os,
  };
  if (n.instanceType) {
    labels['beta.kubernetes.io/instance-type'] = n.instanceType;
    labels['node.kubernetes.io/instance-type'] = n.instanceType;
  }
  const region = regionOf(n.availabilityZone);
  if (region) {
    labels['failure-domain.beta.kubernetes.io/region'] = region;
    labels['topology.kubernetes.io/region'] = region;
  }
  if (n.availabilityZone) {
    labels['failure-domain.beta.kubernetes.io/zone'] = n.availabilityZone;
    labels['topology.kubernetes.io/zone'] = n.availabilityZone;
  }
  return labels;
}

function nodeAddresses(n: NodeInfo): V1NodeAddress[] {
  const out: V1NodeAddress[] = [];
  for (const ip of n.privateIps ?? (n.privateIp ? [n.privateIp] : [])) out.push({ type: 'InternalIP', address: ip });
  if (n.publicIp) out.push({ type: 'ExternalIP', address: n.publicIp });
  if (n.name !== n.instanceId) {
    out.push({ type: 'InternalDNS', address: n.name });
    out.push({ type: 'Hostname', address: n.name });
  }
  if (n.publicDnsName) out.push({ type: 'ExternalDNS', address: n.publicDnsName });
  return out;
}

type ConditionCore = Pick<V1NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

/** Ready from the instance state and the node lifecycle (the reasons are this controller's: there is no kubelet). */
export function readyCondition(n: NodeInfo, leaving?: { reason: string }): ConditionCore {
  const c = (status: string, reason: string, message: string): ConditionCore => ({
    type: NODE_READY,
    status,
    reason,
    message,
  });
  if (n.state === 'running' && leaving)
    return c('False', 'NodeLeaving', `node is leaving the cluster (${leaving.reason})`);
  if (n.state === 'running') return c('True', 'InstanceRunning', `EC2 instance ${n.instanceId} is running`);
  if (n.state === 'pending') return c('False', 'InstancePending', `EC2 instance ${n.instanceId} is starting`);
  return c('False', 'InstanceNotRunning', `EC2 instance ${n.instanceId} is ${n.state}`);
}

const DATA_PLANE: Record<NodeDataPlaneView['state'], [string, string, string]> = {
  InSync: ['True', 'RulesApplied', 'the node applied the latest service rules'],
  Pending: ['Unknown', 'PushInProgress', 'the latest service rules are on their way to the node'],
  Retrying: ['False', 'PushFailed', 'applying the latest service rules failed; retrying'],
  Failing: ['False', 'PushFailing', 'applying the latest service rules kept failing; retries stopped'],
  Unknown: ['Unknown', 'NoStatus', 'the node has not reported applying any service rules'],
};

export function dataPlaneCondition(v: NodeDataPlaneView): ConditionCore {
  const [status, reason, message] = DATA_PLANE[v.state];
  return { type: NODE_DATA_PLANE_READY, status, reason, message };
}

/** The condition with its timestamps carried over from `prev` unless it changed (see the module comment). */
function stamped(c: ConditionCore, prev: V1NodeCondition | undefined, now: Date): V1NodeCondition {
  const at = now.toISOString() as unknown as Date;
  const same = prev?.status === c.status && prev.reason === c.reason && prev.message === c.message;
  return {
    ...c,
    lastHeartbeatTime: same ? (prev.lastHeartbeatTime ?? at) : at,
    lastTransitionTime: prev?.status === c.status ? (prev.lastTransitionTime ?? at) : at,
  };
}

function nodeTaints(n: NodeInfo, ready: ConditionCore, leaving: boolean, prev: V1Taint[], now: Date): V1Taint[] {
  const want: V1Taint[] = [];
  if (leaving) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  if (n.state === 'stopping' || n.state === 'stopped') want.push({ key: TAINT_SHUTDOWN, effect: 'NoSchedule' });
  if (ready.status !== 'True') {
    want.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' });
    // The NoExecute taint carries when it was added (taint-based eviction counts tolerationSeconds from it).
    want.push({ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: now.toISOString() as unknown as Date });
  }
  return want.map((t) => {
    const kept = prev.find((p) => p.key === t.key && p.effect === t.effect);
    return kept?.timeAdded && t.timeAdded ? { ...t, timeAdded: kept.timeAdded } : t;
  });
}

/** The Node object for one instance (see the module comment). */
export function desiredNode(input: NodeObjectInput): V1Node {
  const { node: n, previous, now } = input;
  const leaving = n.state === 'running' && input.leaving !== undefined;
  const ready = readyCondition(n, input.leaving);
  const prevCond = (type: string) => previous?.status?.conditions?.find((c) => c.type === type);
  const conditions = [stamped(ready, prevCond(NODE_READY), now)];
  if (input.dataPlane) {
    const dp = dataPlaneCondition(input.dataPlane);
    conditions.push(stamped(dp, prevCond(NODE_DATA_PLANE_READY), now));
  }
  const taints = nodeTaints(n, ready, leaving, previous?.spec?.taints ?? [], now);
  const arch = ARCH[n.architecture ?? ''] ?? 'amd64';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: nodeLabels(n) },
    spec: {
      providerID: providerIdOf(n),
      ...(leaving ? { unschedulable: true } : {}),
      ...(taints.length ? { taints } : {}),
    },
    status: {
      addresses: nodeAddresses(n),
      conditions,
      nodeInfo: {
        architecture: arch,
        operatingSystem: isWindows(n) ? 'windows' : 'linux',
        bootID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: '',
        machineID: '',
        osImage: '',
        systemUUID: '',
      },
    },
  };
}
