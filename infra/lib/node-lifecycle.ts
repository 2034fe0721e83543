/**
 * Node lifecycle on the default bus: EC2 state changes, Spot interruption warnings and (when node Auto Scaling groups
 * are named) a termination lifecycle hook per group, all delivered to node-events.
 */
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { AWS_EVENTS } from '../../lib/contracts.js';
import { asyncTarget } from './event-path.js';
import type { ControllerParts } from './parts.js';

type LifecycleContext = Pick<ControllerParts, 'config' | 'functions' | 'deliveryDlq'>;

export function addNodeLifecycle(scope: Construct, c: LifecycleContext): void {
  const target = () => asyncTarget(c.functions['node-events'], c.deliveryDlq);
  const { instanceStateChange, spotInterruption } = AWS_EVENTS;
  new events.Rule(scope, 'NodeStateRule', {
    description: 'EC2 instance state changes (node up/down)',
    eventPattern: {
      source: [instanceStateChange.source],
      detailType: [instanceStateChange.detailType],
      // "pending" has no use: a node becomes a target only when running.
      detail: { state: ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] },
    },
    targets: [target()],
  });
  new events.Rule(scope, 'SpotInterruptionRule', {
    description: 'Spot interruption warnings: drain the node within its two minutes',
    eventPattern: { source: [spotInterruption.source], detailType: [spotInterruption.detailType] },
    targets: [target()],
  });
  if (c.config.nodeAutoScalingGroupNames.length > 0) addTerminationHooks(scope, c);
}

/** A termination lifecycle hook on each node group, and the rule that hands its actions to node-events. */
function addTerminationHooks(scope: Construct, c: LifecycleContext): void {
  const cfg = c.config;
  const hookName = `ssc-${cfg.clusterName}-drain`;
  cfg.nodeAutoScalingGroupNames.forEach((asg, i) => {
    // No NotificationTargetARN: Auto Scaling then delivers the lifecycle action to EventBridge.
    new autoscaling.CfnLifecycleHook(scope, `TerminateHook${i}`, {
      autoScalingGroupName: asg,
      lifecycleHookName: hookName,
      lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      heartbeatTimeout: cfg.lifecycleHeartbeatSeconds,
      // CONTINUE: if the controller is down, termination still proceeds after the heartbeat (like an
      // ungraceful node loss), rather than leaving instances stuck in Terminating:Wait.
      defaultResult: 'CONTINUE',
      notificationMetadata: JSON.stringify({ cluster: cfg.clusterName }),
    });
  });
  const { terminateLifecycleAction } = AWS_EVENTS;
  new events.Rule(scope, 'TerminateLifecycleRule', {
    description: 'Auto Scaling termination lifecycle hook: deregister, then CompleteLifecycleAction',
    eventPattern: {
      source: [terminateLifecycleAction.source],
      detailType: [terminateLifecycleAction.detailType],
      detail: { AutoScalingGroupName: [...cfg.nodeAutoScalingGroupNames], LifecycleHookName: [hookName] },
    },
    targets: [asyncTarget(c.functions['node-events'], c.deliveryDlq)],
  });
}
