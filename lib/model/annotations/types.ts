/**
 * The names of the load-balancer annotations and the shape of their parsed, valid configuration
 * (what lib/lb/builder.ts builds from). Parsing and validation: lib/model/annotations.ts.
 */
export const ANNOTATION_PREFIX = 'service.beta.kubernetes.io/aws-load-balancer-';
export const A = {
  type: `${ANNOTATION_PREFIX}type`,
  targetType: `${ANNOTATION_PREFIX}nlb-target-type`,
  name: `${ANNOTATION_PREFIX}name`,
  internal: `${ANNOTATION_PREFIX}internal`,
  scheme: `${ANNOTATION_PREFIX}scheme`,
  ipAddressType: `${ANNOTATION_PREFIX}ip-address-type`,
  subnets: `${ANNOTATION_PREFIX}subnets`,
  eipAllocations: `${ANNOTATION_PREFIX}eip-allocations`,
  privateIpv4Addresses: `${ANNOTATION_PREFIX}private-ipv4-addresses`,
  additionalTags: `${ANNOTATION_PREFIX}additional-resource-tags`,
  crossZone: `${ANNOTATION_PREFIX}cross-zone-load-balancing-enabled`,
  accessLogEnabled: `${ANNOTATION_PREFIX}access-log-enabled`,
  accessLogBucket: `${ANNOTATION_PREFIX}access-log-s3-bucket-name`,
  accessLogPrefix: `${ANNOTATION_PREFIX}access-log-s3-bucket-prefix`,
  lbAttributes: `${ANNOTATION_PREFIX}attributes`,
  tgAttributes: `${ANNOTATION_PREFIX}target-group-attributes`,
  securityGroups: `${ANNOTATION_PREFIX}security-groups`,
  manageBackendSgRules: `${ANNOTATION_PREFIX}manage-backend-security-group-rules`,
  sslCert: `${ANNOTATION_PREFIX}ssl-cert`,
  sslPorts: `${ANNOTATION_PREFIX}ssl-ports`,
  sslPolicy: `${ANNOTATION_PREFIX}ssl-negotiation-policy`,
  backendProtocol: `${ANNOTATION_PREFIX}backend-protocol`,
  alpnPolicy: `${ANNOTATION_PREFIX}alpn-policy`,
  proxyProtocol: `${ANNOTATION_PREFIX}proxy-protocol`,
  targetNodeLabels: `${ANNOTATION_PREFIX}target-node-labels`,
  hcProtocol: `${ANNOTATION_PREFIX}healthcheck-protocol`,
  hcPort: `${ANNOTATION_PREFIX}healthcheck-port`,
  hcPath: `${ANNOTATION_PREFIX}healthcheck-path`,
  hcInterval: `${ANNOTATION_PREFIX}healthcheck-interval`,
  hcTimeout: `${ANNOTATION_PREFIX}healthcheck-timeout`,
  hcHealthy: `${ANNOTATION_PREFIX}healthcheck-healthy-threshold`,
  hcUnhealthy: `${ANNOTATION_PREFIX}healthcheck-unhealthy-threshold`,
  hcSuccessCodes: `${ANNOTATION_PREFIX}healthcheck-success-codes`,
  sourceRanges: 'service.beta.kubernetes.io/load-balancer-source-ranges',
  // aws-load-balancer-controller annotations that map onto what is built here only for some values (the others are
  // refused with a reason; lib/model/annotations.ts and docs/load-balancers.md#annotations).
  proxyProtocolPerTargetGroup: `${ANNOTATION_PREFIX}proxy-protocol-per-target-group`,
  enableTcpUdpListener: `${ANNOTATION_PREFIX}enable-tcp-udp-listener`,
  quicEnabledPorts: `${ANNOTATION_PREFIX}quic-enabled-ports`,
  multiClusterTargetGroup: `${ANNOTATION_PREFIX}multi-cluster-target-group`,
  inboundSgRulesOnPrivateLink: `${ANNOTATION_PREFIX}inbound-sg-rules-on-private-link-traffic`,
  ipv6Addresses: `${ANNOTATION_PREFIX}ipv6-addresses`,
  enablePrefixForIpv6SourceNat: `${ANNOTATION_PREFIX}enable-prefix-for-ipv6-source-nat`,
  sourceNatIpv6Prefixes: `${ANNOTATION_PREFIX}source-nat-ipv6-prefixes`,
  securityGroupPrefixLists: `${ANNOTATION_PREFIX}security-group-prefix-lists`,
  disableNlbSg: `${ANNOTATION_PREFIX}disable-nlb-sg`,
  icmpForPathMtuDiscovery: `${ANNOTATION_PREFIX}enable-icmp-for-path-mtu-discovery`,
  minimumCapacity: `${ANNOTATION_PREFIX}minimum-load-balancer-capacity`,
} as const;

