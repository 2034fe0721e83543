/**
 * Gateway API L4 end to end (issue 14's acceptance), through the real kubectl against the local system (`npm start`'s
 * controller loop and event path, node agents in node namespaces, Pods as HTTP servers in Pod namespaces, the NLB
 * stand-in on 127.0.0.1):
 * 1. a GatewayClass, a Gateway with 3 TCP listeners and 3 TCPRoutes to 3 Services (two NodePort, one ClusterIP, whose
 *    target group is at a hidden node port) are Programmed, the NLB's address is the Gateway's, and a connection
 *    through each stand-in listener reaches the route's Service;
 * 2. a 4th listener with a TCPRoute weighted 3:1 over two of those Services (beta, gamma: their target groups are
 *    shared): 40 connections split exactly 30/10 (the stand-in picks a target group by smooth weighted round-robin,
 *    exact over any 4 consecutive connections);
 * 3. deleting one route removes only its NLB listener and target group (same NLB; the others still answer);
 * 4. deleting the Gateway leaves no NLB, target group, managed security group or node security group rule of its
 *    stack in moto (found by tags / the rule's description).
 * One system is shared by the four steps, in order. Every wait is bounded. Needs root (network namespaces); traffic
 * goes only to loopback and to namespaces this test creates.
 */
import { connect } from 'node:net';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeTagsCommand,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOwned, nodeRuleDescription } from '../../lib/lb/ownership.js';
import { GATEWAY_CONTROLLER_NAME, type Gateway, type TCPRoute } from '../../lib/model/gateway/types.js';
import { STACK_TAG } from '../../lib/tags.js';
import type { ProxiedListener } from '../../tools/local/nlb-proxy.js';
import { startLocalSystem, type LocalSystem } from '../../tools/local/up.js';
import { cliEnv } from '../support/cli.js';
import { kubectlWith } from '../support/kubectl-env.js';

const BASE = 'sscgw';
const NS = 'gwt';
const GW = 'edge';
const STACK = `gateway/${NS}/${GW}`;
const NODES = 2;
/** Gateway listener name = TCPRoute name = Service name; each Service's one Pod is `<service>-1`. */
const PLAIN = [
  { name: 'alpha', port: 7001, type: 'NodePort' },
  { name: 'beta', port: 7002, type: 'NodePort' },
  { name: 'gamma', port: 7003, type: 'ClusterIP' }, // no NodePort: the data plane's hidden node port
] as const;
/** A 4th listener whose route splits 3:1 over two of the Services (their target groups are shared with beta/gamma). */
const SPLIT = { name: 'split', port: 7004, heavy: 'beta', light: 'gamma' } as const;

let sys: LocalSystem;
let kubectl: ReturnType<typeof kubectlWith>;
let cluster = '';
let nlbArn = '';
const out: string[] = [];
const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = () => out.join('').slice(-4000);

