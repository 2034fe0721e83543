/**
 * Operations: alarms on every dead-letter queue, the events queue's age, the handlers' custom metrics and their
 * errors (notifying alarmTopicArn when set), one dashboard, and the stack outputs.
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ALARMED_METRICS, METRIC } from '../../lib/contracts.js';
import { bundleId } from './functions.js';
import { deployedEntries, type ControllerParts } from './parts.js';

type OpsContext = Omit<ControllerParts, 'roles' | 'documentArn'>;
type AddAlarm = (id: string, a: cloudwatch.AlarmProps) => cloudwatch.Alarm;

const FIVE_MINUTES = Duration.minutes(5);

/** A handler metric (Powertools Metrics adds the `service` dimension, POWERTOOLS_SERVICE_NAME, to every metric). */
function customMetric(c: OpsContext, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: c.config.metricsNamespace,
    metricName,
    dimensionsMap: { service: c.powertoolsServiceName },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });
}

/** Adds every alarm, then the dashboard showing them; returns both. */
export function addObservability(
  scope: Construct,
  c: OpsContext,
): { alarms: cloudwatch.Alarm[]; dashboard: cloudwatch.Dashboard } {
  const cfg = c.config;
  const topic = cfg.alarmTopicArn ? sns.Topic.fromTopicArn(scope, 'AlarmTopic', cfg.alarmTopicArn) : undefined;
  const alarms: cloudwatch.Alarm[] = [];
  const alarm: AddAlarm = (id, a) => {
    const al = new cloudwatch.Alarm(scope, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...a });
    if (topic) {
      al.addAlarmAction(new cwActions.SnsAction(topic));
      al.addOkAction(new cwActions.SnsAction(topic));
    }
    alarms.push(al);
    return al;
  };
  addQueueAlarms(c, alarm);
  addMetricAlarms(c, alarm);
  addFunctionErrorAlarms(c, alarm);
  return { alarms, dashboard: addDashboard(scope, c, alarms) };
}

function addQueueAlarms(c: OpsContext, alarm: AddAlarm): void {
  const dlqs: [string, sqs.Queue][] = [
    ['DeliveryDlq', c.deliveryDlq],
    ['ChangeLogDlq', c.changeLogDlq],
    ['EventsDlq', c.eventsDlq],
    ['PushDlq', c.pushDlq],
  ];
  for (const [id, q] of dlqs) {
    alarm(`${id}Depth`, {
      alarmDescription: `${id} of cluster ${c.config.clusterName} holds messages: events were given up on. Inspect, fix, then redrive.`,
      metric: q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
  }
  alarm('EventsQueueAge', {
    alarmDescription: 'Object changes wait more than 5 minutes: service-events is failing or throttled.',
    metric: c.eventsQueue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 300,
    evaluationPeriods: 5,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  });
}

function addMetricAlarms(c: OpsContext, alarm: AddAlarm): void {
  alarm('ReconcileErrors', {
    alarmDescription: 'Reconciles keep failing (retries did not help) in 2 of the last 3 five-minute periods.',
    metric: customMetric(c, METRIC.reconcileErrors),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
  });
  alarm('AwsThrottling', {
    alarmDescription: 'AWS API throttling seen by the handlers (ELBv2/EC2/SSM request limits).',
    metric: customMetric(c, METRIC.throttled),
    threshold: 10,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
  });
  alarm('SsmCommandFailures', {
    alarmDescription: 'Nodes failed to apply data-plane configuration (Run Command invocation Failed/TimedOut).',
    metric: customMetric(c, METRIC.ssmCommandFailures),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
  });
  alarm('DataPlaneNodeFailing', {
    alarmDescription:
      'A node failed every retry of its data-plane push and is no longer retried (svcctl get nodes shows it): fix the node, or replace it.',
    metric: customMetric(c, METRIC.dataPlaneNodeFailing),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
  });
}

function addFunctionErrorAlarms(c: OpsContext, alarm: AddAlarm): void {
  for (const [name, fn] of deployedEntries(c.functions)) {
    alarm(`${bundleId(name)}Errors`, {
      alarmDescription: `${name} invocations fail (unhandled errors, timeouts, out of memory).`,
      metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
    });
  }
}

function addDashboard(scope: Construct, c: OpsContext, alarms: cloudwatch.Alarm[]): cloudwatch.Dashboard {
  const cfg = c.config;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `serverless-service-controller-${cfg.clusterName}`,
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# serverless-service-controller: ${cfg.clusterName}\nDLQs must stay empty. Custom metrics: namespace \`${cfg.metricsNamespace}\`, dimension service=\`${c.powertoolsServiceName}\`.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(...functionWidgets(c));
  dashboard.addWidgets(...metricAndQueueWidgets(c));
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }));
  return dashboard;
}

/** One metric of every handler, labelled with its construct id. */
const perFunction = (c: OpsContext, m: (fn: NodejsFunction) => cloudwatch.IMetric) =>
  deployedEntries(c.functions).map(([, fn]) => m(fn));
const minute = (f: lambda.IFunction) => ({ period: Duration.minutes(1), label: f.node.id });

function functionWidgets(c: OpsContext): cloudwatch.GraphWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'Invocations',
      left: perFunction(c, (f) => f.metricInvocations(minute(f))),
      width: 8,
    }),
    new cloudwatch.GraphWidget({ title: 'Errors', left: perFunction(c, (f) => f.metricErrors(minute(f))), width: 8 }),
    new cloudwatch.GraphWidget({
      title: c.config.reserveConcurrency
        ? 'Throttles (dataplane-push and resync are concurrency 1 on purpose)'
        : 'Throttles',
      left: perFunction(c, (f) => f.metricThrottles(minute(f))),
      width: 8,
    }),
  ];
}

function metricAndQueueWidgets(c: OpsContext): cloudwatch.GraphWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'Duration p99',
      left: perFunction(c, (f) =>
        f.metricDuration({ period: Duration.minutes(5), statistic: 'p99', label: f.node.id }),
      ),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Controller metrics',
      left: ALARMED_METRICS.map((m) => customMetric(c, m).with({ label: m })),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Queues: visible messages',
      left: [c.eventsQueue, c.pushQueue].map((q) =>
        q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), label: q.node.id }),
      ),
      right: [c.eventsQueue].map((q) =>
        q.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), label: 'events oldest (s)' }),
      ),
      width: 8,
    }),
  ];
}

/** The stack outputs operators and svcctl read. */
export function addOutputs(
  scope: Construct,
  c: OpsContext & { apiUrl: lambda.FunctionUrl; dashboard: cloudwatch.Dashboard },
): void {
  const out = (name: string, value: string, description: string) => new CfnOutput(scope, name, { value, description });
  out('ApiUrl', c.apiUrl.url, 'Kubernetes API: svcctl kubeconfig --server <ApiUrl> --cluster-name <cluster>');
  out('EventBusName', c.bus.eventBusName, 'EC2 node events and SSM results');
  out('TableName', c.table.tableName, 'The store (written only by the API and the controller)');
  out('ArtifactBucketName', c.artifactBucket.bucketName, 'Nodes need s3:GetObject on it');
  out('AccessLogBucketName', c.accessLogBucket.bucketName, 'Server access logs of the artifact bucket');
  out('SsmDocumentName', c.documentName, 'Data-plane document run on the nodes');
  out('DashboardName', c.dashboard.dashboardName, 'CloudWatch dashboard');
}
