/**
 * Hostile input under the Gateway API kinds: random JSON, and valid objects with one value replaced or removed.
 * - the write path's preparation (prune, default, validate) throws nothing but InvalidError for any of it;
 * - through the API, no such body gets a 5xx, and a refused one leaves nothing stored;
 * - the schema part agrees with @kubernetes-models/gateway-api's own compiled validators: what they refuse, the
 *   API refuses (the structural schema is derived from that package; this checks the derivation).
 */
import fc from 'fast-check';
import { validate as validateGatewayClassSpec } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1GatewayClassSpec';
import { validate as validateGatewaySpec } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1GatewaySpec';
import { validate as validateReferenceGrantSpec } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1ReferenceGrantSpec';
import { validate as validateTLSRouteSpec } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1TLSRouteSpec';
import { validate as validateTCPRouteSpec } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha2TCPRouteSpec';
import { validate as validateUDPRouteSpec } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha2UDPRouteSpec';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors.js';
import { prepareGatewayCreate, prepareGatewayStatus, checkGatewayStatus } from '../../lib/model/gateway/prepare.js';
import { gatewaySchema, pruneGatewayObject, validateGatewayField } from '../../lib/model/gateway/schema.js';
import type { GatewayKindName } from '../../lib/model/gateway/validation.js';
import { inProcess, type InProcess } from '../support/in-process.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io';
const KINDS: GatewayKindName[] = ['GatewayClass', 'Gateway', 'ReferenceGrant', 'TLSRoute', 'TCPRoute', 'UDPRoute'];
const VERSION: Record<string, string> = { TCPRoute: 'v1alpha2', UDPRoute: 'v1alpha2' };
const PLURAL: Record<string, string> = {
  GatewayClass: 'gatewayclasses',
  Gateway: 'gateways',
  ReferenceGrant: 'referencegrants',
  TLSRoute: 'tlsroutes',
  TCPRoute: 'tcproutes',
  UDPRoute: 'udproutes',
};
const SPEC_VALIDATORS: Record<string, (d: unknown) => boolean> = {
  GatewayClass: validateGatewayClassSpec,
  Gateway: validateGatewaySpec,
  ReferenceGrant: validateReferenceGrantSpec,
  TLSRoute: validateTLSRouteSpec,
  TCPRoute: validateTCPRouteSpec,
  UDPRoute: validateUDPRouteSpec,
};

