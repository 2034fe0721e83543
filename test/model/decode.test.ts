/**
 * The typed decoding step (lib/model/decode.ts): the hostile inputs of issue 11 each refused with one apiserver-style
 * line, own-property lookups only, nulls, integer ranges, unknown fields under strict and non-strict decoding, open
 * parts kept, bounded messages.
 */
import { describe, expect, it } from 'vitest';
import { decode, MAX_NESTING_DEPTH, typeMetaOf, type DecodedObject } from '../../lib/model/decode.js';
import { DecodeError, InvalidError } from '../../lib/errors.js';
import { MAX_REPORTED_ERRORS } from '../../lib/model/field-errors.js';

const svc = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: { ports: [{ port: 80 }] },
  ...extra,
});

/** Decodes JSON text (so keys like __proto__ are own properties, as in any parsed body). */
const decodeText = (text: string, strict = true) => decode(JSON.parse(text), { strict });

const failure = (raw: unknown, strict = true): InvalidError => {
  try {
    decode(raw, { strict });
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidError);
    expect((e as Error).message).not.toContain('\n');
    return e as InvalidError;
  }
  throw new Error('expected decode to throw');
};
const failureText = (text: string, strict = true) => failure(JSON.parse(text), strict);

describe('the hostile inputs of issue 11', () => {
  it.each([
    [
      'spec.ports: [null]',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[null]}}',
      'Service "web" is invalid: spec.ports[0]: Invalid value: "null": spec.ports[0] in body must be of type object: "null"',
    ],
    [
      'an annotation whose value is null',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","annotations":{"a":null}}}',
      'Service "web" is invalid: metadata.annotations[a]: Invalid value: "null": metadata.annotations[a] in body must be of type string: "null"',
    ],
    [
      'an annotation whose value is a number',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","annotations":{"a":5}}}',
      'Service "web" is invalid: metadata.annotations[a]: Invalid value: "integer": metadata.annotations[a] in body must be of type string: "integer"',
    ],
    [
      'an annotation whose value is an object',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","annotations":{"a":{"b":1}}}}',
      'Service "web" is invalid: metadata.annotations[a]: Invalid value: "object": metadata.annotations[a] in body must be of type string: "object"',
    ],
    [
      'labels given as an array',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labels":["a"]}}',
      'Service "web" is invalid: metadata.labels: Invalid value: "array": metadata.labels in body must be of type object: "array"',
    ],
    [
      'containers: [null]',
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[null]}}',
      'Pod "p" is invalid: spec.containers[0]: Invalid value: "null": spec.containers[0] in body must be of type object: "null"',
    ],
    [
      'subsets: [null]',
      '{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"db"},"subsets":[null]}',
      'Endpoints "db" is invalid: subsets[0]: Invalid value: "null": subsets[0] in body must be of type object: "null"',
    ],
  ])('%s', (_name, text, message) => {
    const e = failureText(text);
    expect(e).not.toBeInstanceOf(DecodeError);
    expect(e.reason).toBe('Invalid');
    expect(e.message).toBe(message);
  });

  it.each([
    [
      'kind given as an object',
      '{"apiVersion":"v1","kind":{"a":1},"metadata":{"name":"web"}}',
      "couldn't get version/kind; json parse error: json: cannot unmarshal object into Go struct field .kind of type string",
    ],
    [
      'apiVersion given as an object',
      '{"apiVersion":{"a":1},"kind":"Service","metadata":{"name":"web"}}',
      "couldn't get version/kind; json parse error: json: cannot unmarshal object into Go struct field .apiVersion of type string",
    ],
    [
      'valueOf in metadata',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","valueOf":"x"}}',
      'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "metadata.valueOf"',
    ],
    [
      'constructor in spec',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"constructor":{}}}',
      'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.constructor"',
    ],
    [
      '__proto__ and toString in a port',
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80,"__proto__":{"x":1},"toString":1}]}}',
      'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].__proto__", unknown field "spec.ports[0].toString"',
    ],
  ])('%s', (_name, text, message) => {
    const e = failureText(text);
    expect(e).toBeInstanceOf(DecodeError);
    expect(e.reason).toBe('BadRequest');
    expect(e.message).toBe(message);
  });
});

