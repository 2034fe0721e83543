/**
 * Each function's role grants exactly what its code sends. The actions the code sends are derived from the code
 * (test/infra/sdk-actions.ts walks the call graph from the function's entry and maps every SDK command to its IAM
 * action); the grants come from the synthesized template. Both directions fail: a command the role does not grant
 * (AccessDenied in production), and a grant no code uses. The few grants no SDK call in our code accounts for are
 * listed in EXCEPTIONS, each with its reason and the resource it must be on.
 */
import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_HANDLER, BUNDLES, handlerEntry, type BundleName } from '../../infra/lib/bundling.js';
import type { ServiceControllerProps } from '../../infra/lib/config.js';
import { ServiceControllerStack } from '../../infra/lib/stack.js';
import { appWithCdkJson } from './helpers.js';
import { actionsFor, sdkCallsByEntry, type SdkCall } from './sdk-actions.js';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Effect: string };
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** A grant that no SDK call in our code accounts for, and why the role needs it anyway. */
interface Exception {
  actions: readonly string[];
  /** Logical-ID prefix of the resource every statement granting it must be on; '*' for Resource "*". */
  resource?: string;
  /** Instead of resource: the Sid prefix of the statements granting it (statements on ARNs of no stack resource). */
  sid?: string;
  /** Which functions hold it ('all' or a list). */
  functions: 'all' | readonly BundleName[];
  why: string;
}

