/**
 * The NLB stand-in's weighted forwarding: the pure pick (smooth weighted round-robin) and the proxy itself, against
 * moto's listeners (which store ForwardConfig weights) and real TCP connections to loopback servers. The relay the
 * proxy talks to is replaced by one on a Unix socket of this test that connects to 127.0.0.1:<target port> (the
 * target's address is ignored), so no traffic leaves loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  ModifyListenerCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { forwardGroups, NlbProxy, pickSmoothWeighted, type WeightedChoice } from '../../tools/local/nlb-proxy.js';
import { motoClients, uniqueName } from '../support/aws.js';

function picks(choices: WeightedChoice[], n: number): string[] {
  const scores = new Map<string, number>();
  return Array.from({ length: n }, () => pickSmoothWeighted(choices, scores) ?? '-');
}

const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());

describe('pickSmoothWeighted', () => {
  it('splits exactly by weight, interleaved', () => {
    const seq = picks(
      [
        { key: 'a', weight: 3 },
        { key: 'b', weight: 1 },
      ],
      40,
    );
    expect(seq.slice(0, 4)).toEqual(['a', 'a', 'b', 'a']);
    expect(count(seq)).toEqual(
      new Map([
        ['a', 30],
        ['b', 10],
      ]),
    );
  });

  it('is exact for every prefix of length sum(weights), with several groups', () => {
    const choices = [
      { key: 'a', weight: 5 },
      { key: 'b', weight: 2 },
      { key: 'c', weight: 1 },
    ];
    const seq = picks(choices, 80);
    for (let i = 0; i < 80; i += 8)
      expect(count(seq.slice(i, i + 8))).toEqual(
        new Map([
          ['a', 5],
          ['b', 2],
          ['c', 1],
        ]),
      );
    // interleaved, not in runs: the heaviest group never waits more than one pick
    expect(seq.slice(0, 8).join('')).toBe('abaacaba');
  });

  it('never picks weight 0, and nothing when every weight is 0', () => {
    const seq = picks(
      [
        { key: 'a', weight: 0 },
        { key: 'b', weight: 2 },
        { key: 'c', weight: 0 },
      ],
      10,
    );
    expect(new Set(seq)).toEqual(new Set(['b']));
    expect(picks([{ key: 'a', weight: 0 }], 3)).toEqual(['-', '-', '-']);
    expect(picks([], 1)).toEqual(['-']);
  });

  it('equal weights alternate', () => {
    expect(
      picks(
        [
          { key: 'a', weight: 1 },
          { key: 'b', weight: 1 },
        ],
        4,
      ),
    ).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('forwardGroups', () => {
  it('reads ForwardConfig weights, a plain TargetGroupArn, and defaults a missing weight to 1', () => {
    expect(
      forwardGroups({
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: 'tg-a', Weight: 3 },
            { TargetGroupArn: 'tg-b', Weight: 0 },
            { TargetGroupArn: 'tg-c' },
          ],
        },
      }),
    ).toEqual([
      { targetGroupArn: 'tg-a', weight: 3 },
      { targetGroupArn: 'tg-b', weight: 0 },
      { targetGroupArn: 'tg-c', weight: 1 },
    ]);
    expect(forwardGroups({ Type: 'forward', TargetGroupArn: 'tg-x' })).toEqual([{ targetGroupArn: 'tg-x', weight: 1 }]);
    expect(forwardGroups(undefined)).toEqual([]);
    expect(forwardGroups({ Type: 'fixed-response' })).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------- through the proxy

/** A loopback TCP server that answers every connection with its name and closes. */
async function namedServer(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => s.destroy());
    s.end(`${name}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

/** relay.mjs's protocol ("IP PORT\n" or "PROBE IP PORT\n"), connecting to 127.0.0.1:PORT only. */
async function loopbackRelay(path: string): Promise<Server> {
  const relay = createServer((client) => {
    client.on('error', () => client.destroy());
    client.once('data', (d) => {
      const line = d.toString().split('\n')[0]!.trim().split(' ');
      const probe = line[0] === 'PROBE';
      const port = Number(probe ? line[2] : line[1]);
      const upstream = connect({ host: '127.0.0.1', port });
      upstream.on('error', () => upstream.destroy());
      if (probe) {
        upstream.once('connect', () => {
          upstream.destroy();
          client.end('OK\n');
        });
        upstream.once('error', () => client.end('FAIL\n'));
        return;
      }
      upstream.once('connect', () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    });
  });
  await new Promise<void>((r) => relay.listen(path, () => r()));
  return relay;
}

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => resolve(out.trim()));
    s.on('error', reject);
  });
}

async function askMany(port: number, n: number): Promise<Map<string, number>> {
  const answers: string[] = [];
  for (let i = 0; i < n; i++) answers.push(await ask(port)); // one at a time: the order is the pick order
  return count(answers);
}

describe('NlbProxy weighted forwarding (moto + loopback)', () => {
  const clients = motoClients();
  const clusterName = uniqueName('nlbw');
  const dir = mkdtempSync(join(tmpdir(), 'nlbw-'));
  const servers: Server[] = [];
  let relay: Server;
  let proxy: NlbProxy;
  let lbArn = '';
  let listenerArn = '';
  const tgArns: string[] = [];

  beforeAll(async () => {
    const names = ['alpha', 'beta', 'gamma'];
    const backends = await Promise.all(names.map(namedServer));
    servers.push(...backends.map((b) => b.server));
    relay = await loopbackRelay(join(dir, 'relay.sock'));
    const { ec2, elbv2 } = clients;
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!.VpcId!;
    const subnetId = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.77.1.0/24', AvailabilityZone: 'us-east-1a' }),
      )
    ).Subnet!.SubnetId!;
    const ami =
      (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
    const inst = await ec2.send(
      new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: subnetId, InstanceType: 't3.micro' }),
    );
    const instanceId = inst.Instances![0]!.InstanceId!;
    const lb = await elbv2.send(
      new CreateLoadBalancerCommand({
        Name: clusterName,
        Type: 'network',
        Scheme: 'internal',
        Subnets: [subnetId],
        Tags: [{ Key: `kubernetes.io/cluster/${clusterName}`, Value: 'owned' }],
      }),
    );
    lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    for (const [i, b] of backends.entries()) {
      const tg = await elbv2.send(
        new CreateTargetGroupCommand({
          Name: `${clusterName}-${i}`,
          Protocol: 'TCP',
          Port: b.port,
          VpcId: vpcId,
          TargetType: 'instance',
        }),
      );
      const arn = tg.TargetGroups![0]!.TargetGroupArn!;
      tgArns.push(arn);
      await elbv2.send(
        new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId, Port: b.port }] }),
      );
    }
    const l = await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: 'TCP',
        Port: 80,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: tgArns[0], Weight: 3 },
                { TargetGroupArn: tgArns[1], Weight: 1 },
                { TargetGroupArn: tgArns[2], Weight: 0 },
              ],
            },
          },
        ],
      }),
    );
    listenerArn = l.Listeners![0]!.ListenerArn!;
    proxy = new NlbProxy(clients, clusterName, join(dir, 'relay.sock'));
    await proxy.refresh();
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    const { elbv2 } = clients;
    if (listenerArn) await elbv2.send(new DeleteListenerCommand({ ListenerArn: listenerArn })).catch(() => undefined);
    for (const arn of tgArns)
      await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })).catch(() => undefined);
    if (lbArn) await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lbArn })).catch(() => undefined);
    for (const s of [...servers, relay]) await new Promise((r) => s?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the listener with its groups and weights', () => {
    const [l] = proxy.listeners().filter((x) => x.listenerArn === listenerArn);
    expect(l).toBeDefined();
    expect(l!.tags[`kubernetes.io/cluster/${clusterName}`]).toBe('owned');
    expect(l!.groups.map((g) => [g.targetGroupArn, g.weight, g.targets.length])).toEqual([
      [tgArns[0], 3, 1],
      [tgArns[1], 1, 1],
      [tgArns[2], 0, 1],
    ]);
    expect(l!.targets).toHaveLength(3);
  });

  it('splits 40 connections 30:10 for weights 3:1, and never uses the weight-0 group', async () => {
    const port = proxy.listeners().find((x) => x.listenerArn === listenerArn)!.localPort;
    expect(await askMany(port, 40)).toEqual(
      new Map([
        ['alpha', 30],
        ['beta', 10],
      ]),
    );
  });

  it('follows a weight change on the next refresh (ModifyListener)', async () => {
    await clients.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: tgArns[1], Weight: 1 },
                { TargetGroupArn: tgArns[2], Weight: 1 },
              ],
            },
          },
        ],
      }),
    );
    await proxy.refresh();
    const port = proxy.listeners().find((x) => x.listenerArn === listenerArn)!.localPort;
    expect(await askMany(port, 20)).toEqual(
      new Map([
        ['beta', 10],
        ['gamma', 10],
      ]),
    );
  });

  it('a plain forward (one TargetGroupArn) still goes to its group', async () => {
    await clients.elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArns[2] }],
      }),
    );
    await proxy.refresh();
    const l = proxy.listeners().find((x) => x.listenerArn === listenerArn)!;
    expect(l.groups.map((g) => g.weight)).toEqual([1]);
    expect(await askMany(l.localPort, 3)).toEqual(new Map([['gamma', 3]]));
  });
});
