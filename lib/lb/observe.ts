/**
 * Observed state, read by ownership tags only. Names are never used to decide what is ours.
 * ELBv2 has no server-side tag filter on Describe*, so load balancers and target groups are listed (400 per page)
 * and their tags read with DescribeTags (at most 20 ARNs per call, an ELBv2 limit). Security groups are found with
 * EC2 tag filters; node security group rules by their description (see tags.ts).
 */
import { DescribeSecurityGroupsCommand, type IpPermission, type SecurityGroup } from '@aws-sdk/client-ec2';
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { pool, type LoadBalancerContext } from './context.js';
import { elb, ec2 } from './calls.js';
import type {
  IngressRule,
  ObservedListener,
  ObservedLoadBalancer,
  ObservedNodePermission,
  ObservedSecurityGroup,
  ObservedStack,
  ObservedTargetGroup,
} from './model.js';
import { CLUSTER_NAME_TAG, clusterTagKey, isOwned, nodeRuleDescription, STACK_TAG } from './tags.js';

export interface ObservedWorld {
  stacks: Map<string, ObservedStack>;
  /** Network Load Balancers in the account and region (for the quota check). */
  accountNlbCount: number;
}

export function emptyStack(stack: string): ObservedStack {
  return { stack, loadBalancers: [], targetGroups: [], securityGroups: [], nodePermissions: [] };
}

export interface ObserveOptions {
  /** Only this stack (a single Service's reconcile); all stacks of the cluster otherwise. */
  stack?: string;
  /**
   * Skip what only an update needs (LB/TG attributes, registered targets): deletes and sweeps need just the
   * resources and their listeners.
   */
  shallow?: boolean;
  /** Only target groups, without their targets (node join/leave fast path; see readTargets). */
  targetsOnly?: boolean;
}

async function tagsOf(ctx: LoadBalancerContext, arns: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  const batches: string[][] = [];
  for (let i = 0; i < arns.length; i += 20) batches.push(arns.slice(i, i + 20));
  await pool(batches, ctx.concurrency ?? 8, async (b) => {
    const r = await elb(ctx, new DescribeTagsCommand({ ResourceArns: b }));
    for (const d of r.TagDescriptions ?? []) {
      const t: Record<string, string> = {};
      for (const tag of d.Tags ?? []) if (tag.Key) t[tag.Key] = tag.Value ?? '';
      if (d.ResourceArn) out.set(d.ResourceArn, t);
    }
  });
  return out;
}

export async function listLoadBalancers(ctx: LoadBalancerContext): Promise<LoadBalancer[]> {
  const all: LoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const r = await elb(ctx, new DescribeLoadBalancersCommand({ PageSize: 400, Marker: marker }));
    all.push(...(r.LoadBalancers ?? []));
    marker = r.NextMarker;
  } while (marker);
  return all;
}

async function listTargetGroups(ctx: LoadBalancerContext): Promise<TargetGroup[]> {
  const all: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const r = await elb(ctx, new DescribeTargetGroupsCommand({ PageSize: 400, Marker: marker }));
    all.push(...(r.TargetGroups ?? []));
    marker = r.NextMarker;
  } while (marker);
  return all;
}

async function listeners(ctx: LoadBalancerContext, lbArn: string): Promise<ObservedListener[]> {
  const out: ObservedListener[] = [];
  let marker: string | undefined;
  do {
    const r = await elb(ctx, new DescribeListenersCommand({ LoadBalancerArn: lbArn, Marker: marker, PageSize: 400 }));
    for (const l of r.Listeners ?? []) {
      out.push({
        arn: l.ListenerArn!,
        port: l.Port ?? 0,
        protocol: l.Protocol ?? '',
        targetGroupArn:
          l.DefaultActions?.[0]?.TargetGroupArn ??
          l.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn,
        // DescribeListeners returns only the default certificate; extras are read below for TLS listeners.
        certificateArns: (l.Certificates ?? []).map((c) => c.CertificateArn!).filter(Boolean),
        sslPolicy: l.SslPolicy,
        alpnPolicy: l.AlpnPolicy?.[0],
      });
    }
    marker = r.NextMarker;
  } while (marker);
  // Extra certificates (SNI) of TLS listeners: one DescribeListenerCertificates each, default first then sorted.
  for (const l of out) {
    if (l.protocol !== 'TLS' || l.certificateArns.length === 0) continue;
    l.certificateArns = await listenerCertificates(ctx, l.arn);
  }
  return out.sort((a, b) => a.port - b.port);
}

function attrs(list: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) if (a.Key) out[a.Key] = a.Value ?? '';
  return out;
}

