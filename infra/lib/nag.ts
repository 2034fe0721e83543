/**
 * cdk-nag AwsSolutions acknowledgements for the ServiceController. Each one is narrowed to the exact finding
 * (rule id plus the offending action/resource) on the exact construct, with the reason it cannot be avoided.
 * A new wildcard anywhere else still fails synth.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { capabilitiesOf } from './grants.js';
import type { ServiceController } from './service-controller.js';
import { CLUSTER_WATCHER, type HandlerName } from './bundling.js';
import { deployedEntries } from './parts.js';

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** How cdk-nag prints a token ARN in a finding: `<LogicalId.Arn>`. */
function arnToken(c: IConstruct): string {
  const stack = Stack.of(c);
  return `<${stack.getLogicalId(c.node.defaultChild as CfnResource)}.Arn>`;
}

const ELB_RESOURCES = ['loadbalancer/net/*/*', 'listener/net/*/*/*', 'targetgroup/*/*'].map(
  (r) => `arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:${r}`,
);
const EC2 = (r: string) => `arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${r}`;

/** The API function: the same runtime and logging findings as the handlers, and its public Function URL. */
function acknowledgeApi(c: ServiceController): void {
  ack(
    c.apiFunction,
    'AwsSolutions-L1',
    'The project targets the nodejs22.x Lambda runtime on purpose (its bundles, SDK v3 and tests are validated ' +
      'against Node 22); moving to a newer runtime is a deliberate, tested upgrade.',
  );
  ack(
    c.apiRole,
    `AwsSolutions-IAM5[Resource::${arnToken(c.apiFunction.logGroup as unknown as IConstruct)}:*]`,
    'Lambda writes log streams with generated names; the grant is limited to the function’s own log group.',
  );
  ack(
    c.apiRole,
    'AwsSolutions-IAM5[Resource::*]',
    'Only X-Ray PutTraceSegments/PutTelemetryRecords (active tracing), which AWS does not scope to resources.',
  );
  // The Function URL is public (auth type NONE) on purpose; cdk-nag's rules for that (LambdaFunctionUrlAuth, and
  // LambdaFunctionPublicAccessProhibited in the compliance packs) are acknowledged with the reason.
  const reason =
    'kubectl and client libraries cannot sign requests with SigV4, so the URL cannot use AWS_IAM. Every request ' +
    'must carry an EKS-format bearer token (a presigned sts:GetCallerIdentity URL bound to the cluster name), which ' +
    'the function verifies against the region’s STS endpoint and maps to the roles in adminPrincipalArns, ' +
    'viewPrincipalArns and writerPrincipalArns; anything else is answered 401/403 before the store is touched.';
  for (const id of [
    'LambdaFunctionUrlAuth',
    'HIPAA.Security-LambdaFunctionPublicAccessProhibited',
    'NIST.800.53.R4-LambdaFunctionPublicAccessProhibited',
    'NIST.800.53.R5-LambdaFunctionPublicAccessProhibited',
    'PCI.DSS.321-LambdaFunctionPublicAccessProhibited',
  ])
    ack(c.apiUrl, id, reason);
}

export function acknowledgeNagFindings(c: ServiceController): void {
  acknowledgeApi(c);
  for (const [name] of deployedEntries(c.functions)) acknowledgeHandler(c, name);
  acknowledgeShared(c);
  acknowledgeClusterMode(c);
}

