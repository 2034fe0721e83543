/**
 * The local stand-in for a Network Load Balancer's data path. It reads the load balancers, listeners, target
 * groups and registered targets from the local AWS (what the controller created), listens on 127.0.0.1 for each
 * listener, and forwards each TCP connection to one registered target (instance private IP : target-group port,
 * i.e. node : NodePort), round-robin as an NLB with cross-zone balancing would. A listener whose forward action
 * spreads over several target groups with weights (ForwardConfig.TargetGroups, a Gateway route rule with several
 * backends) first picks a group for each new connection by smooth weighted round-robin (deterministic: weights 3:1
 * give exactly 30 and 10 of 40 connections; weight 0 is never chosen), then a target within it. Only TCP is proxied
 * (TCP, TLS and the TCP half of TCP_UDP listeners); UDP listeners get no stand-in. Targets live in network namespaces,
 * so connections go through a relay inside the VPC namespace over a Unix socket (tools/local/relay.mjs).
 * Re-reading AWS every few seconds makes node joins/leaves and new Services show up without a restart. As an NLB's
 * health checks do, a registered target gets connections only once a TCP connection to it succeeds (a node that
 * just joined may not have its rules yet), and leaves the rotation after two failed checks in a row.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type Action,
  type Listener,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../lib/aws/clients.js';

export interface ProxiedTarget {
  ip: string;
  port: number;
}

export interface ProxiedGroup {
  targetGroupArn: string;
  weight: number;
  /** The group's targets in rotation (health-checked). */
  targets: ProxiedTarget[];
}

export interface ProxiedListener {
  loadBalancerName: string;
  dnsName: string;
  serviceName?: string;
  /** The load balancer's tags (a Gateway's NLB is found by its own tags, not by a Service name). */
  tags: Record<string, string>;
  listenerArn: string;
  listenerPort: number;
  /** Where the stand-in listens: 127.0.0.1:localPort. */
  localPort: number;
  /** Every target in rotation, over all of the listener's target groups. */
  targets: ProxiedTarget[];
  /** The forward action's target groups with their weights (one group of weight 1 for a plain forward). */
  groups: ProxiedGroup[];
}

/** One entry of a forward action: a target group and its weight. */
export interface ForwardGroup {
  targetGroupArn: string;
  weight: number;
}

/**
 * The target groups a listener's default action forwards to: ForwardConfig.TargetGroups with their weights (absent
 * weight: 1, as moto stores it), or the plain TargetGroupArn with weight 1. moto returns a weighted action with
 * ForwardConfig only (no top-level TargetGroupArn), and a plain one with TargetGroupArn only.
 */
export function forwardGroups(action: Action | undefined): ForwardGroup[] {
  if (!action || (action.Type !== undefined && action.Type !== 'forward')) return [];
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length > 0)
    return tuples
      .filter((t) => t.TargetGroupArn)
      .map((t) => ({ targetGroupArn: t.TargetGroupArn!, weight: t.Weight ?? 1 }));
  return action.TargetGroupArn ? [{ targetGroupArn: action.TargetGroupArn, weight: 1 }] : [];
}

export interface WeightedChoice {
  key: string;
  weight: number;
}

/**
 * Smooth weighted round-robin (the scheme nginx's upstream module uses): every pick adds each choice's weight to its
 * running score, takes the highest score (the first one on a tie) and subtracts the sum of the weights from it. Over
 * any run of `sum of weights` picks each choice is taken exactly `weight` times, interleaved (3:1 gives a a b a), so
 * the split is exact and deterministic. Choices of weight 0 (or less) are never taken; undefined when none is left.
 * `scores` is the caller's state between picks (start with an empty map; clear it when the choices change).
 */
export function pickSmoothWeighted(
  choices: readonly WeightedChoice[],
  scores: Map<string, number>,
): string | undefined {
  let total = 0;
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const c of choices) {
    if (!(c.weight > 0)) continue;
    const score = (scores.get(c.key) ?? 0) + c.weight;
    scores.set(c.key, score);
    total += c.weight;
    if (score > bestScore) {
      best = c.key;
      bestScore = score;
    }
  }
  if (best !== undefined) scores.set(best, bestScore - total);
  return best;
}

/** An NLB's default unhealthy threshold for TCP health checks is 2 to 3 failed checks in a row; the stand-in uses 2. */
const UNHEALTHY_THRESHOLD = 2;

interface GroupState extends ProxiedGroup {
  /** Round-robin position among the group's targets. */
  next: number;
}

interface Entry extends Omit<ProxiedListener, 'targets' | 'groups'> {
  server: Server;
  groups: GroupState[];
  /** Smooth weighted round-robin scores per target group (pickSmoothWeighted), reset when the groups change. */
  scores: Map<string, number>;
  /** The groups and weights the scores were built for. */
  weightsKey: string;
}

