/**
 * Least-privilege IAM statements for the controller's functions, grouped by capability so each function gets only
 * the capabilities its handler uses (see FUNCTION_CAPABILITIES in grants.ts).
 *
 * Ownership model (the same one cloud-provider-aws and aws-load-balancer-controller use): everything the
 * controller creates carries `kubernetes.io/cluster/<cluster>=owned`. Creation is allowed only when the request
 * carries that tag (aws:RequestTag + aws:TagKeys), and every later mutation only on resources that carry it
 * (aws:ResourceTag). The tag itself can be neither removed nor changed, so a resource can never leave or join the
 * cluster's ownership after creation.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CLUSTER_TAG_OWNED as OWNED, CLUSTER_WATCHER_EKS_ACTIONS } from '../../lib/contracts.js';
import type { ResolvedConfig } from './config.js';

function arn(service: string, resource: string, region: string = Aws.REGION): string {
  return `arn:${Aws.PARTITION}:${service}:${region}:${Aws.ACCOUNT_ID}:${resource}`;
}

/** ARNs of the ELBv2 resources the controller manages: network load balancers, their listeners, target groups. */
export function elbv2Arns(): { loadBalancers: string; listeners: string; targetGroups: string } {
  return {
    loadBalancers: arn('elasticloadbalancing', 'loadbalancer/net/*/*'),
    listeners: arn('elasticloadbalancing', 'listener/net/*/*/*'),
    targetGroups: arn('elasticloadbalancing', 'targetgroup/*/*'),
  };
}

// EC2 and ELBv2 Describe* actions do not support resource-level permissions or tag conditions: AWS requires
// Resource "*" for them (Service Authorization Reference). They reveal metadata only, never change anything.

/** Node discovery. */
export function describeNodesStatements(): iam.PolicyStatement[] {
  return [new iam.PolicyStatement({ sid: 'DescribeNodes', actions: ['ec2:DescribeInstances'], resources: ['*'] })];
}

/** What the load-balancer planner reads about the network: subnets (and their route tables), security groups. */
export function describeNetworkStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'DescribeNetwork',
      // DescribeVpcs: the VPC's CIDRs, the client ranges of an internal NLB without security groups (disable-nlb-sg).
      actions: ['ec2:DescribeSubnets', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs'],
      resources: ['*'],
    }),
  ];
}

/** Observing the cluster's NLBs, listeners and target groups. */
export function describeLoadBalancersStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'DescribeLoadBalancers',
      actions: [
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeLoadBalancerAttributes',
        'elasticloadbalancing:DescribeCapacityReservation',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeListenerCertificates',
        'elasticloadbalancing:DescribeListenerAttributes',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetGroupAttributes',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTags',
      ],
      resources: ['*'],
    }),
  ];
}

/** Only target (de)registration, on the cluster's own target groups: what a node join or leave does. */
export function elbv2TargetStatements(cfg: ResolvedConfig): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'Elbv2TargetsOwned',
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: [elbv2Arns().targetGroups],
      conditions: { StringEquals: { [`aws:ResourceTag/${cfg.clusterTagKey}`]: OWNED } },
    }),
  ];
}

/** Create, change and delete the cluster's NLBs, listeners and target groups. */
export function elbv2WriteStatements(cfg: ResolvedConfig): iam.PolicyStatement[] {
  return [...elbv2CreateStatements(cfg), ...elbv2OwnedStatements(cfg)];
}

