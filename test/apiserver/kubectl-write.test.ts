/**
 * kubectl's writing commands against the API server: patch (strategic, --type merge, --type json), edit through an
 * EDITOR script, create service nodeport|clusterip|loadbalancer|externalname (protobuf bodies), label, annotate,
 * delete by name, and role enforcement (view cannot write).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api-server.js';
import type { Kubectl } from '../support/kubectl.js';

let api: TestApi;
let k: Kubectl;

beforeAll(async () => {
  api = await startTestApi();
  k = api.kubectl();
  await k.run(['apply', '-f', 'examples/nginx-clusterip.yaml']);
});
afterAll(() => api?.close());

const jsonpath = async (name: string, path: string) =>
  (await k.run(['get', 'svc', name, '-o', `jsonpath=${path}`])).stdout;

describe('kubectl create service', () => {
  it('creates each type from protobuf bodies, allocating like the apiserver', async () => {
    const cmds = [
      ['nodeport', 'np', '--tcp=80:8080'],
      ['clusterip', 'cip', '--tcp=80:8080'],
      ['loadbalancer', 'lb', '--tcp=443:8443'],
      ['externalname', 'ext', '--external-name=my-db.company.com'],
    ];
    for (const [type, name, flag] of cmds) {
      const res = await k.run(['create', 'service', type!, name!, flag!]);
      expect(res.stderr).toBe('');
      expect(res.stdout).toBe(`service/${name} created\n`);
    }
    expect(await jsonpath('np', '{.spec.type} {.spec.ports[0].targetPort} {.spec.selector.app}')).toBe(
      'NodePort 8080 np',
    );
    expect(Number(await jsonpath('np', '{.spec.ports[0].nodePort}'))).toBeGreaterThanOrEqual(30000);
    expect(await jsonpath('lb', '{.spec.type} {.spec.allocateLoadBalancerNodePorts}')).toBe('LoadBalancer true');
    expect(await jsonpath('ext', '{.spec.type} {.spec.externalName} {.spec.clusterIP}')).toBe(
      'ExternalName my-db.company.com ',
    );
    const dup = await k.run(['create', 'service', 'clusterip', 'cip', '--tcp=80:8080']);
    expect(dup.stderr).toBe('error: failed to create ClusterIP service: services "cip" already exists\n');
  });
});

describe('kubectl patch', () => {
  it('strategic merge patch merges ports by port number', async () => {
    const res = await k.run([
      'patch',
      'service',
      'nginx',
      '-p',
      '{"spec":{"ports":[{"port":8443,"targetPort":4443}]}}',
    ]);
    expect(res.stdout).toBe('service/nginx patched\n');
    expect(await jsonpath('nginx', '{range .spec.ports[*]}{.name}:{.port}:{.targetPort} {end}')).toBe(
      'http:8080:80 https:8443:4443 ',
    );
    const del = await k.run(['patch', 'svc', 'nginx', '-p', '{"spec":{"ports":[{"port":8443,"$patch":"delete"}]}}']);
    expect(del.stdout).toBe('service/nginx patched\n');
    expect(await jsonpath('nginx', '{.spec.ports[*].name}')).toBe('http');
  });

  it('--type merge replaces lists and merges maps', async () => {
    const res = await k.run(['patch', 'svc', 'nginx', '--type', 'merge', '-p', '{"metadata":{"labels":{"team":"a"}}}']);
    expect(res.stdout).toBe('service/nginx patched\n');
    expect(await jsonpath('nginx', '{.metadata.labels.team}')).toBe('a');
  });

  it('--type json applies RFC 6902 operations; a failing test op is refused', async () => {
    const ops = '[{"op":"replace","path":"/spec/ports/0/port","value":8081}]';
    expect((await k.run(['patch', 'svc', 'nginx', '--type', 'json', '-p', ops])).stdout).toBe(
      'service/nginx patched\n',
    );
    expect(await jsonpath('nginx', '{.spec.ports[0].port}')).toBe('8081');
    const bad = await k.run([
      'patch',
      'svc',
      'nginx',
      '--type',
      'json',
      '-p',
      '[{"op":"test","path":"/spec/type","value":"NodePort"}]',
    ]);
    expect(bad.code).not.toBe(0);
    expect(await jsonpath('nginx', '{.spec.type}')).toBe('ClusterIP');
  });

  it('an invalid result is the apiserver Invalid error and changes nothing', async () => {
    const before = await jsonpath('nginx', '{.metadata.resourceVersion}');
    const res = await k.run(['patch', 'svc', 'nginx', '-p', '{"spec":{"type":"Bogus"}}']);
    expect(res.stderr).toContain('The Service "nginx" is invalid: spec.type: Unsupported value: "Bogus"');
    expect(await jsonpath('nginx', '{.metadata.resourceVersion}')).toBe(before);
  });
});

describe('kubectl edit, label, annotate, delete', () => {
  it('edit runs EDITOR on the object and sends the change', async () => {
    const editor = join(k.dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i \'s/sessionAffinity: None/sessionAffinity: ClientIP/\' "$1"\n');
    chmodSync(editor, 0o755);
    const res = await k.run(['edit', 'svc', 'cip'], { env: { EDITOR: editor } });
    expect(res.stdout).toBe('service/cip edited\n');
    expect(await jsonpath('cip', '{.spec.sessionAffinity} {.spec.sessionAffinityConfig.clientIP.timeoutSeconds}')).toBe(
      'ClientIP 10800',
    );
  });

  it('label and annotate add and remove keys', async () => {
    expect((await k.run(['label', 'svc', 'cip', 'tier=web'])).stdout).toBe('service/cip labeled\n');
    expect((await k.run(['annotate', 'svc', 'cip', 'owner=me'])).stdout).toBe('service/cip annotated\n');
    expect(await jsonpath('cip', '{.metadata.labels.tier} {.metadata.annotations.owner}')).toBe('web me');
    expect((await k.run(['label', 'svc', 'cip', 'tier-'])).stdout).toBe('service/cip unlabeled\n');
    expect(await jsonpath('cip', '{.metadata.labels}')).toBe('{"app":"cip"}');
    const clash = await k.run(['label', 'svc', 'cip', 'app=other']);
    expect(clash.stderr).toContain("'app' already has a value (cip), and --overwrite is false");
  });

  it('delete by name, then NotFound', async () => {
    expect((await k.run(['delete', 'svc', 'np'])).stdout).toBe('service "np" deleted\n');
    expect((await k.run(['delete', 'svc', 'np'])).stderr).toContain(
      'Error from server (NotFound): services "np" not found',
    );
  });

  it('a view user cannot write: Forbidden with the RBAC wording', async () => {
    const viewer = api.kubectl('view');
    expect((await viewer.run(['get', 'svc', 'cip', '-o', 'name'])).stdout).toBe('service/cip\n');
    const res = await viewer.run(['delete', 'svc', 'cip']);
    expect(res.stderr).toContain(
      'Error from server (Forbidden): services "cip" is forbidden: User "test-view" cannot delete resource "services" in API group "" in the namespace "default"',
    );
    const writer = api.kubectl('writer');
    const svc = await writer.run(['annotate', 'svc', 'cip', 'x=y']);
    expect(svc.stderr).toContain('cannot patch resource "services"');
  });
});