/** Polls `check` until it returns a value (not undefined/false); throws after `ms` with what it waited for. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${log()}`);
    await sleep(300);
  }
}

async function kc(args: string[], input = ''): Promise<string> {
  const r = await kubectl.run(args, input);
  expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

// ------------------------------------------------------------------------------------------------ manifests

const service = (name: string, type: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  type: ${type}
  selector:
    app: ${name}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;

const CLASS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: nlb
spec:
  controllerName: serverless-service-controller.io/gateway-controller
`;

const gateway = (listeners: { name: string; port: number }[]) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: ${GW}
  namespace: ${NS}
spec:
  gatewayClassName: nlb
  listeners:
${listeners.map((l) => `  - name: ${l.name}\n    protocol: TCP\n    port: ${l.port}\n`).join('')}`;

const tcpRoute = (
  name: string,
  backends: { name: string; weight?: number }[],
) => `apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  parentRefs:
  - name: ${GW}
    sectionName: ${name}
  rules:
  - backendRefs:
${backends.map((b) => `    - name: ${b.name}\n      port: 80\n${b.weight !== undefined ? `      weight: ${b.weight}\n` : ''}`).join('')}`;

/** The Pod object of a server started in a Pod namespace (the local system's kubelet role: written with its status). */
function podObject(name: string, app: string, nodeName: string, ip: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app } },
    spec: { nodeName, containers: [{ name: 'app', image: 'demo-http', ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

// ------------------------------------------------------------------------------------------------ traffic

/**
 * One HTTP/1.0 request on a fresh TCP connection to the stand-in at 127.0.0.1:port (one connection = one pick of the
 * stand-in): the Service name the answering Pod reports ("hello from <service>-1 on <node> (port 8080)").
 */
function request(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const s = connect({ host: '127.0.0.1', port }, () => s.write('GET / HTTP/1.0\r\nHost: gateway\r\n\r\n'));
    s.setTimeout(5000, () => s.destroy(new Error('no answer within 5 s')));
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('error', reject);
    s.on('close', () => {
      const m = /^HTTP\/1\.[01] 200 [^]*\r\n\r\nhello from ([a-z]+)-1 on /.exec(data);
      if (m) resolve(m[1]!);
      else reject(new Error(`unexpected answer: ${JSON.stringify(data.slice(0, 200))}`));
    });
  });
}

/** The Service behind a stand-in port, retried (bounded: 20 tries, 0.5 s apart) while the path warms up. */
async function answerOf(port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      return await request(port);
    } catch (err) {
      last = err;
      await sleep(500);
    }
  }
  throw new Error(`127.0.0.1:${port}: ${(last as Error).message}`);
}

// ------------------------------------------------------------------------------------------------ what exists

/** The stand-in's listeners of the Gateway's NLB (found by the NLB's ownership tags), by NLB listener port. */
async function gatewayListeners(): Promise<Map<number, ProxiedListener>> {
  await sys.proxy!.refresh();
  const ls = sys.proxy!.listeners().filter((l) => isOwned(l.tags, cluster, STACK));
  return new Map(ls.map((l) => [l.listenerPort, l]));
}

async function tagsOf(arns: string[]): Promise<Map<string, Record<string, string>>> {
  const m = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    // DescribeTags takes at most 20 ARNs
    const r = await sys.target.clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of r.TagDescriptions ?? [])
      m.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
  }
  return m;
}

/**
 * What moto holds of the Gateway's stack, found by tags only (the worker's moto is shared with other test files):
 * load balancers, target groups, managed security groups, and the node security group's rules for the stack.
 */
async function stackInMoto() {
  const { elbv2, ec2 } = sys.target.clients;
  const lbs: LoadBalancer[] = [];
  for await (const p of paginateDescribeLoadBalancers({ client: elbv2 }, {})) lbs.push(...(p.LoadBalancers ?? []));
  const tgs: TargetGroup[] = [];
  for await (const p of paginateDescribeTargetGroups({ client: elbv2 }, {})) tgs.push(...(p.TargetGroups ?? []));
  const tags = await tagsOf([...lbs.map((l) => l.LoadBalancerArn!), ...tgs.map((t) => t.TargetGroupArn!)]);
  const ours = (arn: string) => isOwned(tags.get(arn) ?? {}, cluster, STACK);
  const sgs =
    (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: `tag:${STACK_TAG}`, Values: [STACK] },
            { Name: `tag:kubernetes.io/cluster/${cluster}`, Values: ['owned'] },
          ],
        }),
      )
    ).SecurityGroups ?? [];
  const nodeSg = sys.target.local!.nodeSecurityGroupId!;
  const nodeGroup = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [nodeSg] }))).SecurityGroups?.[0];
  const description = nodeRuleDescription(cluster, STACK);
  const nodeRules = (nodeGroup?.IpPermissions ?? []).filter((p) =>
    [...(p.UserIdGroupPairs ?? []), ...(p.IpRanges ?? [])].some((x) => x.Description === description),
  );
  return {
    loadBalancers: lbs.filter((l) => ours(l.LoadBalancerArn!)),
    targetGroups: tgs.filter((t) => ours(t.TargetGroupArn!)),
    securityGroups: sgs.filter((g) =>
      isOwned(Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])), cluster, STACK),
    ),
    nodeRules,
  };
}

