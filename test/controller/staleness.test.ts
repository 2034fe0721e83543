import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ParsedObjectEvent, WatchEventType } from '../../lib/events/envelope.js';
import {
  decide,
  SOURCE_RV_ANNOTATION,
  SOURCE_UID_ANNOTATION,
  toIngestObject,
  type EventDecision,
} from '../../lib/controller/staleness.js';

interface EvOpts {
  uid?: string;
  rv?: string;
  kind?: ParsedObjectEvent['kind'];
  spec?: Record<string, unknown>;
}

/** A parsed event as parseObjectEvent builds it (the numeric resourceVersion mirrors the object's text). */
function ev(type: WatchEventType, o: EvOpts = {}): ParsedObjectEvent {
  const rvNum = o.rv !== undefined && /^\d{1,15}$/.test(o.rv) ? Number(o.rv) : undefined;
  return {
    kind: o.kind ?? 'Service',
    type,
    namespace: 'default',
    name: 'web',
    resourceVersion: rvNum,
    object: {
      apiVersion: 'v1',
      kind: o.kind ?? 'Service',
      metadata: { name: 'web', namespace: 'default', uid: o.uid, resourceVersion: o.rv },
      spec: o.spec ?? {},
    },
  };
}

type Stored = { metadata: { uid?: string; resourceVersion?: string; annotations?: Record<string, string> } };

const ours = (uid: string, rv: string): Stored => ({ metadata: { uid, resourceVersion: rv } });
const ingested = (uid: string, rv: string, srcUid: string, srcRv: string): Stored => ({
  metadata: {
    uid,
    resourceVersion: rv,
    annotations: { [SOURCE_UID_ANNOTATION]: srcUid, [SOURCE_RV_ANNOTATION]: srcRv },
  },
});

