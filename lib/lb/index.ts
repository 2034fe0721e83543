/**
 * Public entry points of the load-balancer controller: one Network Load Balancer per LoadBalancer Service.
 *   desired (build/, pure) -> observed (observe.ts, by tags) -> plan (plan/, pure) -> apply (apply/).
 * Each stage is a folder with one file per resource (loadbalancer, listener, targetgroup, targets, securitygroup,
 * noderule) and an index.ts that runs them in order; ownership.ts lists the resources, their tags and the one
 * ownership proof.
 * Requeue conditions surface as RequeueError (lib/errors.ts), raised only by calls.ts `classify` and by the quota
 * check below; permanent failures become `status.error`.
 */
import {
  DescribeVpcsCommand,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  type Filter,
} from '@aws-sdk/client-ec2';
import { ControllerError, InvalidError, RequeueError } from '../errors.js';
import { keyOf, type NodeInfo, type V1Service } from '../model/types.js';
import { A, parseLoadBalancerAnnotations } from '../model/annotations.js';
import { applyPlan, applyTargetChanges } from './apply/index.js';
import { buildDesiredStack, type BuildEnv } from './build/index.js';
import type { SecurityGroupInfo } from './build/loadbalancer.js';
import { ec2 } from './calls.js';
import { pool, type LoadBalancerContext } from './context.js';
import type { DesiredStack, Plan } from './model.js';
import { emptyStack, observe, readTargets, type ObservedWorld } from './observe.js';
import { formatPlan } from './plan/format.js';
import { planStack } from './plan/index.js';
import { OWN_LOAD_BALANCER_CLASS } from '../model/cluster-names.js';
import { markPublic, type RouteTableInfo, type SubnetInfo } from './subnets.js';

export { formatPlan } from './plan/format.js';
export type { LoadBalancerContext } from './context.js';
export { DEFAULT_NLB_QUOTA } from './context.js';
export type { Plan } from './model.js';
export type { BuildEnv } from './build/index.js';
export { discoverNodes } from '../nodes/discover.js';

export interface LoadBalancerStatus {
  /** status.loadBalancer.ingress[0].hostname: the NLB's DNS name. */
  hostname?: string;
  warnings: string[];
  /** A permanent failure, worded for `kubectl describe`; nothing was changed for a validation failure. */
  error?: string;
}

/**
 * Services with a spec.loadBalancerClass belong to another controller, as in kube's service controller, except our own
 * class and, in the standalone API, aws-load-balancer-controller's (manifests written for it apply unchanged). In
 * cluster mode the watcher mirrors only Services of our class (lib/cluster/ownership.ts), so LBC's stay LBC's there.
 */
export const LOAD_BALANCER_CLASS = 'service.k8s.aws/nlb';
const OUR_CLASSES = new Set([LOAD_BALANCER_CLASS, OWN_LOAD_BALANCER_CLASS]);
export function wantsLoadBalancer(svc: V1Service): boolean {
  return (
    svc.spec?.type === 'LoadBalancer' &&
    !isBeingDeleted(svc) &&
    (!svc.spec.loadBalancerClass || OUR_CLASSES.has(svc.spec.loadBalancerClass))
  );
}

/** A Service marked for deletion (held by a finalizer, e.g. cluster mode's cleanup finalizer) wants no load balancer. */
export const isBeingDeleted = (svc: V1Service): boolean => Boolean(svc.metadata?.deletionTimestamp);

function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

