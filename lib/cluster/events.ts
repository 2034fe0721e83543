/**
 * Events written to a cluster, about its Service: what the controller recorded on the mirror (cloud-provider's
 * reasons: EnsuringLoadBalancer, EnsuredLoadBalancer, SyncLoadBalancerFailed, DeletingLoadBalancer, ...) re-aimed at
 * the cluster's object (its uid), so `kubectl describe service` there lists them.
 *
 * Pure: no AWS SDK, no Kubernetes client.
 */
import type { CoreV1Event, V1Service } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';

export interface EventFields {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** The Event's name; an event recorded again under the same name raises its count. */
  name?: string;
}

/** A stable Event name for a message about `svc` (the same message again is the same Event, counted). */
export function eventNameFor(svc: V1Service, reason: string, message: string): string {
  const h = createHash('sha256').update(`${svc.metadata?.uid}\n${reason}\n${message}`).digest('hex').slice(0, 16);
  return `${svc.metadata?.name ?? 'service'}.${h}`;
}

export function copyEvent(f: EventFields, svc: V1Service, component: string, src?: CoreV1Event): CoreV1Event {
  const now = new Date();
  const ns = svc.metadata?.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: f.name ?? eventNameFor(svc, f.reason, f.message), namespace: ns },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Service',
      namespace: ns,
      name: svc.metadata?.name,
      uid: svc.metadata?.uid,
      resourceVersion: svc.metadata?.resourceVersion,
    },
    type: f.type,
    reason: f.reason,
    message: f.message,
    count: f.count,
    firstTimestamp: src?.firstTimestamp ?? now,
    lastTimestamp: src?.lastTimestamp ?? now,
    source: { component },
    reportingComponent: component,
  };
}