describe('decide()', () => {
  const cases: [string, ParsedObjectEvent, Stored | undefined, EventDecision][] = [
    // Nothing stored.
    ['nothing stored, ADDED from outside -> ingest', ev('ADDED', { uid: 'x', rv: '5' }), undefined, 'ingest'],
    ['nothing stored, MODIFIED without uid -> ingest', ev('MODIFIED'), undefined, 'ingest'],
    [
      'nothing stored, DELETED -> current (reconcile the absence)',
      ev('DELETED', { uid: 'x', rv: '5' }),
      undefined,
      'current',
    ],

    // Same uid: versions from our own store.
    ['same uid, lower rv, ADDED -> stale', ev('ADDED', { uid: 'u', rv: '1' }), ours('u', '2'), 'stale'],
    ['same uid, lower rv, MODIFIED -> stale', ev('MODIFIED', { uid: 'u', rv: '3' }), ours('u', '7'), 'stale'],
    ['same uid, lower rv, DELETED -> stale', ev('DELETED', { uid: 'u', rv: '3' }), ours('u', '7'), 'stale'],
    ['same uid, equal rv, ADDED -> current', ev('ADDED', { uid: 'u', rv: '4' }), ours('u', '4'), 'current'],
    ['same uid, equal rv, MODIFIED -> current', ev('MODIFIED', { uid: 'u', rv: '4' }), ours('u', '4'), 'current'],
    ['same uid, equal rv, DELETED -> delete', ev('DELETED', { uid: 'u', rv: '4' }), ours('u', '4'), 'delete'],
    ['same uid, higher rv, MODIFIED -> ingest', ev('MODIFIED', { uid: 'u', rv: '5' }), ours('u', '4'), 'ingest'],
    ['same uid, higher rv, DELETED -> delete', ev('DELETED', { uid: 'u', rv: '5' }), ours('u', '4'), 'delete'],
    [
      'same uid, numeric compare (rv 10 is newer than rv 9, not older as text)',
      ev('MODIFIED', { uid: 'u', rv: '9' }),
      ours('u', '10'),
      'stale',
    ],
    ['same uid, event without rv -> current', ev('MODIFIED', { uid: 'u' }), ours('u', '4'), 'current'],
    ['same uid, non-numeric event rv -> current', ev('MODIFIED', { uid: 'u', rv: 'abc' }), ours('u', '4'), 'current'],
    ['same uid, non-numeric stored rv -> current', ev('MODIFIED', { uid: 'u', rv: '4' }), ours('u', 'x'), 'current'],
    ['same uid, no rv anywhere, DELETED -> delete', ev('DELETED', { uid: 'u' }), ours('u', 'x'), 'delete'],

    // A different uid: an external producer, remembered through the source annotations.
    [
      'external, rv below the ingested source rv -> stale',
      ev('MODIFIED', { uid: 'ext', rv: '2' }),
      ingested('u', '3', 'ext', '5'),
      'stale',
    ],
    [
      'external, duplicate of the ingested source rv -> stale',
      ev('MODIFIED', { uid: 'ext', rv: '5' }),
      ingested('u', '3', 'ext', '5'),
      'stale',
    ],
    [
      'external, newer source rv -> ingest',
      ev('MODIFIED', { uid: 'ext', rv: '6' }),
      ingested('u', '3', 'ext', '5'),
      'ingest',
    ],
    [
      'external, source rv compared numerically (10 > 9)',
      ev('MODIFIED', { uid: 'ext', rv: '10' }),
      ingested('u', '3', 'ext', '9'),
      'ingest',
    ],
    [
      'external DELETED at the ingested rv -> stale (a duplicate delete of what we hold is older)',
      ev('DELETED', { uid: 'ext', rv: '5' }),
      ingested('u', '3', 'ext', '5'),
      'stale',
    ],
    [
      'external DELETED newer than the ingested rv -> delete',
      ev('DELETED', { uid: 'ext', rv: '6' }),
      ingested('u', '3', 'ext', '5'),
      'delete',
    ],
    [
      'external DELETED of an older incarnation never deletes the newer ingested one',
      ev('DELETED', { uid: 'ext-old', rv: '99' }),
      ingested('u', '3', 'ext-new', '5'),
      'stale',
    ],
    [
      'our own DELETED of an older incarnation never deletes the re-created object',
      ev('DELETED', { uid: 'u-old', rv: '2' }),
      ours('u-new', '1'),
      'stale',
    ],
    [
      'an external producer re-creating the name (new uid) -> ingest',
      ev('ADDED', { uid: 'ext-new', rv: '1' }),
      ingested('u', '3', 'ext-old', '5'),
      'ingest',
    ],
    [
      'external event without uid for a stored object -> ingest (no identity to compare)',
      ev('MODIFIED', { rv: '1' }),
      ingested('u', '3', 'ext', '5'),
      'ingest',
    ],
    ['external DELETED without uid -> delete', ev('DELETED'), ours('u', '3'), 'delete'],
    [
      'external event with a uid but no rv, same source uid -> ingest (cannot prove it is older)',
      ev('MODIFIED', { uid: 'ext' }),
      ingested('u', '3', 'ext', '5'),
      'ingest',
    ],
    [
      'stored without metadata at all -> ingest',
      ev('MODIFIED', { uid: 'ext', rv: '1' }),
      {} as unknown as Stored,
      'ingest',
    ],
  ];

  it.each(cases)('%s', (_name, event, stored, want) => {
    expect(decide(event, stored)).toBe(want);
  });

  const afterDeletes: [string, ParsedObjectEvent, Stored | undefined, EventDecision][] = [
    ['late ADDED of a deleted uid, nothing stored -> stale', ev('ADDED', { uid: 'x', rv: '1' }), undefined, 'stale'],
    ['late MODIFIED of a deleted uid without rv -> stale', ev('MODIFIED', { uid: 'x' }), undefined, 'stale'],
    [
      'duplicate DELETED of a deleted uid, nothing stored -> current',
      ev('DELETED', { uid: 'x' }),
      undefined,
      'current',
    ],
    [
      'late MODIFIED of a deleted incarnation never overwrites the newer one',
      ev('MODIFIED', { uid: 'x', rv: '3' }),
      ingested('u', '1', 'y', '1'),
      'stale',
    ],
    [
      'late DELETED of a deleted incarnation never deletes the newer one',
      ev('DELETED', { uid: 'x', rv: '4' }),
      ingested('u', '1', 'x', '1'),
      'stale',
    ],
    ['other uids are unaffected', ev('ADDED', { uid: 'z', rv: '1' }), undefined, 'ingest'],
    ['events without uid are unaffected', ev('ADDED'), undefined, 'ingest'],
    ['the live object itself is unaffected', ev('MODIFIED', { uid: 'x', rv: '2' }), ours('x', '2'), 'current'],
  ];
  it.each(afterDeletes)('with uid x seen deleted: %s', (_name, event, stored, want) => {
    expect(decide(event, stored, ['w', 'x'])).toBe(want);
  });

  it('works the same for Pods and Endpoints', () => {
    for (const kind of ['Pod', 'Endpoints'] as const) {
      expect(decide(ev('MODIFIED', { kind, uid: 'u', rv: '1' }), ours('u', '2'))).toBe('stale');
      expect(decide(ev('MODIFIED', { kind, uid: 'ext', rv: '5' }), ingested('u', '3', 'ext', '5'))).toBe('stale');
      expect(decide(ev('MODIFIED', { kind, uid: 'ext', rv: '6' }), ingested('u', '3', 'ext', '5'))).toBe('ingest');
    }
  });
});

