/**
 * The `npm start` start-up, headless (issue acceptance): the local system comes up against the test run's moto
 * server, real HTTP responses come back through a ClusterIP, a NodePort and the load balancer (its stand-in forwards
 * to the registered targets), a node joining shows up in the target group and gets the rules, and shutdown leaves no
 * namespace or process behind. Needs root (network namespaces); every address is inside namespaces it creates.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { isOwned } from '../../lib/lb/ownership.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchLocalNode, listLocalNodes } from '../../tools/local/cluster-aws.js';
import { runDemoRequests } from '../../tools/local/demo.js';
import { applyDemo, kubeconfigLine, startLocalSystem, type LocalSystem } from '../../tools/local/up.js';
import { publishInstanceState } from '../../tools/local/wiring.js';
import { cliEnv } from '../support/cli.js';
import { kubectlWith } from '../support/kubectl-env.js';
import { runPrefix } from '../../tools/netns/index.js';

const BASE = 'sscup';
const PREFIX = runPrefix(BASE);
// A crashed earlier run: its namespace carries the pid of a process that no longer exists.
const LEFTOVER = `${runPrefix(BASE, spawnSync('true').pid!)}-leftover`;
let sys: LocalSystem | undefined;
let leftover: ChildProcess | undefined;
const out: string[] = [];
const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s) };

const namespaces = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`));

/**
 * The targets of this system's `default/web` target group. The worker's moto is shared with earlier test files, whose
 * clusters also had a `default/web` (same name prefix, 3 targets): only the ownership tags say which one is ours.
 */
async function targetIds(s: LocalSystem): Promise<string[]> {
  const { elbv2 } = s.target.clients;
  const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const named = tgs.filter((t) => t.TargetGroupName?.includes('default-web')).map((t) => t.TargetGroupArn!);
  const tagged = [];
  for (let i = 0; i < named.length; i += 20)
    // DescribeTags takes at most 20 ARNs
    tagged.push(
      ...((await elbv2.send(new DescribeTagsCommand({ ResourceArns: named.slice(i, i + 20) }))).TagDescriptions ?? []),
    );
  const cluster = s.target.cfg.clusterName;
  const ours = tagged.filter((d) =>
    isOwned(Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])), cluster),
  );
  expect(ours.length).toBeGreaterThan(0);
  const h = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: ours[0]!.ResourceArn }));
  return (h.TargetHealthDescriptions ?? []).map((d) => d.Target!.Id!).sort();
}

beforeAll(async () => {
  const env = cliEnv(); // an isolated SVCCTL_HOME whose state points at the test run's moto, unique names
  process.env.SVCCTL_HOME = env.home;
  // What a crashed run leaves behind: a namespace of ours with a process in it. The next start must clean it first.
  execFileSync('ip', ['netns', 'add', LEFTOVER]);
  leftover = spawn('ip', ['netns', 'exec', LEFTOVER, 'sleep', '600'], { stdio: 'ignore' });
  sys = await startLocalSystem(io, { nodes: 3, nsBase: BASE, resyncSeconds: 3600 });
  expect(sys.dataplane, out.join('')).toBeDefined();
  await applyDemo(sys, io);
}, 240_000);

afterAll(async () => {
  await sys?.stop();
});

