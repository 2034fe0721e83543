/**
 * Data shapes of the load-balancer pipeline: desired state (built from a Service), observed state (read from AWS
 * by ownership tags) and the plan between them. Everything here is plain JSON: plans are logged, printed by
 * `svcctl plan` and compared with golden files. Pure: no AWS SDK import.
 */

export type ListenerProtocol = 'TCP' | 'UDP' | 'TCP_UDP' | 'TLS';
export type TargetGroupProtocol = 'TCP' | 'UDP' | 'TCP_UDP' | 'TLS';

export interface SubnetMapping {
  subnetId: string;
  allocationId?: string;
  privateIPv4Address?: string;
}

export interface HealthCheck {
  protocol: 'TCP' | 'HTTP' | 'HTTPS';
  /** "traffic-port" or a port number as a string (the ELBv2 API's own representation). */
  port: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** HTTP(S) only. */
  matcher?: string;
}

export interface DesiredLoadBalancer {
  name: string;
  scheme: 'internet-facing' | 'internal';
  ipAddressType: 'ipv4' | 'dualstack';
  subnetMappings: SubnetMapping[];
  /**
   * Security group IDs; the literal "managed" stands for the managed SG of this stack. Empty: the NLB has none
   * (`disable-nlb-sg`); ELBv2 can neither add the first nor remove the last, so a change either way is a replacement.
   */
  securityGroups: string[];
  attributes: Record<string, string>;
  /**
   * Reserved capacity units (ModifyCapacityReservation MinimumLoadBalancerCapacity); absent: none, and a reservation
   * found on the NLB is reset.
   */
  minimumCapacityUnits?: number;
  tags: Record<string, string>;
}

export interface DesiredTargetGroup {
  /** Stable identity inside the stack, e.g. "tcp-80"; stored in the resource tag. */
  key: string;
  name: string;
  protocol: TargetGroupProtocol;
  /** The NodePort. */
  port: number;
  vpcId: string;
  targetType: 'instance';
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  /** Instance IDs, sorted. */
  targets: string[];
  tags: Record<string, string>;
}

export interface DesiredListener {
  key: string;
  port: number;
  protocol: ListenerProtocol;
  /** The target group a plain forward goes to; with `weighted`, its first group. */
  targetGroupKey: string;
  /**
   * Weighted forwarding (a Gateway route rule with several backends): ONE forward action over these target groups
   * (ELBv2 ForwardConfig; NLB weighted target groups take 0-999 and at most 5 groups per action).
   */
  weighted?: WeightedTargetGroup[];
  certificateArns?: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  /**
   * `listener-attributes.<PROTOCOL>-<port>` (ModifyListenerAttributes). Only these keys are managed, as in
   * aws-load-balancer-controller: a key no longer listed keeps its value on the listener.
   */
  attributes?: Record<string, string>;
  tags: Record<string, string>;
}

export interface WeightedTargetGroup {
  targetGroupKey: string;
  weight: number;
}

/**
 * One ingress permission of the managed security group. Ports are the listener port; for `icmp` / `icmpv6` they are
 * the ICMP type (fromPort) and code (toPort), as EC2 has them. The source is exactly one of `cidr` and `prefixListId`.
 */
export interface IngressRule {
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  fromPort: number;
  toPort: number;
  cidr?: string;
  /** A managed prefix list (`security-group-prefix-lists`), instead of a CIDR. */
  prefixListId?: string;
}

export interface DesiredSecurityGroup {
  name: string;
  description: string;
  ingress: IngressRule[];
  tags: Record<string, string>;
}

/**
 * A port range on the node security group opened to the NLB's security group, or, for an NLB without security groups
 * (`disable-nlb-sg`), one port opened to one CIDR.
 */
export interface NodePermission {
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
  /** The source when the NLB has no security group: client ranges, the VPC or the NLB's subnets (health checks). */
  cidr?: string;
}

export interface DesiredNodeRule {
  groupId: string;
  /** Source security group: an ID, or "managed"; absent when the NLB has none (every permission has a cidr). */
  sourceGroup?: string;
  description: string;
  permissions: NodePermission[];
}

export interface DesiredStack {
  cluster: string;
  /** "<namespace>/<name>". */
  stack: string;
  /**
   * The NLB DNS name the Service's status already points at (users and DNS records follow it): among duplicate
   * NLBs, this one is kept.
   */
  inUseHostname?: string;
  loadBalancer: DesiredLoadBalancer;
  securityGroup?: DesiredSecurityGroup;
  nodeRule?: DesiredNodeRule;
  targetGroups: DesiredTargetGroup[];
  listeners: DesiredListener[];
  warnings: string[];
}

export interface ObservedListener {
  arn: string;
  port: number;
  protocol: string;
  targetGroupArn?: string;
  /** The forward action's target groups with weights (ForwardConfig), when it has more than one. */
  weighted?: { targetGroupArn: string; weight: number }[];
  certificateArns: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  /** DescribeListenerAttributes; absent in a shallow observation. */
  attributes?: Record<string, string>;
}

