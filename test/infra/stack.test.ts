/**
 * Assertions on the synthesized template of one fully-featured stack (drift rule, ASG hooks, producer roles, alarm
 * topic). One stack per file: Template.fromStack bundles all five handlers.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import { ServiceControllerStack } from '../../infra/lib/stack.js';
import { appWithCdkJson } from './helpers.js';

const PRODUCER = 'arn:aws:iam::111122223333:role/cluster-bridge';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ops-alarms';
const CLUSTER_TAG = 'kubernetes.io/cluster/prod';

let app: ReturnType<typeof appWithCdkJson>;
let stack: ServiceControllerStack;
let t: Template;
let json: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
  Effect: string;
};

/** All statements of the role's inline policies (the DefaultPolicy CDK attaches). */
function roleStatements(roleIdPrefix: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(json.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = r.Properties.Roles as { Ref: string }[];
    if (!roles.some((x) => x.Ref.startsWith(`Controller${roleIdPrefix}Role`))) continue;
    out.push(...(r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  return out;
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const allActions = (role: string) => roleStatements(role).flatMap(actionsOf);

function resourceOf(type: string, logicalPrefix: string): { id: string; props: Record<string, unknown> } {
  const hit = Object.entries(json.Resources).find(([id, r]) => r.Type === type && id.startsWith(logicalPrefix));
  if (!hit) throw new Error(`no ${type} ${logicalPrefix}`);
  return { id: hit[0], props: hit[1].Properties };
}

beforeAll(() => {
  // Bundling is exercised by synth-cli.test.ts and scripts/bundle-size.ts; here it would only cost CPU.
  app = appWithCdkJson({ 'aws:cdk:bundling-stacks': [] });
  stack = new ServiceControllerStack(app, 'Prod', {
    controller: {
      clusterName: 'prod',
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      nodeSecurityGroupId: 'sg-0123456789abcdef0',
      nodeAutoScalingGroupNames: ['prod-nodes-a', 'prod-nodes-b'],
      enableDriftRule: true,
      producerRoleArns: [PRODUCER],
      alarmTopicArn: TOPIC,
      resyncIntervalMinutes: 3,
    },
  });
  t = Template.fromStack(stack);
  json = t.toJSON() as typeof json;
}, 120_000);

describe('event path', () => {
  it('custom bus named per cluster with a policy: this account, the producer roles, deny everyone else', () => {
    t.hasResourceProperties('AWS::Events::EventBus', { Name: 'serverless-service-controller-prod' });
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([':root'])] } },
      }),
    });
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({ Effect: 'Allow', Principal: { AWS: PRODUCER } }),
    });
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Condition: {
          StringNotEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } },
          ArnNotEquals: { 'aws:PrincipalArn': [PRODUCER] },
        },
      }),
    });
  });

  it('object-change rule on the custom bus -> ingest FIFO with a static group and a delivery DLQ', () => {
    const bus = resourceOf('AWS::Events::EventBus', 'ControllerBus').id;
    const ingest = resourceOf('AWS::SQS::Queue', 'ControllerIngestQueue').id;
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: bus },
      EventPattern: {
        source: ['serverless-service-controller'],
        'detail-type': ['Service Change', 'Pod Change', 'Endpoints Change'],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [ingest, 'Arn'] },
          SqsParameters: { MessageGroupId: 'ingest' },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', 'ControllerDeliveryDlq').id, 'Arn'] },
          },
        }),
      ],
    });
  });

  it('FIFO queues with FIFO DLQs; the pipe regroups by object and keeps the event as the body', () => {
    const ingest = resourceOf('AWS::SQS::Queue', 'ControllerIngestQueue');
    const eventsQ = resourceOf('AWS::SQS::Queue', 'ControllerEventsQueue');
    for (const [q, dlq] of [
      [ingest, 'ControllerIngestDlq'],
      [eventsQ, 'ControllerEventsDlq'],
    ] as const) {
      expect(q.props).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true, SqsManagedSseEnabled: true });
      const d = resourceOf('AWS::SQS::Queue', dlq);
      expect(d.props.FifoQueue).toBe(true);
      expect(q.props.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [d.id, 'Arn'] },
        maxReceiveCount: 5,
      });
    }
    // 6x the service-events timeout (60 s).
    expect(eventsQ.props.VisibilityTimeout).toBe(360);
    t.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: { 'Fn::GetAtt': [ingest.id, 'Arn'] },
      Target: { 'Fn::GetAtt': [eventsQ.id, 'Arn'] },
      TargetParameters: {
        InputTemplate: '<$.body>',
        SqsQueueParameters: {
          MessageGroupId: '$.body.detail.object.metadata.name',
          MessageDeduplicationId: '$.body.id',
        },
      },
    });
  });

  it('service-events consumes the events FIFO queue with partial batch failure reporting', () => {
    const fn = resourceOf('AWS::Lambda::Function', 'ControllerServiceEvents').id;
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fn },
      EventSourceArn: { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', 'ControllerEventsQueue').id, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });
});

