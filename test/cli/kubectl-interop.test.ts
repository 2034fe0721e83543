/**
 * svcctl next to the real kubectl against the same local API: `svcctl kubeconfig --write` gives kubectl a working
 * kubeconfig; `svcctl get` and `svcctl describe service` print what kubectl prints (byte for byte, ages aside); apply
 * interoperates both ways through the last-applied annotation (unchanged, configured, a removed port goes);
 * `svcctl get nodes` adds the DATAPLANE column from each Node's DataPlaneReady condition.
 */
import type { V1NodeStatus } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { NODES } from '../../lib/api/resources.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DynamoStore } from '../../lib/store/store.js';
import { motoClients } from '../support/aws.js';
import { cliEnv, writeManifest, type CliEnv } from '../support/cli.js';
import { kubectlWith, type KubectlRun } from '../support/kubectl-env.js';

let cli: CliEnv;
let kubectl: ReturnType<typeof kubectlWith>;

/** Ages move with the clock between the two commands; everything else must be identical. */
const ageless = (s: string) => s.replace(/\b\d+(s|m\d*s?)\b/g, '<age>');

const POD = `apiVersion: v1
kind: Pod
metadata: {name: nginx-1, labels: {app: nginx, tier: web}}
spec:
  nodeName: ip-172-31-0-11.ec2.internal
  containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 80}]}]
status:
  phase: Running
  podIP: 10.244.1.7
  conditions: [{type: Ready, status: "True"}]
  containerStatuses: [{name: web, ready: true, restartCount: 0, image: nginx, imageID: "", started: true, state: {running: {}}}]
`;

beforeAll(async () => {
  cli = cliEnv();
  const a = await cli.run(['apply', '-f', 'examples/']);
  expect(a.code, a.stderr).toBe(0);
  const p = await cli.run(['apply', '-f', '-'], POD);
  expect(p.stdout).toBe('pod/nginx-1 created\n');
  const file = `${cli.home}/written.kubeconfig`;
  const k = await cli.run(['kubeconfig', '--write', file]);
  expect(k.stdout).toContain(`export KUBECONFIG=${file}`);
  kubectl = kubectlWith(file);
  // The comparisons below need a settled system: the LoadBalancer Service's NLB hostname is written once its
  // reconcile ends, and a get on either side of that write would print <pending> on one side only.
  const host = () => kubectl.run(['get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].hostname}']);
  for (let i = 0; i < 240 && !(await host()).stdout; i++) await new Promise((r) => setTimeout(r, 250));
  expect((await host()).stdout).toMatch(/\.elb\.amazonaws\.com$/);
}, 180_000);

afterAll(() => cli?.stop(), 60_000);

async function both(args: string[]): Promise<[KubectlRun, KubectlRun]> {
  return [await cli.run(args), await kubectl.run(args)];
}