/** Creating NLBs and target groups: only tagged as the cluster's, tags in the same call. */
function elbv2CreateStatements(cfg: ResolvedConfig): iam.PolicyStatement[] {
  const key = cfg.clusterTagKey;
  const { loadBalancers, listeners, targetGroups } = elbv2Arns();
  return [
    new iam.PolicyStatement({
      sid: 'Elbv2CreateOnlyWithClusterTag',
      // ELBv2 authorises CreateLoadBalancer/CreateTargetGroup against the tags in the request: the call is refused
      // unless it tags the new resource kubernetes.io/cluster/<name>=owned. (CreateListener is authorised against
      // the parent load balancer's tags instead: see Elbv2MutateOwned.)
      actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      resources: [loadBalancers, targetGroups],
      conditions: {
        StringEquals: { [`aws:RequestTag/${key}`]: OWNED },
        'ForAnyValue:StringEquals': { 'aws:TagKeys': [key] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'Elbv2ServiceLinkedRole',
      // The first load balancer of an account makes ELBv2 create its service-linked role on the caller's behalf.
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [
        `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`,
      ],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      sid: 'Elbv2TagOnCreate',
      // Tagging inside a Create* call is a separate AddTags authorisation; elasticloadbalancing:CreateAction limits
      // it to resources being created by those calls.
      actions: ['elasticloadbalancing:AddTags'],
      resources: [loadBalancers, targetGroups, listeners],
      conditions: {
        StringEquals: {
          'elasticloadbalancing:CreateAction': ['CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener'],
          [`aws:RequestTag/${key}`]: OWNED,
        },
      },
    }),
  ];
}

/** Changing, retagging and deleting what the cluster owns; the cluster tag itself never changes. */
function elbv2OwnedStatements(cfg: ResolvedConfig): iam.PolicyStatement[] {
  const key = cfg.clusterTagKey;
  const { loadBalancers, listeners, targetGroups } = elbv2Arns();
  return [
    new iam.PolicyStatement({
      sid: 'Elbv2MutateOwned',
      // CreateListener is authorised against the load balancer too: only on an NLB the cluster owns.
      actions: [
        'elasticloadbalancing:ModifyLoadBalancerAttributes',
        'elasticloadbalancing:ModifyCapacityReservation',
        'elasticloadbalancing:SetSecurityGroups',
        'elasticloadbalancing:SetSubnets',
        'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:CreateListener',
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:ModifyListenerAttributes',
        'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates',
        'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:DeregisterTargets',
      ],
      resources: [loadBalancers, listeners, targetGroups],
      conditions: { StringEquals: { [`aws:ResourceTag/${key}`]: OWNED } },
    }),
    new iam.PolicyStatement({
      sid: 'Elbv2RetagOwnedKeepClusterTag',
      // Other tags (service name, stack, user's additional tags) may change; the cluster tag may only be re-set to
      // "owned" (StringEqualsIfExists) and never removed (the RemoveTags statement below excludes the key).
      actions: ['elasticloadbalancing:AddTags'],
      resources: [loadBalancers, listeners, targetGroups],
      conditions: {
        StringEquals: { [`aws:ResourceTag/${key}`]: OWNED },
        StringEqualsIfExists: { [`aws:RequestTag/${key}`]: OWNED },
      },
    }),
    new iam.PolicyStatement({
      sid: 'Elbv2UntagOwnedNeverClusterTag',
      actions: ['elasticloadbalancing:RemoveTags'],
      resources: [loadBalancers, listeners, targetGroups],
      conditions: {
        StringEquals: { [`aws:ResourceTag/${key}`]: OWNED },
        'ForAllValues:StringNotEquals': { 'aws:TagKeys': [key] },
      },
    }),
  ];
}

/** Security groups: the NLBs' own (created and owned by the controller) and ingress rules on the node group. */
export function securityGroupStatements(cfg: ResolvedConfig): iam.PolicyStatement[] {
  const key = cfg.clusterTagKey;
  const sgs = arn('ec2', 'security-group/*');
  const sgRules = arn('ec2', 'security-group-rule/*');
  const statements = [
    new iam.PolicyStatement({
      sid: 'Ec2CreateSecurityGroupWithClusterTag',
      // CreateSecurityGroup is authorised against two resources: the new group (must carry the cluster tag) ...
      actions: ['ec2:CreateSecurityGroup'],
      resources: [sgs],
      conditions: {
        StringEquals: { [`aws:RequestTag/${key}`]: OWNED },
        'ForAnyValue:StringEquals': { 'aws:TagKeys': [key] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'Ec2CreateSecurityGroupInClusterVpc',
      // ... and the VPC it is created in: only the cluster's VPC.
      actions: ['ec2:CreateSecurityGroup'],
      resources: [arn('ec2', `vpc/${cfg.vpcId}`)],
    }),
    new iam.PolicyStatement({
      sid: 'Ec2TagOnCreate',
      // EC2 tag-on-create needs ec2:CreateTags limited by ec2:CreateAction to the creating call.
      actions: ['ec2:CreateTags'],
      resources: [sgs, sgRules],
      conditions: {
        StringEquals: {
          'ec2:CreateAction': ['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress'],
        },
      },
    }),
    new iam.PolicyStatement({
      sid: 'Ec2MutateOwnedSecurityGroups',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
      resources: [sgs],
      conditions: { StringEquals: { [`aws:ResourceTag/${key}`]: OWNED } },
    }),
    new iam.PolicyStatement({
      sid: 'Ec2RetagOwnedSecurityGroups',
      actions: ['ec2:CreateTags'],
      resources: [sgs],
      conditions: {
        StringEquals: { [`aws:ResourceTag/${key}`]: OWNED },
        StringEqualsIfExists: { [`aws:RequestTag/${key}`]: OWNED },
      },
    }),
    new iam.PolicyStatement({
      sid: 'Ec2UntagOwnedNeverClusterTag',
      actions: ['ec2:DeleteTags'],
      resources: [sgs],
      conditions: {
        StringEquals: { [`aws:ResourceTag/${key}`]: OWNED },
        'ForAllValues:StringNotEquals': { 'aws:TagKeys': [key] },
      },
    }),
  ];
  if (cfg.nodeSecurityGroupId) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'Ec2NodeSecurityGroupIngress',
        // The node group is not the controller's (it may be "shared" or untagged), so it is named by ARN: the
        // controller may open/close NodePort ingress from its NLBs on it and on no other existing group.
        actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
        resources: [arn('ec2', `security-group/${cfg.nodeSecurityGroupId}`)],
      }),
    );
  }
  return statements;
}