/** The AWS facts the pure builder needs: one DescribeSubnets per pass, SGs only when a Service names some. */
export async function loadEnv(ctx: LoadBalancerContext, services: V1Service[], nodes: NodeInfo[]): Promise<BuildEnv> {
  const subnets = await listSubnets(ctx);
  // Only internet-facing auto-discovery needs to know which subnets are public: one DescribeRouteTables per pass.
  const needsPublic = services.some(
    (s) =>
      s.metadata?.annotations?.[A.subnets] === undefined &&
      parseLoadBalancerAnnotations(s).config.scheme !== 'internal',
  );
  const named = services.some((s) => s.metadata?.annotations?.[A.securityGroups] !== undefined);
  // An internal NLB without security groups admits its clients on the nodes by the VPC's CIDRs.
  const noSg = services.some((s) => s.metadata?.annotations?.[A.disableNlbSg]?.trim() === 'true');
  return {
    clusterName: ctx.clusterName,
    vpcId: ctx.vpcId,
    subnets: needsPublic && subnets.length ? markPublic(subnets, await listRouteTables(ctx)) : subnets,
    vpcSecurityGroups: named ? await listSecurityGroups(ctx) : undefined,
    nodes,
    nodeSecurityGroupId: ctx.nodeSecurityGroupId,
    ...(noSg ? { vpcCidrs: await vpcCidrs(ctx) } : {}),
  };
}

/** The VPC's associated IPv4 CIDRs (the primary one first). */
async function vpcCidrs(ctx: LoadBalancerContext): Promise<string[]> {
  const r = await ec2(ctx, new DescribeVpcsCommand({ VpcIds: [ctx.vpcId] }));
  const v = r.Vpcs?.[0];
  const assoc = (v?.CidrBlockAssociationSet ?? [])
    .filter((a) => a.CidrBlockState?.State === 'associated' && a.CidrBlock)
    .map((a) => a.CidrBlock!);
  return [...new Set([...(v?.CidrBlock ? [v.CidrBlock] : []), ...assoc])];
}

/** The VPC filter of every EC2 listing below; their paginators send through ctx.clients.ec2, as calls.ts `ec2` does. */
const inVpc = (ctx: LoadBalancerContext): Filter[] => [{ Name: 'vpc-id', Values: [ctx.vpcId] }];

async function listSubnets(ctx: LoadBalancerContext): Promise<SubnetInfo[]> {
  const subnets: SubnetInfo[] = [];
  for await (const r of paginateDescribeSubnets({ client: ctx.clients.ec2 }, { Filters: inVpc(ctx) })) {
    for (const s of r.Subnets ?? []) {
      subnets.push({
        subnetId: s.SubnetId!,
        availabilityZone: s.AvailabilityZone ?? '',
        vpcId: s.VpcId ?? '',
        ...(s.CidrBlock ? { cidrBlock: s.CidrBlock } : {}),
        tags: tagMap(s.Tags),
      });
    }
  }
  return subnets;
}

