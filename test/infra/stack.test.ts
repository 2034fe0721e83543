/**
 * Assertions on the synthesized template of one fully-featured stack (drift rule, ASG hooks, alarm topic). One
 * stack per file: Template.fromStack bundles all five handlers.
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import { ServiceControllerStack } from '../../infra/lib/stack.js';
import { appWithCdkJson } from './helpers.js';

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
      alarmTopicArn: TOPIC,
      resyncIntervalMinutes: 3,
      adminPrincipalArns: ['arn:aws:iam::123456789012:role/platform-admins'],
      viewPrincipalArns: ['arn:aws:iam::123456789012:user/auditor'],
      writerPrincipalArns: ['arn:aws:iam::123456789012:role/ci/producer'],
    },
  });
  t = Template.fromStack(stack);
  json = t.toJSON() as typeof json;
}, 120_000);

describe('event path', () => {
  it('the table streams new images and expires items by expiresAt', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('no object events on the bus: no rule for them, and the bus refuses their source to everyone', () => {
    t.hasResourceProperties('AWS::Events::EventBus', { Name: 'serverless-service-controller-prod' });
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({
        Sid: 'cdk-DenyObjectEvents',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'events:source': 'serverless-service-controller' } },
      }),
    });
    const policies = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Events::EventBusPolicy');
    for (const p of policies) expect((p.Properties.Statement as { Effect: string }).Effect).toBe('Deny');
    const rules = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    for (const r of rules) {
      expect(JSON.stringify(r.Properties.EventPattern ?? {})).not.toContain('serverless-service-controller');
    }
    expect(Object.keys(json.Resources).filter((id) => /Ingest|Ordering/.test(id))).toEqual([]);
  });

  it('a Pipe from the table stream (INSERTs of change-log items) to the events FIFO: group per object, dedup by revision', () => {
    const table = resourceOf('AWS::DynamoDB::Table', 'ControllerTable').id;
    const eventsQ = resourceOf('AWS::SQS::Queue', 'ControllerEventsQueue');
    const dlq = resourceOf('AWS::SQS::Queue', 'ControllerChangeLogDlq');
    expect(dlq.props.FifoQueue).toBeUndefined(); // a stream source's DLQ is a standard queue
    const pipe = resourceOf('AWS::Pipes::Pipe', 'ControllerChangeLogPipe').props;
    expect(pipe.Source).toEqual({ 'Fn::GetAtt': [table, 'StreamArn'] });
    expect(pipe.Target).toEqual({ 'Fn::GetAtt': [eventsQ.id, 'Arn'] });
    expect(pipe.SourceParameters).toMatchObject({
      DynamoDBStreamParameters: {
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 10,
        OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq.id, 'Arn'] } },
      },
    });
    const filters = (pipe.SourceParameters as { FilterCriteria: { Filters: { Pattern: string }[] } }).FilterCriteria
      .Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      {
        eventName: ['INSERT'],
        dynamodb: { NewImage: { pk: { S: ['log'] }, kind: { S: [{ 'anything-but': ['Event'] }] } } },
      },
    ]);
    const target = pipe.TargetParameters as { InputTemplate: string; SqsQueueParameters: Record<string, string> };
    expect(target.SqsQueueParameters).toEqual({
      MessageGroupId: '$.dynamodb.NewImage.group.S',
      MessageDeduplicationId: '$.dynamodb.NewImage.rev.N',
    });
    // The template renders the message lib/events/object-message.ts parses (every placeholder is a whole string).
    const rendered = target.InputTemplate.replace(/<\$\.dynamodb\.NewImage\.(\w+)\.[SN]>/g, (_m, k: string) =>
      k === 'rev' ? '42' : k === 'subresource' ? '' : `x-${k}`,
    );
    expect(JSON.parse(rendered)).toEqual({
      kind: 'x-kind',
      namespace: 'x-namespace',
      name: 'x-name',
      uid: 'x-uid',
      rev: '42',
      type: 'x-type',
      subresource: '',
    });
    // The events queue: FIFO, deduplicated by the Pipe's id (not by content), its own FIFO DLQ.
    expect(eventsQ.props).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
    expect(eventsQ.props.ContentBasedDeduplication).toBeUndefined();
    expect(eventsQ.props.VisibilityTimeout).toBe(360); // 6x the service-events timeout (60 s)
    const eventsDlq = resourceOf('AWS::SQS::Queue', 'ControllerEventsDlq');
    expect(eventsQ.props.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [eventsDlq.id, 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('the Pipe role reads only the table stream and sends only to the events queue and its DLQ', () => {
    const statements = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref.startsWith('ControllerChangeLogPipeRole')),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const table = resourceOf('AWS::DynamoDB::Table', 'ControllerTable').id;
    const byActions = Object.fromEntries(statements.map((s) => [actionsOf(s).sort().join(','), s.Resource]));
    expect(byActions['dynamodb:DescribeStream,dynamodb:GetRecords,dynamodb:GetShardIterator']).toEqual({
      'Fn::GetAtt': [table, 'StreamArn'],
    });
    expect(byActions['dynamodb:ListStreams']).toBe('*');
    const sends = statements
      .filter((s) => actionsOf(s).includes('sqs:SendMessage'))
      .flatMap((s) => [s.Resource].flat());
    expect(sends).toHaveLength(2);
    expect(sends).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', 'ControllerEventsQueue').id, 'Arn'] },
        { 'Fn::GetAtt': [resourceOf('AWS::SQS::Queue', 'ControllerChangeLogDlq').id, 'Arn'] },
      ]),
    );
    expect(statements.flatMap(actionsOf).some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toBe(false);
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
      detail: { eventSource: string[]; eventName: string[]; errorCode: unknown; $or: Record<string, unknown>[] };
    };
    expect(p.source).toEqual(['aws.elasticloadbalancing']);
    expect(p.detail.eventSource).toEqual(['elasticloadbalancing.amazonaws.com']);
    expect(p.detail.eventName).toEqual(
      expect.arrayContaining(['CreateLoadBalancer', 'DeleteTargetGroup', 'RegisterTargets', 'RemoveTags']),
    );
    expect(p.detail.eventName.some((n) => n.startsWith('Describe'))).toBe(false);
    expect(p.detail.errorCode).toEqual([{ exists: false }]);
    // Either no session issuer at all (IAM users, root) or an issuer that is not one of the controller's roles.
    expect(p.detail.$or).toHaveLength(2);
    expect(p.detail.$or[0]).toEqual({
      userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } },
    });
    const excluded = JSON.stringify(p.detail.$or[1]);
    expect(excluded).toContain('anything-but');
    for (const r of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus', 'DataplanePush']) {
      expect(excluded).toContain(`Controller${r}Role`);
    }
  });
  it('the drift pattern matches IAM users, root and other roles, and not the controller (on an EventBridge bus)', async () => {
    // Evaluated by moto's EventBridge (test setup): a rule with the pattern on a bus of its own, delivering to a queue.
    // The role ARNs stand in for the roles' Fn::GetAtt tokens.
    const rule = Object.values(json.Resources).find(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.EventPattern).includes('AWS API Call via CloudTrail'),
    )!;
    const roleArn = (logicalId: string) => `arn:aws:iam::123456789012:role/${logicalId}`;
    const pattern = JSON.stringify(rule.Properties.EventPattern, (_k, v: unknown) =>
      v && typeof v === 'object' && Array.isArray((v as Record<string, unknown>)['Fn::GetAtt'])
        ? roleArn(String((v as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]))
        : v,
    );
    const controllerRole = Object.keys(json.Resources).find(
      (id) => id.startsWith('ControllerResyncRole') && json.Resources[id]!.Type === 'AWS::IAM::Role',
    )!;
    const name = `drift-${randomBytes(4).toString('hex')}`;
    const eb = new EventBridgeClient({});
    const sqs = new SQSClient({});
    await eb.send(new CreateEventBusCommand({ Name: name }));
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    await eb.send(new PutRuleCommand({ Name: name, EventBusName: name, EventPattern: pattern }));
    await eb.send(new PutTargetsCommand({ Rule: name, EventBusName: name, Targets: [{ Id: 'q', Arn: queueArn }] }));
    const assumed = (arn: string) => ({
      type: 'AssumedRole',
      sessionContext: { sessionIssuer: { type: 'Role', arn } },
    });
    const callers: Record<string, Record<string, unknown>> = {
      user: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/alice' },
      root: { type: 'Root', arn: 'arn:aws:iam::123456789012:root' },
      other: assumed('arn:aws:iam::123456789012:role/ops'),
      controller: assumed(roleArn(controllerRole)),
    };
    await eb.send(
      new PutEventsCommand({
        Entries: Object.entries(callers).map(([who, userIdentity]) => ({
          EventBusName: name,
          Source: 'aws.elasticloadbalancing',
          DetailType: 'AWS API Call via CloudTrail',
          Detail: JSON.stringify({
            eventSource: 'elasticloadbalancing.amazonaws.com',
            eventName: 'DeleteTargetGroup',
            requestID: who,
            userIdentity,
          }),
        })),
      }),
    );
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    const delivered = (r.Messages ?? []).map(
      (m) => (JSON.parse(m.Body!) as { detail: { requestID: string } }).detail.requestID,
    );
    expect(delivered.sort()).toEqual(['other', 'root', 'user']);
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

  it('push queue: standard, ~2 s batching window into dataplane-push, at most 2 at once without a reservation', () => {
    const fn = resourceOf('AWS::Lambda::Function', 'ControllerDataplanePush');
    // No reserved concurrency by default: accounts with the initial concurrency quota refuse any reservation.
    expect(fn.props.ReservedConcurrentExecutions).toBeUndefined();
    const q = resourceOf('AWS::SQS::Queue', 'ControllerPushQueue');
    expect(q.props.FifoQueue).toBeUndefined();
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fn.id },
      EventSourceArn: { 'Fn::GetAtt': [q.id, 'Arn'] },
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
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
        // One state object per push never overwritten (~288 a day): expired, as are manifests and bundles.
        expect.objectContaining({ Prefix: 'dataplane/prod/state/', ExpirationInDays: 3, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'dataplane/prod/manifests/', ExpirationInDays: 3 }),
        expect.objectContaining({ Prefix: 'dataplane/prod/bundles/', ExpirationInDays: 3 }),
        expect.objectContaining({ ExpiredObjectDeleteMarker: true }),
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
  it('five Node 22 arm64 controller functions, X-Ray active, ESM bundles, log groups with retention, full environment', () => {
    const fns = Object.entries(json.Resources).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && !id.startsWith('ControllerApi'),
    );
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
        NODE_SELECTOR_TAG: `${CLUSTER_TAG}=owned,shared`,
        SERVICE_CIDR: '10.96.0.0/12',
        NODE_PORT_RANGE: '30000-32767',
        NLB_QUOTA: '50',
        SSM_DOCUMENT_NAME: 'ssc-prod-dataplane',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
    // One per function: the five controller functions and the API.
    t.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 6);
    // No reservation unless reserveConcurrency (stack-reserved.test.ts covers it); subnets are discovered.
    expect(resourceOf('AWS::Lambda::Function', 'ControllerResync').props.ReservedConcurrentExecutions).toBeUndefined();
    for (const [, f] of fns) expect(JSON.stringify(f.Properties.Environment)).not.toContain('SUBNET_IDS');
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

describe('the Kubernetes API', () => {
  const WRITES = /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|PartiQL\w*|\*)$|^dynamodb:\*$|^\*$/;

  it('a Node 22 function on a Function URL: auth NONE (token verified in code), response streaming, URL output', () => {
    const fn = resourceOf('AWS::Lambda::Function', 'ControllerApi');
    expect(fn.props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: 300,
    });
    const url = resourceOf('AWS::Lambda::Url', 'ControllerApiFunctionUrl');
    expect(url.props).toEqual({
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fn.id, 'Arn'] },
    });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] },
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
    const outputs = (t.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    const api = Object.entries(outputs).find(([k]) => k.startsWith('ControllerApiUrl'));
    expect(api?.[1].Value).toEqual({ 'Fn::GetAtt': [url.id, 'FunctionUrl'] });
  });

  it('its settings: the cluster, the table and the role mapping from the props; nothing of the controller', () => {
    const env = (
      resourceOf('AWS::Lambda::Function', 'ControllerApi').props.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(env).toMatchObject({
      CLUSTER_NAME: 'prod',
      TABLE_NAME: { Ref: resourceOf('AWS::DynamoDB::Table', 'ControllerTable').id },
      SERVICE_CIDR: '10.96.0.0/12',
      NODE_PORT_RANGE: '30000-32767',
      CLUSTER_DOMAIN: 'cluster.local',
      API_ADMIN_ARNS: 'arn:aws:iam::123456789012:role/platform-admins',
      API_VIEW_ARNS: 'arn:aws:iam::123456789012:user/auditor',
      API_WRITER_ARNS: 'arn:aws:iam::123456789012:role/ci/producer',
    });
    for (const k of ['VPC_ID', 'SUBNET_IDS', 'EVENT_BUS_NAME', 'ARTIFACT_BUCKET', 'PUSH_QUEUE_URL'])
      expect(env[k]).toBeUndefined();
  });

  it('its role: the table items only (no stream, no scan, no table management), logs and X-Ray; nothing else', () => {
    const table = resourceOf('AWS::DynamoDB::Table', 'ControllerTable').id;
    const st = roleStatements('Api');
    const ddb = st.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(ddb).toHaveLength(1);
    expect(actionsOf(ddb[0]!).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(ddb[0]!.Resource).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
    const services = new Set(st.flatMap(actionsOf).map((a) => a.split(':')[0]));
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'xray']);
  });

  it('no IAM grant lets a user write the table: only the controller functions and the API hold write actions', () => {
    for (const type of ['AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::AccessKey']) {
      expect(
        Object.values(json.Resources).filter((r) => r.Type === type),
        type,
      ).toEqual([]);
    }
    const table = resourceOf('AWS::DynamoDB::Table', 'ControllerTable');
    expect(table.props.ResourcePolicy).toBeUndefined();
    const writers = new Set<string>();
    for (const r of Object.values(json.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      const statements = (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      if (!statements.some((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => WRITES.test(a)))) continue;
      expect(r.Properties.Users, 'policy attached to users').toBeUndefined();
      expect(r.Properties.Groups, 'policy attached to groups').toBeUndefined();
      for (const role of r.Properties.Roles as { Ref: string }[]) writers.add(role.Ref.replace(/Role[0-9A-F]{8}$/, ''));
    }
    expect([...writers].sort()).toEqual(
      ['Api', 'DataplanePush', 'NodeEvents', 'Resync', 'ServiceEvents', 'SsmStatus'].map((f) => `Controller${f}`),
    );
    // The roles are assumable by Lambda alone.
    for (const f of ['Api', 'DataplanePush', 'NodeEvents', 'Resync', 'ServiceEvents', 'SsmStatus']) {
      const role = resourceOf('AWS::IAM::Role', `Controller${f}Role`).props;
      expect(JSON.stringify(role.AssumeRolePolicyDocument)).toBe(
        JSON.stringify({
          Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
          Version: '2012-10-17',
        }),
      );
    }
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
    // The same selector as discovery and the SendCommand Targets: either value marks a node.
    expect(inst.Condition).toEqual({ StringEquals: { [`ssm:resourceTag/${CLUSTER_TAG}`]: ['owned', 'shared'] } });
    for (const other of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus']) {
      expect(allActions(other)).not.toContain('ssm:SendCommand');
    }
  });

  it('DynamoDB on the table, S3 on the bucket (dataplane-push only); no handler may publish on the bus', () => {
    const ddb = roleStatements('Resync').find((s) => actionsOf(s).includes('dynamodb:PutItem'))!;
    expect(JSON.stringify(ddb.Resource)).toContain('ControllerTable');
    const s3 = roleStatements('DataplanePush').find((s) => actionsOf(s).includes('s3:PutObject'))!;
    expect(JSON.stringify(s3.Resource)).toContain('ControllerArtifacts');
    for (const role of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus']) {
      expect(allActions(role).filter((a) => a.startsWith('s3:') || a.startsWith('ssm:'))).toEqual([]);
    }
    for (const role of ['ServiceEvents', 'NodeEvents', 'Resync', 'SsmStatus', 'DataplanePush']) {
      expect(allActions(role)).not.toContain('events:PutEvents');
    }
  });
});

describe('operations', () => {
  it('alarms on every DLQ, reconcile errors, throttling, SSM failures; actions go to the topic', () => {
    for (const dlq of ['ControllerDeliveryDlq', 'ControllerChangeLogDlq', 'ControllerEventsDlq', 'ControllerPushDlq']) {
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
