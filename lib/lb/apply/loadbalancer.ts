/** The NLB: create (or adopt by name), attributes, subnets, security groups, delete (ELBv2). */
import {
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  ModifyCapacityReservationCommand,
  ModifyLoadBalancerAttributesCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCode, elb } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action, SubnetMapping } from '../model.js';
import { provenOwned } from '../ownership.js';
import type { ApplyState } from './state.js';
import { elbTagsOf, toTags } from './tags.js';

type LbAction = Extract<
  Action,
  {
    kind:
      | 'LoadBalancer'
      | 'LoadBalancerAttributes'
      | 'LoadBalancerCapacity'
      | 'LoadBalancerSubnets'
      | 'LoadBalancerSecurityGroups';
  }
>;

const subnetMappings = (ms: SubnetMapping[]) =>
  ms.map((m) => ({ SubnetId: m.subnetId, AllocationId: m.allocationId, PrivateIPv4Address: m.privateIPv4Address }));

export async function applyLoadBalancer(ctx: LoadBalancerContext, st: ApplyState, a: LbAction): Promise<void> {
  switch (a.kind) {
    case 'LoadBalancer':
      if (a.op === 'create') return createLoadBalancer(ctx, st, a);
      await elb(ctx, new DeleteLoadBalancerCommand({ LoadBalancerArn: a.arn }));
      return;
    case 'LoadBalancerAttributes':
      await elb(
        ctx,
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerArn: st.resolve(a.arn),
          Attributes: Object.entries(a.attributes).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      return;
    case 'LoadBalancerCapacity':
      await elb(
        ctx,
        new ModifyCapacityReservationCommand(
          a.capacityUnits
            ? { LoadBalancerArn: st.resolve(a.arn), MinimumLoadBalancerCapacity: { CapacityUnits: a.capacityUnits } }
            : { LoadBalancerArn: st.resolve(a.arn), ResetCapacityReservation: true },
        ),
      );
      return;
    case 'LoadBalancerSubnets':
      await elb(
        ctx,
        new SetSubnetsCommand({ LoadBalancerArn: a.arn, SubnetMappings: subnetMappings(a.subnetMappings) }),
      );
      return;
    case 'LoadBalancerSecurityGroups':
      await elb(
        ctx,
        new SetSecurityGroupsCommand({
          LoadBalancerArn: a.arn,
          SecurityGroups: a.securityGroups.map((s) => st.resolve(s)),
        }),
      );
      return;
  }
}

async function createLoadBalancer(
  ctx: LoadBalancerContext,
  st: ApplyState,
  a: Extract<LbAction, { kind: 'LoadBalancer'; op: 'create' }>,
): Promise<void> {
  const d = a.desired;
  try {
    const r = await elb(
      ctx,
      new CreateLoadBalancerCommand({
        Name: d.name,
        Type: 'network',
        Scheme: d.scheme,
        IpAddressType: d.ipAddressType,
        SubnetMappings: subnetMappings(d.subnetMappings),
        // An NLB created without security groups can never get one (disable-nlb-sg asks for exactly that); one
        // created with some can never lose the last: the planner replaces the NLB when this choice changes.
        SecurityGroups: a.securityGroups.length ? a.securityGroups.map((s) => st.resolve(s)) : undefined,
        Tags: toTags(d.tags),
      }),
    );
    const lb = r.LoadBalancers?.[0];
    st.lb = lb?.LoadBalancerArn;
    st.hostname = lb?.DNSName;
  } catch (err) {
    if (awsCode(err) !== 'DuplicateLoadBalancerName' && awsCode(err) !== 'DuplicateLoadBalancerNameException')
      throw err;
    // Already created by a run that crashed before observing it: adopt it if (and only if) it is ours.
    const r = await elb(ctx, new DescribeLoadBalancersCommand({ Names: [d.name] }));
    const lb = r.LoadBalancers?.[0];
    const found = lb && { id: lb.LoadBalancerArn, tags: await elbTagsOf(ctx, lb.LoadBalancerArn) };
    st.lb = provenOwned('loadBalancer', d.name, found, ctx.clusterName, st.stack);
    st.hostname = lb!.DNSName;
  }
}
