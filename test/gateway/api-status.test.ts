/**
 * The status subresource of the Gateway API kinds through @kubernetes/client-node (CustomObjectsApi), as the gateway
 * controller writes it: PUT and JSON merge patch of /status change the status only, the main resource cannot change
 * it, the status schema and rules are validated (a 422 stores nothing), and a client-node watch sees the writes.
 */
import { CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor } from '../cluster/support.js';
import { startTestApi, type TestApi } from '../support/api-server.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const group = 'gateway.networking.k8s.io';
const ns = 'default';

let api: TestApi;
let kc: KubeConfig;
let co: CustomObjectsApi;

const condition = (type: string, status: string, reason: string, generation = 1) => ({
  type,
  status,
  reason,
  message: `${type} ${status}`,
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: generation,
});

beforeAll(async () => {
  api = await startTestApi();
  kc = kubeConfigFor(api);
  co = kc.makeApiClient(CustomObjectsApi);
  await co.createClusterCustomObject({
    group,
    version: 'v1',
    plural: 'gatewayclasses',
    body: {
      apiVersion: `${group}/v1`,
      kind: 'GatewayClass',
      metadata: { name: 'nlb' },
      spec: { controllerName: 'serverless-service-controller.io/gateway-controller' },
    },
  });
  await co.createNamespacedCustomObject({
    group,
    version: 'v1',
    namespace: ns,
    plural: 'gateways',
    body: {
      apiVersion: `${group}/v1`,
      kind: 'Gateway',
      metadata: { name: 'edge' },
      spec: { gatewayClassName: 'nlb', listeners: [{ name: 'tcp', protocol: 'TCP', port: 5432 }] },
      status: { addresses: [{ value: '10.0.0.9' }] },
    },
  });
  await co.createNamespacedCustomObject({
    group,
    version: 'v1alpha2',
    namespace: ns,
    plural: 'tcproutes',
    body: {
      apiVersion: `${group}/v1alpha2`,
      kind: 'TCPRoute',
      metadata: { name: 'db' },
      spec: { parentRefs: [{ name: 'edge' }], rules: [{ backendRefs: [{ name: 'pg', port: 5432 }] }] },
    },
  });
});
afterAll(() => api?.close());

const getGateway = () =>
  co.getNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'gateways', name: 'edge' });

