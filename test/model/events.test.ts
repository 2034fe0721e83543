/**
 * Event correlation as client-go's tools/record does it (lib/model/events.ts), on a simulated clock: the same
 * event bumps one Event (same derived name), similar events with other messages are folded after 10 within
 * 10 minutes, a source bursts 25 events about one object and then gets one every 5 minutes.
 */
import { describe, expect, it } from 'vitest';
import {
  bumpEvent,
  EventCorrelator,
  eventKey,
  makeEvent,
  referenceOf,
  type EventType,
} from '../../lib/model/events.js';

class SimClock {
  t = Date.parse('2025-01-01T00:00:00.000Z');
  now = () => new Date(this.t);
  advance(s: number) {
    this.t += s * 1000;
  }
}

const svc = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'shop', name: 'web', uid: 'u-1', resourceVersion: '42' },
};

const ev = (
  clock: SimClock,
  reason = 'EnsuringLoadBalancer',
  message = 'Ensuring load balancer',
  type: EventType = 'Normal',
) => makeEvent(referenceOf(svc), type, reason, message, { component: 'service-controller' }, clock.now());

describe('makeEvent', () => {
  it('is the core/v1 Event client-go makes: involved object, source, reporting controller, count 1', () => {
    const clock = new SimClock();
    expect(ev(clock)).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: '', namespace: 'shop' },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: 'shop',
        name: 'web',
        uid: 'u-1',
        resourceVersion: '42',
      },
      reason: 'EnsuringLoadBalancer',
      message: 'Ensuring load balancer',
      source: { component: 'service-controller' },
      firstTimestamp: '2025-01-01T00:00:00.000Z',
      lastTimestamp: '2025-01-01T00:00:00.000Z',
      count: 1,
      type: 'Normal',
      reportingComponent: 'service-controller',
      reportingInstance: '',
    });
  });

  it('an Event about a cluster-scoped object (a Node) lives in default', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ip-10-0-1-5.ec2.internal', uid: 'n-1' } };
    const e = makeEvent(
      referenceOf(node),
      'Normal',
      'RegisteredNode',
      'x',
      { component: 'node-controller' },
      new Date(),
    );
    expect(e.metadata.namespace).toBe('default');
    expect(e.involvedObject.namespace).toBeUndefined();
  });
});

describe('EventCorrelator', () => {
  it('the same event gets the same name (so it is bumped, not duplicated); another reason or object another one', () => {
    const clock = new SimClock();
    const c = new EventCorrelator(clock);
    const a = c.correlate(ev(clock)).event!;
    clock.advance(30);
    const b = c.correlate(ev(clock)).event!;
    expect(a.metadata.name).toBe(b.metadata.name);
    expect(a.metadata.name).toMatch(/^web\.[0-9a-f]{16}$/);
    expect(c.correlate(ev(clock, 'EnsuredLoadBalancer', 'Ensured load balancer')).event!.metadata.name).not.toBe(
      a.metadata.name,
    );
    // A fresh correlator (another process, a restart) derives the same name.
    expect(new EventCorrelator(clock).correlate(ev(clock)).event!.metadata.name).toBe(a.metadata.name);
    // The resourceVersion of the involved object is not part of the key: a changed Service bumps the same Event.
    expect(eventKey({ ...a, involvedObject: { ...a.involvedObject, resourceVersion: '43' } })).toBe(eventKey(a));
  });

  it('bumping keeps the first timestamp and the first involved object, takes the count + 1 and the latest time', () => {
    const clock = new SimClock();
    const first = ev(clock);
    clock.advance(60);
    const again = { ...ev(clock), involvedObject: { ...first.involvedObject, resourceVersion: '43' } };
    const bumped = bumpEvent({ ...first, count: 4 }, again);
    expect(bumped.count).toBe(5);
    expect(bumped.firstTimestamp).toBe(first.firstTimestamp);
    expect(bumped.lastTimestamp).toBe('2025-01-01T00:01:00.000Z');
    expect(bumped.involvedObject.resourceVersion).toBe('42');
  });

  it('the 10th similar event (other messages, same reason) within 10 minutes becomes one combined Event', () => {
    const clock = new SimClock();
    const c = new EventCorrelator(clock);
    const names = new Set<string>();
    for (let i = 1; i <= 9; i++) {
      const e = c.correlate(
        ev(clock, 'SyncLoadBalancerFailed', `Error syncing load balancer: attempt ${i}`, 'Warning'),
      ).event!;
      expect(e.message).toBe(`Error syncing load balancer: attempt ${i}`);
      names.add(e.metadata.name!);
      clock.advance(10);
    }
    expect(names.size).toBe(9);
    const combined = [10, 11, 12].map(
      (i) =>
        c.correlate(ev(clock, 'SyncLoadBalancerFailed', `Error syncing load balancer: attempt ${i}`, 'Warning')).event!,
    );
    expect(combined[0]!.message).toBe('(combined from similar events): Error syncing load balancer: attempt 10');
    expect(new Set(combined.map((e) => e.metadata.name)).size).toBe(1);
    expect(names.has(combined[0]!.metadata.name!)).toBe(false);
    // Quiet for longer than the interval: messages count afresh.
    clock.advance(601);
    expect(
      c.correlate(ev(clock, 'SyncLoadBalancerFailed', 'Error syncing load balancer: later', 'Warning')).event!.message,
    ).toBe('Error syncing load balancer: later');
  });

  it('a source bursts 25 events about one object, then one every 5 minutes; other objects are not held back', () => {
    const clock = new SimClock();
    const c = new EventCorrelator(clock);
    const allowed = () => c.correlate(ev(clock)).event !== undefined;
    for (let i = 0; i < 25; i++) expect(allowed()).toBe(true);
    expect(allowed()).toBe(false);
    const other = { ...svc, metadata: { ...svc.metadata, name: 'api', uid: 'u-2' } };
    const otherEv = makeEvent(referenceOf(other), 'Normal', 'X', 'y', { component: 'service-controller' }, clock.now());
    expect(c.correlate(otherEv).event).toBeDefined();
    clock.advance(299);
    expect(allowed()).toBe(false);
    clock.advance(1);
    expect(allowed()).toBe(true);
    expect(allowed()).toBe(false);
  });
});
