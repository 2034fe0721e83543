/** Target groups: create (or adopt by name), health check, attributes, delete (ELBv2). */
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCode, elb } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action, DesiredTargetGroup, HealthCheck } from '../model.js';
import { provenOwned } from '../ownership.js';
import type { ApplyState } from './state.js';
import { elbTagsOf, toTags } from './tags.js';

type TgAction = Extract<Action, { kind: 'TargetGroup' | 'TargetGroupHealthCheck' | 'TargetGroupAttributes' }>;

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

export async function applyTargetGroup(ctx: LoadBalancerContext, st: ApplyState, a: TgAction): Promise<void> {
  switch (a.kind) {
    case 'TargetGroup':
      if (a.op === 'create') return createTargetGroup(ctx, st, a.desired);
      await elb(ctx, new DeleteTargetGroupCommand({ TargetGroupArn: a.arn }));
      return;
    case 'TargetGroupHealthCheck':
      await elb(ctx, new ModifyTargetGroupCommand({ TargetGroupArn: a.arn, ...hcInput(a.healthCheck) }));
      return;
    case 'TargetGroupAttributes':
      await elb(
        ctx,
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: st.resolve(a.arn),
          Attributes: Object.entries(a.attributes).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      return;
  }
}

async function createTargetGroup(ctx: LoadBalancerContext, st: ApplyState, d: DesiredTargetGroup): Promise<void> {
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
    st.tg.set(d.key, r.TargetGroups![0]!.TargetGroupArn!);
  } catch (err) {
    if (awsCode(err) !== 'DuplicateTargetGroupName' && awsCode(err) !== 'DuplicateTargetGroupNameException') throw err;
    // Already created by a run that crashed before observing it: adopt it if (and only if) it is ours.
    const r = await elb(ctx, new DescribeTargetGroupsCommand({ Names: [d.name] }));
    const tg = r.TargetGroups?.[0];
    const found = tg && { id: tg.TargetGroupArn, tags: await elbTagsOf(ctx, tg.TargetGroupArn) };
    st.tg.set(d.key, provenOwned('targetGroup', d.name, found, ctx.clusterName, st.stack));
  }
}