describe('status subresource', () => {
  it('a created GatewayClass and Gateway carry the CRD default status; a status in the create body is dropped', async () => {
    const gc = await co.getClusterCustomObject({ group, version: 'v1', plural: 'gatewayclasses', name: 'nlb' });
    expect(gc.status.conditions).toEqual([
      {
        type: 'Accepted',
        status: 'Unknown',
        reason: 'Pending',
        message: 'Waiting for controller',
        lastTransitionTime: '1970-01-01T00:00:00Z',
      },
    ]);
    const gw = await getGateway();
    expect(gw.status.addresses).toBeUndefined();
    expect(gw.status.conditions.map((c: Obj) => `${c.type}=${c.status}`)).toEqual([
      'Accepted=Unknown',
      'Programmed=Unknown',
    ]);
  });

  it('PUT /status replaces the status only (spec changes in the body are ignored); generation stays', async () => {
    const gw: Obj = await getGateway();
    gw.spec.gatewayClassName = 'sneaky';
    gw.status = {
      addresses: [{ type: 'Hostname', value: 'edge-1.elb.amazonaws.com' }],
      conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'True', 'Programmed')],
      listeners: [
        {
          name: 'tcp',
          attachedRoutes: 1,
          supportedKinds: [{ kind: 'TCPRoute' }],
          conditions: [condition('Programmed', 'True', 'Programmed')],
        },
      ],
    };
    const out: Obj = await co.replaceNamespacedCustomObjectStatus({
      group,
      version: 'v1',
      namespace: ns,
      plural: 'gateways',
      name: 'edge',
      body: gw,
    });
    expect(out.spec.gatewayClassName).toBe('nlb');
    expect(out.metadata.generation).toBe(1);
    expect(out.status.listeners[0].supportedKinds).toEqual([{ group, kind: 'TCPRoute' }]);
    expect(out.status.addresses).toEqual([{ type: 'Hostname', value: 'edge-1.elb.amazonaws.com' }]);
  });

  it('a JSON merge patch of /status on a route records its parents', async () => {
    const patch = {
      status: {
        parents: [
          {
            parentRef: { name: 'edge', sectionName: 'tcp' },
            controllerName: 'serverless-service-controller.io/gateway-controller',
            conditions: [condition('Accepted', 'True', 'Accepted'), condition('ResolvedRefs', 'True', 'ResolvedRefs')],
          },
        ],
      },
    };
    const out: Obj = await co.patchNamespacedCustomObjectStatus(
      { group, version: 'v1alpha2', namespace: ns, plural: 'tcproutes', name: 'db', body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(out.status.parents[0].parentRef).toEqual({ group, kind: 'Gateway', name: 'edge', sectionName: 'tcp' });
    expect(out.spec.rules[0].backendRefs[0]).toEqual({ group: '', kind: 'Service', name: 'pg', port: 5432, weight: 1 });
  });

  it('an invalid status is a 422 naming the field, and nothing changes', async () => {
    const before: Obj = await getGateway();
    const bad = async (status: Obj) => {
      try {
        await co.patchNamespacedCustomObjectStatus(
          { group, version: 'v1', namespace: ns, plural: 'gateways', name: 'edge', body: { status } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (err) {
        const e = err as { code?: number; body?: string };
        expect(e.code).toBe(422);
        return JSON.parse(String(e.body)).message as string;
      }
      throw new Error('accepted');
    };
    expect(await bad({ conditions: [{ type: 'Programmed', status: 'True' }] })).toBe(
      `Gateway.${group} "edge" is invalid: [status.conditions[0].lastTransitionTime: Required value, ` +
        'status.conditions[0].message: Required value, status.conditions[0].reason: Required value]',
    );
    expect(await bad({ listeners: [{ name: 'tcp', attachedRoutes: 'one', conditions: [], supportedKinds: [] }] })).toBe(
      `Gateway.${group} "edge" is invalid: status.listeners[0].attachedRoutes: Invalid value: "string": ` +
        'status.listeners[0].attachedRoutes in body must be of type integer: "string"',
    );
    expect(await bad({ addresses: [{ type: 'Hostname', value: 'Not A Host' }] })).toContain(
      'status.addresses[0]: Invalid value: "object": Hostname value must only contain valid characters',
    );
    expect(await bad({ conditions: Array.from({ length: 9 }, (_, i) => condition(`C${i}`, 'True', 'R')) })).toBe(
      `Gateway.${group} "edge" is invalid: status.conditions: Too many: 9: must have at most 8 items`,
    );
    const after: Obj = await getGateway();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('a client-node watch sees status writes as MODIFIED', async () => {
    const seen: string[] = [];
    const w = new Watch(kc);
    const req = await w.watch(
      `/apis/${group}/v1/namespaces/${ns}/gateways`,
      {},
      (type: string, o: Obj) => seen.push(`${type} ${o.metadata.name} ${o.status?.conditions?.[0]?.status ?? ''}`),
      () => undefined,
    );
    await waitFor(() => seen.length > 0);
    const gw: Obj = await getGateway();
    gw.status.conditions = [condition('Accepted', 'False', 'InvalidParameters')];
    await co.replaceNamespacedCustomObjectStatus({
      group,
      version: 'v1',
      namespace: ns,
      plural: 'gateways',
      name: 'edge',
      body: gw,
    });
    await waitFor(() => seen.includes('MODIFIED edge False'));
    req.abort();
    expect(seen[0]).toBe('ADDED edge True');
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