function sgIngress(g: SecurityGroup): IngressRule[] {
  const out: IngressRule[] = [];
  for (const p of g.IpPermissions ?? []) {
    const proto = p.IpProtocol;
    if (proto !== 'tcp' && proto !== 'udp') continue;
    for (const r of p.IpRanges ?? [])
      if (r.CidrIp) out.push({ protocol: proto, fromPort: p.FromPort ?? 0, toPort: p.ToPort ?? 0, cidr: r.CidrIp });
    for (const r of p.Ipv6Ranges ?? [])
      if (r.CidrIpv6) out.push({ protocol: proto, fromPort: p.FromPort ?? 0, toPort: p.ToPort ?? 0, cidr: r.CidrIpv6 });
  }
  return out;
}

function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const t: Record<string, string> = {};
  for (const x of tags ?? []) if (x.Key) t[x.Key] = x.Value ?? '';
  return t;
}

/** Registered instance IDs of one target group (draining ones excluded: if still desired they must be re-registered). */
export async function readTargets(ctx: LoadBalancerContext, arn: string): Promise<string[]> {
  const health = await elb(ctx, new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  const ids = (health.TargetHealthDescriptions ?? [])
    .filter((h) => h.TargetHealth?.State !== 'draining')
    .map((h) => h.Target?.Id ?? '')
    .filter(Boolean);
  return [...new Set(ids)].sort();
}

/** Reads every resource of this cluster's load-balancer stacks (or of one stack). */
export async function observe(ctx: LoadBalancerContext, opts: ObserveOptions = {}): Promise<ObservedWorld> {
  const cluster = ctx.clusterName;
  const conc = ctx.concurrency ?? 8;
  const stacks = new Map<string, ObservedStack>();
  const get = (s: string) => {
    let st = stacks.get(s);
    if (!st) stacks.set(s, (st = emptyStack(s)));
    return st;
  };
  const mine = (t: Record<string, string> | undefined) => !!t && isOwned(t, cluster, opts.stack);
  let accountNlbCount = 0;

  if (!opts.targetsOnly) {
    const lbs = await listLoadBalancers(ctx);
    accountNlbCount = lbs.filter((l) => l.Type === 'network').length;
    const lbTags = await tagsOf(ctx, lbs.map((l) => l.LoadBalancerArn!).filter(Boolean));
    const owned = lbs.filter((l) => mine(lbTags.get(l.LoadBalancerArn!)));
    const observedLbs = await pool(owned, conc, async (l): Promise<ObservedLoadBalancer> => {
      const arn = l.LoadBalancerArn!;
      const [ls, at] = await Promise.all([
        listeners(ctx, arn),
        opts.shallow ? undefined : elb(ctx, new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn })),
      ]);
      return {
        arn,
        name: l.LoadBalancerName ?? '',
        dnsName: l.DNSName ?? '',
        scheme: l.Scheme ?? '',
        type: l.Type ?? '',
        ipAddressType: l.IpAddressType ?? 'ipv4',
        vpcId: l.VpcId ?? '',
        state: l.State?.Code ?? '',
        createdTime: l.CreatedTime ? new Date(l.CreatedTime).toISOString() : '',
        subnetMappings: (l.AvailabilityZones ?? []).map((z) => {
          const m: { subnetId: string; allocationId?: string; privateIPv4Address?: string } = {
            subnetId: z.SubnetId ?? '',
          };
          const a = z.LoadBalancerAddresses?.[0];
          if (a?.AllocationId) m.allocationId = a.AllocationId;
          if (a?.PrivateIPv4Address) m.privateIPv4Address = a.PrivateIPv4Address;
          return m;
        }),
        securityGroups: l.SecurityGroups ?? [],
        tags: lbTags.get(arn)!,
        attributes: attrs(at?.Attributes),
        listeners: ls,
      };
    });
    for (const o of observedLbs) get(o.tags[STACK_TAG]!).loadBalancers.push(o);
  }

  const tgs = await listTargetGroups(ctx);
  const tgTags = await tagsOf(ctx, tgs.map((t) => t.TargetGroupArn!).filter(Boolean));
  const ownedTgs = tgs.filter((t) => mine(tgTags.get(t.TargetGroupArn!)));
  const observedTgs = await pool(ownedTgs, conc, async (t): Promise<ObservedTargetGroup> => {
    const arn = t.TargetGroupArn!;
    // In the targets-only pass the caller reads targets per Service (readTargets), so that reads and
    // RegisterTargets calls interleave under their separate token buckets instead of running one after the other.
    const [targets, at] = await Promise.all([
      opts.targetsOnly || opts.shallow ? Promise.resolve([]) : readTargets(ctx, arn),
      opts.targetsOnly || opts.shallow
        ? Promise.resolve(undefined)
        : elb(ctx, new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
    ]);
    return {
      arn,
      name: t.TargetGroupName ?? '',
      protocol: t.Protocol ?? '',
      port: t.Port ?? 0,
      vpcId: t.VpcId ?? '',
      targetType: t.TargetType ?? 'instance',
      healthCheck: {
        protocol: (t.HealthCheckProtocol ?? 'TCP') as 'TCP' | 'HTTP' | 'HTTPS',
        port: t.HealthCheckPort ?? 'traffic-port',
        path: t.HealthCheckPath,
        intervalSeconds: t.HealthCheckIntervalSeconds ?? 0,
        timeoutSeconds: t.HealthCheckTimeoutSeconds ?? 0,
        healthyThreshold: t.HealthyThresholdCount ?? 0,
        unhealthyThreshold: t.UnhealthyThresholdCount ?? 0,
        matcher: t.Matcher?.HttpCode,
      },
      tags: tgTags.get(arn)!,
      attributes: at ? attrs(at.Attributes) : {},
      targets,
      loadBalancerArns: t.LoadBalancerArns ?? [],
    };
  });
  for (const o of observedTgs) get(o.tags[STACK_TAG]!).targetGroups.push(o);
  if (opts.targetsOnly) return { stacks, accountNlbCount };

  const filters = [
    { Name: `tag:${clusterTagKey(cluster)}`, Values: ['owned'] },
    { Name: `tag:${CLUSTER_NAME_TAG}`, Values: [cluster] },
    { Name: 'vpc-id', Values: [ctx.vpcId] },
  ];
  if (opts.stack) filters.push({ Name: `tag:${STACK_TAG}`, Values: [opts.stack] });
  let token: string | undefined;
  do {
    const r = await ec2(
      ctx,
      new DescribeSecurityGroupsCommand({ Filters: filters, NextToken: token, MaxResults: 1000 }),
    );
    for (const g of r.SecurityGroups ?? []) {
      const tags = tagMap(g.Tags);
      if (!mine(tags)) continue;
      const o: ObservedSecurityGroup = {
        groupId: g.GroupId!,
        groupName: g.GroupName ?? '',
        tags,
        ingress: sgIngress(g),
      };
      get(tags[STACK_TAG]!).securityGroups.push(o);
    }
    token = r.NextToken;
  } while (token);

  if (ctx.nodeSecurityGroupId) {
    const r = await ec2(ctx, new DescribeSecurityGroupsCommand({ GroupIds: [ctx.nodeSecurityGroupId] }));
    const prefix = nodeRuleDescription(cluster, '');
    for (const p of r.SecurityGroups?.[0]?.IpPermissions ?? []) {
      for (const perm of nodePermissions(ctx.nodeSecurityGroupId, p)) {
        const stack = perm.description.slice(prefix.length);
        if (!perm.description.startsWith(prefix) || (opts.stack && stack !== opts.stack)) continue;
        get(stack).nodePermissions.push(perm);
      }
    }
  }
  return { stacks, accountNlbCount };
}