describe('npm start, headless', () => {
  it('cleaned up what a crashed run left (namespace and the process in it) before starting', async () => {
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(LEFTOVER);
    for (let i = 0; i < 20 && leftover!.exitCode === null && leftover!.signalCode === null; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(leftover!.exitCode !== null || leftover!.signalCode !== null).toBe(true);
  });

  it('the KUBECONFIG line it prints points the real kubectl at its API, which shows the demo', async () => {
    const line = kubeconfigLine(sys!);
    const path = /^export KUBECONFIG=(\S+)$/.exec(line)?.[1];
    expect(path).toBe(sys!.api.kubeconfig);
    const kubectl = kubectlWith(path!);
    const svc = await kubectl.run(['get', 'service', 'hellok8s-svc']);
    expect(svc.stderr).toBe('');
    expect(svc.stdout.split('\n')[1]).toMatch(/^hellok8s-svc +NodePort +10\.\S+ +<none> +4567:30001\/TCP +\d+s$/);
    const pods = await kubectl.run(['get', 'pods', '-o', 'wide']);
    // The demo Pods were applied through the API with the addresses of their namespaces.
    for (const p of sys!.dataplane!.pods)
      expect(pods.stdout).toMatch(
        new RegExp(`^${p.pod.name} +\\S+ +Running +0 +\\d+s +${p.pod.ip.replace(/\./g, '\\.')} `, 'm'),
      );
  });

  it('answers real HTTP through a ClusterIP, a NodePort, cluster DNS and the load balancer', async () => {
    const probes = await runDemoRequests(sys!);
    const byKind = (k: string) => probes.filter((p) => p.what.startsWith(k));
    for (const k of ['ClusterIP', 'NodePort', 'DNS', 'load balancer']) {
      expect(byKind(k).length, k).toBeGreaterThan(0);
      for (const p of byKind(k)) expect(p.ok, `${p.what}: ${p.output}`).toBe(true);
    }
    expect(byKind('ClusterIP')[0]!.output).toMatch(
      /^hello from nginx-[12] on ip-172-31-0-1\d\.ec2\.internal \(port 80\)$/,
    );
    expect(byKind('load balancer')[0]!.output).toMatch(/^hello from hellok8s-[12] /);
  }, 120_000);

  it('the load balancer spreads connections over the registered nodes', async () => {
    const l = sys!.proxy!.listeners().find((x) => x.serviceName === 'default/web')!;
    expect(l.targets.length).toBe(3);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`http://127.0.0.1:${l.localPort}/`, { signal: AbortSignal.timeout(5000) });
      seen.add((await res.text()).trim());
    }
    // Two hellok8s pods behind three nodes: both pods answer.
    expect([...seen].map((t) => t.split(' ')[2]).sort()).toEqual(['hellok8s-1', 'hellok8s-2']);
  }, 60_000);

  it('a node joining shows up in the target group and gets the rules', async () => {
    const s = sys!;
    const st = s.target.local!;
    const before = await targetIds(s);
    expect(before).toHaveLength(3);
    const node = await launchLocalNode(
      s.target.clients.ec2,
      st.clusterName,
      { vpcId: st.vpcId!, subnetIds: st.subnetIds!, nodeSecurityGroupId: st.nodeSecurityGroupId! },
      3,
    );
    await publishInstanceState(s.target.clients, s.target.busName, node.instanceId, 'running');
    let after: string[] = [];
    // Bounded at 90 s: a node event whose registration fails is redelivered after the local queue's 5 s visibility
    // timeout (each failure is logged into `out`), and the full suite shares two cores with this system.
    for (let i = 0; i < 180 && !after.includes(node.instanceId); i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = await targetIds(s);
    }
    expect(after, out.join('').slice(-4000)).toEqual([...before, node.instanceId].sort());
    // The node namespace appears and, once its first push is applied, serves the NodePort like every other node. The
    // namespace exists before that push is even requested (the join is handled after the namespace is made), so
    // `settle()` alone can return first: the loop waits for the answer itself, bounded at 60 tries.
    const hello = await s.target.api.getService('default', 'hellok8s-svc');
    const url = `http://${node.privateIp}:${hello.spec!.ports![0]!.nodePort}/`;
    let r = { stdout: '' };
    for (let i = 0; i < 60 && !/^hello from /.test(r.stdout); i++) {
      if (i) await new Promise((res) => setTimeout(res, 500));
      if (!s.dataplane!.nodesByInstance.has(node.instanceId)) continue;
      await s.settle(10_000);
      r = await s.dataplane!.exec(s.dataplane!.client.ns, ['curl', '-s', '-m', '2', url]);
    }
    expect(r.stdout).toMatch(/^hello from hellok8s-[12] /);
    expect((await listLocalNodes(s.target.clients.ec2, st.clusterName)).length).toBe(4);
  }, 180_000);

  it('shutdown removes every namespace and process it made', async () => {
    expect(namespaces().length).toBeGreaterThanOrEqual(10);
    const relay = sys!.dataplane!.relaySocket;
    await sys!.stop();
    sys = undefined;
    expect(namespaces()).toEqual([]);
    const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(procs).not.toContain(relay);
    expect(procs).not.toMatch(new RegExp(`netns exec ${PREFIX}-`));
  }, 60_000);
});
