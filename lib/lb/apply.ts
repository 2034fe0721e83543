/**
 * Applies a plan, in order, one AWS call at a time per action (batches of targets are already split by the
 * planner). Crash safety comes from the design, not from this file remembering anything: every resource is
 * created WITH its ownership tags in the Create call itself, so a crash between any two calls leaves only tagged
 * resources that the next observation finds and adopts (or deletes as duplicates). Idempotency errors AWS raises on
 * a rerun (already exists / already gone) are resolved here by looking the resource up and checking its tags.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveListenerCertificatesCommand,
  RemoveTagsCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type Action as ElbAction,
  type Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PermanentError } from '../errors.js';
import { awsCode, classify, ec2, elb } from './calls.js';
import type { LoadBalancerContext } from './context.js';
import type { Action, DesiredListener, HealthCheck, IngressRule, NodePermission, Plan, Ref } from './model.js';
import { listenerCertificates } from './observe.js';
import { EXTRA_CERTIFICATES } from './planner.js';
import { isOwned } from './tags.js';

export interface ApplyResult {
  hostname?: string;
  /** Actions completed (for logs and tests). */
  done: number;
}

const toTags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

function ipPermissions(rules: IngressRule[]): IpPermission[] {
  return rules.map((r) =>
    r.cidr.includes(':')
      ? { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort, Ipv6Ranges: [{ CidrIpv6: r.cidr }] }
      : { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort, IpRanges: [{ CidrIp: r.cidr }] },
  );
}

function hcInput(h: HealthCheck) {
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: h.protocol,
    HealthCheckPort: h.port,
    HealthCheckPath: h.protocol === 'TCP' ? undefined : h.path,
    HealthCheckIntervalSeconds: h.intervalSeconds,
    HealthCheckTimeoutSeconds: h.timeoutSeconds,
    HealthyThresholdCount: h.healthyThreshold,
    UnhealthyThresholdCount: h.unhealthyThreshold,
    Matcher: h.protocol === 'TCP' || !h.matcher ? undefined : { HttpCode: h.matcher },
  };
}