/** One handler's function and role: runtime, log group, and the wildcards its capabilities need. */
function acknowledgeHandler(c: ServiceController, name: HandlerName): void {
  const fn = c.functions[name]!;
  const role = c.roles[name]!;
  const caps = capabilitiesOf(name, c.config);
  ack(
    fn,
    'AwsSolutions-L1',
    'The project targets the nodejs22.x Lambda runtime on purpose (its bundles, SDK v3 and tests are validated ' +
      'against Node 22); moving to a newer runtime is a deliberate, tested upgrade.',
  );
  ack(
    role,
    `AwsSolutions-IAM5[Resource::${arnToken(fn.logGroup as unknown as IConstruct)}:*]`,
    'Lambda writes log streams with generated names; the grant is limited to the function’s own log group.',
  );
  ack(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'Only for actions AWS does not scope to resources: X-Ray PutTraceSegments/PutTelemetryRecords (active ' +
      'tracing) and read-only EC2/ELBv2 Describe*' +
      (caps.includes('vpcNetworkInterfaces') ? ' (including Lambda’s ec2:DescribeNetworkInterfaces).' : '.'),
  );
  if (caps.includes('elbv2Write') || caps.includes('elbv2Targets')) {
    for (const r of caps.includes('elbv2Write')
      ? ELB_RESOURCES
      : ELB_RESOURCES.filter((x) => x.includes('targetgroup'))) {
      ack(
        role,
        `AwsSolutions-IAM5[Resource::${r}]`,
        'NLB, listener and target group names are generated per Service; every statement on these ARNs is ' +
          'conditioned on the kubernetes.io/cluster/<name>=owned tag (aws:RequestTag on create, aws:ResourceTag after).',
      );
    }
  }
  if (caps.includes('securityGroups')) {
    ack(
      role,
      `AwsSolutions-IAM5[Resource::${EC2('security-group/*')}]`,
      'Security groups for NLBs are created per Service; create requires the cluster tag in the request and ' +
        'every later change requires it on the group (aws:ResourceTag).',
    );
    ack(
      role,
      `AwsSolutions-IAM5[Resource::${EC2('security-group-rule/*')}]`,
      'Tag-on-create for ingress rules only: limited by ec2:CreateAction to AuthorizeSecurityGroupIngress.',
    );
  }
  if (caps.includes('ssmSend')) {
    ack(
      role,
      `AwsSolutions-IAM5[Resource::${EC2('instance/*')}]`,
      'Nodes come and go with the cluster; SendCommand is limited to instances carrying the node selector tag ' +
        '(ssm:resourceTag condition) and to the controller’s own document.',
    );
  }
  if (caps.includes('artifactsReadWrite')) {
    ack(
      role,
      `AwsSolutions-IAM5[Resource::${arnToken(c.artifactBucket)}/*]`,
      'Rendered per-node configuration objects have generated keys inside the controller’s own artifact bucket.',
    );
  }
}

/** Node lifecycle hooks, the scheduler, the dead-letter queues and the change-log Pipe. */
function acknowledgeShared(c: ServiceController): void {
  for (const asg of c.config.nodeAutoScalingGroupNames) {
    ack(
      c.roles['node-events'],
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${asg}]`,
      'The wildcard is the Auto Scaling group UUID, unknown at synth time; the group name pins the group.',
    );
  }
  ack(
    c.schedulerRole,
    `AwsSolutions-IAM5[Resource::${arnToken(c.functions.resync)}:*]`,
    'Scheduler may invoke the resync function and its versions/aliases; nothing else.',
  );
  ack(
    c.deliveryDlq,
    'AwsSolutions-SQS3',
    'This queue is itself the dead-letter queue for EventBridge, Scheduler and async Lambda delivery failures.',
  );
  ack(
    c.changeLogDlq,
    'AwsSolutions-SQS3',
    'This queue is itself the dead-letter queue of the change-log Pipe (stream records it could not deliver).',
  );
  ack(
    c.changeLogPipeRole,
    'AwsSolutions-IAM5[Resource::*]',
    'Only dynamodb:ListStreams, which AWS does not scope to resources; the stream reads are on the table stream ARN.',
  );
}

/** Cluster mode: the watcher's network interfaces (VPC placement) and its scheduler. */
function acknowledgeClusterMode(c: ServiceController): void {
  const role = c.roles[CLUSTER_WATCHER];
  const watcher = c.functions[CLUSTER_WATCHER];
  if (!role || !watcher) return;
  if (capabilitiesOf(CLUSTER_WATCHER, c.config).includes('vpcNetworkInterfaces')) {
    ack(
      role,
      `AwsSolutions-IAM5[Resource::${EC2('network-interface/*')}]`,
      'Lambda creates and deletes the VPC function’s network interfaces with the function’s role, under IDs it ' +
        'picks; creation is limited to the given subnets and security groups (named by ARN).',
    );
  }
  if (c.clusterWatcherSchedulerRole) {
    ack(
      c.clusterWatcherSchedulerRole,
      `AwsSolutions-IAM5[Resource::${arnToken(watcher)}:*]`,
      'Scheduler may invoke the cluster watcher function and its versions/aliases; nothing else.',
    );
  }
}
