/**
 * Nothing in lib/model throws anything but a validation error (InvalidError) for any JSON value: arbitrary JSON at the
 * top, and arbitrary JSON grafted at every position of a valid Service, Pod and Endpoints (each value replaced, a key
 * added to each object, an element appended to each array). Keys include every Object.prototype member name.
 *
 * Each case runs the whole model pipeline an entry point runs: the manifest reader on the JSON text, typed decoding
 * (strict and not), defaulting (create and update), validation, load-balancer annotations, endpoint computation, and
 * the message formatting; every message must stay one bounded line. 22,000 cases in all (fast-check, seeded).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { decode } from '../../lib/model/decode.js';
import { parseManifests } from '../../lib/model/manifest.js';
import { defaultEndpoints, defaultPod, defaultService, defaultServiceUpdate } from '../../lib/model/defaults.js';
import { throwIfInvalid } from '../../lib/model/field-errors.js';
import {
  validateEndpointSlice,
  validateEndpoints,
  validatePod,
  validateService,
  validateServiceUpdate,
} from '../../lib/model/validation.js';
import { A, parseLoadBalancerAnnotations } from '../../lib/model/annotations.js';
import { endpointsForServices } from '../../lib/model/endpoints.js';
import { selectorToString } from '../../lib/model/selector.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { InvalidError } from '../../lib/errors.js';

const cfg = DEFAULT_CLUSTER_CONFIG;
const SEED = 11;

// ---------------------------------------------------------------------------------------------------------------
// Valid objects to graft into

const SERVICE = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'default',
    labels: { app: 'web' },
    annotations: {
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
      'service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags': 'team=a,cost=b',
      'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=30',
    },
  },
  spec: {
    type: 'LoadBalancer',
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP', nodePort: 30053 },
    ],
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    externalTrafficPolicy: 'Local',
    loadBalancerSourceRanges: ['10.0.0.0/8'],
  },
};

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
  spec: {
    nodeName: 'ip-10-0-1-5.ec2.internal',
    containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    initContainers: [{ name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'dns', containerPort: 5353 }] }],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
  status: {
    phase: 'Running',
    podIP: '10.244.1.7',
    podIPs: [{ ip: '10.244.1.7' }],
    conditions: [{ type: 'Ready', status: 'True' }],
  },
};

const ENDPOINTS = {
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'db', namespace: 'default' },
  subsets: [
    {
      addresses: [{ ip: '10.0.5.10', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'db-0' } }],
      notReadyAddresses: [{ ip: '10.0.5.11' }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    },
  ],
};

const STORED_SERVICE: V1Service = {
  ...defaultService(SERVICE as V1Service),
  metadata: { ...SERVICE.metadata, uid: 'u' },
};
const STORED_POD = defaultPod(POD as V1Pod);
const STORED_ENDPOINTS = defaultEndpoints(ENDPOINTS as V1Endpoints);

// ---------------------------------------------------------------------------------------------------------------
// Arbitrary JSON, as text (so that keys such as __proto__ become own properties, as in any parsed body)

const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'valueOf',
  'toString',
  'toLocaleString',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__defineGetter__',
  '__lookupGetter__',
  'toJSON',
  'then',
];
const FIELD_KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'name',
  'namespace',
  'labels',
  'annotations',
  'spec',
  'status',
  'ports',
  'port',
  'targetPort',
  'nodePort',
  'protocol',
  'type',
  'selector',
  'containers',
  'containerPort',
  'subsets',
  'addresses',
  'ip',
  'podIP',
  'podIPs',
  'conditions',
  'items',
  'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes',
  'service.beta.kubernetes.io/load-balancer-source-ranges',
];
const key = fc.oneof(fc.constantFrom(...PROTO_KEYS, ...FIELD_KEYS), fc.string({ maxLength: 6 }));
const STRINGS = [
  '169.254.169.254',
  '127.0.0.1',
  '0.0.0.0',
  '10.96.0.10',
  '::ffff:169.254.169.254',
  'None',
  '',
  'TCP',
  // key=value annotation lists with keys named like prototype members
  '__proto__=1',
  'constructor=x,a=b',
  'valueOf=true',
];
const leaf = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '0', '-1', '80', '65536', '2147483648', '1e400', '-0', '1.5', '9e15'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom(...STRINGS, ...PROTO_KEYS).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
);
const { json } = fc.letrec<{ json: string; array: string; object: string }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
  object: fc
    .array(fc.tuple(key, tie('json')), { maxLength: 5 })
    .map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}));

/** A top-level value that is sometimes an object of a served kind, so arbitrary bodies get past the kind check. */
const topLevel = fc.oneof(
  json,
  fc
    .tuple(
      fc.constantFrom(
        ['v1', 'Service'],
        ['v1', 'Pod'],
        ['v1', 'Endpoints'],
        ['discovery.k8s.io/v1', 'EndpointSlice'],
        ['v1', 'Namespace'],
        ['v1', 'Event'],
        ['v1', 'Node'],
        ['v1', 'List'],
      ),
      fc.array(fc.tuple(key, json), { maxLength: 5 }),
    )
    .map(
      ([[apiVersion, kind], kvs]) =>
        `{"apiVersion":"${apiVersion}","kind":"${kind}"${kvs.map(([k, v]) => `,${JSON.stringify(k)}:${v}`).join('')}}`,
    ),
);

// ---------------------------------------------------------------------------------------------------------------
// Graft positions

type Seg = string | number;
type Graft = { path: Seg[]; mode: 'replace' | 'add' };

