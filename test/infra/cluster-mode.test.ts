/**
 * Cluster mode (the clusterMode prop): the watcher function, its schedule, its environment and VPC placement, and its
 * role, statement by statement. Two stacks: EKS auth with the data plane and a VPC placement, and kubeconfig auth
 * with neither. Both must pass cdk-nag with no unacknowledged finding.
 */
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_MODE_ENV,
  CLUSTER_WATCHER_EKS_ACTIONS,
  CLUSTER_WATCHER_MARGIN_SECONDS,
  CLUSTER_WATCHER_SCHEDULE_MINUTES,
  CLUSTER_WATCHER_TIMEOUT_SECONDS,
} from '../../lib/contracts.js';
import { ServiceControllerStack } from '../../infra/lib/stack.js';
import type { ServiceControllerProps } from '../../infra/lib/config.js';
import { appWithCdkJson } from './helpers.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Json = { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/kubeconfig-AbC123';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];
const SGS = ['sg-0123456789abcdef2'];

interface Synth {
  app: App;
  json: Json;
}

function synth(id: string, clusterMode: ServiceControllerProps['clusterMode'], enableDriftRule = false): Synth {
  const app = appWithCdkJson({ 'aws:cdk:bundling-stacks': [] });
  const stack = new ServiceControllerStack(app, id, {
    controller: { clusterName: 'prod', vpcId: 'vpc-0123456789abcdef0', clusterMode, enableDriftRule },
  });
  return { app, json: Template.fromStack(stack).toJSON() as Json };
}

function find(s: Synth, type: string, prefix: string): { id: string; props: Record<string, unknown>; r: Resource } {
  const hit = Object.entries(s.json.Resources).find(([id, r]) => r.Type === type && id.startsWith(prefix));
  if (!hit) throw new Error(`no ${type} ${prefix}`);
  return { id: hit[0], props: hit[1].Properties, r: hit[1] };
}

function statementsOf(s: Synth, rolePrefix: string): Statement[] {
  return Object.values(s.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref.startsWith(rolePrefix)))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** `arn:${Partition}:<service>:${Region}:${AccountId}:<resource>` as CDK renders it. */