describe('svcctl kubeconfig and kubectl against the local API', () => {
  it('kubectl get service hellok8s-svc with the kubeconfig svcctl wrote', async () => {
    const r = await kubectl.run(['get', 'service', 'hellok8s-svc']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[1]).toMatch(/^hellok8s-svc +NodePort +10\.\S+ +<none> +4567:30001\/TCP +\d+s$/);
  });

  it.each([
    [['get', 'services']],
    [['get', 'svc', '-o', 'wide']],
    [['get', 'svc', '-A']],
    [['get', 'svc', '--show-labels']],
    [['get', 'svc', '-l', 'app!=nothing', '-o', 'name']],
    [['get', 'svc', '--field-selector', 'metadata.name=nginx']],
    [['get', 'service', 'nginx', 'db']],
    [['get', 'pods', '-o', 'wide']],
    [['get', 'endpoints', '-A']],
    [['get', 'namespaces']],
    [['get', 'svc', 'nginx', '-o', 'json']],
    [['get', 'svc', '-n', 'nowhere']],
    [['get', 'service', 'missing']],
  ])('svcctl %j prints what kubectl prints', async (args) => {
    const [s, k] = await both(args);
    expect(k.stdout + k.stderr).not.toBe('');
    expect(s.code).toBe(k.code);
    expect(ageless(s.stdout)).toBe(ageless(k.stdout));
    expect(s.stderr).toBe(k.stderr);
  });

  it('-o yaml holds the same object as kubectl -o yaml', async () => {
    const { parse } = await import('yaml');
    const [s, k] = await both(['get', 'svc', 'web', '-o', 'yaml']);
    expect(parse(s.stdout)).toEqual(parse(k.stdout));
  });

  it('describe service prints what kubectl describe prints, events included', async () => {
    const uid = JSON.parse((await cli.run(['get', 'svc', 'nginx', '-o', 'json'])).stdout).metadata.uid;
    const when = new Date(Date.now() - 3 * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const event = (name: string, reason: string, count: number) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'Service', namespace: 'default', name: 'nginx', uid, apiVersion: 'v1' },
      reason,
      message: `${reason} happened  `,
      type: reason === 'Failed' ? 'Warning' : 'Normal',
      source: { component: 'service-controller' },
      firstTimestamp: when,
      lastTimestamp: when,
      count,
    });
    const e = await cli.run(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [event('nginx.1', 'Ensured', 1), event('nginx.2', 'Failed', 3)],
      }),
    );
    expect(e.stdout).toBe('event/nginx.1 created\nevent/nginx.2 created\n');
    for (const svc of ['nginx', 'web', 'db', 'hellok8s-svc']) {
      const [s, k] = await both(['describe', 'service', svc]);
      expect(k.code, k.stderr).toBe(0);
      // Events the controller records carry "now" timestamps: their ages may tick between the two commands.
      expect(ageless(s.stdout)).toBe(ageless(k.stdout));
    }
    const [s, k] = await both(['describe', 'service', 'nginx']);
    expect(s.stdout).toMatch(/^Events:\n {2}Type +Reason +Age +From +Message\n/m);
    expect(k.stdout).toContain('Failed   3d (x3 over 3d)');
  });
});

describe('kubectl get svc -w against the local system', () => {
  it('shows a new LoadBalancer Service turn from <pending> to its NLB hostname (the controller writes the status)', async () => {
    const watch = kubectl.spawn(['get', 'svc', '-w']);
    try {
      const a = await cli.run(
        ['apply', '-f', '-'],
        'apiVersion: v1\nkind: Service\nmetadata: {name: watched}\nspec: {type: LoadBalancer, selector: {app: w}, ports: [{port: 80}]}\n',
      );
      expect(a.stdout).toBe('service/watched created\n');
      const host = /^watched +LoadBalancer +\S+ +(k8s-default-watched-\S+\.elb\.amazonaws\.com) /m;
      for (let i = 0; i < 120 && !host.test(watch.output()); i++) await new Promise((r) => setTimeout(r, 250));
      const lines = watch
        .output()
        .split('\n')
        .filter((l) => l.startsWith('watched '));
      expect(lines[0]).toMatch(/^watched +LoadBalancer +10\.\S+ +<pending> +80:3\d{4}\/TCP +\d+s$/);
      expect(lines.at(-1)).toMatch(host);
    } finally {
      await watch.stop();
    }
  }, 60_000);
});