describe('own properties only', () => {
  it('non-strict decoding drops prototype-named fields with a warning each and keeps the prototype', () => {
    const { object, warnings } = decodeText(
      '{"apiVersion":"v1","kind":"Service","__proto__":{"polluted":1},"metadata":{"name":"web","hasOwnProperty":1},"spec":{"ports":[{"port":80,"valueOf":2}]}}',
      false,
    );
    expect(object).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(warnings).toEqual([
      'unknown field "__proto__"',
      'unknown field "metadata.hasOwnProperty"',
      'unknown field "spec.ports[0].valueOf"',
    ]);
  });

  it('map keys named like prototype members are data: own properties, prototype untouched', () => {
    const { object } = decodeText(
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labels":{"__proto__":"a","constructor":"b"}},"spec":{"selector":{"toString":"c"}}}',
    );
    const labels = object.metadata!.labels!;
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.keys(labels)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('a');
    expect((object as { spec: { selector: object } }).spec.selector).toEqual({ toString: 'c' });
  });

  it('a missing field is never read from the prototype (no inherited `constructor` port)', () => {
    const { object } = decode(svc({ spec: {} }), { strict: true });
    expect(Object.hasOwn(object, 'status')).toBe(false);
    expect((object as { spec: object }).spec).toEqual({});
  });
});

describe('types and nulls', () => {
  it('a null field is unset, as Go leaves it', () => {
    const { object } = decode(svc({ spec: { selector: null, ports: null, type: null } }), { strict: true });
    expect((object as { spec: object }).spec).toEqual({});
  });

  it('lists every wrong type, each once', () => {
    const e = failure(
      svc({
        metadata: { name: 'web', creationTimestamp: 'yesterday', generation: 1.5 },
        spec: { ports: [{ port: '80', targetPort: true, nodePort: 2 ** 31 }], externalIPs: 'x', selector: { a: 1 } },
      }),
    );
    expect(e.message).toBe(
      'Service "web" is invalid: [' +
        [
          'metadata.creationTimestamp: Invalid value: "yesterday": metadata.creationTimestamp in body must be of type date-time: "yesterday"',
          'metadata.generation: Invalid value: "number": metadata.generation in body must be of type integer: "number"',
          'spec.ports[0].port: Invalid value: "string": spec.ports[0].port in body must be of type integer: "string"',
          'spec.ports[0].targetPort: Invalid value: "boolean": spec.ports[0].targetPort in body must be of type int-or-string: "boolean"',
          'spec.ports[0].nodePort: Invalid value: "2147483648": spec.ports[0].nodePort in body must be of type int32: "2147483648"',
          'spec.externalIPs: Invalid value: "string": spec.externalIPs in body must be of type array: "string"',
          'spec.selector[a]: Invalid value: "integer": spec.selector[a] in body must be of type string: "integer"',
        ].join(', ') +
        ']',
    );
    expect(e.causes.map((c) => c.field)).toEqual([
      'metadata.creationTimestamp',
      'metadata.generation',
      'spec.ports[0].port',
      'spec.ports[0].targetPort',
      'spec.ports[0].nodePort',
      'spec.externalIPs',
      'spec.selector[a]',
    ]);
  });

  it('accepts the full range of int32 and int64, RFC 3339 times with fractions, and quantities', () => {
    expect(() =>
      decode(svc({ spec: { ports: [{ port: -(2 ** 31) }, { port: 2 ** 31 - 1 }] } }), { strict: true }),
    ).not.toThrow();
    const { object } = decode(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'n', creationTimestamp: '2024-05-01T10:00:00.123456Z', generation: 2 ** 53 },
        status: { capacity: { cpu: '2', memory: '8Gi', pods: 110 }, images: [{ sizeBytes: 2 ** 40 }] },
      },
      { strict: true },
    );
    expect((object as { status: object }).status).toEqual({
      capacity: { cpu: '2', memory: '8Gi', pods: 110 },
      images: [{ sizeBytes: 2 ** 40 }],
    });
    expect(
      failure({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { capacity: { cpu: 'lots' } } })
        .message,
    ).toBe(
      'Node "n" is invalid: status.capacity[cpu]: Invalid value: "lots": status.capacity[cpu] in body must be of type quantity: "lots"',
    );
  });

  it('keeps the open parts of a Pod as JSON and refuses non-JSON numbers there', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'c', image: 'x', resources: { limits: { cpu: '1' } }, livenessProbe: { tcpSocket: { port: 80 } } },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
        affinity: null,
      },
      status: { qosClass: 'Burstable', podIP: '10.244.1.7' },
    };
    expect(decode(pod, { strict: true }).object).toEqual({ ...pod, spec: { ...pod.spec, affinity: null } });
    expect(failure({ ...pod, spec: { ...pod.spec, priorityScore: Infinity } }).message).toBe(
      'Pod "p" is invalid: spec.priorityScore: Invalid value: "Infinity": must be a finite JSON number',
    );
  });

  it('returns a fresh object: nothing of the input is shared', () => {
    const raw = svc({ metadata: { name: 'web', labels: { a: 'b' } } });
    const { object } = decode(raw, { strict: true });
    object.metadata!.labels!.a = 'changed';
    expect(raw.metadata).toEqual({ name: 'web', labels: { a: 'b' } });
  });

  it(`refuses nesting deeper than ${MAX_NESTING_DEPTH} levels in the open parts`, () => {
    const nest = (n: number): unknown => (n === 0 ? 'x' : { a: nest(n - 1) });
    const pod = (n: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c' }], deep: nest(n) },
    });
    expect(() => decode(pod(90), { strict: true })).not.toThrow();
    expect(failure(pod(500)).message).toMatch(
      /^Pod "p" is invalid: spec\.deep(\.a){98}: Invalid value: "object": must not be nested more than 100 levels deep$/,
    );
  });
});