describe('node lifecycle', () => {
  it('EC2 state-change and Spot interruption rules on the default bus -> node-events', () => {
    const fn = resourceOf('AWS::Lambda::Function', 'ControllerNodeEvents').id;
    const target = Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })]);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] },
      },
      Targets: target,
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
      Targets: target,
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        detail: { AutoScalingGroupName: ['prod-nodes-a', 'prod-nodes-b'], LifecycleHookName: ['ssc-prod-drain'] },
      },
      Targets: target,
    });
  });

  it('one terminate lifecycle hook per ASG, delivered through EventBridge (no notification target)', () => {
    t.resourceCountIs('AWS::AutoScaling::LifecycleHook', 2);
    for (const asg of ['prod-nodes-a', 'prod-nodes-b']) {
      t.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        AutoScalingGroupName: asg,
        LifecycleHookName: 'ssc-prod-drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 300,
        DefaultResult: 'CONTINUE',
        NotificationTargetARN: Match.absent(),
        RoleARN: Match.absent(),
      });
    }
  });

  it('CompleteLifecycleAction only on the named ASGs, only for node-events', () => {
    const st = roleStatements('NodeEvents').find((s) => actionsOf(s).includes('autoscaling:CompleteLifecycleAction'));
    expect(st).toBeDefined();
    const res = JSON.stringify(st!.Resource);
    expect(res).toContain('autoScalingGroupName/prod-nodes-a');
    expect(res).toContain('autoScalingGroupName/prod-nodes-b');
    expect(res).not.toMatch(/autoScalingGroupName\/\*/);
    for (const other of ['ServiceEvents', 'Resync', 'SsmStatus', 'DataplanePush']) {
      expect(allActions(other)).not.toContain('autoscaling:CompleteLifecycleAction');
    }
  });
});

describe('drift and garbage', () => {
  it('Scheduler invokes resync at the configured rate with a DLQ', () => {
    const fn = resourceOf('AWS::Lambda::Function', 'ControllerResync').id;
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(3 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', 'ControllerDeliveryDlq').id, 'Arn'] } },
      }),
    });
  });

  it('CloudTrail drift rule: mutating ELBv2 calls by anyone but the controller roles -> resync', () => {
    const rule = Object.values(json.Resources).find(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.EventPattern).includes('AWS API Call via CloudTrail'),
    );
    expect(rule).toBeDefined();
    const p = rule!.Properties.EventPattern as {
      source: string[];
      detail: { eventSource: string[]; eventName: string[]; errorCode: unknown; userIdentity: unknown };
    };
    expect(p.source).toEqual(['aws.elasticloadbalancing']);
    expect(p.detail.eventSource).toEqual(['elasticloadbalancing.amazonaws.com']);
    expect(p.detail.eventName).toEqual(
      expect.arrayContaining(['CreateLoadBalancer', 'DeleteTargetGroup', 'RegisterTargets', 'RemoveTags']),
    );
    expect(p.detail.eventName.some((n) => n.startsWith('Describe'))).toBe(false);
    expect(p.detail.errorCode).toEqual([{ exists: false }]);
    const excluded = JSON.stringify(p.detail.userIdentity);
    expect(excluded).toContain('anything-but');
    for (const r of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus', 'DataplanePush']) {
      expect(excluded).toContain(`Controller${r}Role`);
    }
  });
});