function nodePermissions(groupId: string, p: IpPermission): ObservedNodePermission[] {
  const proto = p.IpProtocol;
  if (proto !== 'tcp' && proto !== 'udp') return [];
  return (p.UserIdGroupPairs ?? [])
    .filter((u) => u.GroupId)
    .map((u) => ({
      groupId,
      sourceGroupId: u.GroupId!,
      protocol: proto,
      fromPort: p.FromPort ?? 0,
      toPort: p.ToPort ?? 0,
      description: u.Description ?? '',
    }));
}

/** A listener's certificates: the default one first, then the extra (SNI) ones sorted. */
export async function listenerCertificates(ctx: LoadBalancerContext, listenerArn: string): Promise<string[]> {
  let def: string | undefined;
  const extra: string[] = [];
  let marker: string | undefined;
  do {
    const r = await elb(ctx, new DescribeListenerCertificatesCommand({ ListenerArn: listenerArn, Marker: marker }));
    for (const c of r?.Certificates ?? []) {
      if (!c.CertificateArn) continue;
      if (c.IsDefault) def = c.CertificateArn;
      else extra.push(c.CertificateArn);
    }
    marker = r?.NextMarker;
  } while (marker);
  return [...(def ? [def] : []), ...extra.filter((a) => a !== def).sort()];
}