async function nlbListenerPorts(arn: string): Promise<number[]> {
  const r = await sys.target.clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn }));
  return (r.Listeners ?? []).map((l) => l.Port!).sort((a, b) => a - b);
}

/**
 * Every target group of the stack answers on every node, as its Service (`port -> service`), from a VPC client
 * namespace (the data plane has the rules), and the stand-in has re-checked its targets since. So the stand-in's
 * health checks pass for every target and no connection the test counts goes to a node without rules yet.
 */
async function nodesServe(byPort: Map<number, string>): Promise<void> {
  const dp = sys.dataplane!;
  for (const [port, svc] of byPort)
    for (const n of dp.nodesByInstance.values())
      await waitFor(`${svc} at node ${n.node.ip}:${port}`, async () => {
        const r = await dp.exec(dp.client.ns, ['curl', '-s', '-m', '2', `http://${n.node.ip}:${port}/`], 5000);
        return r.stdout.startsWith(`hello from ${svc}-1 `);
      });
  await sys.proxy!.refresh();
}

/** Target group port -> the Service whose NodePort it is, '?' for a port no Service shows (a hidden node port). */
async function targetGroupServices(): Promise<Map<number, string>> {
  const svcs = await sys.target.api.listServices();
  const { targetGroups } = await stackInMoto();
  const m = new Map<number, string>();
  for (const tg of targetGroups) {
    const own = svcs.find((s) => s.spec?.ports?.some((p) => p.nodePort === tg.Port));
    m.set(tg.Port!, own?.metadata?.name ?? '?');
  }
  return m;
}

// ------------------------------------------------------------------------------------------------ the system

beforeAll(async () => {
  const env = cliEnv(); // an isolated SVCCTL_HOME whose state points at the test run's moto, unique names
  process.env.SVCCTL_HOME = env.home;
  sys = await startLocalSystem(io, { nodes: NODES, nsBase: BASE, resyncSeconds: 3600 });
  expect(sys.dataplane, log()).toBeDefined();
  cluster = sys.target.cfg.clusterName;
  kubectl = kubectlWith(sys.api.kubeconfig);
  await kc(
    ['apply', '-f', '-'],
    [`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`, ...PLAIN.map((s) => service(s.name, s.type))].join(
      '---\n',
    ),
  );
  const nodes = [...sys.dataplane!.nodesByInstance.entries()];
  const pods: V1Pod[] = [];
  for (const [i, app] of PLAIN.map((s) => s.name).entries()) {
    const [instanceId, n] = nodes[i % nodes.length]!;
    const { pod } = await sys.dataplane!.addPod(instanceId, `${app}-1`, { app }, [{ name: 'http', port: 8080 }], NS);
    pods.push(podObject(`${app}-1`, app, n.info.name, pod.ip));
  }
  await sys.target.api.applyAll(pods);
}, 120_000);

afterAll(async () => {
  await sys?.stop();
});