describe('data plane', () => {
  it('SSM Command document from lib/dataplane, updated in place', () => {
    t.hasResourceProperties('AWS::SSM::Document', {
      Name: 'ssc-prod-dataplane',
      DocumentType: 'Command',
      UpdateMethod: 'NewVersion',
      Content: JSON.parse(JSON.stringify(ssmDocumentContent())),
    });
  });

  it('SSM status rule matches our document only', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: { 'document-name': ['ssc-prod-dataplane'] },
      },
    });
  });

  it('push queue: standard, ~2 s batching window into dataplane-push with reserved concurrency 1', () => {
    const fn = resourceOf('AWS::Lambda::Function', 'ControllerDataplanePush');
    expect(fn.props.ReservedConcurrentExecutions).toBe(1);
    const q = resourceOf('AWS::SQS::Queue', 'ControllerPushQueue');
    expect(q.props.FifoQueue).toBeUndefined();
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fn.id },
      EventSourceArn: { 'Fn::GetAtt': [q.id, 'Arn'] },
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('artifact bucket: versioned, encrypted, private, TLS-only, old versions expire, access logs', () => {
    const b = resourceOf('AWS::S3::Bucket', 'ControllerArtifacts');
    expect(b.props).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: resourceOf('AWS::S3::Bucket', 'ControllerAccessLogs').id },
      },
    });
    const rules = (b.props.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: expect.objectContaining({ NoncurrentDays: 7 }) }),
      ]),
    );
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: b.id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('storage', () => {
  it('table: pk/sk strings, on-demand, PITR, KMS encryption, retained', () => {
    t.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('functions', () => {
  it('five Node 22 arm64 functions, X-Ray active, ESM bundles, log groups with retention, full environment', () => {
    const fns = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(5);
    for (const [, f] of fns) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Handler: 'index.handler',
      });
      const env = (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining([
          'CLUSTER_NAME',
          'TABLE_NAME',
          'EVENT_BUS_NAME',
          'VPC_ID',
          'SUBNET_IDS',
          'NODE_SECURITY_GROUP_ID',
          'NODE_SELECTOR_TAG',
          'SERVICE_CIDR',
          'NODE_PORT_RANGE',
          'CLUSTER_DOMAIN',
          'ARTIFACT_BUCKET',
          'SSM_DOCUMENT_NAME',
          'PUSH_QUEUE_URL',
          'NLB_QUOTA',
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_METRICS_NAMESPACE',
          'NODE_OPTIONS',
        ]),
      );
      expect(env).toMatchObject({
        CLUSTER_NAME: 'prod',
        SUBNET_IDS: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
        NODE_SELECTOR_TAG: `${CLUSTER_TAG}=owned`,
        SERVICE_CIDR: '10.96.0.0/12',
        NODE_PORT_RANGE: '30000-32767',
        NLB_QUOTA: '50',
        SSM_DOCUMENT_NAME: 'ssc-prod-dataplane',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
    t.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 5);
    // resync runs alone: one full reconcile at a time.
    expect(resourceOf('AWS::Lambda::Function', 'ControllerResync').props.ReservedConcurrentExecutions).toBe(1);
  });

  it('async-invoked functions send failures to the delivery DLQ', () => {
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', 'ControllerDeliveryDlq').id, 'Arn'] },
        },
      },
    });
  });
});

