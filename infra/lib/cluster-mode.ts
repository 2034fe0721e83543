/**
 * Cluster mode: the watcher's schedule. The function itself (its settings, environment, VPC placement and role) is
 * one of the handlers (functions.ts, grants.ts), deployed only when the clusterMode prop is set.
 *
 *   Scheduler rate(CLUSTER_WATCHER_SCHEDULE_MINUTES)  --async-->  cluster-watcher  --list+watch-->  cluster API server
 *
 * Every start tries the lease in the table: one watches until shortly before its timeout, the others stand by or
 * return at once, so a crashed or timed-out watcher is replaced within a minute.
 */
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { CLUSTER_WATCHER_SCHEDULE_MINUTES } from '../../lib/contracts.js';
import type { ControllerParts } from './parts.js';

type ClusterModeContext = Pick<ControllerParts, 'config' | 'functions' | 'roles' | 'deliveryDlq'>;

/**
 * The watcher's schedule with its own role, and the output naming the watcher's role (what the cluster's access entry
 * or RBAC binding must name); returns the scheduler's role, or undefined without cluster mode.
 */
export function addClusterWatcherSchedule(scope: Construct, c: ClusterModeContext): iam.Role | undefined {
  const watcher = c.functions['cluster-watcher'];
  const watcherRole = c.roles['cluster-watcher'];
  if (!c.config.clusterMode || !watcher || !watcherRole) return undefined;
  // A role of its own (not resync's): each schedule may invoke exactly one function.
  const role = new iam.Role(scope, 'ClusterWatcherSchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Scheduler: invoke cluster-watcher',
  });
  new scheduler.Schedule(scope, 'ClusterWatcherSchedule', {
    description: `Cluster mode watcher of cluster ${c.config.clusterName}`,
    schedule: scheduler.ScheduleExpression.rate(Duration.minutes(CLUSTER_WATCHER_SCHEDULE_MINUTES)),
    // Scheduler invokes Lambda asynchronously; the function's own async config (retries 0, DLQ) applies after that.
    target: new schedulerTargets.LambdaInvoke(watcher, {
      role,
      deadLetterQueue: c.deliveryDlq,
      retryAttempts: 2,
      // A start older than the next one is worthless (60 s is Scheduler's shortest event age).
      maxEventAge: Duration.minutes(Math.max(CLUSTER_WATCHER_SCHEDULE_MINUTES, 1)),
      input: scheduler.ScheduleTargetInput.fromObject({ reason: 'schedule', cluster: c.config.clusterName }),
    }),
  });
  new CfnOutput(scope, 'ClusterWatcherRoleArn', {
    value: watcherRole.roleArn,
    description: 'Cluster mode: the role the cluster must let in (EKS access entry, docs/deploy.md "Cluster mode")',
  });
  return role;
}
