/**
 * The real svcctl binary as a client of the local API (svcctl-only mode: its first command starts the local system in
 * the background, over the test run's shared moto): the seeds' examples, kubectl's output (the server's Tables),
 * all-or-nothing apply of bad input, allocation conflicts, describe, delete, -o yaml/json/name, local status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cliEnv, writeManifest, type CliEnv } from '../support/cli.js';

let cli: CliEnv;

beforeAll(async () => {
  cli = cliEnv();
  // The seeds' three examples, in one apply.
  const r = await cli.run([
    'apply',
    '-f',
    'examples/hellok8s-svc.yaml',
    '-f',
    'examples/nginx-clusterip.yaml',
    '-f',
    'examples/db-externalname.yaml',
  ]);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.stderr).toContain('starting the local system in the background');
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('service/hellok8s-svc created\nservice/nginx created\nservice/db created\n');
}, 180_000);

afterAll(() => cli?.stop(), 60_000);

describe('svcctl with the seed examples', () => {
  it('a later command reuses the running local system (no start-up message)', async () => {
    const r = await cli.run(['get', 'services', '-o', 'name']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'service/db',
      'service/hellok8s-svc',
      'service/nginx',
    ]);
  });

  it('get services prints kubectl-identical rows', async () => {
    const r = await cli.run(['get', 'services']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$/);
    // kubectl's tab writer: each column starts 3 spaces after the widest cell of the column before it.
    const starts = ['TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'].map((h) => lines[0]!.indexOf(h));
    const cells = lines.map((l) => l.split(/\s{2,}/));
    for (let c = 0; c < starts.length; c++) {
      const widest = Math.max(...cells.map((r) => r[c]!.length));
      expect(starts[c]! - (c === 0 ? 0 : starts[c - 1]!)).toBe(Math.max(6, widest + 3));
      for (const l of lines) expect(l[starts[c]! - 1]).toBe(' ');
    }
    const rows = Object.fromEntries(lines.slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s{2,}/)]));
    expect(rows['db']).toEqual([
      'db',
      'ExternalName',
      '<none>',
      'my-db.company.com',
      '<none>',
      expect.stringMatching(/^\d+s$/),
    ]);
    expect(rows['hellok8s-svc']!.slice(0, 5)).toEqual([
      'hellok8s-svc',
      'NodePort',
      expect.stringMatching(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/),
      '<none>',
      '4567:30001/TCP',
    ]);
    expect(rows['nginx']!.slice(1, 5)).toEqual([
      'ClusterIP',
      expect.stringMatching(/^10\./),
      '<none>',
      '8080/TCP,8443/TCP',
    ]);
    // Columns are aligned: every row's TYPE column starts where the header's does.
    const typeCol = lines[0]!.indexOf('TYPE');
    for (const l of lines.slice(1)) expect(l.slice(typeCol)).toMatch(/^(NodePort|ClusterIP|ExternalName) /);
  });

  it('applying the same files again reports unchanged', async () => {
    const r = await cli.run(['apply', '-f', 'examples/hellok8s-svc.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('service/hellok8s-svc unchanged\n');
  });

  it('a file with one invalid object applies nothing and explains like the API server', async () => {
    const f = writeManifest(
      cli.home,
      'mixed.yaml',
      `apiVersion: v1
kind: Service
metadata: {name: fine-one}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: My_Svc}
spec: {ports: [{port: 80}]}
`,
    );
    const r = await cli.run(['apply', '-f', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `The Service "My_Svc" is invalid: metadata.name: Invalid value: "My_Svc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character`,
    );
    const g = await cli.run(['get', 'service', 'fine-one']);
    expect(g.code).toBe(1);
    expect(g.stderr).toBe('Error from server (NotFound): services "fine-one" not found\n');
  });

  it('rejects an out-of-range and an already allocated NodePort', async () => {
    const f = writeManifest(
      cli.home,
      'ports.yaml',
      `apiVersion: v1
kind: Service
metadata: {name: low}
spec: {type: NodePort, ports: [{port: 80, nodePort: 29999}]}
`,
    );
    const low = await cli.run(['apply', '-f', f]);
    expect(low.code).toBe(1);
    expect(low.stderr).toContain(
      'spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    const taken = await cli.run(
      ['apply', '-f', '-'],
      `{"apiVersion":"v1","kind":"Service","metadata":{"name":"taken"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30001}]}}`,
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated');
  });

  it('describe service reads like kubectl describe', async () => {
    const r = await cli.run(['describe', 'service', 'nginx']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name: {21}nginx$/m);
    expect(r.stdout).toMatch(/^Selector: {17}app=nginx$/m);
    expect(r.stdout).toMatch(/^Port: {21}http {2}8080\/TCP$/m);
    expect(r.stdout).toMatch(/^TargetPort: {15}80\/TCP$/m);
    expect(r.stdout).toMatch(/^Events: {19}<none>$/m);
  });

  it('-o yaml and -o json print the stored objects', async () => {
    const y = await cli.run(['get', 'service', 'hellok8s-svc', '-o', 'yaml']);
    expect(y.code).toBe(0);
    const svc = parseYaml(y.stdout);
    expect(svc.spec.ports[0]).toMatchObject({ port: 4567, nodePort: 30001, protocol: 'TCP', targetPort: 4567 });
    expect(svc.spec.externalTrafficPolicy).toBe('Cluster');
    expect(svc.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const j = await cli.run(['get', 'services', '-o', 'json']);
    const list = JSON.parse(j.stdout);
    expect(list.kind).toBe('List');
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort()).toEqual([
      'db',
      'hellok8s-svc',
      'nginx',
    ]);
    expect(Object.keys(list.items[0])).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  });

  it('pods with their status, and Endpoints a producer writes for a Service without a selector', async () => {
    const f = writeManifest(
      cli.home,
      'pod.yaml',
      `apiVersion: v1
kind: Pod
metadata: {name: nginx-1, labels: {app: nginx}}
spec:
  nodeName: node-a
  containers: [{name: web, image: nginx, ports: [{name: web, containerPort: 80}, {containerPort: 443}]}]
status:
  phase: Running
  podIP: 10.244.1.7
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Service
metadata: {name: external-db}
spec: {ports: [{port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: external-db}
subsets: [{addresses: [{ip: 10.0.9.5}], ports: [{port: 5432}]}]
`,
    );
    const a = await cli.run(['apply', '-f', f]);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe('pod/nginx-1 created\nservice/external-db created\nendpoints/external-db created\n');
    const pods = await cli.run(['get', 'pods', '-o', 'wide']);
    // As kubectl prints it: READY counts containers whose status says ready (this Pod reports none).
    expect(pods.stdout.split('\n')[1]).toMatch(
      /^nginx-1\s+0\/1\s+Running\s+0\s+\d+s\s+10\.244\.1\.7\s+node-a\s+<none>\s+<none>$/,
    );
    const ep = await cli.run(['get', 'endpoints', 'external-db']);
    expect(ep.code).toBe(0);
    expect(ep.stdout.split('\n')[1]).toMatch(/^external-db\s+10\.0\.9\.5:5432\s+\d+s$/);
  });

  it('delete by name, then NotFound', async () => {
    const d = await cli.run(['delete', 'service', 'db']);
    expect(d.code).toBe(0);
    expect(d.stdout).toBe('service "db" deleted\n');
    const again = await cli.run(['delete', 'service', 'db']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error from server (NotFound): services "db" not found\n');
  });

  it('local status prints the endpoint for the aws CLI and SDK tools, and the KUBECONFIG line', async () => {
    const r = await cli.run(['local', 'status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`export AWS_ENDPOINT_URL=${cli.state.endpoint}\n`);
    expect(r.stdout).toContain('export AWS_REGION=us-east-1\n');
    expect(r.stdout).toContain('export AWS_ACCESS_KEY_ID=testing\n');
    expect(r.stdout).toContain(`export KUBECONFIG=${cli.kubeconfig}\n`);
    expect(r.stdout).toMatch(/API and controller: pid \d+ \(background, started by svcctl\)/);
  });

  it('unknown resources and commands: kubectl exit code 1 for the former, usage (2) for the latter', async () => {
    // kubectl exits 1 here (svcctl exited 2 before it spoke to an API); the message is kubectl's.
    const r = await cli.run(['get', 'deployments']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: the server doesn't have a resource type "deployments"\n`);
    const n = await cli.run(['frobnicate']);
    expect(n.code).toBe(2);
    const old = await cli.run(['--table', 't', 'get', 'services']);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('svcctl no longer writes the table');
  });
});