describe('Gateway API L4 through the NLB stand-in', () => {
  it('a Gateway with 3 TCP listeners and 3 TCPRoutes: Programmed, and each listener reaches its Service', async () => {
    await kc(
      ['apply', '-f', '-'],
      [CLASS, gateway([...PLAIN]), ...PLAIN.map((s) => tcpRoute(s.name, [{ name: s.name }]))].join('---\n'),
    );
    const programmed = await kubectl.run([
      'wait',
      '-n',
      NS,
      '--for=condition=Programmed',
      `gateway/${GW}`,
      '--timeout=60s',
    ]);
    if (programmed.code !== 0) {
      const dump = await kubectl.run(['get', 'gatewayclass,gateway,tcproute', '-A', '-o', 'yaml']);
      expect.fail(`kubectl wait: ${programmed.stderr}\n${dump.stdout}\n${log()}`);
    }
    const listeners = await waitFor('the stand-in to list the 3 listeners', async () => {
      const ls = await gatewayListeners();
      return ls.size === 3 && ls;
    });
    expect([...listeners.keys()].sort((a, b) => a - b)).toEqual([7001, 7002, 7003]);

    // moto: ONE NLB of the stack, whose DNS name is the Gateway's address, with the 3 listeners.
    const stack = await stackInMoto();
    expect(stack.loadBalancers).toHaveLength(1);
    const nlb = stack.loadBalancers[0]!;
    nlbArn = nlb.LoadBalancerArn!;
    expect(await nlbListenerPorts(nlbArn)).toEqual([7001, 7002, 7003]);
    expect(stack.targetGroups).toHaveLength(3);
    expect(stack.securityGroups).toHaveLength(1);
    const gw = JSON.parse(await kc(['get', 'gateway', GW, '-n', NS, '-o', 'json'])) as Gateway;
    expect(gw.status?.addresses).toEqual([{ type: 'Hostname', value: nlb.DNSName }]);
    expect(gw.status?.listeners?.map((l) => [l.name, l.attachedRoutes])).toEqual(PLAIN.map((s) => [s.name, 1]));
    expect(await kc(['get', 'gtw', '-n', NS])).toMatch(
      new RegExp(`^${GW} +nlb +${nlb.DNSName!.replace(/\./g, '\\.')} +True +\\d+s$`, 'm'),
    );
    const routes = JSON.parse(await kc(['get', 'tcproutes', '-n', NS, '-o', 'json'])) as { items: TCPRoute[] };
    expect(routes.items.map((r) => r.metadata?.name).sort()).toEqual(PLAIN.map((s) => s.name));
    for (const r of routes.items)
      expect(r.status?.parents, r.metadata?.name).toEqual([
        expect.objectContaining({
          controllerName: GATEWAY_CONTROLLER_NAME,
          conditions: expect.arrayContaining([
            expect.objectContaining({ type: 'Accepted', status: 'True' }),
            expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
          ]),
        }),
      ]);

    // The ClusterIP Service stays one (no node port in `kubectl get`); its target group is at a hidden node port.
    expect(await kc(['get', 'svc', 'gamma', '-n', NS])).toMatch(/^gamma +ClusterIP +10\.\S+ +<none> +80\/TCP +/m);
    const tgServices = await targetGroupServices();
    const hidden = [...tgServices].filter(([, svc]) => svc === '?').map(([port]) => port);
    expect(hidden, JSON.stringify([...tgServices])).toHaveLength(1);
    expect(hidden[0]).toBeGreaterThanOrEqual(30000);
    expect(hidden[0]).toBeLessThanOrEqual(32767);
    tgServices.set(hidden[0]!, 'gamma');
    expect([...tgServices.values()].sort()).toEqual(['alpha', 'beta', 'gamma']);
    await nodesServe(tgServices);

    for (const s of PLAIN) expect(await answerOf(listeners.get(s.port)!.localPort), s.name).toBe(s.name);
  }, 90_000);

  it('a 4th listener with a TCPRoute weighted 3:1 over two Services: 40 connections split exactly 30/10', async () => {
    await kc(
      ['apply', '-f', '-'],
      [
        gateway([...PLAIN, SPLIT]),
        tcpRoute(SPLIT.name, [
          { name: SPLIT.heavy, weight: 3 },
          { name: SPLIT.light, weight: 1 },
        ]),
      ].join('---\n'),
    );
    const split = await waitFor('the stand-in to list the weighted listener with both groups', async () => {
      const l = (await gatewayListeners()).get(SPLIT.port);
      return l !== undefined && l.groups.length === 2 && l.groups.every((g) => g.targets.length === NODES) && l;
    });
    expect(split.groups.map((g) => g.weight)).toEqual([3, 1]);
    // The same NLB got the 4th listener; it forwards to the target groups of beta and gamma (one per backend node
    // port, shared by the listeners that use it), so no target group was added.
    const stack = await stackInMoto();
    expect(stack.loadBalancers.map((l) => l.LoadBalancerArn)).toEqual([nlbArn]);
    expect(await nlbListenerPorts(nlbArn)).toEqual([7001, 7002, 7003, 7004]);
    expect(stack.targetGroups).toHaveLength(3);
    const ls = await gatewayListeners();
    expect(split.groups.map((g) => g.targetGroupArn)).toEqual([
      ls.get(PLAIN[1].port)!.groups[0]!.targetGroupArn,
      ls.get(PLAIN[2].port)!.groups[0]!.targetGroupArn,
    ]);

    // Sequential: one connection at a time, each a new pick. Smooth weighted round-robin with weights 3:1 repeats
    // "beta beta gamma beta", so any 40 consecutive picks are exactly 30/10 whatever the phase: no tolerance. Every
    // connection must be answered (a failed one would still have taken its pick): the first step saw both target
    // groups' ports served on every node, and the stand-in's health checks are per node:port, shared by listeners.
    const counts: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const svc = await request(split.localPort);
      counts[svc] = (counts[svc] ?? 0) + 1;
    }
    expect(counts).toEqual({ [SPLIT.heavy]: 30, [SPLIT.light]: 10 });
  }, 90_000);

  it('deleting one TCPRoute removes only its listener and target group; the others still answer', async () => {
    const before = await stackInMoto();
    const alphaPort = (await sys.target.api.getService(NS, 'alpha')).spec!.ports![0]!.nodePort!;
    expect(before.targetGroups.map((t) => t.Port)).toContain(alphaPort);
    await kc(['delete', 'tcproute', 'alpha', '-n', NS]);
    await waitFor('the NLB listener on 7001 to go', async () => !(await nlbListenerPorts(nlbArn)).includes(7001));
    const listeners = await waitFor('the stand-in to drop 7001', async () => {
      const ls = await gatewayListeners();
      return !ls.has(7001) && ls;
    });
    expect([...listeners.keys()].sort((a, b) => a - b)).toEqual([7002, 7003, 7004]);
    const after = await waitFor('the target group of alpha to go', async () => {
      const s = await stackInMoto();
      return !s.targetGroups.some((t) => t.Port === alphaPort) && s;
    });
    expect(after.loadBalancers.map((l) => l.LoadBalancerArn)).toEqual([nlbArn]);
    expect(await nlbListenerPorts(nlbArn)).toEqual([7002, 7003, 7004]);
    expect(after.targetGroups.map((t) => t.TargetGroupArn).sort()).toEqual(
      before.targetGroups
        .filter((t) => t.Port !== alphaPort)
        .map((t) => t.TargetGroupArn)
        .sort(),
    );
    expect(await answerOf(listeners.get(7002)!.localPort)).toBe('beta');
    expect(await answerOf(listeners.get(7003)!.localPort)).toBe('gamma');
    expect([SPLIT.heavy, SPLIT.light]).toContain(await answerOf(listeners.get(7004)!.localPort));
  }, 60_000);

  it('deleting the Gateway leaves no NLB, target group, managed SG or node SG rule of its stack', async () => {
    const before = await stackInMoto();
    expect(before.loadBalancers).toHaveLength(1);
    expect(before.securityGroups).toHaveLength(1);
    expect(before.nodeRules.length).toBeGreaterThan(0);
    await kc(['delete', 'gateway', GW, '-n', NS]);
    const after = await waitFor('the stack to go from moto', async () => {
      const s = await stackInMoto();
      return s.loadBalancers.length + s.targetGroups.length + s.securityGroups.length === 0 && s;
    });
    expect(after).toEqual({ loadBalancers: [], targetGroups: [], securityGroups: [], nodeRules: [] });
    expect((await gatewayListeners()).size).toBe(0);
  }, 60_000);
});
