/**
 * kubectl apply with default flags against the API server (real kubectl, real HTTPS, the backend chosen in
 * test/support/api-server.ts): the seeds' hellok8s Service created / unchanged / configured, a directory and a
 * multi-document file, invalid input refused with the apiserver's message and nothing changed, server-side apply
 * refused with a clear Status, delete -f.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api-server.js';
import type { Kubectl } from '../support/kubectl.js';

let api: TestApi;
let k: Kubectl;

beforeAll(async () => {
  api = await startTestApi();
  k = api.kubectl();
});
afterAll(() => api?.close());

const HELLO = readFileSync('examples/hellok8s-svc.yaml', 'utf8');

describe('kubectl apply', () => {
  it('creates the seeds hellok8s Service, then unchanged, then configured after an edit', async () => {
    const file = join(k.dir, 'service.yaml');
    writeFileSync(file, HELLO);
    const first = await k.run(['apply', '-f', file]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('service/hellok8s-svc created\n');
    expect((await k.run(['apply', '-f', file])).stdout).toBe('service/hellok8s-svc unchanged\n');
    writeFileSync(file, HELLO.replace('app: hellok8s', 'app: hellok8s-v2'));
    expect((await k.run(['apply', '-f', file])).stdout).toBe('service/hellok8s-svc configured\n');
    const got = await k.run([
      'get',
      'service',
      'hellok8s-svc',
      '-o',
      'jsonpath={.spec.selector.app} {.spec.ports[0].nodePort}',
    ]);
    expect(got.stdout).toBe('hellok8s-v2 30001');
  });

  it('applies a directory and a multi-document file', async () => {
    const dir = join(k.dir, 'manifests');
    mkdirSync(dir);
    for (const f of ['db-externalname.yaml', 'nginx-clusterip.yaml', 'web-loadbalancer.yaml']) {
      copyFileSync(join('examples', f), join(dir, f));
    }
    const res = await k.run(['apply', '-f', dir]);
    expect(res.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'service/db created',
      'service/nginx created',
      'service/web created',
    ]);
    const multi = join(k.dir, 'multi.yaml');
    const doc = (name: string, port: number) =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: ${port}\n`;
    writeFileSync(multi, `${doc('multi-a', 81)}---\n${doc('multi-b', 82)}`);
    const m = await k.run(['apply', '-f', multi]);
    expect(m.stdout).toBe('service/multi-a created\nservice/multi-b created\n');
  });

  it('refuses an invalid Service with the apiserver message and changes nothing', async () => {
    const before = await api.backend.currentRevision();
    const file = join(k.dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  type: Foo\n  ports:\n  - port: 80\n',
    );
    const res = await k.run(['apply', '-f', file]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(
      'The Service "bad" is invalid: spec.type: Unsupported value: "Foo": supported values:',
    );
    expect(await api.backend.currentRevision()).toBe(before);
    expect((await k.run(['get', 'service', 'bad'])).stderr).toContain('services "bad" not found');
  });

  it('a Service with 120 node ports (valid in Kubernetes) is one atomic write; shrinking it frees the ports', async () => {
    const ports = (n: number) =>
      Array.from({ length: n }, (_, i) => `  - name: p${i}\n    port: ${1000 + i}\n`).join('');
    const manifest = (n: number) =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: many\nspec:\n  type: NodePort\n  selector:\n    app: many\n  ports:\n${ports(n)}`;
    const file = join(k.dir, 'many.yaml');
    writeFileSync(file, manifest(120));
    const before = await api.backend.currentRevision();
    expect((await k.run(['apply', '-f', file])).stdout).toBe('service/many created\n');
    expect(Number(await api.backend.currentRevision())).toBe(Number(before) + 1);
    const got = await k.run(['get', 'service', 'many', '-o', 'jsonpath={.spec.ports[*].nodePort}']);
    const nodePorts = got.stdout.split(' ').map(Number);
    expect(new Set(nodePorts).size).toBe(120);
    expect(nodePorts.every((p) => p >= 30000 && p <= 32767)).toBe(true);

    // Another Service asking for one of them is refused as the apiserver refuses it.
    const other = (port: number) =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: other\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n    nodePort: ${port}\n`;
    const otherFile = join(k.dir, 'other.yaml');
    writeFileSync(otherFile, other(nodePorts[119]!));
    const taken = await k.run(['apply', '-f', otherFile]);
    expect(taken.stderr).toContain(
      `spec.ports[0].nodePort: Invalid value: ${nodePorts[119]}: provided port is already allocated`,
    );

    // Down to one port: the other 119 are released in the same write, so the refused port is now free.
    writeFileSync(file, manifest(1));
    expect((await k.run(['apply', '-f', file])).stdout).toBe('service/many configured\n');
    expect((await k.run(['apply', '-f', otherFile])).stdout).toBe('service/other created\n');
    await k.run(['delete', '-f', otherFile, '-f', file]);
  });

  it('rejects unknown fields (kubectl sends fieldValidation=Strict)', async () => {
    const res = await k.run(['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: typo\nspec:\n  portz: []\n',
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('strict decoding error: unknown field "spec.portz"');
  });

  it('server-side apply is refused with a clear UnsupportedMediaType Status', async () => {
    const file = join(k.dir, 'ssa.yaml');
    writeFileSync(file, HELLO.replace('hellok8s-svc', 'ssa'));
    const res = await k.run(['apply', '--server-side', '-f', file]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('server-side apply is not supported by this server');
    expect((await k.run(['get', 'service', 'ssa'])).code).not.toBe(0);
  });

  it('dry-run=server validates and persists nothing', async () => {
    const before = await api.backend.currentRevision();
    const res = await k.run(['apply', '--dry-run=server', '-f', '-'], {
      input: HELLO.replace('hellok8s-svc', 'dry').replace('30001', '30003'),
    });
    expect(res.stdout).toBe('service/dry created (server dry run)\n');
    expect(await api.backend.currentRevision()).toBe(before);
  });

  it('dry-run=server refuses what the real write would refuse: an object over the store size limit', async () => {
    // 4,000 labels of ~100 bytes: a valid object by Kubernetes' rules, over what one DynamoDB item holds. svcctl's
    // all-or-nothing apply relies on the dry run refusing it before anything of the file is written.
    const labels = Array.from({ length: 4000 }, (_, i) => `    k${i}-${'x'.repeat(40)}: v${'y'.repeat(50)}\n`).join('');
    const big = `apiVersion: v1\nkind: Service\nmetadata:\n  name: big\n  labels:\n${labels}spec:\n  ports:\n  - port: 80\n`;
    const before = await api.backend.currentRevision();
    const dry = await k.run(['create', '--dry-run=server', '-f', '-'], { input: big });
    expect(dry.code).not.toBe(0);
    expect(dry.stderr).toContain('The Service "big" is invalid: metadata: object may not be more than 358400 bytes');
    expect(await api.backend.currentRevision()).toBe(before);
  });

  it('applies a Pod, then an image change merges containers by name (strategic merge patch from the schemas)', async () => {
    const pod = (image: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  labels:\n    app: web\nspec:\n  containers:\n  - name: app\n    image: ${image}\n    ports:\n    - containerPort: 4567\n  - name: sidecar\n    image: proxy:1\n`;
    expect((await k.run(['apply', '-f', '-'], { input: pod('hellok8s:v1') })).stdout).toBe('pod/web-1 created\n');
    expect((await k.run(['apply', '-f', '-'], { input: pod('hellok8s:v1') })).stdout).toBe('pod/web-1 unchanged\n');
    expect((await k.run(['apply', '-f', '-'], { input: pod('hellok8s:v2') })).stdout).toBe('pod/web-1 configured\n');
    const images = await k.run(['get', 'pod', 'web-1', '-o', 'jsonpath={.spec.containers[*].image}']);
    expect(images.stdout).toBe('hellok8s:v2 proxy:1');
  });

  it('delete -f removes what the file names', async () => {
    const file = join(k.dir, 'gone.yaml');
    writeFileSync(file, HELLO.replace('hellok8s-svc', 'gone').replace('30001', '30002'));
    expect((await k.run(['apply', '-f', file])).stdout).toBe('service/gone created\n');
    expect((await k.run(['delete', '-f', file])).stdout).toBe('service "gone" deleted\n');
    expect((await k.run(['get', 'service', 'gone'])).stderr).toContain('(NotFound): services "gone" not found');
  });
});
