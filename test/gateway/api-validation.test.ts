/**
 * Validation of the Gateway API kinds through the API, as the Gateway API CRDs validate: every CEL rule implemented,
 * schema violations (wrong types, missing required fields, out-of-range ports, bad enums, counts), metadata and
 * immutability; each one a 422 Status with the apiserver's wording, and nothing stored. A few through kubectl, as
 * users see them.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { inProcess, type InProcess, type Json } from '../support/in-process.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io';

const PATHS: Record<string, string> = {
  GatewayClass: `/apis/${G}/v1/gatewayclasses`,
  Gateway: `/apis/${G}/v1/namespaces/default/gateways`,
  ReferenceGrant: `/apis/${G}/v1/namespaces/default/referencegrants`,
  TLSRoute: `/apis/${G}/v1/namespaces/default/tlsroutes`,
  TCPRoute: `/apis/${G}/v1alpha2/namespaces/default/tcproutes`,
  UDPRoute: `/apis/${G}/v1alpha2/namespaces/default/udproutes`,
};
const VERSION: Record<string, string> = { TCPRoute: 'v1alpha2', UDPRoute: 'v1alpha2' };

const backend = (extra: Obj = {}) => ({ name: 'svc', port: 80, ...extra });
const SPECS: Record<string, Obj> = {
  GatewayClass: { controllerName: 'example.com/gateway-controller' },
  Gateway: { gatewayClassName: 'nlb', listeners: [{ name: 'tcp', protocol: 'TCP', port: 5432 }] },
  ReferenceGrant: { from: [{ group: G, kind: 'TCPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service' }] },
  TLSRoute: { parentRefs: [{ name: 'gw' }], hostnames: ['a.example.com'], rules: [{ backendRefs: [backend()] }] },
  TCPRoute: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [backend()] }] },
  UDPRoute: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [backend()] }] },
};

function object(kind: string, spec: unknown, name = 'bad'): Obj {
  const o: Obj = { apiVersion: `${G}/${VERSION[kind] ?? 'v1'}`, kind, metadata: { name } };
  if (spec !== undefined) o.spec = spec;
  return o;
}
const withSpec = (kind: string, patch: Obj): Obj => object(kind, { ...SPECS[kind], ...patch });
const listeners = (...ls: Obj[]) => withSpec('Gateway', { listeners: ls });
const tcp = (extra: Obj = {}) => withSpec('TCPRoute', { rules: [{ backendRefs: [backend(extra)] }] });

const PORT_MAX = 'spec.listeners[0].port in body should be less than or equal to 65535';
const NAME_RE = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;
const tail = 'when parentRefs includes 2 or more references to the same parent';

/** [title, object, the message after `<Kind>.gateway.networking.k8s.io "bad" is invalid: `]. */
const CASES: [string, Obj, string][] = [
  // CEL rules on Gateway listeners
  [
    'listener names unique',
    listeners({ name: 'a', protocol: 'TCP', port: 1 }, { name: 'a', protocol: 'TCP', port: 2 }),
    'spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway',
  ],
  [
    'port, protocol and hostname unique',
    listeners({ name: 'a', protocol: 'TCP', port: 80 }, { name: 'b', protocol: 'TCP', port: 80 }),
    'spec.listeners: Invalid value: "array": Combination of port, protocol and hostname must be unique for each listener',
  ],
  [
    'no hostname on TCP/UDP listeners',
    listeners({ name: 'a', protocol: 'UDP', port: 53, hostname: 'dns.example.com' }),
    `spec.listeners: Invalid value: "array": hostname must not be specified for protocols ['TCP', 'UDP']`,
  ],
  [
    'no tls on TCP listeners',
    listeners({ name: 'a', protocol: 'TCP', port: 5432, tls: { mode: 'Passthrough' } }),
    `spec.listeners: Invalid value: "array": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']`,
  ],
  [
    'tls required for TLS listeners',
    listeners({ name: 'a', protocol: 'TLS', port: 443 }),
    'spec.listeners: Invalid value: "array": tls mode must be set for protocol TLS',
  ],
  [
    'Terminate (the default mode) needs certificateRefs or options',
    listeners({ name: 'a', protocol: 'TLS', port: 443, tls: {} }),
    'spec.listeners[0].tls: Invalid value: "object": certificateRefs or options must be specified when mode is Terminate',
  ],
  [
    'HTTPS listeners terminate',
    listeners({ name: 'a', protocol: 'HTTPS', port: 443, tls: { mode: 'Passthrough' } }),
    'spec.listeners: Invalid value: "array": tls mode must be Terminate for protocol HTTPS',
  ],
  [
    'addresses unique',
    withSpec('Gateway', { addresses: [{ value: '10.0.0.1' }, { type: 'IPAddress', value: '10.0.0.1' }] }),
    'spec.addresses: Invalid value: "array": IPAddress values must be unique',
  ],
  // schema
  [
    'port above 65535',
    listeners({ name: 'a', protocol: 'TCP', port: 70000 }),
    `spec.listeners[0].port: Invalid value: 70000: ${PORT_MAX}`,
  ],
  [
    'port below 1',
    listeners({ name: 'a', protocol: 'TCP', port: 0 }),
    'spec.listeners[0].port: Invalid value: 0: spec.listeners[0].port in body should be greater than or equal to 1',
  ],
  [
    'port of the wrong type',
    listeners({ name: 'a', protocol: 'TCP', port: '80' }),
    'spec.listeners[0].port: Invalid value: "string": spec.listeners[0].port in body must be of type integer: "string"',
  ],
  ['required listener fields', listeners({ name: 'a', port: 80 }), 'spec.listeners[0].protocol: Required value'],
  [
    'required gatewayClassName',
    object('Gateway', { listeners: [{ name: 'a', protocol: 'TCP', port: 1 }] }),
    'spec.gatewayClassName: Required value',
  ],
  ['required spec', object('Gateway', undefined), 'spec: Required value'],
  [
    'spec of the wrong type',
    object('Gateway', 'tcp'),
    'spec: Invalid value: "string": spec in body must be of type object: "string"',
  ],
  [
    'a null list element',
    withSpec('Gateway', { listeners: [null] }),
    'spec.listeners[0]: Invalid value: "null": spec.listeners[0] in body must be of type object: "null"',
  ],
  [
    'at least one listener',
    withSpec('Gateway', { listeners: [] }),
    'spec.listeners: Invalid value: 0: spec.listeners in body should have at least 1 items',
  ],
  [
    'bad enum',
    listeners({ name: 'a', protocol: 'TLS', port: 443, tls: { mode: 'Reencrypt' } }),
    'spec.listeners[0].tls.mode: Unsupported value: "Reencrypt": supported values: "Terminate", "Passthrough"',
  ],
  [
    'listener name pattern',
    listeners({ name: 'Bad_Name', protocol: 'TCP', port: 1 }),
    `spec.listeners[0].name: Invalid value: "Bad_Name": spec.listeners[0].name in body should match '${NAME_RE}'`,
  ],
  [
    'allowedRoutes.namespaces.from enum',
    listeners({ name: 'a', protocol: 'TCP', port: 1, allowedRoutes: { namespaces: { from: 'Others' } } }),
    'spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "Others": supported values: "All", "Selector", "Same"',
  ],
  // GatewayClass
  [
    'controllerName is a domain-prefixed path',
    object('GatewayClass', { controllerName: 'nocontroller' }),
    String.raw`spec.controllerName: Invalid value: "nocontroller": spec.controllerName in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$'`,
  ],
  [
    'description at most 64 characters',
    withSpec('GatewayClass', { description: 'x'.repeat(65) }),
    'spec.description: Too long: may not be more than 64 bytes',
  ],
  // routes
  [
    'a rule has at least one backendRef',
    withSpec('TCPRoute', { rules: [{ backendRefs: [] }] }),
    'spec.rules[0].backendRefs: Invalid value: 0: spec.rules[0].backendRefs in body should have at least 1 items',
  ],
  [
    'a rule has at most 16 backendRefs',
    withSpec('UDPRoute', {
      rules: [{ backendRefs: Array.from({ length: 17 }, (_, i) => backend({ name: `s${i}` })) }],
    }),
    'spec.rules[0].backendRefs: Too many: 17: must have at most 16 items',
  ],
  [
    'at most 16 rules',
    withSpec('TCPRoute', { rules: Array.from({ length: 17 }, () => ({ backendRefs: [backend()] })) }),
    'spec.rules: Too many: 17: must have at most 16 items',
  ],
  [
    'weight at most 1000000',
    tcp({ weight: 1000001 }),
    'spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000',
  ],
  [
    'weight at least 0',
    tcp({ weight: -1 }),
    'spec.rules[0].backendRefs[0].weight: Invalid value: -1: spec.rules[0].backendRefs[0].weight in body should be greater than or equal to 0',
  ],
  [
    'a Service backendRef has a port',
    withSpec('TCPRoute', { rules: [{ backendRefs: [{ name: 'svc' }] }] }),
    'spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service reference',
  ],
  [
    'parentRefs to one parent are distinct',
    withSpec('TCPRoute', { parentRefs: [{ name: 'gw' }, { name: 'gw', kind: 'Gateway' }] }),
    `spec.parentRefs: Invalid value: "array": sectionName or port must be unique ${tail}`,
  ],
  [
    'parentRefs to one parent all name a section or none',
    withSpec('UDPRoute', { parentRefs: [{ name: 'gw', sectionName: 'dns' }, { name: 'gw' }] }),
    `spec.parentRefs: Invalid value: "array": sectionName or port must be specified ${tail}`,
  ],
  [
    'parentRef port range',
    withSpec('TCPRoute', { parentRefs: [{ name: 'gw', port: 65536 }] }),
    'spec.parentRefs[0].port: Invalid value: 65536: spec.parentRefs[0].port in body should be less than or equal to 65535',
  ],
  ['rules required', object('UDPRoute', { parentRefs: [{ name: 'gw' }] }), 'spec.rules: Required value'],
  [
    'rule names unique',
    withSpec('TCPRoute', {
      rules: [
        { name: 'a', backendRefs: [backend()] },
        { name: 'a', backendRefs: [backend()] },
      ],
    }),
    'spec.rules: Invalid value: "array": Rule name must be unique within the route',
  ],
  [
    'TLSRoute hostnames are no IPs',
    withSpec('TLSRoute', { hostnames: ['10.0.0.1'] }),
    'spec.hostnames: Invalid value: "array": Hostnames cannot contain an IP',
  ],
  // ReferenceGrant
  [
    'from has at least one entry',
    withSpec('ReferenceGrant', { from: [] }),
    'spec.from: Invalid value: 0: spec.from in body should have at least 1 items',
  ],
  [
    'from entries name a namespace',
    withSpec('ReferenceGrant', { from: [{ group: G, kind: 'TCPRoute' }] }),
    'spec.from[0].namespace: Required value',
  ],
  ['to entries name a kind', withSpec('ReferenceGrant', { to: [{ group: '' }] }), 'spec.to[0].kind: Required value'],
  // metadata
  [
    'names are DNS subdomains',
    { ...withSpec('Gateway', {}), metadata: { name: 'Edge_1' } },
    "metadata.name: Invalid value: \"Edge_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ],
];

let api: InProcess;
beforeAll(async () => {
  api = await inProcess();
});

const nameOf = (o: Obj) => String((o.metadata as Obj).name);

describe("invalid objects: 422 with the apiserver's message, nothing stored", () => {
  it.each(CASES)('%s', async (_title, o, message) => {
    const kind = String(o.kind);
    const res = await api.json('POST', PATHS[kind]!, { body: o });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
    expect(res.body.message).toBe(`${kind}.${G} "${nameOf(o)}" is invalid: ${message}`);
    expect(res.body.details).toMatchObject({ name: nameOf(o), group: G, kind });
    expect((await api.json('GET', `${PATHS[kind]}/${nameOf(o)}`)).status).toBe(404);
  });

  it('the valid base of every kind is accepted (the cases above fail for their own reason)', async () => {
    for (const kind of Object.keys(SPECS)) {
      const res = await api.json('POST', PATHS[kind]!, { body: object(kind, SPECS[kind], 'good') });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const list = await api.json('GET', `/apis/${G}/v1/namespaces/default/gateways`);
    expect(list.body.items.map((o: Json) => o.metadata.name)).toEqual(['good']);
  });

  it('several errors are listed together; a dry run stores nothing either', async () => {
    const o = listeners({ name: 'a', protocol: 'TCP', port: 70000, hostname: 'x.example.com' });
    const res = await api.json('POST', PATHS.Gateway!, { body: o, query: { dryRun: 'All' } });
    expect(res.body.message).toBe(
      `Gateway.${G} "bad" is invalid: [spec.listeners[0].port: Invalid value: 70000: ${PORT_MAX}, ` +
        `spec.listeners: Invalid value: "array": hostname must not be specified for protocols ['TCP', 'UDP']]`,
    );
    expect(res.body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.listeners[0].port', message: `Invalid value: 70000: ${PORT_MAX}` },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.listeners',
        message: `Invalid value: "array": hostname must not be specified for protocols ['TCP', 'UDP']`,
      },
    ]);
  });
});