const arnJoin = (service: string, resource: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:${service}:`,
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${resource}`,
    ],
  ],
});
const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** The statements every watcher role holds, whatever the settings (logs, X-Ray, DLQ, table, node-events' EC2/ELBv2). */
function commonStatements(s: Synth): Statement[] {
  const logs = find(s, 'AWS::Logs::LogGroup', 'ControllerClusterWatcherLogs').id;
  const describe = (sid: string, actions: string[]) => ({
    Sid: sid,
    Effect: 'Allow',
    Action: actions.length === 1 ? actions[0]! : actions,
    Resource: '*',
  });
  return [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::Join': ['', [getAtt(logs), ':*']] },
    },
    { Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
      Resource: getAtt(find(s, 'AWS::SQS::Queue', 'ControllerDeliveryDlq').id),
    },
    {
      Effect: 'Allow',
      Action: [
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      Resource: getAtt(find(s, 'AWS::DynamoDB::Table', 'ControllerTable').id),
    },
    describe('DescribeNodes', ['ec2:DescribeInstances']),
    describe('DescribeNetwork', [
      'ec2:DescribeRouteTables',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ]),
    describe(
      'DescribeLoadBalancers',
      [
        'DescribeCapacityReservation',
        'DescribeListenerAttributes',
        'DescribeListenerCertificates',
        'DescribeListeners',
        'DescribeLoadBalancerAttributes',
        'DescribeLoadBalancers',
        'DescribeTags',
        'DescribeTargetGroupAttributes',
        'DescribeTargetGroups',
        'DescribeTargetHealth',
      ].map((a) => `elasticloadbalancing:${a}`),
    ),
    {
      Sid: 'Elbv2TargetsOwned',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
      Resource: arnJoin('elasticloadbalancing', 'targetgroup/*/*'),
      Condition: { StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/prod': 'owned' } },
    },
  ];
}

function nagProblems(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
}

let eks: Synth;
let kubeconfig: Synth;

beforeAll(() => {
  eks = synth(
    'ClusterEks',
    { auth: { eksClusterName: 'prod-eks' }, dataPlane: true, subnetIds: SUBNETS, securityGroupIds: SGS },
    true,
  );
  kubeconfig = synth('ClusterKubeconfig', { auth: { kubeconfigSecretArn: SECRET }, defaultLoadBalancerClass: true });
}, 180_000);

describe('the schedule', () => {
  it.each(['eks', 'kubeconfig'])('%s: Scheduler starts the watcher every minute, asynchronously, with the DLQ', (k) => {
    const s = k === 'eks' ? eks : kubeconfig;
    const fn = find(s, 'AWS::Lambda::Function', 'ControllerClusterWatcher').id;
    const dlq = find(s, 'AWS::SQS::Queue', 'ControllerDeliveryDlq').id;
    const role = find(s, 'AWS::IAM::Role', 'ControllerClusterWatcherSchedulerRole').id;
    const schedule = find(s, 'AWS::Scheduler::Schedule', 'ControllerClusterWatcherSchedule').props;
    expect(CLUSTER_WATCHER_SCHEDULE_MINUTES).toBe(1);
    expect(schedule).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Target: {
        Arn: getAtt(fn),
        RoleArn: getAtt(role),
        DeadLetterConfig: { Arn: getAtt(dlq) },
        RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
      },
    });
    // The scheduler's role may invoke the watcher (and its versions) and send to the DLQ: nothing else.
    expect(statementsOf(s, 'ControllerClusterWatcherSchedulerRole')).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [getAtt(fn), { 'Fn::Join': ['', [getAtt(fn), ':*']] }],
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(dlq) },
    ]);
    // Asynchronous invocation: no Lambda retry (the next start takes over), failures to the DLQ.
    const invoke = Object.values(s.json.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties.FunctionName).includes(`"${fn}"`),
    );
    expect(invoke?.Properties).toEqual({
      FunctionName: { Ref: fn },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: getAtt(dlq) } },
    });
  });

  it("the drift rule does not take the watcher's own RegisterTargets for someone else's change", () => {
    const drift = Object.values(eks.json.Resources).find(
      (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties).includes('AWS API Call via CloudTrail'),
    )!;
    const role = find(eks, 'AWS::IAM::Role', 'ControllerClusterWatcherRole').id;
    const excluded = JSON.stringify(drift.Properties.EventPattern);
    expect(excluded).toContain(JSON.stringify(getAtt(role)));
    expect(excluded).toContain('ControllerNodeEventsRole');
  });
});

describe('the function', () => {
  it('eks: timeout, environment (every controller setting plus cluster mode), VPC placement', () => {
    const fn = find(eks, 'AWS::Lambda::Function', 'ControllerClusterWatcher');
    expect(fn.props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: CLUSTER_WATCHER_TIMEOUT_SECONDS,
      VpcConfig: { SubnetIds: SUBNETS, SecurityGroupIds: SGS },
    });
    const env = (fn.props.Environment as { Variables: Record<string, unknown> }).Variables;
    // The same settings as node-events, plus cluster mode's.
    const nodeEvents = (
      find(eks, 'AWS::Lambda::Function', 'ControllerNodeEvents').props.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env).toEqual({
      ...nodeEvents,
      [CLUSTER_MODE_ENV.auth]: 'eks',
      [CLUSTER_MODE_ENV.eksClusterName]: 'prod-eks',
      [CLUSTER_MODE_ENV.defaultLoadBalancerClass]: 'false',
      [CLUSTER_MODE_ENV.dataPlane]: 'true',
      [CLUSTER_MODE_ENV.runSeconds]: String(CLUSTER_WATCHER_TIMEOUT_SECONDS - CLUSTER_WATCHER_MARGIN_SECONDS),
    });
    expect(env).toMatchObject({ TABLE_NAME: { Ref: find(eks, 'AWS::DynamoDB::Table', 'ControllerTable').id } });
    expect(env[CLUSTER_MODE_ENV.kubeconfigSecretArn]).toBeUndefined();
    // Lambda checks the ENI permissions when it creates the function: the policy must exist first.
    expect(fn.r.DependsOn).toContain(find(eks, 'AWS::IAM::Policy', 'ControllerClusterWatcherRoleDefaultPolicy').id);
    // Nothing is created in the VPC: the subnets and groups are the operator's.
    expect(Object.values(eks.json.Resources).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
  });

  it('kubeconfig: the secret ARN, the class flag, no VPC placement', () => {
    const fn = find(kubeconfig, 'AWS::Lambda::Function', 'ControllerClusterWatcher');
    expect(fn.props.Timeout).toBe(CLUSTER_WATCHER_TIMEOUT_SECONDS);
    expect(fn.props.VpcConfig).toBeUndefined();
    const env = (fn.props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      CLUSTER_NAME: 'prod',
      [CLUSTER_MODE_ENV.auth]: 'kubeconfig',
      [CLUSTER_MODE_ENV.kubeconfigSecretArn]: SECRET,
      [CLUSTER_MODE_ENV.defaultLoadBalancerClass]: 'true',
      [CLUSTER_MODE_ENV.dataPlane]: 'false',
      [CLUSTER_MODE_ENV.runSeconds]: '870',
    });
    expect(env[CLUSTER_MODE_ENV.eksClusterName]).toBeUndefined();
  });

  it("outputs its role's ARN (what the access entry names)", () => {
    const role = find(eks, 'AWS::IAM::Role', 'ControllerClusterWatcherRole').id;
    const out = Object.entries(eks.json.Outputs).find(([k]) => k.startsWith('ControllerClusterWatcherRoleArn'));
    expect(out?.[1].Value).toEqual(getAtt(role));
  });

  it('has an error alarm, like every handler', () => {
    const fn = find(eks, 'AWS::Lambda::Function', 'ControllerClusterWatcher').id;
    expect(find(eks, 'AWS::CloudWatch::Alarm', 'ControllerClusterWatcherErrors').props).toMatchObject({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
    });
  });
});

