/**
 * Records core/v1 Events through the write path, as client-go's record.EventRecorder sinks them: correlated
 * (lib/model/events.ts), then created, or the existing Event bumped (count + 1, lastTimestamp). Recording is
 * best-effort, as upstream's (its broadcaster drops what the server refuses and gives up after a few retries): an
 * Event that cannot be written is logged, never fails the reconcile that recorded it. Events in a terminating
 * namespace are refused by admission and dropped silently, as upstream does.
 *
 * Event writes are in the change log but never trigger a reconcile: the Pipe's filter and logRecordToMessage drop
 * them (lib/events/object-message.ts).
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import type { WritePath } from '../api/write-path.js';
import { EVENTS } from '../api/resources.js';
import { AlreadyExistsError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import {
  bumpEvent,
  EventCorrelator,
  makeEvent,
  referenceOf,
  type Clock,
  type EventObjectRef,
  type EventType,
} from '../model/events.js';
import type { KubeObject } from '../store/types.js';
import type { Logger } from './logger.js';

/** Source components, as the upstream controllers name themselves. */
export const SOURCES = {
  service: 'service-controller',
  node: 'node-controller',
  cloudNode: 'cloud-node-lifecycle-controller',
  endpointSliceMirroring: 'endpointslice-mirroring-controller',
  endpointSlice: 'endpoint-slice-controller',
} as const;

export type SourceComponent = (typeof SOURCES)[keyof typeof SOURCES];

export interface EventRecorderDeps {
  writes: WritePath;
  log?: Logger;
  clock?: Clock;
}

/** What a controller records with: one object (or reference), a type, a reason and a message. */
export interface Recorder {
  event(obj: KubeObject | EventObjectRef, type: EventType, reason: string, message: string): Promise<void>;
}

const ATTEMPTS = 3;

export class EventRecorder {
  private readonly correlator: EventCorrelator;
  private readonly clock: Clock;
  constructor(private readonly deps: EventRecorderDeps) {
    this.clock = deps.clock ?? { now: () => new Date() };
    this.correlator = new EventCorrelator(this.clock);
  }

  /** A recorder for one source component (all share the correlator, as one broadcaster's recorders do). */
  for(component: SourceComponent): Recorder {
    return {
      event: (obj, type, reason, message) => {
        const ref = 'metadata' in obj ? referenceOf(obj as KubeObject) : (obj as EventObjectRef);
        return this.record(makeEvent(ref, type, reason, message, { component }, this.clock.now()));
      },
    };
  }

  private async record(ev: CoreV1Event): Promise<void> {
    const { event } = this.correlator.correlate(ev);
    if (!event) return; // the spam filter dropped it
    try {
      await this.write(event);
    } catch (err) {
      if (err instanceof ForbiddenError) return; // the namespace is terminating
      this.deps.log?.warn('event not recorded', {
        reason: event.reason,
        object: `${event.involvedObject.kind}/${event.involvedObject.name}`,
        error: (err as Error).message,
      });
    }
  }

  /** Create, or bump the Event of the same name; a lost race (two recorders at once) is retried from a fresh read. */
  private async write(event: CoreV1Event): Promise<void> {
    const ns = event.metadata.namespace ?? 'default';
    const name = event.metadata.name ?? '';
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = (await this.deps.writes.read(EVENTS, ns, name).catch(notFound)) as CoreV1Event | undefined;
        if (!stored) await this.deps.writes.create(EVENTS, ns, event as KubeObject);
        else await this.deps.writes.update(EVENTS, ns, name, bumpEvent(stored, event) as KubeObject);
        return;
      } catch (err) {
        const raced = err instanceof AlreadyExistsError || err instanceof ConflictError;
        if (!raced || attempt >= ATTEMPTS) throw err;
      }
    }
  }
}

function notFound(err: unknown): undefined {
  if (err instanceof NotFoundError) return undefined;
  throw err;
}