describe('IAM least privilege', () => {
  it('no function role has a managed policy; logs only to its own log group', () => {
    for (const [, r] of Object.entries(json.Resources).filter(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && /Controller\w+Role/.test(id),
    )) {
      expect(r.Properties.ManagedPolicyArns).toBeUndefined();
    }
    const logSt = roleStatements('ServiceEvents').find((s) => actionsOf(s).includes('logs:PutLogEvents'));
    expect(JSON.stringify(logSt!.Resource)).toContain('ControllerServiceEventsLogs');
  });

  it('ELBv2 creates require the cluster tag in the request; later mutations require it on the resource', () => {
    const st = roleStatements('ServiceEvents');
    const create = st.find((s) => actionsOf(s).includes('elasticloadbalancing:CreateLoadBalancer'))!;
    expect(actionsOf(create)).toEqual(expect.arrayContaining(['elasticloadbalancing:CreateTargetGroup']));
    expect(create.Condition).toEqual({
      StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: 'owned' },
      'ForAnyValue:StringEquals': { 'aws:TagKeys': [CLUSTER_TAG] },
    });
    const mutate = st.find((s) => actionsOf(s).includes('elasticloadbalancing:DeleteLoadBalancer'))!;
    expect(actionsOf(mutate)).toEqual(
      expect.arrayContaining([
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:DeleteTargetGroup',
      ]),
    );
    expect(mutate.Condition).toEqual({ StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned' } });
    const untag = st.find((s) => actionsOf(s).includes('elasticloadbalancing:RemoveTags'))!;
    expect(untag.Condition).toMatchObject({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': [CLUSTER_TAG] } });
    // Every ELBv2 mutation is conditioned: an unconditioned statement with a mutating ELBv2 action would be a hole.
    for (const s of st) {
      const mutating = actionsOf(s).filter(
        (a) => a.startsWith('elasticloadbalancing:') && !a.startsWith('elasticloadbalancing:Describe'),
      );
      if (mutating.length > 0) expect(s.Condition, JSON.stringify(s)).toBeDefined();
    }
  });

  it('security groups: create with tag in the cluster VPC; ingress on the node group by ARN; owned groups by tag', () => {
    const st = roleStatements('ServiceEvents');
    const createSg = st.filter((s) => actionsOf(s).includes('ec2:CreateSecurityGroup'));
    expect(JSON.stringify(createSg)).toContain('vpc/vpc-0123456789abcdef0');
    expect(createSg.some((s) => JSON.stringify(s.Condition ?? {}).includes(`aws:RequestTag/${CLUSTER_TAG}`))).toBe(
      true,
    );
    const nodeSg = st.find(
      (s) => actionsOf(s).includes('ec2:AuthorizeSecurityGroupIngress') && s.Condition === undefined,
    )!;
    expect(JSON.stringify(nodeSg.Resource)).toContain('security-group/sg-0123456789abcdef0');
    expect(JSON.stringify(nodeSg.Resource)).not.toContain('security-group/*');
    const owned = st.find((s) => actionsOf(s).includes('ec2:DeleteSecurityGroup'))!;
    expect(owned.Condition).toEqual({ StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned' } });
  });

  it('Describe-style actions are the only ones on Resource "*" (besides X-Ray)', () => {
    for (const role of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus', 'DataplanePush']) {
      for (const s of roleStatements(role)) {
        if (s.Resource !== '*') continue;
        for (const a of actionsOf(s)) {
          expect(a, `${role} ${a}`).toMatch(
            /^(ec2:Describe|elasticloadbalancing:Describe|ssm:(Get|List|Describe)|xray:)/,
          );
        }
      }
    }
  });

  it('SSM SendCommand: our document plus instances with the node tag, only for dataplane-push', () => {
    const st = roleStatements('DataplanePush').filter((s) => actionsOf(s).includes('ssm:SendCommand'));
    expect(st).toHaveLength(2);
    expect(JSON.stringify(st)).toContain('document/ssc-prod-dataplane');
    const inst = st.find((s) => JSON.stringify(s.Resource).includes('instance/*'))!;
    expect(inst.Condition).toEqual({ StringEquals: { [`ssm:resourceTag/${CLUSTER_TAG}`]: 'owned' } });
    for (const other of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus']) {
      expect(allActions(other)).not.toContain('ssm:SendCommand');
    }
  });

  it('DynamoDB on the table, S3 on the bucket; no handler may publish on the bus', () => {
    const st = roleStatements('Resync');
    const ddb = st.find((s) => actionsOf(s).includes('dynamodb:PutItem'))!;
    expect(JSON.stringify(ddb.Resource)).toContain('ControllerTable');
    const s3 = st.find((s) => actionsOf(s).includes('s3:PutObject'))!;
    expect(JSON.stringify(s3.Resource)).toContain('ControllerArtifacts');
    for (const role of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus', 'DataplanePush']) {
      expect(allActions(role)).not.toContain('events:PutEvents');
    }
  });
});

describe('operations', () => {
  it('alarms on every DLQ, reconcile errors, throttling, SSM failures; actions go to the topic', () => {
    for (const dlq of ['ControllerDeliveryDlq', 'ControllerIngestDlq', 'ControllerEventsDlq', 'ControllerPushDlq']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', dlq).id, 'QueueName'] } },
        ],
        Threshold: 0,
        AlarmActions: [TOPIC],
      });
    }
    for (const m of ['ReconcileErrors', 'Throttled', 'SsmCommandFailures']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'ServerlessServiceController',
        MetricName: m,
        Dimensions: [{ Name: 'service', Value: 'serverless-service-controller' }],
        AlarmActions: [TOPIC],
      });
    }
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('snapshot', () => {
  it('matches, with asset hashes and the data-plane document normalised', () => {
    const copy = structuredClone(json);
    // The document's content belongs to lib/dataplane (asserted above); keep the snapshot about infrastructure.
    copy.Resources[resourceOf('AWS::SSM::Document', 'ControllerDataplaneDocument').id]!.Properties.Content =
      '<document>';
    const text = JSON.stringify(copy).replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>');
    expect(JSON.parse(text)).toMatchSnapshot();
  });
});

describe('cdk-nag', () => {
  it('AwsSolutionsChecks reports zero unacknowledged findings', () => {
    const pack = new AwsSolutionsChecks(app);
    const report = pack.validateScope(app);
    const problems = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(problems).toEqual([]);
    expect(report.success).toBe(true);
  });
});
