/**
 * Discovery documents (legacy and aggregated v2/v2beta1, chosen by Accept like kubectl 1.32 asks) and the OpenAPI v3
 * documents kubectl reads: PATCH parameters (fieldValidation, dryRun), patch media types, GVK extensions, and the
 * upstream patch keys on the component schemas; the committed schemas match their generator.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { inProcess, type InProcess, type Json } from '../support/in-process.js';

const KUBECTL_DISCOVERY_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('discovery', () => {
  let api: InProcess;
  beforeAll(async () => {
    api = await inProcess();
  });

  it('aggregated v2 for /api and /apis, with its content type', async () => {
    const core = await api.json('GET', '/api', { accept: KUBECTL_DISCOVERY_ACCEPT });
    expect(core.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(core.body.kind).toBe('APIGroupDiscoveryList');
    const v1 = core.body.items[0].versions[0];
    expect(v1.version).toBe('v1');
    const services = v1.resources.find((r: Json) => r.resource === 'services');
    expect(services).toEqual({
      resource: 'services',
      responseKind: { group: '', version: 'v1', kind: 'Service' },
      scope: 'Namespaced',
      singularResource: 'service',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['svc'],
      categories: ['all'],
      subresources: [
        {
          subresource: 'status',
          responseKind: { group: '', version: 'v1', kind: 'Service' },
          verbs: ['get', 'patch', 'update'],
        },
      ],
    });
    const nodes = v1.resources.find((r: Json) => r.resource === 'nodes');
    expect(nodes.scope).toBe('Cluster');
    expect(nodes.verbs).toEqual(['get', 'list', 'watch']);
    const apis = await api.json('GET', '/apis', { accept: KUBECTL_DISCOVERY_ACCEPT });
    expect(apis.body.items.map((g: Json) => g.metadata.name)).toEqual([
      'discovery.k8s.io',
      'gateway.networking.k8s.io',
    ]);
    const beta = await api.json('GET', '/apis', {
      accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
    });
    expect(beta.body.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
  });

  it('legacy documents for plain JSON clients', async () => {
    expect((await api.json('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await api.json('GET', '/apis')).body;
    expect(groups.groups).toEqual([
      {
        name: 'discovery.k8s.io',
        versions: [{ groupVersion: 'discovery.k8s.io/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'discovery.k8s.io/v1', version: 'v1' },
      },
      {
        name: 'gateway.networking.k8s.io',
        versions: [
          { groupVersion: 'gateway.networking.k8s.io/v1', version: 'v1' },
          { groupVersion: 'gateway.networking.k8s.io/v1alpha2', version: 'v1alpha2' },
        ],
        preferredVersion: { groupVersion: 'gateway.networking.k8s.io/v1', version: 'v1' },
      },
    ]);
    const list = (await api.json('GET', '/api/v1')).body;
    expect(list.groupVersion).toBe('v1');
    expect(list.resources.find((r: Json) => r.name === 'pods/status')).toEqual({
      name: 'pods/status',
      singularName: '',
      namespaced: true,
      kind: 'Pod',
      verbs: ['get', 'patch', 'update'],
    });
    expect((await api.json('GET', '/apis/discovery.k8s.io')).body.preferredVersion.version).toBe('v1');
    expect((await api.json('GET', '/version')).body).toMatchObject({ major: '1', minor: '32' });
  });
});

describe('OpenAPI v3', () => {
  let api: InProcess;
  beforeAll(async () => {
    api = await inProcess();
  });

  it('indexes every group/version by a content hash; v2 is not served', async () => {
    const index = (await api.json('GET', '/openapi/v3')).body;
    expect(Object.keys(index.paths)).toEqual([
      'api/v1',
      'apis/discovery.k8s.io/v1',
      'apis/gateway.networking.k8s.io/v1',
      'apis/gateway.networking.k8s.io/v1alpha2',
    ]);
    expect(index.paths['api/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    expect((await api.json('GET', '/openapi/v2')).status).toBe(404);
  });

  it('the Service PATCH operation advertises fieldValidation, dryRun and the strategic merge patch type', async () => {
    const doc = (await api.json('GET', '/openapi/v3/api/v1')).body;
    const patch = doc.paths['/api/v1/namespaces/{namespace}/services/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Service' });
    expect(patch.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['query:fieldValidation', 'query:dryRun', 'query:fieldManager']),
    );
    expect(Object.keys(patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
    expect(doc.paths['/api/v1/nodes/{name}'].patch).toBeUndefined();
    expect(doc.paths['/api/v1/services'].get['x-kubernetes-action']).toBe('list');
  });

  it('component schemas carry the upstream patch keys and GVKs, and reach every referenced definition', async () => {
    const doc = (await api.json('GET', '/openapi/v3/api/v1')).body;
    const schemas = doc.components.schemas;
    expect(schemas['io.k8s.api.core.v1.Service']['x-kubernetes-group-version-kind']).toEqual([
      { group: '', version: 'v1', kind: 'Service' },
    ]);
    expect(schemas['io.k8s.api.core.v1.ServiceSpec'].properties.ports).toMatchObject({
      'x-kubernetes-patch-merge-key': 'port',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['port', 'protocol'],
    });
    expect(schemas['io.k8s.api.core.v1.Container'].properties.env['x-kubernetes-patch-merge-key']).toBe('name');
    expect(schemas['io.k8s.api.core.v1.PodSpec'].properties.volumes['x-kubernetes-patch-strategy']).toBe(
      'merge,retainKeys',
    );
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => !schemas[r])).toEqual([]);
    const slices = (await api.json('GET', '/openapi/v3/apis/discovery.k8s.io/v1')).body.components.schemas;
    expect(slices['io.k8s.api.discovery.v1.EndpointSlice']).toBeDefined();
    expect(slices['io.k8s.api.core.v1.ObjectReference']).toBeDefined();
    expect(slices['io.k8s.api.core.v1.Pod']).toBeUndefined();
  });

  it('the committed schemas are what the generator produces from @kubernetes/client-node', () => {
    const out = execFileSync('npx', ['tsx', 'scripts/openapi/generate.ts', '--check'], { encoding: 'utf8' });
    expect(out).toContain('is up to date');
  });
});
