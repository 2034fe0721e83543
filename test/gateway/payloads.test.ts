/**
 * Exact ELBv2 payloads of a weighted forward (a Gateway route with several backends), with aws-sdk-client-mock: ONE
 * forward action whose ForwardConfig lists the target groups with their NLB weights, on create and on modify; a
 * plain forward keeps TargetGroupArn alone.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Throttle } from '../../lib/aws/throttle.js';
import { applyPlan } from '../../lib/lb/apply/index.js';
import type { LoadBalancerContext } from '../../lib/lb/context.js';
import type { DesiredListener } from '../../lib/lb/model.js';

const creds = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };

function setup() {
  const elbv2 = new ElasticLoadBalancingV2Client(creds);
  const l = mockClient(elbv2);
  l.on(CreateListenerCommand).resolves({ Listeners: [{ ListenerArn: 'arn:listener/80' }] });
  l.on(ModifyListenerCommand).resolves({});
  const ctx: LoadBalancerContext = {
    clients: { ec2: new EC2Client(creds), elbv2 },
    clusterName: 'prod',
    vpcId: 'vpc-1',
    nlbQuota: 50,
    throttle: new Throttle({ targetsRate: 1e6, targetsBurst: 1e6, elbv2Rate: 1e6, elbv2Burst: 1e6 }),
  };
  return { l, ctx };
}

const listener: DesiredListener = {
  key: 'tcp-80',
  port: 80,
  protocol: 'TCP',
  targetGroupKey: 'tcp-30080',
  weighted: [
    { targetGroupKey: 'tcp-30080', weight: 3 },
    { targetGroupKey: 'tcp-30081', weight: 1 },
  ],
  tags: { 'service.k8s.aws/stack': 'gateway/default/shared' },
};
const weighted = [
  { targetGroup: 'arn:tg/web', weight: 3 },
  { targetGroup: 'arn:tg/canary', weight: 1 },
];

describe('weighted forward payloads', () => {
  it('CreateListener: one forward action with ForwardConfig target groups and weights, tags in the call', async () => {
    const { l, ctx } = setup();
    await applyPlan(ctx, {
      stack: 'gateway/default/shared',
      warnings: [],
      actions: [
        {
          op: 'create',
          kind: 'Listener',
          name: 'lb:80',
          loadBalancer: 'arn:lb',
          desired: listener,
          targetGroup: 'arn:tg/web',
          weighted,
        },
      ],
    });
    const calls = l.commandCalls(CreateListenerCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      LoadBalancerArn: 'arn:lb',
      Protocol: 'TCP',
      Port: 80,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: 'arn:tg/web', Weight: 3 },
              { TargetGroupArn: 'arn:tg/canary', Weight: 1 },
            ],
          },
        },
      ],
      Tags: [{ Key: 'service.k8s.aws/stack', Value: 'gateway/default/shared' }],
    });
  });

  it('ModifyListener: new weights in the same shape; a plain forward names its one target group', async () => {
    const { l, ctx } = setup();
    await applyPlan(ctx, {
      stack: 'gateway/default/shared',
      warnings: [],
      actions: [
        {
          op: 'update',
          kind: 'Listener',
          name: 'lb:80',
          arn: 'arn:listener/80',
          desired: listener,
          targetGroup: 'arn:tg/web',
          weighted: [
            { targetGroup: 'arn:tg/web', weight: 1 },
            { targetGroup: 'arn:tg/canary', weight: 1 },
          ],
          changes: ['weights -> tcp-30080=1,tcp-30081=1'],
        },
        {
          op: 'update',
          kind: 'Listener',
          name: 'lb:9000',
          arn: 'arn:listener/9000',
          desired: { ...listener, key: 'tcp-9000', port: 9000, weighted: undefined },
          targetGroup: 'arn:tg/api',
          changes: ['targetGroup -> tcp-30900'],
        },
      ],
    });
    const inputs = l.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.DefaultActions)).toEqual([
      [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: 'arn:tg/web', Weight: 1 },
              { TargetGroupArn: 'arn:tg/canary', Weight: 1 },
            ],
          },
        },
      ],
      [{ Type: 'forward', TargetGroupArn: 'arn:tg/api' }],
    ]);
  });
});
