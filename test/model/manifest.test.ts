import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isServiceObject, parseManifests, type KubeObject, type ServiceObject } from '../../lib/model/manifest.js';

const asService = (o: KubeObject | undefined): ServiceObject => {
  if (!o || !isServiceObject(o)) throw new Error(`expected a Service, got ${o?.kind}`);
  return o;
};
import { defaultService } from '../../lib/model/defaults.js';
import { validateService } from '../../lib/model/validation.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DecodeError, InvalidError } from '../../lib/errors.js';

const F = 'svc.yaml';
const errorOf = (text: string, source = F): string => {
  try {
    parseManifests(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidError);
    return (e as Error).message;
  }
  throw new Error('expected parseManifests to throw');
};

describe('parseManifests', () => {
  it('parses multi-document YAML, skipping empty documents', () => {
    const objs = parseManifests(
      [
        '# leading comment',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: a}',
        'spec: {ports: [{port: 80}]}',
        '---',
        '---',
        '# only a comment',
        '---',
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: p}',
        'spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]}',
        '',
      ].join('\n'),
      F,
    );
    expect(objs.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['Service/a', 'Pod/p']);
  });

  it('parses JSON', () => {
    const objs = parseManifests(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'db' },
        subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 5432 }] }],
      }),
      'ep.json',
    );
    expect(objs).toHaveLength(1);
    expect(objs[0]?.kind).toBe('Endpoints');
  });

  it('flattens List and *List kinds, nested too', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } },
        {
          apiVersion: 'v1',
          kind: 'ServiceList',
          items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' } }],
        },
      ],
    };
    expect(parseManifests(JSON.stringify(list), F).map((o) => o.metadata?.name)).toEqual(['a', 'b']);
  });

  it('returns nothing for an empty file', () => {
    expect(parseManifests('', F)).toEqual([]);
    expect(parseManifests('---\n# nothing\n', F)).toEqual([]);
  });

  it('reports YAML syntax errors as kubectl does', () => {
    expect(errorOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: a: b\n')).toBe(
      'error: error parsing svc.yaml: error converting YAML to JSON: yaml: line 4: bad indentation of a mapping entry',
    );
  });

  it('reports missing apiVersion and kind', () => {
    expect(errorOf('metadata:\n  name: a\n')).toBe(
      'error: error validating "svc.yaml": error validating data: [apiVersion not set, kind not set]',
    );
    expect(errorOf('apiVersion: v1\nmetadata:\n  name: a\n')).toBe(
      'error: error validating "svc.yaml": error validating data: kind not set',
    );
  });

  it('reports unknown kinds and versions with the resource mapping error', () => {
    expect(errorOf('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n', 'deploy.yaml')).toBe(
      'error: resource mapping not found for name: "x" namespace: "" from "deploy.yaml": no matches for kind "Deployment" in version "apps/v1"',
    );
    expect(errorOf('apiVersion: v2\nkind: Service\nmetadata:\n  name: x\n  namespace: prod\n')).toBe(
      'error: resource mapping not found for name: "x" namespace: "prod" from "svc.yaml": no matches for kind "Service" in version "v2"',
    );
  });

  // kubectl sends fieldValidation=Strict: unknown fields are the apiserver's strict decoding error (400).
  it('refuses unknown fields (typos) with the strict decoding error', () => {
    const text =
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  selectr:\n    app: a\n  ports:\n  - port: 80\n';
    expect(errorOf(text)).toBe(
      'error when creating "svc.yaml": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.selectr"',
    );
    expect(() => parseManifests(text, F)).toThrow(DecodeError);
  });

  it('without strict decoding (svcctl delete -f), unknown fields are dropped', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  valueOf: 1\nspec:\n  selectr: {app: a}\n';
    expect(parseManifests(text, F, { strict: false })).toEqual([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: {} },
    ]);
  });

  it("refuses wrong field types with the apiserver's type errors; required fields are left to validation", () => {
    expect(
      errorOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: "80"\n  - name: b\n'),
    ).toBe(
      'Service "a" is invalid: spec.ports[0].port: Invalid value: "string": spec.ports[0].port in body must be of type integer: "string"',
    );
  });

  it('reads YAML 1.1 booleans as kubectl does (unquoted yes is not a string)', () => {
    expect(errorOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels:\n    enabled: yes\n')).toBe(
      'Service "a" is invalid: metadata.labels[enabled]: Invalid value: "boolean": metadata.labels[enabled] in body must be of type string: "boolean"',
    );
  });

  it('accepts targetPort as a number or a name, and unknown PodSpec fields', () => {
    const objs = parseManifests(
      'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80, targetPort: http}, {port: 81, targetPort: 8081}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: Always\n  containers: [{name: c, image: x, resources: {}}]\n',
      F,
    );
    expect(objs).toHaveLength(2);
  });

  it('refuses a document that is not an object', () => {
    expect(errorOf('- a\n- b\n')).toBe(
      'error: error parsing svc.yaml: json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
  });

  it('stops at the first bad document and returns nothing', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: Service\n', F)).toThrow(
      InvalidError,
    );
  });

  it.each([
    ['hellok8s-svc.yaml', 'hellok8s-svc', 'NodePort'],
    ['nginx-clusterip.yaml', 'nginx', 'ClusterIP'],
    ['db-externalname.yaml', 'db', 'ExternalName'],
  ])('parses and validates the seed example %s', (file, name, type) => {
    const path = fileURLToPath(new URL(`../../examples/${file}`, import.meta.url));
    const [obj] = parseManifests(readFileSync(path, 'utf8'), path);
    expect(obj?.kind).toBe('Service');
    expect(obj?.metadata?.name).toBe(name);
    const svc = defaultService(asService(obj));
    expect(svc.spec?.type).toBe(type);
    expect(validateService(svc, DEFAULT_CLUSTER_CONFIG)).toEqual([]);
  });

  it('seed examples carry the expected ports', () => {
    const read = (f: string) =>
      parseManifests(readFileSync(fileURLToPath(new URL(`../../examples/${f}`, import.meta.url)), 'utf8'), f)[0];
    const hello = defaultService(asService(read('hellok8s-svc.yaml')));
    expect(hello.spec?.selector).toEqual({ app: 'hellok8s' });
    expect(hello.spec?.ports).toEqual([{ port: 4567, nodePort: 30001, protocol: 'TCP', targetPort: 4567 }]);
    const nginx = defaultService(asService(read('nginx-clusterip.yaml')));
    expect(nginx.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 8080, 80],
      ['https', 8443, 443],
    ]);
    expect(defaultService(asService(read('db-externalname.yaml'))).spec?.externalName).toBe('my-db.company.com');
  });
});