/**
 * Send the data-plane document to the cluster's nodes. Nothing reads command results through the API: the status
 * rule delivers them as events (ssm-status).
 */
export function ssmSendStatements(cfg: ResolvedConfig, documentArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'SsmSendOurDocument',
      // SendCommand is authorised against the document and against every target instance.
      actions: ['ssm:SendCommand'],
      resources: [documentArn],
    }),
    new iam.PolicyStatement({
      sid: 'SsmSendToClusterNodesOnly',
      // Instances qualify only when they carry the node selector tag (ssm:resourceTag is SSM's tag key for EC2
      // instance targets), so a bug cannot run the document on machines outside the cluster.
      actions: ['ssm:SendCommand'],
      resources: [arn('ec2', 'instance/*')],
      conditions: {
        StringEquals: { [`ssm:resourceTag/${cfg.nodeSelector.key}`]: [...cfg.nodeSelector.values] },
      },
    }),
  ];
}

/** Let the termination lifecycle hook of the node ASGs continue once the node left every target group. */
export function lifecycleStatements(cfg: ResolvedConfig): iam.PolicyStatement[] {
  if (cfg.nodeAutoScalingGroupNames.length === 0) return [];
  return [
    new iam.PolicyStatement({
      sid: 'CompleteNodeLifecycleActions',
      // No RecordLifecycleActionHeartbeat: the handler waits well inside the hook's heartbeat timeout and lets
      // EventBridge retry otherwise.
      actions: ['autoscaling:CompleteLifecycleAction'],
      // The group's UUID is part of its ARN and unknown at synth time; the name pins the group.
      resources: cfg.nodeAutoScalingGroupNames.map((n) =>
        arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${n}`),
      ),
    }),
  ];
}

/** Cluster mode, auth `eks`: the watcher reads the endpoint and CA of the one cluster (CLUSTER_WATCHER_EKS_ACTIONS). */
export function eksClusterStatements(eksClusterName: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'EksDescribeWatchedCluster',
      // Only this cluster, in the stack's region. The Kubernetes calls themselves are authorized by the cluster
      // (an EKS access entry for this role), not by IAM.
      actions: [...CLUSTER_WATCHER_EKS_ACTIONS],
      resources: [arn('eks', `cluster/${eksClusterName}`)],
    }),
  ];
}

/**
 * Cluster mode, auth `kubeconfig`: read the one secret. No kms:Decrypt: the secret must be encrypted with the AWS
 * managed key aws/secretsmanager, which Secrets Manager uses on the caller's behalf.
 */
export function kubeconfigSecretStatements(secretArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadKubeconfigSecret',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secretArn],
    }),
  ];
}

/**
 * What Lambda does with a VPC function's role (AWSLambdaVPCAccessExecutionRole's EC2 actions, inline and scoped):
 * create the function's network interfaces only in the given subnets with the given security groups, and manage
 * network interfaces. Describe has no resource-level permission; Delete/Assign/Unassign are authorized against the
 * interface alone, whose ID Lambda picks.
 */
export function lambdaVpcStatements(vpc: {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}): iam.PolicyStatement[] {
  const interfaces = arn('ec2', 'network-interface/*');
  return [
    new iam.PolicyStatement({
      sid: 'LambdaVpcDescribe',
      actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'LambdaVpcCreateInterfaces',
      // CreateNetworkInterface is authorized against the new interface, its subnet and each security group: the
      // subnet and groups must be the ones given.
      actions: ['ec2:CreateNetworkInterface'],
      resources: [
        interfaces,
        ...vpc.subnetIds.map((s) => arn('ec2', `subnet/${s}`)),
        ...vpc.securityGroupIds.map((g) => arn('ec2', `security-group/${g}`)),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'LambdaVpcManageInterfaces',
      actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [interfaces],
    }),
  ];
}