const ref = { name: 'svc', port: 80 };
const VALID: Record<string, Obj> = {
  GatewayClass: {
    controllerName: 'example.com/ctl',
    description: 'd',
    parametersRef: { group: 'g', kind: 'K', name: 'n' },
  },
  Gateway: {
    gatewayClassName: 'nlb',
    addresses: [{ type: 'IPAddress', value: '10.0.0.1' }],
    listeners: [
      {
        name: 'tcp',
        protocol: 'TCP',
        port: 80,
        allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ kind: 'TCPRoute' }] },
      },
      { name: 'tls', protocol: 'TLS', port: 443, hostname: '*.example.com', tls: { mode: 'Passthrough' } },
      {
        name: 'https',
        protocol: 'HTTPS',
        port: 8443,
        tls: { certificateRefs: [{ name: 'cert' }], options: { a: 'b' } },
      },
    ],
  },
  ReferenceGrant: {
    from: [{ group: G, kind: 'TCPRoute', namespace: 'a' }],
    to: [{ group: '', kind: 'Service', name: 's' }],
  },
  TLSRoute: {
    parentRefs: [{ name: 'gw', sectionName: 'tls' }],
    hostnames: ['a.example.com'],
    rules: [{ backendRefs: [ref] }],
  },
  TCPRoute: {
    parentRefs: [{ name: 'gw', port: 80 }],
    rules: [{ name: 'r', backendRefs: [ref, { ...ref, weight: 0 }] }],
  },
  UDPRoute: {
    parentRefs: [{ name: 'gw', namespace: 'n' }],
    rules: [{ backendRefs: [{ ...ref, kind: 'Service', group: '' }] }],
  },
};
const STATUS: Obj = {
  conditions: [
    { type: 'Accepted', status: 'True', reason: 'A', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
  ],
  addresses: [{ type: 'Hostname', value: 'a.example.com' }],
  listeners: [{ name: 'tcp', attachedRoutes: 1, supportedKinds: [{ kind: 'TCPRoute' }], conditions: [] }],
  parents: [{ parentRef: { name: 'gw' }, controllerName: 'example.com/c', conditions: [] }],
};

const object = (kind: string, spec: unknown, name = 'fuzz'): Obj => ({
  apiVersion: `${G}/${VERSION[kind] ?? 'v1'}`,
  kind,
  metadata: { name, namespace: kind === 'GatewayClass' ? undefined : 'default' },
  spec,
});

/** Every path into a JSON value (object keys and array indexes). */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (typeof v === 'object' && v !== null)
    return [...here, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return here;
}

function mutate(v: unknown, path: (string | number)[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(cur)) delete cur[last];
  else cur[last] = replacement;
  return copy;
}

const SCALARS = fc.constantFrom<unknown>(
  '',
  'a',
  'Bad_Name',
  '*.example.com',
  'x'.repeat(300),
  'TCP',
  'Terminate',
  'Same',
  'example.com/x',
  '10.0.0.1',
  0,
  -1,
  1,
  64,
  65535,
  65536,
  1.5,
  2 ** 31,
  1000001,
  true,
  null,
  [],
  {},
  [{}],
  [null],
  { name: 'x' },
);
const REPLACEMENT = fc.oneof(
  { weight: 3, arbitrary: SCALARS },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A valid spec of `kind` with one value replaced (or removed). */
const mutatedSpec = (kind: string) =>
  fc.tuple(fc.nat(), REPLACEMENT, fc.boolean()).map(([i, value, remove]) => {
    const all = paths(VALID[kind]).filter((p) => p.length > 0);
    return mutate(VALID[kind], all[i % all.length]!, value, remove);
  });

const ANY_KIND = fc.constantFrom(...KINDS);
const HOSTILE_SPEC = (kind: string) => fc.oneof(mutatedSpec(kind), fc.jsonValue({ maxDepth: 4 }));

const onlyInvalid = (f: () => void) => {
  try {
    f();
  } catch (err) {
    if (!(err instanceof InvalidError)) throw err;
  }
};

describe('the write path preparation is total', () => {
  it('creates and status writes of hostile objects throw only InvalidError', () => {
    fc.assert(
      fc.property(
        ANY_KIND.chain((k) =>
          fc.tuple(fc.constant(k), HOSTILE_SPEC(k), fc.oneof(fc.jsonValue({ maxDepth: 3 }), mutatedStatus())),
        ),
        ([kind, spec, status]) => {
          onlyInvalid(() => prepareGatewayCreate(kind, object(kind, spec) as never));
          const next = { ...object(kind, VALID[kind]), status } as Obj;
          onlyInvalid(() => {
            prepareGatewayStatus(kind, next);
            checkGatewayStatus(kind, next, object(kind, VALID[kind]));
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('every valid base is accepted', () => {
    for (const kind of KINDS)
      expect(() => prepareGatewayCreate(kind, object(kind, VALID[kind]) as never)).not.toThrow();
  });
});

function mutatedStatus() {
  return fc.tuple(fc.nat(), REPLACEMENT, fc.boolean()).map(([i, value, remove]) => {
    const all = paths(STATUS).filter((p) => p.length > 0);
    return mutate(STATUS, all[i % all.length]!, value, remove);
  });
}

describe("agreement with the package's compiled validators", () => {
  it('a spec the package refuses is refused by the schema validation', () => {
    fc.assert(
      fc.property(
        ANY_KIND.chain((k) => fc.tuple(fc.constant(k), mutatedSpec(k))),
        ([kind, spec]) => {
          const o = object(kind, spec);
          const schema = gatewaySchema(String(o.apiVersion), kind)!;
          const pruned = (pruneGatewayObject(o, schema).value as Obj).spec;
          if (pruned === undefined || SPEC_VALIDATORS[kind]!(pruned)) return;
          expect(validateGatewayField(schema, 'spec', pruned)).not.toEqual([]);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('the package accepts every valid base (the mutations start from valid objects)', () => {
    for (const kind of KINDS) expect(SPEC_VALIDATORS[kind]!(VALID[kind])).toBe(true);
  });
});

describe('through the API', () => {
  let api: InProcess;
  beforeAll(async () => {
    api = await inProcess();
  });

  it('random bodies never get a 5xx, and a refused create stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        ANY_KIND.chain((k) => fc.tuple(fc.constant(k), HOSTILE_SPEC(k), fc.option(fc.jsonValue({ maxDepth: 2 })))),
        async ([kind, spec, extra]) => {
          const body = object(kind, spec);
          if (extra !== null) body.status = extra;
          const base = `/apis/${G}/${VERSION[kind] ?? 'v1'}/${kind === 'GatewayClass' ? '' : 'namespaces/default/'}${PLURAL[kind]}`;
          const res = await api.json('POST', base, { body });
          expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
          if (res.status === 201) {
            expect((await api.json('DELETE', `${base}/fuzz`)).status).toBe(200);
          } else {
            expect([400, 422]).toContain(res.status);
            expect((await api.json('GET', `${base}/fuzz`)).status).toBe(404);
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('hostile metadata never gets a 5xx (a mistyped field is the decoding error, 400)', async () => {
    const key = fc.constantFrom(
      'name',
      'labels',
      'annotations',
      'finalizers',
      'generateName',
      'ownerReferences',
      'uid',
      'x',
    );
    await fc.assert(
      fc.asyncProperty(ANY_KIND, key, fc.jsonValue({ maxDepth: 2 }), async (kind, k, value) => {
        const body = object(kind, VALID[kind]);
        body.metadata = { ...(body.metadata as Obj), [k]: value };
        const base = `/apis/${G}/${VERSION[kind] ?? 'v1'}/${kind === 'GatewayClass' ? '' : 'namespaces/default/'}${PLURAL[kind]}`;
        const res = await api.json('POST', base, { body });
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
        if (res.status === 201) await api.json('DELETE', `${base}/${res.body.metadata.name}`);
      }),
      { numRuns: 120 },
    );
  });

  it('random status writes never get a 5xx', async () => {
    const base = `/apis/${G}/v1/namespaces/default/gateways`;
    expect((await api.json('POST', base, { body: object('Gateway', VALID.Gateway, 'gw') })).status).toBe(201);
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedStatus(), fc.jsonValue({ maxDepth: 3 })), async (status) => {
        const current = (await api.json('GET', `${base}/gw`)).body;
        const res = await api.json('PUT', `${base}/gw/status`, { body: { ...current, status } });
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
      }),
      { numRuns: 80 },
    );
  });
});
