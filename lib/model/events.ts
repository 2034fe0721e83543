/**
 * core/v1 Events as client-go's tools/record makes and correlates them, pure (event.go makeEvent, events_cache.go):
 *
 * - an Event is about an object (involvedObject with kind, namespace, name, uid, apiVersion, resourceVersion), in
 *   the object's namespace (`default` for cluster-scoped objects such as Nodes), with source.component and
 *   reportingComponent the recording controller, firstTimestamp = lastTimestamp = now, count 1;
 * - the same event again (same source, object, type, reason and message: getEventKey) bumps `count` and
 *   `lastTimestamp` of the existing Event instead of creating another (eventObserve);
 * - an 11th similar event (same source, object, type and reason, another message) within 10 minutes is folded into
 *   one Event whose message starts `(combined from similar events): ` (EventAggregator, in-process as upstream's);
 * - a source may burst 25 events about one object, then one every 5 minutes (EventSourceObjectSpamFilter,
 *   in-process as upstream's).
 *
 * Unlike upstream (`<object>.<nanoseconds, hex>`), an Event's name is derived from its correlation key
 * (`<object>.<16 hex digits of sha256>`), so the same event recorded by a retried reconcile, another process or
 * after a restart finds the Event to bump instead of creating a duplicate.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { sha256Hex } from './canonical.js';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about (a v1.ObjectReference). */
export interface EventObjectRef {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventSource {
  component: string;
  host?: string;
}

/** The reference client-go's GetReference makes from an object. */
export function referenceOf(obj: {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string };
}): EventObjectRef {
  const m = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion ?? 'v1',
    kind: obj.kind ?? '',
    ...(m.namespace ? { namespace: m.namespace } : {}),
    name: m.name ?? '',
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}

/** makeEvent: a new Event (count 1) about `ref`. Its name is set by the correlator. */
export function makeEvent(
  ref: EventObjectRef,
  type: EventType,
  reason: string,
  message: string,
  source: EventSource,
  now: Date,
): CoreV1Event {
  const t = now.toISOString() as unknown as Date;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: '', namespace: ref.namespace || 'default' },
    involvedObject: { ...ref },
    reason,
    message,
    source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
    type,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
  };
}

const join = (parts: (string | undefined)[]): string => parts.map((p) => p ?? '').join('\u0000');

/** getEventKey: source, object (with uid and field path), type, reason and message. */
export function eventKey(e: CoreV1Event): string {
  const o = e.involvedObject;
  return join([
    e.source?.component,
    e.source?.host,
    o.kind,
    o.namespace,
    o.name,
    o.fieldPath,
    o.uid,
    o.apiVersion,
    e.type,
    e.reason,
    e.message,
  ]);
}

/** EventAggregatorByReasonFunc's aggregate key: the event key without the message (plus the reporter). */
export function aggregateKey(e: CoreV1Event): string {
  const o = e.involvedObject;
  return join([
    e.source?.component,
    e.source?.host,
    o.kind,
    o.namespace,
    o.name,
    o.uid,
    o.apiVersion,
    e.type,
    e.reason,
    e.reportingComponent,
    e.reportingInstance,
  ]);
}

/** The Event's name for a correlation key: `<object>.<16 hex digits>`. */
export const eventName = (objectName: string, key: string): string => `${objectName}.${sha256Hex(key).slice(0, 16)}`;

/**
 * eventObserve: the stored Event seen once more. Its patch carries count + 1, lastTimestamp and the (latest)
 * message; everything else, the involved object's resourceVersion included, stays as first recorded.
 */
export function bumpEvent(stored: CoreV1Event, incoming: CoreV1Event): CoreV1Event {
  return {
    ...stored,
    message: incoming.message,
    count: (stored.count ?? 1) + 1,
    lastTimestamp: incoming.lastTimestamp,
  };
}

export interface Clock {
  now(): Date;
}

/** LRU map with a bound, as groupcache's lru.Cache (client-go's caches hold 4096 entries). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

export const CORRELATOR_DEFAULTS = {
  cacheSize: 4096,
  /** defaultAggregateMaxEvents and defaultAggregateIntervalInSeconds. */
  aggregateMaxEvents: 10,
  aggregateIntervalSeconds: 600,
  /** defaultSpamBurst and defaultSpamQPS (one every 300 s). */
  spamBurst: 25,
  spamRefillSeconds: 300,
};

export interface Correlated {
  /** The event to record (its name set), or undefined when the spam filter dropped it. */
  event?: CoreV1Event;
}

/**
 * EventCorrelator: spam filter, then aggregation of similar events, then the name of the Event to create or bump.
 * State is per process, as upstream's; what survives a restart is the derived name, which finds the stored Event.
 */
export class EventCorrelator {
  private readonly spam: Lru<{ tokens: number; at: number }>;
  private readonly aggregates: Lru<{ messages: Set<string>; at: number }>;
  constructor(
    private readonly clock: Clock = { now: () => new Date() },
    private readonly opts = CORRELATOR_DEFAULTS,
  ) {
    this.spam = new Lru(opts.cacheSize);
    this.aggregates = new Lru(opts.cacheSize);
  }

  correlate(e: CoreV1Event): Correlated {
    if (!this.allow(e)) return {};
    const { event, key } = this.aggregate(e);
    return { event: { ...event, metadata: { ...event.metadata, name: eventName(e.involvedObject.name ?? '', key) } } };
  }

  /** A token bucket per source and object: `spamBurst` at once, refilled one per `spamRefillSeconds`. */
  private allow(e: CoreV1Event): boolean {
    const o = e.involvedObject;
    const key = join([e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion]);
    const now = this.clock.now().getTime();
    const b = this.spam.get(key) ?? { tokens: this.opts.spamBurst, at: now };
    const refill = (now - b.at) / (this.opts.spamRefillSeconds * 1000);
    const tokens = Math.min(this.opts.spamBurst, b.tokens + refill);
    const allowed = tokens >= 1;
    this.spam.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed;
  }

  /** EventAggregate: from the 10th distinct message of one reason within the interval, one combined Event. */
  private aggregate(e: CoreV1Event): { event: CoreV1Event; key: string } {
    const aKey = aggregateKey(e);
    const now = this.clock.now().getTime();
    let rec = this.aggregates.get(aKey);
    if (!rec || now - rec.at > this.opts.aggregateIntervalSeconds * 1000) rec = { messages: new Set(), at: now };
    rec.messages.add(e.message ?? '');
    rec.at = now;
    this.aggregates.set(aKey, rec);
    if (rec.messages.size < this.opts.aggregateMaxEvents) return { event: e, key: eventKey(e) };
    // Do not grow the set any larger than the maximum (upstream pops any one element).
    rec.messages.delete(rec.messages.values().next().value as string);
    return { event: { ...e, message: `(combined from similar events): ${e.message ?? ''}` }, key: aKey };
  }
}