describe('apply with kubectl and svcctl in turn', () => {
  const svc = (ports: string) => `apiVersion: v1
kind: Service
metadata:
  name: shared
  annotations: {owner: "a&b<c>"}
spec:
  selector: {app: shared}
  ports: [${ports}]
`;

  it('agree on unchanged and configured, and a port removed from the file goes', async () => {
    const f = writeManifest(cli.home, 'shared.yaml', svc('{name: http, port: 80}, {name: https, port: 443}'));
    expect((await kubectl.run(['apply', '-f', f])).stdout).toBe('service/shared created\n');
    expect((await cli.run(['apply', '-f', f])).stdout).toBe('service/shared unchanged\n');
    writeManifest(cli.home, 'shared.yaml', svc('{name: http, port: 80}, {name: https, port: 8443}'));
    expect((await cli.run(['apply', '-f', f])).stdout).toBe('service/shared configured\n');
    expect((await kubectl.run(['apply', '-f', f])).stdout).toBe('service/shared unchanged\n');
    const ports = JSON.parse((await kubectl.run(['get', 'svc', 'shared', '-o', 'json'])).stdout).spec.ports;
    expect(ports.map((p: { port: number }) => p.port)).toEqual([80, 8443]);
    writeManifest(cli.home, 'shared.yaml', svc('{name: http, port: 80}'));
    expect((await kubectl.run(['apply', '-f', f])).stdout).toBe('service/shared configured\n');
    expect((await cli.run(['apply', '-f', f])).stdout).toBe('service/shared unchanged\n');
  });
});

describe('svcctl get nodes', () => {
  it("adds DATAPLANE from each Node's DataPlaneReady condition (written by the Node mirror)", async () => {
    // The local system's Node mirror writes a Node per local instance; two of them get a DataPlaneReady condition
    // as the mirror writes it from the nodes' push results (straight to the store's status, as the controller does).
    let names: string[] = [];
    for (let i = 0; i < 80 && names.length < 3; i++) {
      const items = JSON.parse((await kubectl.run(['get', 'nodes', '-o', 'json'])).stdout).items;
      names = items.map((n: { metadata: { name: string } }) => n.metadata.name).sort();
      if (names.length < 3) await new Promise((r) => setTimeout(r, 250));
    }
    expect(names).toHaveLength(3);
    const store = new DynamoStore(motoClients().dynamodb, cli.state.tableName);
    const system = new StoreBackend({ store, cfg: { ...DEFAULT_CLUSTER_CONFIG, clusterName: cli.state.clusterName } });
    const at = new Date().toISOString();
    const want: [string, string, string][] = [
      [names[0]!, 'True', 'RulesApplied'],
      [names[1]!, 'False', 'PushFailed'],
    ];
    const setCondition = async () => {
      for (const [name, status, reason] of want) {
        await system.writes.updateStatus<V1NodeStatus>(NODES, undefined, name, (st) => ({
          ...st,
          conditions: [
            ...(st.conditions ?? []).filter((c) => c.type !== 'DataPlaneReady'),
            { type: 'DataPlaneReady', status, reason, message: 'the node applied the latest service rules' },
          ].map((c) => ({ ...c, lastTransitionTime: c.lastTransitionTime ?? (at as never) })),
        }));
      }
    };
    const row = (name: string, reason: string) =>
      new RegExp(`^${name.replace(/\./g, '\\.')} +Ready +<none> +\\d+s +${reason}$`, 'm');
    let out = '';
    // The mirror's next resync may rewrite the condition from the (absent) push results: write again until seen.
    for (let i = 0; i < 20 && !want.every(([n, , r]) => row(n, r).test(out)); i++) {
      await setCondition();
      out = (await cli.run(['get', 'nodes'])).stdout;
    }
    system.close();
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +STATUS +ROLES +AGE +VERSION +DATAPLANE$/);
    // VERSION is empty: these Nodes report no kubelet.
    for (const [name, , reason] of want) expect(out).toMatch(row(name, reason));
    // Without -o wide or DATAPLANE, the rows are kubectl's.
    const k = await kubectl.run(['get', 'nodes']);
    expect(
      ageless(k.stdout)
        .split('\n')
        .map((l) => l.trimEnd()),
    ).toEqual(
      ageless(out)
        .split('\n')
        .map((l) => l.slice(0, lines[0]!.indexOf('DATAPLANE')).trimEnd()),
    );
  });
});