export interface ObservedLoadBalancer {
  arn: string;
  name: string;
  dnsName: string;
  scheme: string;
  type: string;
  ipAddressType: string;
  vpcId: string;
  state: string;
  createdTime: string;
  subnetMappings: SubnetMapping[];
  securityGroups: string[];
  tags: Record<string, string>;
  attributes: Record<string, string>;
  /** DescribeCapacityReservation's MinimumLoadBalancerCapacity; absent when none (or in a shallow observation). */
  minimumCapacityUnits?: number;
  listeners: ObservedListener[];
}

export interface ObservedTargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: string;
  healthCheck: HealthCheck;
  tags: Record<string, string>;
  attributes: Record<string, string>;
  /** Registered instance IDs (draining ones excluded), sorted. */
  targets: string[];
  loadBalancerArns: string[];
}

export interface ObservedSecurityGroup {
  groupId: string;
  groupName: string;
  tags: Record<string, string>;
  ingress: IngressRule[];
}

export interface ObservedNodePermission extends NodePermission {
  groupId: string;
  /** The source security group; '' for a CIDR permission (then `cidr` is set). */
  sourceGroupId: string;
  /** Identifies the stack (tags.ts nodeRuleDescription); sent back on revoke for EC2 implementations that match on it. */
  description: string;
}

export interface ObservedStack {
  stack: string;
  loadBalancers: ObservedLoadBalancer[];
  targetGroups: ObservedTargetGroup[];
  securityGroups: ObservedSecurityGroup[];
  nodePermissions: ObservedNodePermission[];
}

/** A value known at plan time, or a reference to a resource the same plan creates. */
export type Ref =
  string | { ref: 'lb' } | { ref: 'sg' } | { ref: 'tg'; key: string } | { ref: 'listener'; key: string };

/** A weighted forward's target group, by reference (it may be created by the same plan). */
export interface WeightedRef {
  targetGroup: Ref;
  weight: number;
}

export type Action =
  | { op: 'create'; kind: 'SecurityGroup'; name: string; desired: DesiredSecurityGroup; vpcId: string }
  | {
      op: 'update';
      kind: 'SecurityGroupIngress';
      name: string;
      groupId: Ref;
      authorize: IngressRule[];
      revoke: IngressRule[];
    }
  | { op: 'create'; kind: 'LoadBalancer'; name: string; desired: DesiredLoadBalancer; securityGroups: Ref[] }
  | { op: 'update'; kind: 'LoadBalancerAttributes'; name: string; arn: Ref; attributes: Record<string, string> }
  | {
      op: 'update';
      kind: 'LoadBalancerCapacity';
      name: string;
      arn: Ref;
      /** Reserve this many capacity units; undefined: reset (ResetCapacityReservation). */
      capacityUnits?: number;
    }
  | { op: 'update'; kind: 'LoadBalancerSubnets'; name: string; arn: string; subnetMappings: SubnetMapping[] }
  | { op: 'update'; kind: 'LoadBalancerSecurityGroups'; name: string; arn: string; securityGroups: Ref[] }
  | { op: 'create'; kind: 'TargetGroup'; name: string; desired: DesiredTargetGroup }
  | {
      op: 'update';
      kind: 'TargetGroupHealthCheck';
      name: string;
      arn: string;
      healthCheck: HealthCheck;
      changes: string[];
    }
  | { op: 'update'; kind: 'TargetGroupAttributes'; name: string; arn: Ref; attributes: Record<string, string> }
  | { op: 'update'; kind: 'RegisterTargets'; name: string; arn: Ref; port: number; instanceIds: string[] }
  | { op: 'update'; kind: 'DeregisterTargets'; name: string; arn: string; port: number; instanceIds: string[] }
  | {
      op: 'update';
      kind: 'Tags';
      name: string;
      service: 'elbv2' | 'ec2';
      resource: string;
      add: Record<string, string>;
      remove: string[];
    }
  | {
      op: 'create';
      kind: 'Listener';
      name: string;
      loadBalancer: Ref;
      desired: DesiredListener;
      targetGroup: Ref;
      weighted?: WeightedRef[];
    }
  | {
      op: 'update';
      kind: 'Listener';
      name: string;
      arn: string;
      desired: DesiredListener;
      targetGroup: Ref;
      weighted?: WeightedRef[];
      changes: string[];
    }
  | { op: 'update'; kind: 'ListenerAttributes'; name: string; arn: Ref; attributes: Record<string, string> }
  | {
      op: 'update';
      kind: 'NodeRule';
      name: string;
      groupId: string;
      /** Absent: every permission has its cidr (an NLB without security groups). */
      sourceGroup?: Ref;
      authorize: NodePermission[];
      description: string;
    }
  | { op: 'delete'; kind: 'NodeRule'; name: string; groupId: string; permissions: ObservedNodePermission[] }
  | { op: 'delete'; kind: 'Listener'; name: string; arn: string }
  | { op: 'delete'; kind: 'TargetGroup'; name: string; arn: string }
  | { op: 'delete'; kind: 'LoadBalancer'; name: string; arn: string; reason: string }
  | { op: 'delete'; kind: 'SecurityGroup'; name: string; groupId: string };

export interface Plan {
  stack: string;
  actions: Action[];
  warnings: string[];
  /** The DNS name the Service will have once applied (known when the kept NLB already exists). */
  hostname?: string;
}