const EXCEPTIONS: readonly Exception[] = [
  {
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resource: 'Controller*Logs',
    functions: 'all',
    why: 'the Lambda service writes the function’s stdout to its own log group with the function’s role',
  },
  {
    actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
    resource: '*',
    functions: 'all',
    why: 'active tracing: the Lambda service sends the trace segments (CDK adds this for Tracing.ACTIVE)',
  },
  {
    actions: [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueUrl',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ],
    resource: 'ControllerEventsQueue',
    functions: ['service-events'],
    why: 'the SQS event source mapping polls the queue with the function’s role',
  },
  {
    actions: [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueUrl',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ],
    resource: 'ControllerPushQueue',
    functions: ['dataplane-push'],
    why: 'the SQS event source mapping polls the queue with the function’s role',
  },
  {
    actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
    resource: 'ControllerDeliveryDlq',
    functions: ['node-events', 'resync', 'ssm-status', 'cluster-watcher'],
    why: 'the on-failure destination of asynchronous invocations: Lambda sends the failed event with the role',
  },
  {
    actions: ['iam:CreateServiceLinkedRole'],
    resource: '*elasticloadbalancing',
    functions: ['service-events', 'resync'],
    why: 'the account’s first CreateLoadBalancer makes ELBv2 create its service-linked role on the caller’s behalf',
  },
  {
    actions: [
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    sid: 'LambdaVpc',
    functions: ['cluster-watcher'],
    why: 'a VPC function: Lambda creates and manages its network interfaces with the function’s role',
  },
];

const ROLE_PREFIX: Record<BundleName, string> = {
  'service-events': 'ControllerServiceEventsRole',
  'node-events': 'ControllerNodeEventsRole',
  resync: 'ControllerResyncRole',
  'ssm-status': 'ControllerSsmStatusRole',
  'dataplane-push': 'ControllerDataplanePushRole',
  'cluster-watcher': 'ControllerClusterWatcherRole',
  [API_HANDLER]: 'ControllerApiRole',
};

/** The logical IDs a statement's Resource refers to (Ref / Fn::GetAtt / Fn::Join parts), or '*'. */
function resourceRefs(resource: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown) => {
    if (v === '*') out.push('*');
    else if (typeof v === 'string') {
      if (v.includes('elasticloadbalancing.amazonaws.com')) out.push('*elasticloadbalancing');
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      // Pseudo parameters (partition, account, region) are parts of an ARN, not the resource.
      if (typeof o.Ref === 'string') {
        if (!o.Ref.startsWith('AWS::')) out.push(o.Ref);
      } else if (Array.isArray(o['Fn::GetAtt'])) out.push(String(o['Fn::GetAtt'][0]));
      else Object.values(o).forEach(visit);
    }
  };
  visit(resource);
  return out;
}

const matches = (ref: string, pattern: string) =>
  pattern === '*' || pattern === '*elasticloadbalancing'
    ? ref === pattern
    : new RegExp(`^${pattern.replace(/\*/g, '[A-Za-z0-9]*')}`).test(ref);

/** Granted actions of a role, with the exceptions taken out (only where the statement is on the listed resource). */
function grantsOf(json: Template, fn: BundleName): { granted: Set<string>; excepted: Set<string> } {
  const granted = new Set<string>();
  const excepted = new Set<string>();
  for (const r of Object.values(json.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = r.Properties.Roles as { Ref: string }[];
    if (!roles.some((x) => x.Ref.startsWith(ROLE_PREFIX[fn]))) continue;
    for (const st of (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
      expect(st.Effect).toBe('Allow');
      const refs = resourceRefs(st.Resource);
      for (const action of Array.isArray(st.Action) ? st.Action : [st.Action]) {
        const ex = EXCEPTIONS.find(
          (e) =>
            e.actions.includes(action) &&
            (e.functions === 'all' || e.functions.includes(fn)) &&
            (e.sid !== undefined
              ? st.Sid?.startsWith(e.sid) === true
              : refs.length > 0 && refs.every((ref) => matches(ref, e.resource!))),
        );
        (ex ? excepted : granted).add(action);
      }
    }
  }
  return { granted, excepted };
}

let json: Template;
/** Cluster mode's two auth modes (the watcher's role differs by them): its grants are the union of both. */
let clusterJson: Template[];
let sent: Map<BundleName, SdkCall[]>;

function synth(id: string, controller: ServiceControllerProps): Template {
  const app = appWithCdkJson({ 'aws:cdk:bundling-stacks': [] });
  const stack = new ServiceControllerStack(app, id, {
    controller,
    env: { account: '123456789012', region: 'us-east-1' },
  });
  return app.synth().getStackArtifact(Stack.of(stack).artifactId).template as Template;
}

/** The grants of the function's role: for the watcher, in either auth mode (every capability is in one of them). */
function grantsFor(fn: BundleName): { granted: Set<string>; excepted: Set<string> } {
  if (fn !== 'cluster-watcher') return grantsOf(json, fn);
  const all = clusterJson.map((t) => grantsOf(t, fn));
  return {
    granted: new Set(all.flatMap((g) => [...g.granted])),
    excepted: new Set(all.flatMap((g) => [...g.excepted])),
  };
}

beforeAll(() => {
  // The fully-featured stack (drift rule, lifecycle hooks, node security group): every capability is present.
  const base = { clusterName: 'prod', vpcId: 'vpc-0123456789abcdef0' };
  json = synth('Prod', {
    ...base,
    nodeSecurityGroupId: 'sg-0123456789abcdef0',
    nodeAutoScalingGroupNames: ['prod-nodes-a'],
    enableDriftRule: true,
  });
  clusterJson = [
    synth('ClusterEks', {
      ...base,
      clusterMode: {
        auth: { eksClusterName: 'prod' },
        dataPlane: true,
        subnetIds: ['subnet-0123456789abcdef0'],
        securityGroupIds: ['sg-0123456789abcdef1'],
      },
    }),
    synth('ClusterKubeconfig', {
      ...base,
      clusterMode: { auth: { kubeconfigSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbC123' } },
    }),
  ];
  const byEntry = sdkCallsByEntry(BUNDLES.map((b) => handlerEntry(b)));
  sent = new Map(BUNDLES.map((b) => [b, byEntry.get(handlerEntry(b)) ?? []]));
}, 180_000);

describe.each(BUNDLES)('%s', (fn) => {
  it('its role grants every action its code sends', () => {
    const { granted } = grantsFor(fn);
    const missing = sent
      .get(fn)!
      .filter((c) => !granted.has(c.action))
      .map((c) => `${c.action} (sent at ${c.at})`);
    expect([...new Set(missing)], `${fn} sends actions its role does not grant`).toEqual([]);
  });

  it('its role grants nothing its code does not send (besides the listed exceptions)', () => {
    const { granted } = grantsFor(fn);
    const used = new Set(sent.get(fn)!.map((c) => c.action));
    const unused = [...granted].filter((a) => !used.has(a)).sort();
    expect(unused, `${fn}'s role grants actions no code of it sends`).toEqual([]);
  });
});

describe('the derivation', () => {
  it('found the calls every function is known to make (a sanity floor, not the comparison)', () => {
    const actions = (fn: BundleName) => new Set(sent.get(fn)!.map((c) => c.action));
    expect(actions('service-events')).toContain('elasticloadbalancing:CreateLoadBalancer');
    expect(actions('node-events')).toContain('elasticloadbalancing:RegisterTargets');
    expect(actions('node-events')).not.toContain('elasticloadbalancing:CreateLoadBalancer');
    expect(actions('node-events')).toContain('autoscaling:CompleteLifecycleAction');
    expect(actions('resync')).toContain('dynamodb:BatchWriteItem');
    expect(actions('resync')).not.toContain('s3:GetObject');
    expect(actions('ssm-status')).not.toContain('ssm:GetCommandInvocation');
    expect(actions('dataplane-push')).toContain('ssm:SendCommand');
    expect(actions(API_HANDLER)).toContain('dynamodb:BatchGetItem');
    expect(actions('cluster-watcher')).toContain('eks:DescribeCluster');
    expect(actions('cluster-watcher')).toContain('secretsmanager:GetSecretValue');
  });

  it('maps SDK commands and paginators to IAM actions', () => {
    expect(actionsFor('client-elastic-load-balancing-v2', 'command', 'RegisterTargetsCommand')).toEqual([
      'elasticloadbalancing:RegisterTargets',
    ]);
    expect(actionsFor('client-ec2', 'paginate', 'paginateDescribeInstances')).toEqual(['ec2:DescribeInstances']);
    expect(actionsFor('client-s3', 'command', 'PutObjectCommand')).toEqual(['s3:PutObject']);
    expect(actionsFor('client-eventbridge', 'command', 'PutEventsCommand')).toEqual(['events:PutEvents']);
    expect(actionsFor('client-auto-scaling', 'command', 'CompleteLifecycleActionCommand')).toEqual([
      'autoscaling:CompleteLifecycleAction',
    ]);
    expect(actionsFor('lib-dynamodb', 'command', 'PutCommand')).toEqual(['dynamodb:PutItem']);
    expect(actionsFor('lib-dynamodb', 'paginate', 'paginateQuery')).toEqual(['dynamodb:Query']);
    expect(actionsFor('lib-dynamodb', 'command', 'BatchWriteCommand')).toEqual(['dynamodb:BatchWriteItem']);
    // A transaction is authorised per contained item operation.
    expect(actionsFor('lib-dynamodb', 'command', 'TransactWriteCommand')).toEqual([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ]);
    expect(() => actionsFor('client-kinesis', 'command', 'PutRecordCommand')).toThrow(/no IAM service prefix/);
  });

  it('a command the role does not grant is reported, and so is a grant no code sends', () => {
    // What the comparison does with one more command than the role grants: node-events sending CreateLoadBalancer.
    const { granted } = grantsOf(json, 'node-events');
    const extra = actionsFor('client-elastic-load-balancing-v2', 'command', 'CreateLoadBalancerCommand');
    const calls = [...sent.get('node-events')!.map((c) => c.action), ...extra];
    expect(calls.filter((a) => !granted.has(a))).toEqual(['elasticloadbalancing:CreateLoadBalancer']);
    // ... and with one command fewer: the grant of RegisterTargets would be unused.
    const fewer = new Set(calls.filter((a) => a !== 'elasticloadbalancing:RegisterTargets'));
    expect([...granted].filter((a) => !fewer.has(a))).toEqual(['elasticloadbalancing:RegisterTargets']);
  });

  it('exceptions apply only on their resource: a log grant on another log group would count', () => {
    const fake: Template = {
      Resources: {
        P: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            Roles: [{ Ref: 'ControllerResyncRoleABC' }],
            PolicyDocument: {
              Statement: [
                { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: { 'Fn::GetAtt': ['OtherLogs', 'Arn'] } },
                {
                  Effect: 'Allow',
                  Action: 'logs:PutLogEvents',
                  Resource: { 'Fn::GetAtt': ['ControllerResyncLogsX', 'Arn'] },
                },
              ],
            },
          },
        },
      },
    };
    const { granted, excepted } = grantsOf(fake, 'resync');
    expect([...granted]).toEqual(['logs:PutLogEvents']);
    expect([...excepted]).toEqual(['logs:PutLogEvents']);
  });
});