describe('toIngestObject()', () => {
  it("moves the producer's uid and resourceVersion to annotations and drops server-owned metadata", () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        uid: 'ext-uid',
        resourceVersion: '42',
        generation: 7,
        creationTimestamp: '2026-01-01T00:00:00Z',
        labels: { app: 'web' },
        annotations: { team: 'a' },
      },
      spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ hostname: 'somewhere-else.example' }] } },
    };
    const before = structuredClone(svc);
    const out = toIngestObject(svc, 'Service');
    expect(out).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web' },
        annotations: { team: 'a', [SOURCE_UID_ANNOTATION]: 'ext-uid', [SOURCE_RV_ANNOTATION]: '42' },
      },
      spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
    });
    // The event's copy is untouched (the caller may log it or compare with it).
    expect(svc).toEqual(before);
  });

  it("strips a Service's status (the controller owns it) but keeps a Pod's (the producer's report)", () => {
    const status = { phase: 'Running', podIP: '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }] };
    const pod = { metadata: { name: 'p', uid: 'pu', resourceVersion: '3' }, spec: {}, status };
    const out = toIngestObject(pod, 'Pod') as typeof pod;
    expect(out.status).toEqual(status);
    expect(out.metadata).toEqual({
      name: 'p',
      annotations: { [SOURCE_UID_ANNOTATION]: 'pu', [SOURCE_RV_ANNOTATION]: '3' },
    });
    const svc = { metadata: { name: 's' }, spec: {}, status: { loadBalancer: {} } };
    expect('status' in toIngestObject(svc, 'Service')).toBe(false);
    const ep = { metadata: { name: 'e' }, subsets: [], status: { x: 1 } };
    expect(toIngestObject(ep, 'Endpoints')).toEqual(ep);
  });

  it('adds no annotations when the producer gave neither uid nor resourceVersion', () => {
    const out = toIngestObject({ metadata: { name: 'web' }, spec: {} }, 'Service');
    expect(out.metadata).toEqual({ name: 'web' });
  });

  it('creates metadata when the object has none', () => {
    expect(toIngestObject({} as { metadata?: { name?: string } }, 'Pod')).toEqual({ metadata: {} });
  });
});

/**
 * A model of the store for one object name: what decide() sees (our uid, our resourceVersion, the producer's
 * identity in annotations) and what the controller does with each decision (ingest = an apply through the API,
 * which keeps our uid and bumps our resourceVersion; delete = gone).
 */
class ModelStore {
  stored: (Stored & { spec: unknown }) | undefined;
  /** What the controller remembers per name: uids whose DELETED it has seen. */
  deletedUids: string[] = [];
  private nextUid = 0;
  apply(e: ParsedObjectEvent): EventDecision {
    const d = decide(e, this.stored, this.deletedUids);
    const uid = e.object.metadata?.uid;
    if (e.type === 'DELETED' && uid && !this.deletedUids.includes(uid)) this.deletedUids.push(uid);
    if (d === 'ingest') {
      const obj = toIngestObject(structuredClone(e.object) as { metadata?: Record<string, unknown> }, e.kind);
      const prev = this.stored?.metadata;
      this.stored = {
        metadata: {
          uid: prev?.uid ?? `ours-${++this.nextUid}`,
          resourceVersion: String(Number(prev?.resourceVersion ?? '0') + 1),
          annotations: (obj.metadata?.annotations as Record<string, string> | undefined) ?? {},
        },
        spec: (obj as { spec?: unknown }).spec,
      };
    } else if (d === 'delete') {
      this.stored = undefined;
    }
    return d;
  }
  get sourceRv(): number | undefined {
    const v = this.stored?.metadata.annotations?.[SOURCE_RV_ANNOTATION];
    return v === undefined ? undefined : Number(v);
  }
}

