/**
 * The rule on the nodes' security group: SG-to-SG permissions (or, for an NLB without security groups, CIDR ones)
 * authorized and revoked one by one (EC2). The description identifies the stack either way.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { awsCode, ec2, isNotFound } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action, NodePermission } from '../model.js';
import type { ApplyState } from './state.js';

function nodePerm(p: NodePermission, sourceGroupId: string | undefined, description?: string): IpPermission {
  const perm = { IpProtocol: p.protocol, FromPort: p.fromPort, ToPort: p.toPort };
  if (p.cidr === undefined)
    return { ...perm, UserIdGroupPairs: [{ GroupId: sourceGroupId, Description: description }] };
  return p.cidr.includes(':')
    ? { ...perm, Ipv6Ranges: [{ CidrIpv6: p.cidr, Description: description }] }
    : { ...perm, IpRanges: [{ CidrIp: p.cidr, Description: description }] };
}

export async function applyNodeRule(
  ctx: LoadBalancerContext,
  st: ApplyState,
  a: Extract<Action, { kind: 'NodeRule' }>,
): Promise<void> {
  if (a.op === 'update') {
    const src = a.sourceGroup === undefined ? undefined : st.resolve(a.sourceGroup);
    for (const p of a.authorize) {
      try {
        const IpPermissions = [nodePerm(p, src, a.description)];
        await ec2(ctx, new AuthorizeSecurityGroupIngressCommand({ GroupId: a.groupId, IpPermissions }));
      } catch (err) {
        if (awsCode(err) !== 'InvalidPermission.Duplicate') throw err;
      }
    }
    return;
  }
  for (const p of a.permissions) {
    try {
      const IpPermissions = [nodePerm(p, p.sourceGroupId, p.description)];
      await ec2(ctx, new RevokeSecurityGroupIngressCommand({ GroupId: a.groupId, IpPermissions }));
    } catch (err) {
      // One permission already revoked must not stop the revocation of the others.
      if (!isNotFound(err)) throw err;
    }
  }
}
