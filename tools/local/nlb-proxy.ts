/**
 * The local stand-in for a Network Load Balancer's data path. It reads the load balancers, listeners, target
 * groups and registered targets from the local AWS (what the controller created), listens on 127.0.0.1 for each
 * listener, and forwards each TCP connection to one registered target (instance private IP : target-group port,
 * i.e. node : NodePort), round-robin as an NLB with cross-zone balancing would. Targets live in network namespaces,
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
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../lib/aws/clients.js';

export interface ProxiedListener {
  loadBalancerName: string;
  dnsName: string;
  serviceName?: string;
  listenerPort: number;
  /** Where the stand-in listens: 127.0.0.1:localPort. */
  localPort: number;
  targets: { ip: string; port: number }[];
}

/** An NLB's default unhealthy threshold for TCP health checks is 2 to 3 failed checks in a row; the stand-in uses 2. */
const UNHEALTHY_THRESHOLD = 2;

interface Entry extends ProxiedListener {
  server: Server;
  next: number;
}

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
    return [...this.entries.values()].map(({ server: _s, next: _n, ...rest }) => rest);
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
    const { elbv2, ec2 } = this.clients;
    const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const ours: typeof lbs = [];
    const svcName = new Map<string, string>();
    for (let i = 0; i < lbs.length; i += 20) {
      const chunk = lbs.slice(i, i + 20);
      const tags = await elbv2.send(new DescribeTagsCommand({ ResourceArns: chunk.map((l) => l.LoadBalancerArn!) }));
      for (const d of tags.TagDescriptions ?? []) {
        const t = Object.fromEntries((d.Tags ?? []).map((x) => [x.Key, x.Value]));
        if (t[`kubernetes.io/cluster/${this.clusterName}`] !== 'owned') continue;
        ours.push(chunk.find((l) => l.LoadBalancerArn === d.ResourceArn)!);
        if (t['kubernetes.io/service-name']) svcName.set(d.ResourceArn!, t['kubernetes.io/service-name']);
      }
    }
    const ipOf = new Map<string, string>();
    const inst = await ec2.send(new DescribeInstancesCommand({}));
    for (const r of inst.Reservations ?? [])
      for (const i of r.Instances ?? [])
        if (i.InstanceId && i.PrivateIpAddress) ipOf.set(i.InstanceId, i.PrivateIpAddress);

    const seen = new Set<string>();
    const registered = new Set<string>(); // every target of every group, to forget the health of the rest
    for (const lb of ours) {
      const listeners =
        (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
      for (const l of listeners) {
        if (l.Protocol !== 'TCP' && l.Protocol !== 'TLS' && l.Protocol !== 'TCP_UDP') continue; // the stand-in is TCP only
        const tgArn = l.DefaultActions?.[0]?.TargetGroupArn;
        if (!tgArn) continue;
        const targets = await this.targetsOf(tgArn, ipOf, registered);
        const key = l.ListenerArn!;
        seen.add(key);
        const existing = this.entries.get(key);
        if (existing) {
          existing.targets = targets;
          continue;
        }
        const entry: Entry = {
          loadBalancerName: lb.LoadBalancerName!,
          dnsName: lb.DNSName!,
          serviceName: svcName.get(lb.LoadBalancerArn!),
          listenerPort: l.Port!,
          localPort: 0,
          targets,
          next: 0,
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
    }
    for (const key of this.failures.keys()) if (!registered.has(key)) this.failures.delete(key);
    for (const [key, e] of this.entries) {
      if (seen.has(key)) continue;
      e.server.close();
      this.entries.delete(key);
    }
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

  private forward(entry: Entry, client: Socket): void {
    if (entry.targets.length === 0) {
      client.destroy(); // an NLB with no healthy targets resets the connection
      return;
    }
    const t = entry.targets[entry.next++ % entry.targets.length]!;
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