/** n versions of one external object, then a delivery order: any permutation, with duplicates mixed in. */
const deliveries = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.integer({ min: 1, max: n }), { maxLength: 2 * n }),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i + 1),
        { minLength: n, maxLength: n },
      ),
    ),
  )
  .chain(([n, dups, perm]) =>
    fc.tuple(fc.constant(n), fc.shuffledSubarray([...perm, ...dups], { minLength: perm.length + dups.length })),
  );

describe('decide() against a model store (property)', () => {
  it("an external object's events in any order with duplicates never lower the stored version", () => {
    fc.assert(
      fc.property(deliveries, ([n, order]) => {
        const store = new ModelStore();
        let maxSeen = 0;
        let lastOurRv = 0;
        for (const rv of order) {
          const e = ev(rv === 1 ? 'ADDED' : 'MODIFIED', { uid: 'ext', rv: String(rv), spec: { version: rv } });
          const before = store.sourceRv ?? 0;
          store.apply(e);
          maxSeen = Math.max(maxSeen, rv);
          // Never lowered; always exactly the newest version delivered so far, with that version's spec.
          expect(store.sourceRv).toBeGreaterThanOrEqual(before);
          expect(store.sourceRv).toBe(maxSeen);
          expect(store.stored?.spec).toEqual({ version: maxSeen });
          // Our own resourceVersion only moves forward too, and only when something newer was ingested.
          const ourRv = Number(store.stored?.metadata.resourceVersion);
          expect(ourRv).toBeGreaterThanOrEqual(lastOurRv);
          expect(ourRv - lastOurRv).toBe(store.sourceRv! > before ? 1 : 0);
          lastOurRv = ourRv;
        }
        expect(store.sourceRv).toBe(n);
        // Every ingest was of a strictly newer version: at most n writes whatever the duplicates.
        expect(lastOurRv).toBeLessThanOrEqual(n);
      }),
      { numRuns: 300 },
    );
  });

  it('with its DELETED among them, the object is never resurrected once the delete was seen, in any order', () => {
    fc.assert(
      fc.property(deliveries, fc.nat(), ([n, order], pos) => {
        const store = new ModelStore();
        // Version n+1 is the deletion, delivered somewhere in the order (the rest may come before or after it).
        const all = [...order];
        all.splice(pos % (all.length + 1), 0, n + 1);
        let deleted = false;
        let maxSeen = 0;
        for (const rv of all) {
          const type: WatchEventType = rv === n + 1 ? 'DELETED' : rv === 1 ? 'ADDED' : 'MODIFIED';
          store.apply(ev(type, { uid: 'ext', rv: String(rv), spec: { version: rv } }));
          maxSeen = Math.max(maxSeen, rv);
          if (type === 'DELETED') deleted = true;
          if (deleted) expect(store.stored).toBeUndefined();
          else expect(store.sourceRv).toBe(maxSeen);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('events of our own object (versions up to the stored one) never cause a write, in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom<WatchEventType>('ADDED', 'MODIFIED'))),
        (storedRv, events) => {
          const store = new ModelStore();
          store.stored = { ...ours('u', String(storedRv)), spec: { mine: true } };
          for (const [rv, type] of events) {
            const d = store.apply(ev(type, { uid: 'u', rv: String(Math.min(rv, storedRv)) }));
            expect(['stale', 'current']).toContain(d);
          }
          expect(store.stored).toEqual({ ...ours('u', String(storedRv)), spec: { mine: true } });
        },
      ),
      { numRuns: 200 },
    );
  });
});
