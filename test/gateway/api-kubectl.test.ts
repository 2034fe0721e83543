/**
 * The Gateway API kinds through the real kubectl: apply, get (server-side tables, -o wide, -o yaml round trip),
 * api-resources, explain, the status subresource (--subresource=status), watch, delete, and `get all` leaving them
 * out (their category is gateway-api).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api-server.js';
import type { Kubectl } from '../support/kubectl.js';

let api: TestApi;
let k: Kubectl;

const CLASS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: nlb
spec:
  controllerName: serverless-service-controller.io/gateway-controller
  description: One NLB per Gateway
`;

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: default
spec:
  gatewayClassName: nlb
  listeners:
  - name: tcp
    protocol: TCP
    port: 5432
  - name: dns
    protocol: UDP
    port: 53
  - name: tls
    protocol: TLS
    port: 443
    hostname: "*.example.com"
    tls:
      mode: Passthrough
`;

const ROUTES = `apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: db
spec:
  parentRefs:
  - name: edge
    sectionName: tcp
  rules:
  - backendRefs:
    - name: postgres
      port: 5432
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata:
  name: dns
spec:
  parentRefs:
  - name: edge
    sectionName: dns
  rules:
  - backendRefs:
    - name: coredns
      port: 53
      weight: 3
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata:
  name: web
spec:
  parentRefs:
  - name: edge
    sectionName: tls
  hostnames:
  - www.example.com
  rules:
  - backendRefs:
    - name: web
      port: 8443
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata:
  name: from-default
  namespace: default
spec:
  from:
  - group: gateway.networking.k8s.io
    kind: TCPRoute
    namespace: default
  to:
  - group: ""
    kind: Service
`;

beforeAll(async () => {
  api = await startTestApi();
  k = api.kubectl();
});
afterAll(() => api?.close());

const ok = (r: { code: number; stderr: string }) => expect(r.stderr).toBe('');

describe('kubectl apply and get', () => {
  it('applies a GatewayClass, a Gateway with three listeners, and every route kind', async () => {
    const c = await k.run(['apply', '-f', '-'], { input: CLASS });
    ok(c);
    expect(c.stdout).toBe('gatewayclass.gateway.networking.k8s.io/nlb created\n');
    const g = await k.run(['apply', '-f', '-'], { input: GATEWAY });
    ok(g);
    expect(g.stdout).toBe('gateway.gateway.networking.k8s.io/edge created\n');
    const r = await k.run(['apply', '-f', '-'], { input: ROUTES });
    ok(r);
    expect(r.stdout).toBe(
      [
        'tcproute.gateway.networking.k8s.io/db created',
        'udproute.gateway.networking.k8s.io/dns created',
        'tlsroute.gateway.networking.k8s.io/web created',
        'referencegrant.gateway.networking.k8s.io/from-default created',
        '',
      ].join('\n'),
    );
    // As against a cluster: the stored listeners carry defaults the manifest's lack, so kubectl's JSON merge patch
    // repeats the list ("configured"), and the server finds nothing changed (no new generation).
    const again = await k.run(['apply', '-f', '-'], { input: GATEWAY });
    expect(again.stdout).toBe('gateway.gateway.networking.k8s.io/edge configured\n');
    expect((await k.run(['get', 'gtw', 'edge', '-o', 'jsonpath={.metadata.generation}'])).stdout).toBe('1');
  });

  it("prints the CRDs' printer columns, DESCRIPTION only with -o wide", async () => {
    const gc = await k.run(['get', 'gatewayclass']);
    ok(gc);
    expect(gc.stdout).toMatch(
      /^NAME\s+CONTROLLER\s+ACCEPTED\s+AGE\nnlb\s+serverless-service-controller\.io\/gateway-controller\s+Unknown\s+\d+s\n$/,
    );
    const wide = await k.run(['get', 'gc', '-o', 'wide']);
    expect(wide.stdout).toMatch(/^NAME\s+CONTROLLER\s+ACCEPTED\s+AGE\s+DESCRIPTION\n.*\s+One NLB per Gateway\n$/);
    const gw = await k.run(['get', 'gtw']);
    ok(gw);
    expect(gw.stdout).toMatch(/^NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE\nedge\s+nlb\s+Unknown\s+\d+s\n$/);
    const tls = await k.run(['get', 'tlsroutes']);
    expect(tls.stdout).toMatch(/^NAME\s+HOSTNAMES\s+AGE\nweb\s+\["www\.example\.com"\]\s+\d+s\n$/);
    for (const [res, name] of [
      ['tcproute', 'db'],
      ['udproute', 'dns'],
      ['referencegrant', 'from-default'],
    ]) {
      const out = await k.run(['get', res!]);
      ok(out);
      expect(out.stdout).toMatch(new RegExp(`^NAME\\s+AGE\\n${name}\\s+\\d+s\\n$`));
    }
    const refgrant = await k.run(['get', 'refgrant', 'from-default', '-o', 'name']);
    expect(refgrant.stdout).toBe('referencegrant.gateway.networking.k8s.io/from-default\n');
  });

  it('-o yaml shows the CRD defaults, and the YAML applies back unchanged', async () => {
    const y = await k.run(['get', 'gateway', 'edge', '-o', 'yaml']);
    ok(y);
    expect(y.stdout).toContain('apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n');
    expect(y.stdout).toMatch(/allowedRoutes:\n\s+namespaces:\n\s+from: Same/);
    expect(y.stdout).toContain('reason: Pending');
    const route = await k.run([
      'get',
      'tcproute',
      'db',
      '-o',
      'jsonpath={.spec.parentRefs[0]} {.spec.rules[0].backendRefs[0]}',
    ]);
    expect(route.stdout).toBe(
      '{"group":"gateway.networking.k8s.io","kind":"Gateway","name":"edge","sectionName":"tcp"} ' +
        '{"group":"","kind":"Service","name":"postgres","port":5432,"weight":1}',
    );
    const spec = async () =>
      (await k.run(['get', 'gtw', 'edge', '-o', 'jsonpath={.spec} {.metadata.generation}'])).stdout;
    const before = await spec();
    const back = await k.run(['apply', '-f', '-'], { input: y.stdout });
    ok(back);
    expect(back.stdout).toBe('gateway.gateway.networking.k8s.io/edge configured\n');
    const latest = (await k.run(['get', 'gateway', 'edge', '-o', 'yaml'])).stdout;
    const replaced = await k.run(['replace', '-f', '-'], { input: latest });
    expect(replaced.stdout).toBe('gateway.gateway.networking.k8s.io/edge replaced\n');
    expect(await spec()).toBe(before);
  });

  it('kubectl apply of a change patches the object (JSON merge patch, as for CRDs)', async () => {
    const changed = GATEWAY.replace('port: 5432', 'port: 15432');
    const r = await k.run(['apply', '-f', '-'], { input: changed });
    ok(r);
    expect(r.stdout).toBe('gateway.gateway.networking.k8s.io/edge configured\n');
    const port = await k.run(['get', 'gtw', 'edge', '-o', 'jsonpath={.spec.listeners[0].port} {.metadata.generation}']);
    expect(port.stdout).toBe('15432 2');
  });
});

describe('discovery and OpenAPI', () => {
  it('kubectl api-resources lists the group with short names and the gateway-api category', async () => {
    const r = await k.run(['api-resources', '--api-group=gateway.networking.k8s.io', '-o', 'wide']);
    ok(r);
    const lines = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/).slice(0, 5).join(' '));
    expect(lines.sort()).toEqual([
      'gatewayclasses gc gateway.networking.k8s.io/v1 false GatewayClass',
      'gateways gtw gateway.networking.k8s.io/v1 true Gateway',
      'referencegrants refgrant gateway.networking.k8s.io/v1 true ReferenceGrant',
      'tcproutes gateway.networking.k8s.io/v1alpha2 true TCPRoute create,delete,deletecollection,get,list,patch,update,watch',
      'tlsroutes gateway.networking.k8s.io/v1 true TLSRoute create,delete,deletecollection,get,list,patch,update,watch',
      'udproutes gateway.networking.k8s.io/v1alpha2 true UDPRoute create,delete,deletecollection,get,list,patch,update,watch',
    ]);
    const cat = await k.run(['get', 'gateway-api']);
    ok(cat);
    expect(cat.stdout).toContain('gateway.gateway.networking.k8s.io/edge');
    expect(cat.stdout).toContain('tcproute.gateway.networking.k8s.io/db');
  });

  it('kubectl get all does not list them', async () => {
    const r = await k.run(['get', 'all']);
    expect(r.stdout).not.toMatch(/gateway|route|grant/i);
  });

  it('kubectl explain reads the field documentation from the OpenAPI document', async () => {
    const r = await k.run(['explain', 'gateway.spec.listeners']);
    ok(r);
    expect(r.stdout).toContain('GROUP:      gateway.networking.k8s.io');
    expect(r.stdout).toContain('KIND:       Gateway');
    expect(r.stdout).toMatch(/FIELD: listeners <\[\]Object>/);
    expect(r.stdout).toMatch(/port\s+<integer> -required-/);
    expect(r.stdout).toContain('Listeners associated with this Gateway.');
    const mode = await k.run(['explain', 'gateways.spec.listeners.tls.mode']);
    expect(mode.stdout).toContain('ENUM:');
    expect(mode.stdout).toContain('Passthrough');
  });

  it('fieldValidation=Strict (kubectl default) refuses unknown fields; --validate=false drops them', async () => {
    const bad = CLASS.replace('name: nlb', 'name: other').replace('  description:', '  colour: red\n  description:');
    const strict = await k.run(['apply', '-f', '-'], { input: bad });
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('strict decoding error: unknown field "spec.colour"');
    expect((await k.run(['get', 'gc', 'other'])).stderr).toContain('not found');
    const loose = await k.run(['apply', '--validate=false', '-f', '-'], { input: bad });
    expect(loose.stdout).toBe('gatewayclass.gateway.networking.k8s.io/other created\n');
    expect((await k.run(['get', 'gc', 'other', '-o', 'jsonpath={.spec}'])).stdout).not.toContain('colour');
  });
});

describe('status subresource, watch and delete', () => {
  it('kubectl patch --subresource=status writes the status; the main resource cannot', async () => {
    const status = {
      status: {
        addresses: [{ type: 'Hostname', value: 'edge-123.elb.us-east-1.amazonaws.com' }],
        conditions: [
          {
            type: 'Programmed',
            status: 'True',
            reason: 'Programmed',
            message: 'NLB active',
            lastTransitionTime: '2026-01-01T00:00:00Z',
            observedGeneration: 2,
          },
        ],
      },
    };
    const r = await k.run([
      'patch',
      'gateway',
      'edge',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
    ok(r);
    expect(r.stdout).toBe('gateway.gateway.networking.k8s.io/edge patched\n');
    const gw = await k.run(['get', 'gtw', 'edge']);
    expect(gw.stdout).toMatch(/\nedge\s+nlb\s+edge-123\.elb\.us-east-1\.amazonaws\.com\s+True\s+\d+s\n$/);
    const main = await k.run(['patch', 'gateway', 'edge', '--type=merge', '-p', '{"status":{"conditions":[]}}']);
    expect(main.stdout).toBe('gateway.gateway.networking.k8s.io/edge patched (no change)\n');
    const bad = await k.run([
      'patch',
      'gateway',
      'edge',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"conditions":[{"type":"Programmed","status":"Maybe","reason":"X","message":"","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}',
    ]);
    expect(bad.stderr).toContain(
      'The Gateway "edge" is invalid: status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"',
    );
  });

  it('kubectl get -w streams the changes; kubectl delete removes every kind', async () => {
    const w = k.spawn(['get', 'tcproutes', '-w', '--output-watch-events']);
    await waitFor(() => w.output().includes('db'));
    const del = await k.run(['delete', '-f', '-'], { input: ROUTES });
    ok(del);
    expect(del.stdout).toContain('tcproute.gateway.networking.k8s.io "db" deleted');
    await waitFor(() => /DELETED\s+db/.test(w.output()));
    await w.stop();
    expect((await k.run(['delete', 'gateway', 'edge'])).stdout).toBe(
      'gateway.gateway.networking.k8s.io "edge" deleted\n',
    );
    expect((await k.run(['delete', 'gc', '--all'])).stdout).toContain(
      'gatewayclass.gateway.networking.k8s.io "nlb" deleted',
    );
    expect((await k.run(['get', 'gateway-api'])).stderr).toContain('No resources found');
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