/** Every value position of `o`, every "add a key" position of its objects and "append" position of its arrays. */
function positions(o: unknown, path: Seg[] = []): Graft[] {
  const out: Graft[] = [];
  if (path.length > 0) out.push({ path, mode: 'replace' });
  if (Array.isArray(o)) {
    out.push({ path, mode: 'add' });
    o.forEach((v, i) => out.push(...positions(v, [...path, i])));
  } else if (o !== null && typeof o === 'object') {
    out.push({ path, mode: 'add' });
    for (const [k, v] of Object.entries(o)) out.push(...positions(v, [...path, k]));
  }
  return out;
}

function graft(base: unknown, g: Graft, value: unknown, newKey: string): unknown {
  const root = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  let parent: unknown = root;
  const segs = g.mode === 'add' ? g.path : g.path.slice(0, -1);
  for (const s of segs) parent = (parent as Record<Seg, unknown>)[s];
  const set = (o: object, k: Seg) =>
    Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
  if (g.mode === 'replace') set(parent as object, g.path[g.path.length - 1]!);
  else if (Array.isArray(parent)) parent.push(value);
  else set(parent as object, newKey);
  return root;
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline

function runModel(raw: unknown, strict: boolean): void {
  const { object } = decode(raw, { strict });
  switch (object.kind) {
    case 'Service': {
      const created = defaultService(object);
      const errs = validateService(created, cfg);
      validateService(created, cfg, { allocated: true });
      parseLoadBalancerAnnotations(created);
      selectorToString(created.spec?.selector);
      endpointsForServices([created], [STORED_POD], [STORED_ENDPOINTS], cfg.serviceCidr);
      const updated = defaultServiceUpdate(object, STORED_SERVICE);
      validateServiceUpdate(updated, STORED_SERVICE, cfg);
      throwIfInvalid('Service', created.metadata?.name ?? '', errs);
      return;
    }
    case 'Pod': {
      const pod = defaultPod(object);
      const errs = validatePod(pod, cfg);
      endpointsForServices([STORED_SERVICE], [pod, STORED_POD], [], cfg.serviceCidr);
      throwIfInvalid('Pod', pod.metadata?.name ?? '', errs);
      return;
    }
    case 'Endpoints': {
      const ep = defaultEndpoints(object);
      const errs = validateEndpoints(ep, cfg);
      const selectorless = defaultService({ metadata: { name: ep.metadata?.name }, spec: { ports: [{ port: 80 }] } });
      endpointsForServices([selectorless], [], [ep], cfg.serviceCidr);
      throwIfInvalid('Endpoints', ep.metadata?.name ?? '', errs);
      return;
    }
    case 'EndpointSlice':
      throwIfInvalid('EndpointSlice', object.metadata?.name ?? '', validateEndpointSlice(object, cfg));
      return;
    default:
      return;
  }
}

/** Runs everything; returns the validation error if one was thrown, fails the test on any other throw. */
function outcome(text: string): 'ok' | 'invalid' {
  const raw = JSON.parse(text) as unknown;
  let result: 'ok' | 'invalid' = 'ok';
  const attempt = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof InvalidError)) throw e;
      expect(e.message).not.toContain('\n');
      expect(e.message.length).toBeLessThan(20_000);
      result = 'invalid';
    }
  };
  attempt(() => runModel(raw, true));
  attempt(() => runModel(raw, false));
  attempt(() => parseManifests(text, 'fuzz.json'));
  return result;
}

/** Load-balancer annotations with arbitrary values, key=value lists among them (keys named like prototype members). */
const kvList = fc
  .array(fc.tuple(key, fc.constantFrom('1', 'true', 'x', '')), { minLength: 1, maxLength: 3 })
  .map((kvs) => kvs.map(([k, v]) => `${k}=${v}`).join(','));
const annotations = fc.dictionary(
  fc.constantFrom(...Object.values(A)),
  fc.oneof(kvList, fc.constantFrom(...STRINGS), fc.string({ maxLength: 8 })),
  { maxKeys: 6 },
);

const graftInto = (base: object) =>
  fc
    .tuple(fc.constantFrom(...positions(base)), json, key)
    .map(([g, v, k]) => JSON.stringify(graft(base, g, JSON.parse(v), k)));

describe('no JSON value makes lib/model throw anything but InvalidError', () => {
  it('arbitrary JSON at the top level (4,000 cases)', () => {
    const seen = { ok: 0, invalid: 0 };
    fc.assert(
      fc.property(topLevel, (text) => {
        seen[outcome(text)]++;
      }),
      { numRuns: 4_000, seed: SEED },
    );
    expect(seen.invalid).toBeGreaterThan(0);
  });

  it('arbitrary load-balancer annotations on a LoadBalancer Service (2,000 cases)', () => {
    const seen = { ok: 0, invalid: 0 };
    fc.assert(
      fc.property(annotations, (ann) => {
        seen[outcome(JSON.stringify({ ...SERVICE, metadata: { ...SERVICE.metadata, annotations: ann } }))]++;
      }),
      { numRuns: 2_000, seed: SEED },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.invalid).toBeGreaterThan(0);
  });

  it.each([
    ['Service', SERVICE, 6_000],
    ['Pod', POD, 5_000],
    ['Endpoints', ENDPOINTS, 5_000],
  ] as const)('arbitrary JSON grafted at every position of a valid %s', (_kind, base, numRuns) => {
    // The base itself is valid: every refusal below comes from the graft.
    expect(outcome(JSON.stringify(base))).toBe('ok');
    const seen = { ok: 0, invalid: 0 };
    fc.assert(
      fc.property(graftInto(base), (text) => {
        seen[outcome(text)]++;
      }),
      { numRuns, seed: SEED },
    );
    // Both outcomes occur: the grafts reach validation, not only decoding.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.invalid).toBeGreaterThan(0);
  });
});