describe('updates', () => {
  it('GatewayClass controllerName is immutable; the description is not', async () => {
    const path = PATHS.GatewayClass!;
    expect((await api.json('POST', path, { body: object('GatewayClass', SPECS.GatewayClass, 'imm') })).status).toBe(
      201,
    );
    const moved = object('GatewayClass', { controllerName: 'example.com/other' }, 'imm');
    const res = await api.json('PUT', `${path}/imm`, { body: moved });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe(
      `GatewayClass.${G} "imm" is invalid: spec.controllerName: Invalid value: "string": Value is immutable`,
    );
    const described = object('GatewayClass', { ...SPECS.GatewayClass, description: 'ok' }, 'imm');
    expect((await api.json('PUT', `${path}/imm`, { body: described })).status).toBe(200);
    const stored = (await api.json('GET', `${path}/imm`)).body;
    expect(stored.spec).toEqual({ controllerName: 'example.com/gateway-controller', description: 'ok' });
  });

  it('a merge patch that breaks a rule is refused and changes nothing', async () => {
    const path = `${PATHS.Gateway}/good`;
    const before = (await api.json('GET', path)).body;
    const patch = { spec: { listeners: [{ name: 'a', protocol: 'TCP', port: 1, hostname: 'h.example.com' }] } };
    const res = await api.json('PATCH', path, { body: patch, contentType: 'application/merge-patch+json' });
    expect(res.status).toBe(422);
    const after = (await api.json('GET', path)).body;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});

describe('through kubectl', () => {
  let live: TestApi;
  beforeAll(async () => {
    live = await startTestApi();
  });
  afterAll(() => live?.close());

  it('prints the 422 as kubectl does for a cluster, and stores nothing', async () => {
    const k = live.kubectl();
    const yaml = `apiVersion: ${G}/v1
kind: Gateway
metadata:
  name: dup
spec:
  gatewayClassName: nlb
  listeners:
  - {name: a, protocol: TCP, port: 80}
  - {name: a, protocol: UDP, port: 80}
`;
    const r = await k.run(['apply', '-f', '-'], { input: yaml });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `The Gateway "dup" is invalid: spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway\n`,
    );
    const route = `apiVersion: ${G}/v1alpha2
kind: TCPRoute
metadata:
  name: r
spec:
  rules:
  - backendRefs: []
`;
    const rr = await k.run(['create', '-f', '-'], { input: route });
    expect(rr.stderr).toBe(
      'The TCPRoute "r" is invalid: spec.rules[0].backendRefs: Invalid value: 0: spec.rules[0].backendRefs in body should have at least 1 items\n',
    );
    expect((await k.run(['get', 'gateway-api'])).stderr).toBe('No resources found\n');
  });
});

describe('the schemas', () => {
  it('are what scripts/openapi/generate-gateway.ts derives from @kubernetes-models/gateway-api', () => {
    const out = execFileSync('npx', ['tsx', 'scripts/openapi/generate-gateway.ts', '--check'], { encoding: 'utf8' });
    expect(out).toContain('lib/model/gateway/schema.json is up to date');
    expect(out).toContain('lib/apiserver/openapi/gateway-schemas.json is up to date');
  });
});