describe('the role, exactly', () => {
  it('eks + data plane + VPC: the one cluster, the push queue, ENIs in the given subnets and groups', () => {
    const ec2 = (r: string) => arnJoin('ec2', r);
    expect(statementsOf(eks, 'ControllerClusterWatcherRole')).toEqual([
      ...commonStatements(eks),
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: getAtt(find(eks, 'AWS::SQS::Queue', 'ControllerPushQueue').id),
      },
      {
        Sid: 'EksDescribeWatchedCluster',
        Effect: 'Allow',
        Action:
          CLUSTER_WATCHER_EKS_ACTIONS.length === 1 ? CLUSTER_WATCHER_EKS_ACTIONS[0] : [...CLUSTER_WATCHER_EKS_ACTIONS],
        Resource: arnJoin('eks', 'cluster/prod-eks'),
      },
      {
        Sid: 'LambdaVpcDescribe',
        Effect: 'Allow',
        Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        Resource: '*',
      },
      {
        Sid: 'LambdaVpcCreateInterfaces',
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: [
          ec2('network-interface/*'),
          ...SGS.map((g) => ec2(`security-group/${g}`)),
          ...SUBNETS.map((n) => ec2(`subnet/${n}`)),
        ],
      },
      {
        Sid: 'LambdaVpcManageInterfaces',
        Effect: 'Allow',
        Action: ['ec2:AssignPrivateIpAddresses', 'ec2:DeleteNetworkInterface', 'ec2:UnassignPrivateIpAddresses'],
        Resource: ec2('network-interface/*'),
      },
    ]);
  });

  it('kubeconfig, no data plane, no VPC: GetSecretValue on the one secret; no EKS, no push queue, no ENIs', () => {
    const st = statementsOf(kubeconfig, 'ControllerClusterWatcherRole');
    expect(st).toEqual([
      ...commonStatements(kubeconfig),
      { Sid: 'ReadKubeconfigSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET },
    ]);
    expect(JSON.stringify(st)).not.toMatch(/kms:|eks:|NetworkInterface|ControllerPushQueue/);
  });

  it('no other role gains anything from cluster mode', () => {
    for (const s of [eks, kubeconfig]) {
      const others = Object.values(s.json.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .filter((r) => !JSON.stringify(r.Properties.Roles).includes('ControllerClusterWatcher'));
      expect(JSON.stringify(others)).not.toMatch(/eks:|secretsmanager:|NetworkInterface|ControllerClusterWatcher/);
    }
  });
});

describe('cdk-nag', () => {
  it.each(['eks', 'kubeconfig'])('%s: AwsSolutionsChecks reports zero unacknowledged findings', (k) => {
    expect(nagProblems(k === 'eks' ? eks.app : kubeconfig.app)).toEqual([]);
  });
});
