/**
 * Issue acceptance, end to end with the real binary and the aws CLI's view of the local AWS: `svcctl apply` of a
 * LoadBalancer Service (through the API; the local system's controller reconciles it from the change log) creates an
 * NLB with its tags and every tagged running instance registered at the NodePort; `svcctl plan` shows changes without
 * making them; deleting the Service leaves no NLB, TG, listener or SG behind. The controller works asynchronously, as
 * in AWS, so the checks wait (bounded) for it.
 */
import { execFileSync } from 'node:child_process';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLocalNodes } from '../../tools/local/cluster-aws.js';
import { motoClients } from '../support/aws.js';
import { cliEnv, writeManifest, type CliEnv } from '../support/cli.js';

let cli: CliEnv;
let manifest: string;
const clients = motoClients();

/** The aws CLI when this machine has one (the acceptance names it); otherwise the same call through the SDK. */
function awsCli(args: string[]): unknown | undefined {
  try {
    const out = execFileSync('aws', ['--endpoint-url', cli.state.endpoint, '--output', 'json', ...args], {
      env: cli.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}

async function ourLoadBalancers() {
  const all = (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  if (all.length === 0) return [];
  const arns = all.map((l) => l.LoadBalancerArn!);
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const d = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const t of d.TagDescriptions ?? [])
      tags.set(t.ResourceArn!, Object.fromEntries((t.Tags ?? []).map((x) => [x.Key!, x.Value!])));
  }
  return all.filter(
    (l) => tags.get(l.LoadBalancerArn!)?.[`kubernetes.io/cluster/${cli.state.clusterName}`] === 'owned',
  );
}

/** Polls `what` every 500 ms until it returns a value (not undefined), for at most `seconds`. */
async function eventually<T>(what: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  for (let i = 0; i < seconds * 2; i++) {
    const v = await what();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not reached within ${seconds} s`);
}

async function targetIds(tgArn: string): Promise<string[]> {
  const h = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
  return (h.TargetHealthDescriptions ?? []).map((d) => `${d.Target!.Id}:${d.Target!.Port}`).sort();
}

afterAll(() => cli?.stop(), 60_000);

beforeAll(async () => {
  cli = cliEnv();
  // As against any Kubernetes API, the namespace exists before Services are created in it.
  const ns = await cli.run(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
  expect(ns.stdout).toBe('namespace/shop created\n');
  manifest = writeManifest(
    cli.home,
    'lb.yaml',
    `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags: team=platform
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: 8080}
    - {name: https, port: 443, targetPort: 8443}
`,
  );
}, 180_000);

describe('svcctl and a LoadBalancer Service', () => {
  it('plan shows what would be created and changes nothing', async () => {
    const r = await cli.run(['plan', '-f', manifest]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shop/web');
    expect(r.stdout).toMatch(/create/i);
    expect(await ourLoadBalancers()).toHaveLength(0);
  }, 120_000);

  it('apply creates one NLB, tagged, with every running cluster node registered at the NodePort', async () => {
    const r = await cli.run(['apply', '-f', manifest]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.stdout).toBe('service/web created\n');

    const lbs = await eventually(async () => {
      const l = await ourLoadBalancers();
      return l.length ? l : undefined;
    });
    expect(lbs).toHaveLength(1);
    const lb = lbs[0]!;
    expect(lb.Type).toBe('network');
    expect(lb.Scheme).toBe('internet-facing');

    const row = await eventually(async () => {
      const get = await cli.run(['get', 'services', '-n', 'shop']);
      const cells = get.stdout.split('\n')[1]!.split(/\s{2,}/);
      return cells[3] === '<pending>' ? undefined : cells;
    });
    expect(row[0]).toBe('web');
    expect(row[3]).toBe(lb.DNSName);
    const nodePorts = row[4]!.split(',').map((p) => Number(/:(\d+)\//.exec(p)![1]));
    expect(nodePorts).toHaveLength(2);

    // What the aws CLI shows (or, without one, the same calls through the SDK).
    const viaCli = awsCli(['elbv2', 'describe-tags', '--resource-arns', lb.LoadBalancerArn!]) as
      { TagDescriptions: { Tags: { Key: string; Value: string }[] }[] } | undefined;
    const tagList =
      viaCli?.TagDescriptions[0]?.Tags ??
      (await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [lb.LoadBalancerArn!] }))).TagDescriptions![0]!
        .Tags!;
    const tags = Object.fromEntries(tagList.map((t) => [t.Key, t.Value]));
    expect(tags[`kubernetes.io/cluster/${cli.state.clusterName}`]).toBe('owned');
    expect(tags['kubernetes.io/service-name']).toBe('shop/web');
    expect(tags['team']).toBe('platform');

    const tgs = (await clients.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
      .TargetGroups!;
    expect(tgs.map((t) => t.Port).sort()).toEqual([...nodePorts].sort());
    const nodes = (await listLocalNodes(clients.ec2, cli.state.clusterName)).filter((n) => n.state === 'running');
    expect(nodes.length).toBe(3);
    for (const tg of tgs) {
      expect(tg.TargetType).toBe('instance');
      const want = nodes.map((n) => `${n.instanceId}:${tg.Port}`).sort();
      expect(
        await eventually(async () => ((await targetIds(tg.TargetGroupArn!)).join() === want.join() ? want : undefined)),
      ).toEqual(want);
    }
    const again = await cli.run(['plan', '-f', manifest]);
    expect(again.stdout).toContain('No changes');
  }, 180_000);

  it('a node joining is registered in every target group', async () => {
    const add = await cli.run(['local', 'node', 'add']);
    expect(add.code).toBe(0);
    const id = /\((i-[0-9a-f]+),/.exec(add.stdout)![1]!;
    const list = await cli.run(['local', 'node', 'list']);
    expect(list.stdout).toContain(id);
    const lb = (await ourLoadBalancers())[0]!;
    const tgs = (await clients.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
      .TargetGroups!;
    const has = async (tg: string) => (await targetIds(tg)).some((t) => t.startsWith(`${id}:`));
    for (const tg of tgs)
      expect(await eventually(async () => ((await has(tg.TargetGroupArn!)) ? true : undefined))).toBe(true);
    const rm = await cli.run(['local', 'node', 'remove', id]);
    expect(rm.code).toBe(0);
    for (const tg of tgs)
      expect(await eventually(async () => ((await has(tg.TargetGroupArn!)) ? undefined : false))).toBe(false);
  }, 180_000);

  it('delete leaves no NLB, target group, listener or security group behind', async () => {
    const lb = (await ourLoadBalancers())[0]!;
    const r = await cli.run(['delete', '-f', manifest]);
    expect(r.stdout).toBe('service "web" deleted\n');
    const left = async () => {
      const tgs = (await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
      const sgs = await clients.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: `tag:kubernetes.io/cluster/${cli.state.clusterName}`, Values: ['owned'] }],
        }),
      );
      return {
        lbs: (await ourLoadBalancers()).length,
        tgs: tgs.filter((t) => t.LoadBalancerArns?.includes(lb.LoadBalancerArn!)).length,
        sgs: (sgs.SecurityGroups ?? []).map((g) => g.GroupName),
      };
    };
    // Only the local cluster's own node security group remains.
    const want = { lbs: 0, tgs: 0, sgs: [`${cli.state.clusterName}-nodes`] };
    expect(
      await eventually(async () => {
        const l = await left();
        return JSON.stringify(l) === JSON.stringify(want) ? l : undefined;
      }),
    ).toEqual(want);
  }, 180_000);
});
