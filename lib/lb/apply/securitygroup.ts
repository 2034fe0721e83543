/** The managed security group and its ingress rules (EC2). */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { awsCode, ec2 } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action, IngressRule } from '../model.js';
import { provenOwned } from '../ownership.js';
import type { ApplyState } from './state.js';
import { tagMap, toTags } from './tags.js';

type SgAction = Extract<Action, { kind: 'SecurityGroup' | 'SecurityGroupIngress' }>;

export async function applySecurityGroup(ctx: LoadBalancerContext, st: ApplyState, a: SgAction): Promise<void> {
  if (a.kind === 'SecurityGroupIngress') return applyIngress(ctx, st.resolve(a.groupId), a.authorize, a.revoke);
  if (a.op === 'delete') {
    await ec2(ctx, new DeleteSecurityGroupCommand({ GroupId: a.groupId }));
    return;
  }
  const vpcId = a.vpcId || ctx.vpcId;
  try {
    const r = await ec2(
      ctx,
      new CreateSecurityGroupCommand({
        GroupName: a.desired.name,
        Description: a.desired.description,
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: toTags(a.desired.tags) }],
      }),
    );
    st.sg = r.GroupId!;
  } catch (err) {
    if (awsCode(err) !== 'InvalidGroup.Duplicate') throw err;
    // Already created by a run that crashed before observing it: adopt it if (and only if) it is ours.
    const r = await ec2(
      ctx,
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: [a.desired.name] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    );
    const g = r.SecurityGroups?.[0];
    const found = g && { id: g.GroupId, tags: tagMap(g.Tags) };
    st.sg = provenOwned('securityGroup', a.desired.name, found, ctx.clusterName, st.stack);
  }
}

/** One IpPermission per rule: from a CIDR (IPv4 or IPv6) or a managed prefix list; ICMP type/code in the ports. */
function ipPermissions(rules: IngressRule[]): IpPermission[] {
  return rules.map((r) => {
    const perm = { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort };
    if (r.prefixListId !== undefined) return { ...perm, PrefixListIds: [{ PrefixListId: r.prefixListId }] };
    return r.cidr!.includes(':')
      ? { ...perm, Ipv6Ranges: [{ CidrIpv6: r.cidr }] }
      : { ...perm, IpRanges: [{ CidrIp: r.cidr }] };
  });
}

async function applyIngress(
  ctx: LoadBalancerContext,
  groupId: string,
  authorize: IngressRule[],
  revoke: IngressRule[],
): Promise<void> {
  if (authorize.length) {
    try {
      await ec2(
        ctx,
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ipPermissions(authorize) }),
      );
    } catch (err) {
      if (awsCode(err) !== 'InvalidPermission.Duplicate') throw err;
      // Part of the batch existed (a crashed earlier run): add the rules one by one.
      for (const p of ipPermissions(authorize)) {
        try {
          await ec2(ctx, new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [p] }));
        } catch (e) {
          if (awsCode(e) !== 'InvalidPermission.Duplicate') throw e;
        }
      }
    }
  }
  if (revoke.length) {
    try {
      await ec2(ctx, new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ipPermissions(revoke) }));
    } catch (err) {
      if (awsCode(err) !== 'InvalidPermission.NotFound') throw err;
    }
  }
}
