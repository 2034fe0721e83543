/**
 * The EventBridge envelope for object changes (docs/events.md has examples):
 *   source:      "serverless-service-controller"
 *   detail-type: "Service Change" | "Pod Change" | "Endpoints Change"
 *   detail:      { type: "ADDED" | "MODIFIED" | "DELETED", object: <the Kubernetes object> }
 * It is the watch event of the Kubernetes API, carried by EventBridge. Parsing is strict: a malformed envelope is a
 * permanent error (retrying the same bytes cannot help), reported with the field that is wrong.
 */
import { InvalidError } from '../errors.js';

export const EVENT_SOURCE = 'serverless-service-controller';

export const DETAIL_TYPES = {
  Service: 'Service Change',
  Pod: 'Pod Change',
  Endpoints: 'Endpoints Change',
} as const;

export type ObjectKind = keyof typeof DETAIL_TYPES;
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface KubeObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; generation?: number };
  [k: string]: unknown;
}

export interface ObjectChangeDetail<T extends KubeObjectLike = KubeObjectLike> {
  type: WatchEventType;
  object: T;
}

/** The subset of an EventBridge event this controller reads (as delivered to Lambda or inside an SQS body). */
export interface EventBridgeEnvelope<D = unknown> {
  version?: string;
  id?: string;
  source: string;
  account?: string;
  time?: string;
  region?: string;
  resources?: string[];
  'detail-type': string;
  detail: D;
}

export interface ParsedObjectEvent {
  kind: ObjectKind;
  type: WatchEventType;
  object: KubeObjectLike;
  namespace: string;
  name: string;
  /** Per-object resourceVersion as an integer when the producer set one, used to drop stale/duplicate events. */
  resourceVersion?: number;
  eventId?: string;
}

const KIND_BY_DETAIL_TYPE: Record<string, ObjectKind> = Object.fromEntries(
  Object.entries(DETAIL_TYPES).map(([k, v]) => [v, k as ObjectKind]),
);

function fail(field: string, message: string): never {
  throw new InvalidError(`invalid event: ${field}: ${message}`, [{ field, message }]);
}

export function parseObjectEvent(raw: unknown): ParsedObjectEvent {
  if (typeof raw !== 'object' || raw === null) fail('event', 'must be a JSON object');
  const ev = raw as Partial<EventBridgeEnvelope>;
  if (ev.source !== EVENT_SOURCE) fail('source', `must be "${EVENT_SOURCE}", got ${JSON.stringify(ev.source)}`);
  const kind = KIND_BY_DETAIL_TYPE[String(ev['detail-type'])];
  if (!kind)
    fail(
      'detail-type',
      `unsupported ${JSON.stringify(ev['detail-type'])}: supported values: ${Object.values(DETAIL_TYPES)
        .map((d) => JSON.stringify(d))
        .join(', ')}`,
    );
  const detail = ev.detail as Partial<ObjectChangeDetail> | undefined;
  if (typeof detail !== 'object' || detail === null) fail('detail', 'Required value');
  if (detail.type !== 'ADDED' && detail.type !== 'MODIFIED' && detail.type !== 'DELETED')
    fail(
      'detail.type',
      `Unsupported value: ${JSON.stringify(detail.type)}: supported values: "ADDED", "MODIFIED", "DELETED"`,
    );
  const obj = detail.object;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) fail('detail.object', 'Required value');
  if (obj.kind !== undefined && obj.kind !== kind)
    fail('detail.object.kind', `${JSON.stringify(obj.kind)} does not match detail-type "${ev['detail-type']}"`);
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') fail('detail.object.metadata.name', 'Required value');
  const namespace = obj.metadata?.namespace ?? 'default';
  const rvText = obj.metadata?.resourceVersion;
  const rv = rvText !== undefined && /^\d{1,15}$/.test(rvText) ? Number(rvText) : undefined;
  return {
    kind,
    type: detail.type,
    object: { ...obj, kind, apiVersion: obj.apiVersion ?? 'v1' },
    namespace,
    name,
    resourceVersion: rv,
    eventId: ev.id,
  };
}

/** Builds the PutEvents entry for one watch event. */
export function toPutEventsEntry(kind: ObjectKind, type: WatchEventType, object: KubeObjectLike, busName: string) {
  const ns = object.metadata?.namespace ?? 'default';
  const name = object.metadata?.name ?? '';
  return {
    Source: EVENT_SOURCE,
    DetailType: DETAIL_TYPES[kind],
    EventBusName: busName,
    // resources is free-form for custom events; a stable object reference helps filtering and tracing.
    Resources: [`k8s:${kind.toLowerCase()}:${ns}/${name}`],
    Detail: JSON.stringify({ type, object } satisfies ObjectChangeDetail),
  };
}
