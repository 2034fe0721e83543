/**
 * Observed state, read by ownership tags only (lib/lb/ownership.ts). Names are never used to decide what is ours.
 * ELBv2 has no server-side tag filter on Describe*, so load balancers and target groups are listed (400 per page)
 * and their tags read with DescribeTags (at most 20 ARNs per call, an ELBv2 limit). Security groups are found with
 * EC2 tag filters; node security group rules by their description (ownership.ts nodeRuleDescription).
 * Listings use the SDK paginators; ELBv2 pages go through the token buckets (calls.ts elbPages).
 */
import {
  DescribeSecurityGroupsCommand,
  paginateDescribeSecurityGroups,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import {
  DescribeCapacityReservationCommand,
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  paginateDescribeListenerCertificates,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { pool, type LoadBalancerContext } from './context.js';
import { elb, elbPages, ec2 } from './calls.js';
import type {
  IngressRule,
  ObservedListener,
  ObservedLoadBalancer,
  ObservedNodePermission,
  ObservedStack,
  ObservedTargetGroup,
} from './model.js';
import { isOwned, nodeRuleDescription } from './ownership.js';
import { CLUSTER_NAME_TAG, clusterTagKey, STACK_TAG } from '../tags.js';

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

/** One observation pass: its options, the stacks found so far, and the ownership test. */
interface Pass {
  ctx: LoadBalancerContext;
  opts: ObserveOptions;
  stacks: Map<string, ObservedStack>;
  get(stack: string): ObservedStack;
  mine(tags: Record<string, string> | undefined): boolean;
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
  const pages = elbPages(ctx, DescribeLoadBalancersCommand, (c) => paginateDescribeLoadBalancers(c, { PageSize: 400 }));
  for await (const r of pages) all.push(...(r.LoadBalancers ?? []));
  return all;
}

async function listTargetGroups(ctx: LoadBalancerContext): Promise<TargetGroup[]> {
  const all: TargetGroup[] = [];
  const pages = elbPages(ctx, DescribeTargetGroupsCommand, (c) => paginateDescribeTargetGroups(c, { PageSize: 400 }));
  for await (const r of pages) all.push(...(r.TargetGroups ?? []));
  return all;
}

function toObservedListener(l: Listener): ObservedListener {
  const groups = l.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  return {
    ...(groups.length > 1
      ? { weighted: groups.map((g) => ({ targetGroupArn: g.TargetGroupArn ?? '', weight: g.Weight ?? 1 })) }
      : {}),
    arn: l.ListenerArn!,
    port: l.Port ?? 0,
    protocol: l.Protocol ?? '',
    targetGroupArn:
      l.DefaultActions?.[0]?.TargetGroupArn ?? l.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn,
    // DescribeListeners returns only the default certificate; extras are read by `listeners` for TLS listeners.
    certificateArns: (l.Certificates ?? []).map((c) => c.CertificateArn!).filter(Boolean),
    sslPolicy: l.SslPolicy,
    alpnPolicy: l.AlpnPolicy?.[0],
  };
}

async function listeners(ctx: LoadBalancerContext, lbArn: string, shallow = false): Promise<ObservedListener[]> {
  const out: ObservedListener[] = [];
  const pages = elbPages(ctx, DescribeListenersCommand, (c) =>
    paginateDescribeListeners(c, { LoadBalancerArn: lbArn, PageSize: 400 }),
  );
  for await (const r of pages) out.push(...(r.Listeners ?? []).map(toObservedListener));
  // Extra certificates (SNI) of TLS listeners: one DescribeListenerCertificates each, default first then sorted.
  for (const l of out) {
    if (l.protocol !== 'TLS' || l.certificateArns.length === 0) continue;
    l.certificateArns = await listenerCertificates(ctx, l.arn);
  }
  // Attributes (tcp.idle_timeout.seconds): one DescribeListenerAttributes each, unless only deletes need this.
  if (!shallow)
    await pool(out, ctx.concurrency ?? 8, async (l) => {
      const r = await elb(ctx, new DescribeListenerAttributesCommand({ ListenerArn: l.arn }));
      l.attributes = attrs(r.Attributes);
    });
  return out.sort((a, b) => a.port - b.port);
}

function attrs(list: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) if (a.Key) out[a.Key] = a.Value ?? '';
  return out;
}

/** EC2 answers with the protocol's name, or its number when it was given as one. */
const PROTOCOLS: Record<string, IngressRule['protocol']> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  icmpv6: 'icmpv6',
  '58': 'icmpv6',
};

