/**
 * Drift and garbage: the scheduled full resync and, optionally, a resync whenever someone else changes ELBv2
 * resources (CloudTrail events on the default bus).
 *
 *   Scheduler rate(N minutes)                                         --> resync
 *   (optional) ELBv2 API calls by others via CloudTrail               --> resync
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { AWS_EVENTS } from '../../lib/contracts.js';
import { asyncTarget } from './event-path.js';
import { deployedEntries, type ControllerParts } from './parts.js';

/** ELBv2 API calls that change load balancers, listeners, target groups or their tags (CloudTrail eventName). */
export const ELBV2_MUTATING_CALLS = [
  'CreateLoadBalancer',
  'DeleteLoadBalancer',
  'ModifyLoadBalancerAttributes',
  'SetSecurityGroups',
  'SetSubnets',
  'SetIpAddressType',
  'CreateListener',
  'ModifyListener',
  'ModifyListenerAttributes',
  'DeleteListener',
  'CreateTargetGroup',
  'ModifyTargetGroup',
  'ModifyTargetGroupAttributes',
  'DeleteTargetGroup',
  'RegisterTargets',
  'DeregisterTargets',
  'AddTags',
  'RemoveTags',
] as const;

type ResyncContext = Pick<ControllerParts, 'config' | 'functions' | 'roles' | 'deliveryDlq'>;

/** The resync schedule (with its own role), then the drift rule when enabled; returns the scheduler's role. */
export function addResync(scope: Construct, c: ResyncContext): iam.Role {
  const cfg = c.config;
  // Our own role (rather than the target's stack-level default) keeps it inside this construct.
  const schedulerRole = new iam.Role(scope, 'ResyncSchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Scheduler: invoke resync',
  });
  new scheduler.Schedule(scope, 'ResyncSchedule', {
    description: `Full resync of cluster ${cfg.clusterName}`,
    schedule: scheduler.ScheduleExpression.rate(Duration.minutes(cfg.resyncIntervalMinutes)),
    target: new schedulerTargets.LambdaInvoke(c.functions.resync, {
      role: schedulerRole,
      deadLetterQueue: c.deliveryDlq,
      retryAttempts: 2,
      // A resync older than the next one is worthless.
      maxEventAge: Duration.minutes(Math.max(cfg.resyncIntervalMinutes, 1)),
      input: scheduler.ScheduleTargetInput.fromObject({ reason: 'schedule', cluster: cfg.clusterName }),
    }),
  });
  if (cfg.enableDriftRule) addDriftRule(scope, c);
  return schedulerRole;
}

function addDriftRule(scope: Construct, c: ResyncContext): void {
  const { elbv2ApiCall } = AWS_EVENTS;
  new events.Rule(scope, 'Elbv2DriftRule', {
    description: 'ELBv2 changes made by anyone but the controller: resync',
    eventPattern: {
      source: [elbv2ApiCall.source],
      detailType: [elbv2ApiCall.detailType],
      detail: {
        eventSource: ['elasticloadbalancing.amazonaws.com'],
        eventName: [...ELBV2_MUTATING_CALLS],
        // Refused calls changed nothing.
        errorCode: [{ exists: false }],
        // CloudTrail events carry no resource tags, so the rule cannot tell our load balancers from others:
        // it drops the controller's own calls and leaves "is it ours" to resync, which only touches
        // resources tagged for the cluster. Only assumed-role sessions carry sessionContext.sessionIssuer;
        // an `anything-but` on it alone never matches events without the field (IAM users, root), so those
        // match through the first branch (EventBridge `$or`, where `exists: false` matches an absent field).
        $or: [
          { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
          {
            userIdentity: {
              sessionContext: {
                sessionIssuer: { arn: [{ 'anything-but': deployedEntries(c.roles).map(([, r]) => r.roleArn) }] },
              },
            },
          },
        ],
      },
    },
    targets: [asyncTarget(c.functions.resync, c.deliveryDlq)],
  });
}
