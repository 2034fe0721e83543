/**
 * The stack with the options the main stack test leaves at their defaults: no subnetIds (subnets are discovered)
 * and reserveConcurrency (reserved concurrency 1 for resync and dataplane-push, for accounts whose quota allows it).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, expect, it } from 'vitest';
import { ServiceControllerStack } from '../../infra/lib/stack.js';
import { appWithCdkJson } from './helpers.js';

let json: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

beforeAll(() => {
  const app = appWithCdkJson({ 'aws:cdk:bundling-stacks': [] });
  const stack = new ServiceControllerStack(app, 'Reserved', {
    controller: { clusterName: 'small', vpcId: 'vpc-0123456789abcdef0', reserveConcurrency: true },
  });
  json = Template.fromStack(stack).toJSON() as typeof json;
}, 120_000);

const fn = (prefix: string) =>
  Object.entries(json.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix))![1];

it('reserveConcurrency: resync and dataplane-push run one at a time; the others stay unreserved', () => {
  expect(fn('ControllerResync').Properties.ReservedConcurrentExecutions).toBe(1);
  expect(fn('ControllerDataplanePush').Properties.ReservedConcurrentExecutions).toBe(1);
  for (const other of ['ControllerServiceEvents', 'ControllerNodeEvents', 'ControllerSsmStatus', 'ControllerApi'])
    expect(fn(other).Properties.ReservedConcurrentExecutions).toBeUndefined();
  // The function's own limit applies; the poller is not limited on top of it.
  const mappings = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  const push = mappings.find((m) => JSON.stringify(m.Properties.EventSourceArn).includes('ControllerPushQueue'))!;
  expect(push.Properties.ScalingConfig).toBeUndefined();
});

it('synthesizes without subnetIds', () => {
  expect(fn('ControllerResync').Properties.Environment).not.toHaveProperty('Variables.SUBNET_IDS');
});

it('without clusterMode: no watcher, no schedule or role for it, one schedule (resync)', () => {
  const ids = [...Object.keys(json.Resources), ...Object.keys((json as { Outputs?: object }).Outputs ?? {})];
  expect(ids.filter((id) => id.includes('ClusterWatcher'))).toEqual([]);
  const schedules = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
  expect(schedules).toHaveLength(1);
  expect(JSON.stringify(json)).not.toMatch(/CLUSTER_MODE_|eks:|secretsmanager:|NetworkInterface/);
});