function sgIngress(g: SecurityGroup): IngressRule[] {
  const out: IngressRule[] = [];
  for (const p of g.IpPermissions ?? []) {
    const protocol = PROTOCOLS[(p.IpProtocol ?? '').toLowerCase()];
    if (!protocol) continue;
    const rule = { protocol, fromPort: p.FromPort ?? 0, toPort: p.ToPort ?? 0 };
    for (const r of p.IpRanges ?? []) if (r.CidrIp) out.push({ ...rule, cidr: r.CidrIp });
    for (const r of p.Ipv6Ranges ?? []) if (r.CidrIpv6) out.push({ ...rule, cidr: r.CidrIpv6 });
    for (const r of p.PrefixListIds ?? []) if (r.PrefixListId) out.push({ ...rule, prefixListId: r.PrefixListId });
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
  const stacks = new Map<string, ObservedStack>();
  const pass: Pass = {
    ctx,
    opts,
    stacks,
    get: (s) => {
      let st = stacks.get(s);
      if (!st) stacks.set(s, (st = emptyStack(s)));
      return st;
    },
    mine: (t) => !!t && isOwned(t, ctx.clusterName, opts.stack),
  };
  const accountNlbCount = opts.targetsOnly ? 0 : await observeLoadBalancers(pass);
  await observeTargetGroups(pass);
  if (opts.targetsOnly) return { stacks, accountNlbCount };
  await observeSecurityGroups(pass);
  if (ctx.nodeSecurityGroupId) await observeNodeRules(pass, ctx.nodeSecurityGroupId);
  return { stacks, accountNlbCount };
}

/** Our NLBs with their listeners (and attributes unless shallow); returns the account's NLB count (quota check). */
async function observeLoadBalancers(p: Pass): Promise<number> {
  const { ctx, opts } = p;
  const lbs = await listLoadBalancers(ctx);
  const lbTags = await tagsOf(ctx, lbs.map((l) => l.LoadBalancerArn!).filter(Boolean));
  const owned = lbs.filter((l) => p.mine(lbTags.get(l.LoadBalancerArn!)));
  const observedLbs = await pool(owned, ctx.concurrency ?? 8, async (l): Promise<ObservedLoadBalancer> => {
    const arn = l.LoadBalancerArn!;
    const [ls, at, capacity] = await Promise.all([
      listeners(ctx, arn, opts.shallow),
      opts.shallow ? undefined : elb(ctx, new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn })),
      opts.shallow ? undefined : capacityUnits(ctx, arn),
    ]);
    const o = toObservedLoadBalancer(l, lbTags.get(arn)!, attrs(at?.Attributes), ls);
    return capacity ? { ...o, minimumCapacityUnits: capacity } : o;
  });
  for (const o of observedLbs) p.get(o.tags[STACK_TAG]!).loadBalancers.push(o);
  return lbs.filter((l) => l.Type === 'network').length;
}

/** The NLB's reserved capacity units (DescribeCapacityReservation), 0 when it has no reservation. */
async function capacityUnits(ctx: LoadBalancerContext, arn: string): Promise<number> {
  const r = await elb(ctx, new DescribeCapacityReservationCommand({ LoadBalancerArn: arn }));
  return r.MinimumLoadBalancerCapacity?.CapacityUnits ?? 0;
}

function toObservedLoadBalancer(
  l: LoadBalancer,
  tags: Record<string, string>,
  attributes: Record<string, string>,
  listeners: ObservedListener[],
): ObservedLoadBalancer {
  return {
    arn: l.LoadBalancerArn!,
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
    tags,
    attributes,
    listeners,
  };
}

