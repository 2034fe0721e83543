/**
 * Issue acceptance, end to end with the real binary and the aws CLI's view of the local AWS: `svcctl apply` of a
 * LoadBalancer Service creates an NLB with its tags and every tagged running instance registered at the NodePort;
 * `svcctl plan` shows changes without making them; deleting the Service leaves no NLB, TG, listener or SG behind.
 */
import { execFileSync } from 'node:child_process';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeAll, describe, expect, it } from 'vitest';
import { listLocalNodes } from '../../lib/local/cluster-aws.js';
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

beforeAll(() => {
  cli = cliEnv();
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
});

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

    const lbs = await ourLoadBalancers();
    expect(lbs).toHaveLength(1);
    const lb = lbs[0]!;
    expect(lb.Type).toBe('network');
    expect(lb.Scheme).toBe('internet-facing');

    const get = await cli.run(['get', 'services', '-n', 'shop']);
    const row = get.stdout.split('\n')[1]!.split(/\s{2,}/);
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
      const h = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      const targets = (h.TargetHealthDescriptions ?? []).map((d) => `${d.Target!.Id}:${d.Target!.Port}`).sort();
      expect(targets).toEqual(nodes.map((n) => `${n.instanceId}:${tg.Port}`).sort());
    }
    const again = await cli.run(['plan', '-f', manifest]);
    expect(again.stdout).toContain('No changes');
  }, 180_000);

  it('a node joining is registered in every target group', async () => {
    const add = await cli.run(['local', 'node', 'add']);
    expect(add.code).toBe(0);
    const id = /\((i-[0-9a-f]+),/.exec(add.stdout)![1]!;
    const lb = (await ourLoadBalancers())[0]!;
    const tgs = (await clients.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
      .TargetGroups!;
    for (const tg of tgs) {
      const h = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      expect((h.TargetHealthDescriptions ?? []).map((d) => d.Target!.Id)).toContain(id);
    }
    const rm = await cli.run(['local', 'node', 'remove', id]);
    expect(rm.code).toBe(0);
    for (const tg of tgs) {
      const h = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      expect((h.TargetHealthDescriptions ?? []).map((d) => d.Target!.Id)).not.toContain(id);
    }
  }, 180_000);

  it('delete leaves no NLB, target group, listener or security group behind', async () => {
    const lb = (await ourLoadBalancers())[0]!;
    const r = await cli.run(['delete', '-f', manifest]);
    expect(r.stdout).toBe('service "web" deleted\n');
    expect(await ourLoadBalancers()).toHaveLength(0);
    const tgs = (await clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    expect(tgs.filter((t) => t.LoadBalancerArns?.includes(lb.LoadBalancerArn!))).toHaveLength(0);
    const sgs = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: `tag:kubernetes.io/cluster/${cli.state.clusterName}`, Values: ['owned'] }],
      }),
    );
    // Only the local cluster's own node security group remains.
    expect((sgs.SecurityGroups ?? []).map((g) => g.GroupName)).toEqual([`${cli.state.clusterName}-nodes`]);
  }, 180_000);
});