describe('kind and apiVersion first', () => {
  it.each([
    [
      [1],
      'couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }',
    ],
    ['x', expect.stringContaining('cannot unmarshal string into Go value of type struct')],
    [null, expect.stringContaining('cannot unmarshal null into Go value')],
    [
      { apiVersion: 'v1', kind: 5 },
      "couldn't get version/kind; json parse error: json: cannot unmarshal integer into Go struct field .kind of type string",
    ],
    [{ apiVersion: 'v1' }, `Object 'Kind' is missing in '{"apiVersion":"v1"}'`],
    [{ kind: 'Service', apiVersion: '' }, `Object 'apiVersion' is missing in '{"kind":"Service","apiVersion":""}'`],
    [
      { apiVersion: 'apps/v1', kind: 'Deployment' },
      'no kind "Deployment" is registered for version "apps/v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    ],
    [
      { apiVersion: 'v1', kind: 'EndpointSlice' },
      'no kind "EndpointSlice" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    ],
    [
      { apiVersion: 'v1', kind: 'List', items: [] },
      'no kind "List" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    ],
  ])('%j', (raw, message) => {
    const e = failure(raw);
    expect(e).toBeInstanceOf(DecodeError);
    expect(e.message).toEqual(message);
  });

  it('typeMetaOf reads null and "" as absent', () => {
    expect(typeMetaOf({ apiVersion: null, kind: '' })).toEqual({});
    expect(typeMetaOf({ apiVersion: 'v1', kind: 'Pod', other: 1 })).toEqual({ apiVersion: 'v1', kind: 'Pod' });
  });

  it.each([
    [
      'v1',
      'Namespace',
      { metadata: { name: 'team-a' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
    ],
    [
      'v1',
      'Event',
      {
        metadata: { name: 'e.1', namespace: 'default' },
        involvedObject: { kind: 'Service', name: 'web' },
        reason: 'SyncLoadBalancerFailed',
        message: 'x',
        count: 2,
        eventTime: '2024-05-01T10:00:00.000001Z',
        source: { component: 'service-controller' },
        type: 'Warning',
      },
    ],
    [
      'v1',
      'Node',
      {
        metadata: { name: 'ip-10-0-1-5.ec2.internal' },
        spec: { providerID: 'aws:///us-east-1a/i-0abc', taints: [{ key: 'k', effect: 'NoSchedule' }] },
        status: { addresses: [{ type: 'InternalIP', address: '10.0.1.5' }], nodeInfo: { kubeletVersion: 'v1.32.0' } },
      },
    ],
    [
      'discovery.k8s.io/v1',
      'EndpointSlice',
      {
        metadata: { name: 'web-abc12' },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.7'], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  ])('decodes a %s %s', (apiVersion, kind, body) => {
    const raw = { apiVersion, kind, ...body };
    const { object, warnings } = decode(raw, { strict: true });
    expect(object).toEqual(raw);
    expect((object as DecodedObject).kind).toBe(kind);
    expect(warnings).toEqual([]);
  });
});

describe('bounded messages', () => {
  it('a huge value, name or key is cut in the message with its size said', () => {
    const big = 'x'.repeat(1024 * 1024);
    const e = failure({ apiVersion: 'v1', kind: 'Service', metadata: { name: big, labels: { [big]: 5 } } });
    expect(e.message.length).toBeLessThan(4_000);
    expect(e.message).toContain('...(1048576 bytes)');
    const u = failure({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { [big]: 1 } });
    expect(u.message.length).toBeLessThan(1_000);
  });

  it(`lists at most ${MAX_REPORTED_ERRORS} errors and counts the rest`, () => {
    const labels = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, i]));
    const e = failure({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels } });
    expect(e.message).toMatch(/, \.\.\. and 3975 more errors\]$/);
    expect(e.causes).toHaveLength(MAX_REPORTED_ERRORS);
    const spec = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`f${i}`, i]));
    const u = failure({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec });
    expect(u.message).toMatch(/unknown field "spec\.f24", \.\.\. and 3975 more$/);
    expect(
      decode({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec }, { strict: false }).warnings,
    ).toHaveLength(MAX_REPORTED_ERRORS + 1);
  });
});