/** Our target groups, with their targets and attributes unless shallow or targets-only. */
async function observeTargetGroups(p: Pass): Promise<void> {
  const { ctx, opts } = p;
  const tgs = await listTargetGroups(ctx);
  const tgTags = await tagsOf(ctx, tgs.map((t) => t.TargetGroupArn!).filter(Boolean));
  const ownedTgs = tgs.filter((t) => p.mine(tgTags.get(t.TargetGroupArn!)));
  const observedTgs = await pool(ownedTgs, ctx.concurrency ?? 8, async (t): Promise<ObservedTargetGroup> => {
    const arn = t.TargetGroupArn!;
    // In the targets-only pass the caller reads targets per Service (readTargets), so that reads and
    // RegisterTargets calls interleave under their separate token buckets instead of running one after the other.
    const [targets, at] = await Promise.all([
      opts.targetsOnly || opts.shallow ? Promise.resolve([]) : readTargets(ctx, arn),
      opts.targetsOnly || opts.shallow
        ? Promise.resolve(undefined)
        : elb(ctx, new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
    ]);
    return toObservedTargetGroup(t, tgTags.get(arn)!, at ? attrs(at.Attributes) : {}, targets);
  });
  for (const o of observedTgs) p.get(o.tags[STACK_TAG]!).targetGroups.push(o);
}

function toObservedTargetGroup(
  t: TargetGroup,
  tags: Record<string, string>,
  attributes: Record<string, string>,
  targets: string[],
): ObservedTargetGroup {
  return {
    arn: t.TargetGroupArn!,
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
    tags,
    attributes,
    targets,
    loadBalancerArns: t.LoadBalancerArns ?? [],
  };
}

/** Our managed security groups, found with EC2 tag filters (1000 per page). */
async function observeSecurityGroups(p: Pass): Promise<void> {
  const { ctx, opts } = p;
  const cluster = ctx.clusterName;
  const filters = [
    { Name: `tag:${clusterTagKey(cluster)}`, Values: ['owned'] },
    { Name: `tag:${CLUSTER_NAME_TAG}`, Values: [cluster] },
    { Name: 'vpc-id', Values: [ctx.vpcId] },
  ];
  if (opts.stack) filters.push({ Name: `tag:${STACK_TAG}`, Values: [opts.stack] });
  const pages = paginateDescribeSecurityGroups({ client: ctx.clients.ec2 }, { Filters: filters, MaxResults: 1000 });
  for await (const r of pages) {
    for (const g of r.SecurityGroups ?? []) {
      const tags = tagMap(g.Tags);
      if (!p.mine(tags)) continue;
      const o = { groupId: g.GroupId!, groupName: g.GroupName ?? '', tags, ingress: sgIngress(g) };
      p.get(tags[STACK_TAG]!).securityGroups.push(o);
    }
  }
}

/** Our rules on the node security group, recognised by their description. */
async function observeNodeRules(p: Pass, nodeSecurityGroupId: string): Promise<void> {
  const { ctx, opts } = p;
  const r = await ec2(ctx, new DescribeSecurityGroupsCommand({ GroupIds: [nodeSecurityGroupId] }));
  const prefix = nodeRuleDescription(ctx.clusterName, '');
  for (const perm of r.SecurityGroups?.[0]?.IpPermissions ?? []) {
    for (const np of nodePermissions(nodeSecurityGroupId, perm)) {
      const stack = np.description.slice(prefix.length);
      if (!np.description.startsWith(prefix) || (opts.stack && stack !== opts.stack)) continue;
      p.get(stack).nodePermissions.push(np);
    }
  }
}

/** SG-to-SG permissions, and the CIDR ones of NLBs without security groups (sourceGroupId ''). */
function nodePermissions(groupId: string, p: IpPermission): ObservedNodePermission[] {
  const proto = PROTOCOLS[(p.IpProtocol ?? '').toLowerCase()];
  if (proto !== 'tcp' && proto !== 'udp') return [];
  const perm = { groupId, protocol: proto, fromPort: p.FromPort ?? 0, toPort: p.ToPort ?? 0 };
  return [
    ...(p.UserIdGroupPairs ?? [])
      .filter((u) => u.GroupId)
      .map((u) => ({ ...perm, sourceGroupId: u.GroupId!, description: u.Description ?? '' })),
    ...[
      ...(p.IpRanges ?? []).map((r) => ({ cidr: r.CidrIp, description: r.Description })),
      ...(p.Ipv6Ranges ?? []).map((r) => ({ cidr: r.CidrIpv6, description: r.Description })),
    ]
      .filter((r) => r.cidr)
      .map((r) => ({ ...perm, sourceGroupId: '', cidr: r.cidr!, description: r.description ?? '' })),
  ];
}

/** A listener's certificates: the default one first, then the extra (SNI) ones sorted. */
export async function listenerCertificates(ctx: LoadBalancerContext, listenerArn: string): Promise<string[]> {
  let def: string | undefined;
  const extra: string[] = [];
  // No PageSize: the original request named none (ELBv2's default page of 400).
  const pages = elbPages(ctx, DescribeListenerCertificatesCommand, (c) =>
    paginateDescribeListenerCertificates(c, { ListenerArn: listenerArn }),
  );
  for await (const r of pages) {
    for (const c of r?.Certificates ?? []) {
      if (!c.CertificateArn) continue;
      if (c.IsDefault) def = c.CertificateArn;
      else extra.push(c.CertificateArn);
    }
  }
  return [...(def ? [def] : []), ...extra.filter((a) => a !== def).sort()];
}