/**
 * aws-load-balancer-controller's listener default actions, one annotation per listener:
 * `service.beta.kubernetes.io/actions.<PROTOCOL>-<port>` (JSON). Refused: every listener here forwards to its port's
 * own target group.
 */
export const LISTENER_ACTIONS_PREFIX = 'service.beta.kubernetes.io/actions.';

/**
 * aws-load-balancer-controller's listener attributes, one annotation per listener:
 * `service.beta.kubernetes.io/aws-load-balancer-listener-attributes.<PROTOCOL>-<port>` (key=value list).
 */
export const LISTENER_ATTRIBUTES_PREFIX = `${ANNOTATION_PREFIX}listener-attributes.`;

export type Scheme = 'internet-facing' | 'internal';

export interface HealthCheckAnnotations {
  protocol?: 'TCP' | 'HTTP' | 'HTTPS';
  /** A port number, or 'traffic-port' (the target group's own port). */
  port?: number | 'traffic-port';
  path?: string;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
  successCodes?: string;
}

export interface SslAnnotations {
  certificateArns: string[];
  /** '*' = every port; otherwise Service port numbers or names. */
  ports: '*' | (number | string)[];
  negotiationPolicy?: string;
  /** 'ssl' re-encrypts to the targets (TLS target group is not available for NLB instance targets; see docs). */
  backendProtocol: 'tcp' | 'ssl';
  alpnPolicy?: string;
}

export interface LoadBalancerAnnotations {
  /** Explicit LB name; otherwise a deterministic one is generated (lib/lb/naming.ts). */
  name?: string;
  scheme: Scheme;
  ipAddressType: 'ipv4' | 'dualstack';
  /** Subnet IDs or Name tag values; undefined = auto-discovery. */
  subnets?: string[];
  eipAllocations?: string[];
  privateIpv4Addresses?: string[];
  additionalTags: Record<string, string>;
  crossZoneEnabled?: boolean;
  accessLog?: { enabled: boolean; bucket?: string; prefix?: string };
  /** Raw `aws-load-balancer-attributes` (ELBv2 load balancer attribute keys). */
  lbAttributes: Record<string, string>;
  targetGroupAttributes: Record<string, string>;
  /** Security group IDs or Name tag values replacing the managed SG. */
  securityGroups?: string[];
  /**
   * Whether to add the NLB-to-node rule on the node security group. Unset = default: yes with the managed SG, no
   * when the user supplies `aws-load-balancer-security-groups` (as the AWS LB controller does).
   */
  manageBackendSecurityGroupRules?: boolean;
  /** From the annotation; spec.loadBalancerSourceRanges takes precedence when set (as in kube). */
  sourceRanges?: string[];
  /**
   * Managed prefix lists admitted on the listener ports of the managed SG; without explicit source ranges they
   * replace the default 0.0.0.0/0 (as in the AWS LB controller).
   */
  securityGroupPrefixLists?: string[];
  /** `disable-nlb-sg: "true"`: the NLB has no security group; the node SG admits the client ranges instead. */
  disableNlbSecurityGroup?: boolean;
  /** `enable-icmp-for-path-mtu-discovery: "on"`: ICMP "fragmentation needed" from the source ranges. */
  icmpForPathMtuDiscovery?: boolean;
  /** `minimum-load-balancer-capacity: CapacityUnits=N`; 0 resets the reservation, as does removing the annotation. */
  minimumCapacityUnits?: number;
  /** Listener attributes by listener, `<PROTOCOL>-<port>` as in the annotation's name (e.g. "TCP-80"). */
  listenerAttributes?: Record<string, Record<string, string>>;
  ssl?: SslAnnotations;
  healthCheck: HealthCheckAnnotations;
  targetNodeLabels?: Record<string, string>;
  proxyProtocolV2: boolean;
}