export async function applyPlan(ctx: LoadBalancerContext, plan: Plan): Promise<ApplyResult> {
  const refs: { lb?: string; sg?: string; tg: Map<string, string> } = { tg: new Map() };
  let hostname = plan.hostname;
  let done = 0;
  const resolve = (r: Ref): string => {
    if (typeof r === 'string') return r;
    const v = r.ref === 'tg' ? refs.tg.get(r.key) : refs[r.ref];
    if (!v)
      throw new PermanentError(`internal: plan references ${JSON.stringify(r)} before it is created`, 'PlanOrder');
    return v;
  };
  const stack = plan.stack;
  const owned = (tags: Record<string, string>) => isOwned(tags, ctx.clusterName, stack);

  for (const a of plan.actions) {
    ctx.log?.('info', `${a.op} ${a.kind} ${a.name}`, { stack });
    try {
      await step(a);
    } catch (err) {
      throw classify(err, `${a.op} ${a.kind} ${a.name} (Service ${stack})`);
    }
    done++;
  }
  return { hostname, done };

  async function step(a: Action): Promise<void> {
    switch (a.kind) {
      case 'SecurityGroup':
        if (a.op === 'create') {
          try {
            const r = await ec2(
              ctx,
              new CreateSecurityGroupCommand({
                GroupName: a.desired.name,
                Description: a.desired.description,
                VpcId: a.vpcId || ctx.vpcId,
                TagSpecifications: [{ ResourceType: 'security-group', Tags: toTags(a.desired.tags) }],
              }),
            );
            refs.sg = r.GroupId!;
          } catch (err) {
            if (awsCode(err) !== 'InvalidGroup.Duplicate') throw err;
            // Already created by a run that crashed before observing it: adopt it if (and only if) it is ours.
            const r = await ec2(
              ctx,
              new DescribeSecurityGroupsCommand({
                Filters: [
                  { Name: 'group-name', Values: [a.desired.name] },
                  { Name: 'vpc-id', Values: [a.vpcId || ctx.vpcId] },
                ],
              }),
            );
            const g = r.SecurityGroups?.[0];
            const tags = Object.fromEntries((g?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
            if (!g?.GroupId || !owned(tags)) {
              throw new PermanentError(
                `security group name ${a.desired.name} is taken by a group this controller does not own`,
                'NameTaken',
              );
            }
            refs.sg = g.GroupId;
          }
        } else {
          try {
            await ec2(ctx, new DeleteSecurityGroupCommand({ GroupId: a.groupId }));
          } catch (err) {
            if (awsCode(err) !== 'InvalidGroup.NotFound') throw err;
          }
        }
        return;
      case 'SecurityGroupIngress': {
        const groupId = resolve(a.groupId);
        if (a.authorize.length) {
          try {
            await ec2(
              ctx,
              new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ipPermissions(a.authorize) }),
            );
          } catch (err) {
            if (awsCode(err) !== 'InvalidPermission.Duplicate') throw err;
            // Part of the batch existed (a crashed earlier run): add the rules one by one.
            for (const p of ipPermissions(a.authorize)) {
              try {
                await ec2(ctx, new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [p] }));
              } catch (e) {
                if (awsCode(e) !== 'InvalidPermission.Duplicate') throw e;
              }
            }
          }
        }
        if (a.revoke.length) {
          try {
            await ec2(
              ctx,
              new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ipPermissions(a.revoke) }),
            );
          } catch (err) {
            if (awsCode(err) !== 'InvalidPermission.NotFound') throw err;
          }
        }
        return;
      }
      case 'LoadBalancer':
        if (a.op === 'create') {
          const d = a.desired;
          try {
            const r = await elb(
              ctx,
              new CreateLoadBalancerCommand({
                Name: d.name,
                Type: 'network',
                Scheme: d.scheme,
                IpAddressType: d.ipAddressType,
                SubnetMappings: d.subnetMappings.map((m) => ({
                  SubnetId: m.subnetId,
                  AllocationId: m.allocationId,
                  PrivateIPv4Address: m.privateIPv4Address,
                })),
                // An NLB created without security groups can never get one: always create with them.
                SecurityGroups: a.securityGroups.map(resolve),
                Tags: toTags(d.tags),
              }),
            );
            const lb = r.LoadBalancers?.[0];
            refs.lb = lb?.LoadBalancerArn;
            hostname = lb?.DNSName;
          } catch (err) {
            if (awsCode(err) !== 'DuplicateLoadBalancerName' && awsCode(err) !== 'DuplicateLoadBalancerNameException')
              throw err;
            const r = await elb(ctx, new DescribeLoadBalancersCommand({ Names: [d.name] }));
            const lb = r.LoadBalancers?.[0];
            const t = lb?.LoadBalancerArn
              ? await elb(ctx, new DescribeTagsCommand({ ResourceArns: [lb.LoadBalancerArn] }))
              : undefined;
            const tags = Object.fromEntries(
              (t?.TagDescriptions?.[0]?.Tags ?? []).map((x) => [x.Key ?? '', x.Value ?? '']),
            );
            if (!lb || !owned(tags)) {
              throw new PermanentError(
                `load balancer name "${d.name}" is already used by a load balancer this controller does not own; ` +
                  'choose another with service.beta.kubernetes.io/aws-load-balancer-name',
                'NameTaken',
              );
            }
            refs.lb = lb.LoadBalancerArn;
            hostname = lb.DNSName;
          }
        } else {
          // DeleteLoadBalancer succeeds for an ARN that no longer exists, which keeps deletes idempotent.
          await elb(ctx, new DeleteLoadBalancerCommand({ LoadBalancerArn: a.arn }));
        }
        return;
      case 'LoadBalancerAttributes':
        await elb(
          ctx,
          new ModifyLoadBalancerAttributesCommand({
            LoadBalancerArn: resolve(a.arn),
            Attributes: Object.entries(a.attributes).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        return;
      case 'LoadBalancerSubnets':
        await elb(
          ctx,
          new SetSubnetsCommand({
            LoadBalancerArn: a.arn,
            SubnetMappings: a.subnetMappings.map((m) => ({
              SubnetId: m.subnetId,
              AllocationId: m.allocationId,
              PrivateIPv4Address: m.privateIPv4Address,
            })),
          }),
        );
        return;
      case 'LoadBalancerSecurityGroups':
        await elb(
          ctx,
          new SetSecurityGroupsCommand({ LoadBalancerArn: a.arn, SecurityGroups: a.securityGroups.map(resolve) }),
        );
        return;
      case 'TargetGroup':
        if (a.op === 'create') {
          const d = a.desired;
          try {
            const r = await elb(
              ctx,
              new CreateTargetGroupCommand({
                Name: d.name,
                Protocol: d.protocol,
                Port: d.port,
                VpcId: d.vpcId,
                TargetType: d.targetType,
                ...hcInput(d.healthCheck),
                Tags: toTags(d.tags),
              }),
            );
            refs.tg.set(d.key, r.TargetGroups![0]!.TargetGroupArn!);
          } catch (err) {
            if (awsCode(err) !== 'DuplicateTargetGroupName' && awsCode(err) !== 'DuplicateTargetGroupNameException')
              throw err;
            const r = await elb(ctx, new DescribeTargetGroupsCommand({ Names: [d.name] }));
            const tg = r.TargetGroups?.[0];
            const t = tg?.TargetGroupArn
              ? await elb(ctx, new DescribeTagsCommand({ ResourceArns: [tg.TargetGroupArn] }))
              : undefined;
            const tags = Object.fromEntries(
              (t?.TagDescriptions?.[0]?.Tags ?? []).map((x) => [x.Key ?? '', x.Value ?? '']),
            );
            if (!tg?.TargetGroupArn || !owned(tags)) {
              throw new PermanentError(
                `target group name "${d.name}" is taken by a target group this controller does not own`,
                'NameTaken',
              );
            }
            refs.tg.set(d.key, tg.TargetGroupArn);
          }
        } else {
          await elb(ctx, new DeleteTargetGroupCommand({ TargetGroupArn: a.arn }));
        }
        return;
      case 'TargetGroupHealthCheck':
        await elb(ctx, new ModifyTargetGroupCommand({ TargetGroupArn: a.arn, ...hcInput(a.healthCheck) }));
        return;
      case 'TargetGroupAttributes':
        await elb(
          ctx,
          new ModifyTargetGroupAttributesCommand({
            TargetGroupArn: resolve(a.arn),
            Attributes: Object.entries(a.attributes).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        return;
      case 'RegisterTargets':
        await elb(
          ctx,
          new RegisterTargetsCommand({
            TargetGroupArn: resolve(a.arn),
            Targets: a.instanceIds.map((Id) => ({ Id, Port: a.port })),
          }),
        );
        return;
      case 'DeregisterTargets':
        await elb(
          ctx,
          new DeregisterTargetsCommand({
            TargetGroupArn: a.arn,
            Targets: a.instanceIds.map((Id) => ({ Id, Port: a.port })),
          }),
        );
        return;
      case 'Tags':
        if (a.service === 'elbv2') {
          if (Object.keys(a.add).length)
            await elb(ctx, new AddTagsCommand({ ResourceArns: [a.resource], Tags: toTags(a.add) }));
          if (a.remove.length) await elb(ctx, new RemoveTagsCommand({ ResourceArns: [a.resource], TagKeys: a.remove }));
        } else {
          if (Object.keys(a.add).length)
            await ec2(ctx, new CreateTagsCommand({ Resources: [a.resource], Tags: toTags(a.add) }));
          if (a.remove.length)
            await ec2(ctx, new DeleteTagsCommand({ Resources: [a.resource], Tags: a.remove.map((Key) => ({ Key })) }));
        }
        return;
      case 'Listener':
        if (a.op === 'create') {
          const lbArn = resolve(a.loadBalancer);
          try {
            const created = await elb(
              ctx,
              new CreateListenerCommand({
                LoadBalancerArn: lbArn,
                ...listenerInput(a.desired, resolve(a.targetGroup)),
                Tags: toTags(a.desired.tags),
              }),
            );
            const arn = created.Listeners?.[0]?.ListenerArn;
            if (arn) await syncExtraCertificates(ctx, arn, a.desired);
          } catch (err) {
            if (awsCode(err) !== 'DuplicateListener' && awsCode(err) !== 'DuplicateListenerException') throw err;
            // A listener on this port already exists on OUR load balancer (created by a crashed run): converge it.
            const r = await elb(ctx, new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
            const l = r.Listeners?.find((x) => x.Port === a.desired.port);
            if (!l?.ListenerArn) throw err;
            await elb(
              ctx,
              new ModifyListenerCommand({
                ListenerArn: l.ListenerArn,
                ...listenerInput(a.desired, resolve(a.targetGroup)),
              }),
            );
            await syncExtraCertificates(ctx, l.ListenerArn, a.desired);
          }
        } else if (a.op === 'update') {
          // Only the SNI certificates changed: Add/RemoveListenerCertificates alone, no ModifyListener.
          if (a.changes.some((c) => c !== EXTRA_CERTIFICATES))
            await elb(
              ctx,
              new ModifyListenerCommand({ ListenerArn: a.arn, ...listenerInput(a.desired, resolve(a.targetGroup)) }),
            );
          await syncExtraCertificates(ctx, a.arn, a.desired);
        } else {
          try {
            await elb(ctx, new DeleteListenerCommand({ ListenerArn: a.arn }));
          } catch (err) {
            if (awsCode(err) !== 'ListenerNotFound' && awsCode(err) !== 'ListenerNotFoundException') throw err;
          }
        }
        return;
      case 'NodeRule':
        if (a.op === 'update') {
          const src = resolve(a.sourceGroup);
          for (const p of a.authorize) {
            try {
              await ec2(
                ctx,
                new AuthorizeSecurityGroupIngressCommand({
                  GroupId: a.groupId,
                  IpPermissions: [nodePerm(p, src, a.description)],
                }),
              );
            } catch (err) {
              if (awsCode(err) !== 'InvalidPermission.Duplicate') throw err;
            }
          }
        } else {
          for (const p of a.permissions) {
            try {
              await ec2(
                ctx,
                new RevokeSecurityGroupIngressCommand({
                  GroupId: a.groupId,
                  IpPermissions: [nodePerm(p, p.sourceGroupId, p.description)],
                }),
              );
            } catch (err) {
              if (awsCode(err) !== 'InvalidPermission.NotFound') throw err;
            }
          }
        }
        return;
    }
  }
}

function nodePerm(p: NodePermission, sourceGroupId: string, description?: string): IpPermission {
  return {
    IpProtocol: p.protocol,
    FromPort: p.fromPort,
    ToPort: p.toPort,
    UserIdGroupPairs: [{ GroupId: sourceGroupId, Description: description }],
  };
}

/**
 * Extra (SNI) certificates of a TLS listener: CreateListener/ModifyListener take exactly one (the default), the rest
 * go through Add/RemoveListenerCertificates. Reads the current list first, so a rerun after a crash converges.
 */
async function syncExtraCertificates(ctx: LoadBalancerContext, listenerArn: string, d: DesiredListener): Promise<void> {
  if (d.protocol !== 'TLS') return;
  const wanted = (d.certificateArns ?? []).slice(1).filter((c) => c !== d.certificateArns?.[0]);
  const have = (await listenerCertificates(ctx, listenerArn)).slice(1);
  const add = wanted.filter((c) => !have.includes(c));
  const remove = have.filter((c) => !wanted.includes(c));
  if (add.length)
    await elb(
      ctx,
      new AddListenerCertificatesCommand({
        ListenerArn: listenerArn,
        Certificates: add.map((CertificateArn) => ({ CertificateArn })),
      }),
    );
  if (remove.length)
    await elb(
      ctx,
      new RemoveListenerCertificatesCommand({
        ListenerArn: listenerArn,
        Certificates: remove.map((CertificateArn) => ({ CertificateArn })),
      }),
    );
}

function listenerInput(d: DesiredListener, tgArn: string) {
  const actions: ElbAction[] = [{ Type: 'forward', TargetGroupArn: tgArn }];
  return {
    Protocol: d.protocol,
    Port: d.port,
    DefaultActions: actions,
    // The listener's default certificate; ELBv2 takes exactly one here (more need AddListenerCertificates).
    Certificates: d.certificateArns?.slice(0, 1).map((CertificateArn) => ({ CertificateArn })),
    SslPolicy: d.protocol === 'TLS' ? d.sslPolicy : undefined,
    AlpnPolicy: d.protocol === 'TLS' && d.alpnPolicy ? [d.alpnPolicy] : undefined,
  };
}