const weightsKeyOf = (groups: readonly ForwardGroup[]): string =>
  groups.map((g) => `${g.targetGroupArn}=${g.weight}`).join(',');

const allTargets = (groups: readonly ProxiedGroup[]): ProxiedTarget[] => {
  const seen = new Map<string, ProxiedTarget>();
  for (const g of groups) for (const t of g.targets) seen.set(`${t.ip}:${t.port}`, t);
  return [...seen.values()];
};

export class NlbProxy {
  private readonly entries = new Map<string, Entry>();
  private readonly sockets = new Set<Socket>();
  /** Failed health checks in a row per target (`ip:port`); a target never seen healthy starts at the threshold. */
  private readonly failures = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly clients: AwsClients,
    private readonly clusterName: string,
    /** Unix socket of the relay inside the VPC namespace. */
    private readonly relaySocket: string,
  ) {}

  listeners(): ProxiedListener[] {
    return [...this.entries.values()].map(({ server: _s, scores: _c, weightsKey: _w, groups, ...rest }) => {
      const plain = groups.map(({ next: _n, ...g }) => ({ ...g, targets: [...g.targets] }));
      return { ...rest, groups: plain, targets: allTargets(plain) };
    });
  }

  start(intervalMs = 2000): void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    // server.close waits for open connections: end them first (a stuck one would otherwise hold the shutdown).
    for (const s of this.sockets) s.destroy();
    for (const e of this.entries.values()) await new Promise<void>((r) => e.server.close(() => r()));
    this.entries.clear();
  }

  /** Re-reads the local AWS; opens listeners for new NLB listeners, closes removed ones, updates targets. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const { elbv2 } = this.clients;
    const ours = await this.ownLoadBalancers();
    const ipOf = await this.instanceAddresses();
    const seen = new Set<string>();
    const registered = new Set<string>(); // every target of every group, to forget the health of the rest
    // One health check per target group and refresh, however many listeners forward to it.
    const groupTargets = new Map<string, Promise<ProxiedTarget[]>>();
    const targetsOf = (arn: string) => {
      let t = groupTargets.get(arn);
      if (!t) groupTargets.set(arn, (t = this.targetsOf(arn, ipOf, registered)));
      return t;
    };
    for (const { lb, tags } of ours) {
      const listeners =
        (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
      for (const l of listeners) {
        if (l.Protocol !== 'TCP' && l.Protocol !== 'TLS' && l.Protocol !== 'TCP_UDP') continue; // the stand-in is TCP only
        const forward = forwardGroups(l.DefaultActions?.[0]);
        if (forward.length === 0) continue;
        const groups = await Promise.all(
          forward.map(async (g) => ({ ...g, targets: await targetsOf(g.targetGroupArn) })),
        );
        seen.add(l.ListenerArn!);
        await this.upsert(lb, tags, l, forward, groups);
      }
    }
    for (const key of this.failures.keys()) if (!registered.has(key)) this.failures.delete(key);
    for (const [key, e] of this.entries) {
      if (seen.has(key)) continue;
      e.server.close();
      this.entries.delete(key);
    }
  }

  /** The cluster's load balancers (tag `kubernetes.io/cluster/<name>` = owned), with their tags. */
  private async ownLoadBalancers(): Promise<{ lb: LoadBalancer; tags: Record<string, string> }[]> {
    const { elbv2 } = this.clients;
    const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const ours: { lb: LoadBalancer; tags: Record<string, string> }[] = [];
    for (let i = 0; i < lbs.length; i += 20) {
      const chunk = lbs.slice(i, i + 20);
      const tags = await elbv2.send(new DescribeTagsCommand({ ResourceArns: chunk.map((l) => l.LoadBalancerArn!) }));
      for (const d of tags.TagDescriptions ?? []) {
        const t = Object.fromEntries((d.Tags ?? []).map((x) => [x.Key ?? '', x.Value ?? '']));
        if (t[`kubernetes.io/cluster/${this.clusterName}`] !== 'owned') continue;
        ours.push({ lb: chunk.find((l) => l.LoadBalancerArn === d.ResourceArn)!, tags: t });
      }
    }
    return ours;
  }

  private async instanceAddresses(): Promise<Map<string, string>> {
    const ipOf = new Map<string, string>();
    const inst = await this.clients.ec2.send(new DescribeInstancesCommand({}));
    for (const r of inst.Reservations ?? [])
      for (const i of r.Instances ?? [])
        if (i.InstanceId && i.PrivateIpAddress) ipOf.set(i.InstanceId, i.PrivateIpAddress);
    return ipOf;
  }

  /** Updates a listener's groups and targets, or opens a local port for a new listener. */
  private async upsert(
    lb: LoadBalancer,
    tags: Record<string, string>,
    l: Listener,
    forward: ForwardGroup[],
    groups: ProxiedGroup[],
  ): Promise<void> {
    const key = l.ListenerArn!;
    const existing = this.entries.get(key);
    const weightsKey = weightsKeyOf(forward);
    if (existing) {
      const next = new Map(existing.groups.map((g) => [g.targetGroupArn, g.next]));
      existing.groups = groups.map((g) => ({ ...g, next: next.get(g.targetGroupArn) ?? 0 }));
      if (existing.weightsKey !== weightsKey) {
        existing.scores.clear();
        existing.weightsKey = weightsKey;
      }
      return;
    }
    const entry: Entry = {
      loadBalancerName: lb.LoadBalancerName!,
      dnsName: lb.DNSName!,
      serviceName: tags['kubernetes.io/service-name'],
      tags,
      listenerArn: key,
      listenerPort: l.Port!,
      localPort: 0,
      groups: groups.map((g) => ({ ...g, next: 0 })),
      scores: new Map(),
      weightsKey,
      server: createServer((s) => this.forward(entry, s)),
    };
    await new Promise<void>((res, rej) => {
      entry.server.once('error', rej);
      entry.server.listen(0, '127.0.0.1', () => res());
    });
    const addr = entry.server.address();
    entry.localPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.entries.set(key, entry);
  }

  /** A target group's registered targets (node address : port) that pass the stand-in's health check. */
  private async targetsOf(
    tgArn: string,
    ipOf: Map<string, string>,
    registeredKeys: Set<string>,
  ): Promise<{ ip: string; port: number }[]> {
    const { elbv2 } = this.clients;
    const tg = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] }))).TargetGroups?.[0];
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    const registered = (health.TargetHealthDescriptions ?? [])
      .filter((d) => d.TargetHealth?.State !== 'unhealthy' && d.TargetHealth?.State !== 'draining')
      .map((d) => ({ ip: ipOf.get(d.Target?.Id ?? '') ?? '', port: d.Target?.Port ?? tg?.Port ?? 0 }))
      .filter((t) => t.ip && t.port)
      .sort((a, b) => a.ip.localeCompare(b.ip));
    for (const t of registered) registeredKeys.add(`${t.ip}:${t.port}`);
    return this.healthy(registered);
  }

  /**
   * The targets in rotation, as an NLB's health checks decide: a new target enters after its first passed TCP check
   * (through the relay, which sits in the VPC); a target in rotation leaves after UNHEALTHY_THRESHOLD failed checks
   * in a row, not after one slow answer; and when no registered target is healthy the NLB fails open and uses all.
   */
  private async healthy(targets: { ip: string; port: number }[]): Promise<{ ip: string; port: number }[]> {
    const ok = await Promise.all(targets.map((t) => this.probe(t.ip, t.port)));
    const inRotation = targets.filter((t, i) => {
      const key = `${t.ip}:${t.port}`;
      const failures = ok[i] ? 0 : (this.failures.get(key) ?? UNHEALTHY_THRESHOLD) + 1;
      this.failures.set(key, failures);
      return failures < UNHEALTHY_THRESHOLD;
    });
    return inRotation.length > 0 ? inRotation : targets;
  }

  private probe(ip: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      let answer = '';
      const s = connect(this.relaySocket, () => s.write(`PROBE ${ip} ${port}\n`));
      s.setTimeout(3000, () => s.destroy());
      s.on('data', (d) => (answer += d.toString()));
      s.on('close', () => resolve(answer.startsWith('OK')));
      s.on('error', () => resolve(false));
    });
  }

  /**
   * The target for a new connection: a target group by smooth weighted round-robin over the groups that have a target
   * (an NLB sends nothing to a group without targets), then round-robin within the group.
   */
  private choose(entry: Entry): ProxiedTarget | undefined {
    const usable = entry.groups.filter((g) => g.targets.length > 0);
    const arn = pickSmoothWeighted(
      usable.map((g) => ({ key: g.targetGroupArn, weight: g.weight })),
      entry.scores,
    );
    const g = usable.find((x) => x.targetGroupArn === arn);
    return g ? g.targets[g.next++ % g.targets.length] : undefined;
  }

  private forward(entry: Entry, client: Socket): void {
    const t = this.choose(entry);
    if (!t) {
      client.destroy(); // an NLB with no healthy targets resets the connection
      return;
    }
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    const upstream = connect(this.relaySocket, () => {
      upstream.write(`${t.ip} ${t.port}\n`);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }
}