async function listRouteTables(ctx: LoadBalancerContext): Promise<RouteTableInfo[]> {
  const tables: RouteTableInfo[] = [];
  for await (const r of paginateDescribeRouteTables({ client: ctx.clients.ec2 }, { Filters: inVpc(ctx) })) {
    for (const t of r?.RouteTables ?? [])
      tables.push({
        main: (t.Associations ?? []).some((a) => a.Main),
        subnetIds: (t.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
        toInternetGateway: (t.Routes ?? []).some((x) => x.GatewayId?.startsWith('igw-')),
      });
  }
  return tables;
}

async function listSecurityGroups(ctx: LoadBalancerContext): Promise<SecurityGroupInfo[]> {
  const out: SecurityGroupInfo[] = [];
  for await (const r of paginateDescribeSecurityGroups({ client: ctx.clients.ec2 }, { Filters: inVpc(ctx) })) {
    for (const g of r.SecurityGroups ?? [])
      out.push({ groupId: g.GroupId!, groupName: g.GroupName ?? '', tags: tagMap(g.Tags) });
  }
  return out;
}

/** Quota check before creating an NLB: RequeueError when full, a warning from 80 %. */
function checkQuota(ctx: LoadBalancerContext, plan: Plan, world: { accountNlbCount: number }): string[] {
  if (!plan.actions.some((a) => a.kind === 'LoadBalancer' && a.op === 'create')) return [];
  const releasing = plan.actions.filter((a) => a.kind === 'LoadBalancer' && a.op === 'delete').length;
  const count = world.accountNlbCount - releasing;
  if (count >= ctx.nlbQuota) {
    throw new RequeueError(
      `TooManyLoadBalancers: the account already has ${count} of ${ctx.nlbQuota} Network Load Balancers allowed in ` +
        'this region; delete unused ones or raise the quota ("Network Load Balancers per Region")',
      300,
    );
  }
  if (count + 1 >= ctx.nlbQuota * 0.8) {
    return [`this account will use ${count + 1} of its ${ctx.nlbQuota} Network Load Balancers in this region`];
  }
  return [];
}

async function planFor(ctx: LoadBalancerContext, svc: V1Service, env: BuildEnv, world: ObservedWorld): Promise<Plan> {
  const key = keyOf(svc);
  const observed = world.stacks.get(key) ?? emptyStack(key);
  if (!wantsLoadBalancer(svc)) return planStack(null, observed, ctx.vpcId);
  const built = buildDesiredStack(svc, env);
  if (!built.desired) {
    const msgs = built.errors;
    throw new InvalidError(
      `Service "${svc.metadata?.name ?? ''}" cannot get a load balancer: ${msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`}`,
      msgs.map((m) => ({ field: m.split(':')[0] ?? '', message: m })),
    );
  }
  const plan = planStack(built.desired, observed, ctx.vpcId);
  plan.warnings.push(...checkQuota(ctx, plan, world));
  return plan;
}

/**
 * Converges one stack to a desired stack built elsewhere (a Gateway's, lib/gateway), or removes it (`desired`
 * null): the same observation by tags, planner, quota check and apply as a Service's.
 */
export async function reconcileDesiredStack(
  ctx: LoadBalancerContext,
  stack: string,
  desired: DesiredStack | null,
): Promise<{ hostname?: string; warnings: string[]; changed: boolean }> {
  const world = await observe(ctx, { stack, shallow: desired === null });
  const plan = planStack(desired, world.stacks.get(stack) ?? emptyStack(stack), ctx.vpcId);
  if (desired) plan.warnings.push(...checkQuota(ctx, plan, world));
  if (plan.actions.length) ctx.log?.('info', formatPlan(plan), { stack });
  const r = await applyPlan(ctx, plan);
  return { hostname: desired ? r.hostname : undefined, warnings: plan.warnings, changed: plan.actions.length > 0 };
}

/**
 * A node joined or left, for a stack built elsewhere: only target (de)registration on its target groups that exist
 * (the node-events function's role grants no other ELBv2 write). Returns whether anything changed.
 */
export async function reconcileStackTargets(ctx: LoadBalancerContext, desired: DesiredStack): Promise<boolean> {
  const world = await observe(ctx, { stack: desired.stack, targetsOnly: true });
  const observed = world.stacks.get(desired.stack);
  if (!observed) return false;
  const tgs = await Promise.all(
    observed.targetGroups.map(async (t) => ({ ...t, targets: await readTargets(ctx, t.arn) })),
  );
  const plan = planStack(desired, { ...emptyStack(desired.stack), targetGroups: tgs }, ctx.vpcId);
  const actions = plan.actions.filter(
    (a) => (a.kind === 'RegisterTargets' || a.kind === 'DeregisterTargets') && typeof a.arn === 'string',
  );
  await applyTargetChanges(ctx, actions, plan.stack);
  return actions.length > 0;
}

/** The plan reconcileService would apply, without applying it (for `svcctl plan -f FILE` and logs). */
export async function planService(ctx: LoadBalancerContext, svc: V1Service, nodes: NodeInfo[]): Promise<Plan> {
  const [env, world] = await Promise.all([loadEnv(ctx, [svc], nodes), observe(ctx, { stack: keyOf(svc) })]);
  return planFor(ctx, svc, env, world);
}

async function runOne(
  ctx: LoadBalancerContext,
  svc: V1Service,
  env: BuildEnv,
  world: ObservedWorld,
  onChange?: () => void,
): Promise<LoadBalancerStatus> {
  let plan: Plan;
  try {
    plan = await planFor(ctx, svc, env, world);
  } catch (err) {
    if (err instanceof ControllerError && err.permanent) return { warnings: [], error: err.message };
    throw err;
  }
  if (plan.actions.length) {
    ctx.log?.('info', formatPlan(plan), { stack: plan.stack });
    onChange?.();
  }
  try {
    const r = await applyPlan(ctx, plan);
    if (!wantsLoadBalancer(svc)) return { warnings: plan.warnings };
    return { hostname: r.hostname, warnings: plan.warnings };
  } catch (err) {
    if (err instanceof ControllerError && err.permanent) return { warnings: plan.warnings, error: err.message };
    throw err;
  }
}

/**
 * Converges the NLB of one stored Service. Returns the status to write; throws RequeueError/TransientError when
 * the same input should be retried later (quota full, resources still detaching, throttling).
 * A Service that is not (or no longer) type LoadBalancer gets its load balancer removed.
 */
export async function reconcileService(
  ctx: LoadBalancerContext,
  svc: V1Service,
  nodes: NodeInfo[],
): Promise<LoadBalancerStatus> {
  if (svc.spec?.type === 'LoadBalancer' && !isBeingDeleted(svc) && !wantsLoadBalancer(svc)) {
    return { warnings: [`spec.loadBalancerClass "${svc.spec.loadBalancerClass}" is handled by another controller`] };
  }
  const [env, world] = await Promise.all([
    wantsLoadBalancer(svc) ? loadEnv(ctx, [svc], nodes) : Promise.resolve({} as BuildEnv),
    observe(ctx, { stack: keyOf(svc) }),
  ]);
  return runOne(ctx, svc, env, world);
}

/**
 * Removes every resource of the Service's stack, in dependency order. Idempotent; RequeueError until SGs are free.
 * Returns whether there was anything to remove.
 */
export async function deleteServiceLoadBalancer(ctx: LoadBalancerContext, serviceKey: string): Promise<boolean> {
  const world = await observe(ctx, { stack: serviceKey, shallow: true });
  const plan = planStack(null, world.stacks.get(serviceKey) ?? emptyStack(serviceKey), ctx.vpcId);
  if (plan.actions.length) ctx.log?.('info', formatPlan(plan), { stack: serviceKey });
  await applyPlan(ctx, plan);
  return plan.actions.length > 0;
}

export interface ReconcileAllOptions {
  /**
   * 'targets': only target registration (a node joined or left): reads target groups and their targets, nothing
   * else, and registers/deregisters. 'full' (default): the whole pipeline for every Service (resync).
   */
  scope?: 'full' | 'targets';
}

export interface ReconcileAllResult {
  statuses: Map<string, LoadBalancerStatus>;
  /** Services whose load balancer was changed by this pass (targets registered or deregistered, drift repaired). */
  changed: Set<string>;
  /** Services to retry, with the reason. */
  requeue: Map<string, string>;
}

/**
 * Batch reconcile for node join/leave and periodic resync: ONE observation (one listing of NLBs / TGs / SGs for the
 * whole cluster), one DescribeSubnets; the caller passes nodes from one discoverNodes call. Services run in
 * parallel behind the shared token buckets.
 */
export async function reconcileAll(
  ctx: LoadBalancerContext,
  services: V1Service[],
  nodes: NodeInfo[],
  opts: ReconcileAllOptions = {},
): Promise<ReconcileAllResult> {
  if (opts.scope === 'targets') return reconcileTargets(ctx, services, nodes);
  const statuses = new Map<string, LoadBalancerStatus>();
  const requeue = new Map<string, string>();
  const changed = new Set<string>();
  const lbServices = services.filter(wantsLoadBalancer);
  const [env, world] = await Promise.all([loadEnv(ctx, lbServices, nodes), observe(ctx)]);
  // Creations in one pass share the quota: count them as they happen.
  await pool(services, ctx.concurrency ?? 8, async (svc) => {
    const key = keyOf(svc);
    if (!wantsLoadBalancer(svc) && !world.stacks.has(key)) return;
    try {
      const st = await runOne(ctx, svc, env, world, () => changed.add(key));
      if (st.hostname && !world.stacks.get(key)?.loadBalancers.length) world.accountNlbCount++;
      statuses.set(key, st);
    } catch (err) {
      requeue.set(key, (err as Error).message);
    }
  });
  return { statuses, changed, requeue };
}

/**
 * A node joined or left: only target (de)registration on target groups that exist (reads target groups and their
 * targets, nothing else); anything else waits for the full pass. Kept apart from the full pipeline so that what the
 * node-events function can send is only RegisterTargets/DeregisterTargets (its IAM role grants no other ELBv2 write;
 * test/infra/iam-actions.test.ts derives that from this code).
 */
export async function reconcileTargets(
  ctx: LoadBalancerContext,
  services: V1Service[],
  nodes: NodeInfo[],
): Promise<ReconcileAllResult> {
  const statuses = new Map<string, LoadBalancerStatus>();
  const requeue = new Map<string, string>();
  const changed = new Set<string>();
  const lbServices = services.filter(wantsLoadBalancer);
  const [env, world] = await Promise.all([loadEnv(ctx, lbServices, nodes), observe(ctx, { targetsOnly: true })]);
  await pool(lbServices, ctx.concurrency ?? 8, async (svc) => {
    const key = keyOf(svc);
    const built = buildDesiredStack(svc, env);
    const observed = world.stacks.get(key);
    if (!built.desired || !observed) return;
    // Only target (de)registration on target groups that exist; anything else waits for the full pass.
    const tgs = await Promise.all(
      observed.targetGroups.map(async (t) => ({ ...t, targets: await readTargets(ctx, t.arn) })),
    );
    const plan = planStack(built.desired, { ...emptyStack(key), targetGroups: tgs }, ctx.vpcId);
    plan.actions = plan.actions.filter(
      (a) => (a.kind === 'RegisterTargets' || a.kind === 'DeregisterTargets') && typeof a.arn === 'string',
    );
    try {
      await applyTargetChanges(ctx, plan.actions, plan.stack);
      statuses.set(key, { warnings: plan.warnings });
      if (plan.actions.length) changed.add(key);
    } catch (err) {
      requeue.set(key, (err as Error).message);
    }
  });
  return { statuses, changed, requeue };
}

/**
 * Deletes every stack tagged for this cluster whose Service is not in `liveServiceKeys` (Services deleted while the
 * controller was down, or resources a crash left behind). Resources of other clusters and untagged resources are
 * never considered: observation only returns resources owned by this cluster.
 */
export async function sweep(
  ctx: LoadBalancerContext,
  liveServiceKeys: Iterable<string>,
): Promise<{ deleted: string[]; requeue: Map<string, string> }> {
  const live = new Set(liveServiceKeys);
  const world = await observe(ctx, { shallow: true });
  const deleted: string[] = [];
  const requeue = new Map<string, string>();
  const orphans = [...world.stacks.values()]
    .filter((s) => !live.has(s.stack))
    .sort((a, b) => a.stack.localeCompare(b.stack));
  await pool(orphans, ctx.concurrency ?? 8, async (s) => {
    try {
      await applyPlan(ctx, planStack(null, s, ctx.vpcId));
      deleted.push(s.stack);
    } catch (err) {
      requeue.set(s.stack, (err as Error).message);
    }
  });
  return { deleted: deleted.sort(), requeue };
}
