/**
 * Parsing and validation of the Service annotations that shape a Network Load Balancer: every
 * `service.beta.kubernetes.io/aws-load-balancer-*` annotation the AWS load balancer controller honours for NLBs with
 * instance targets, plus `service.beta.kubernetes.io/load-balancer-source-ranges`.
 *
 * Called by validateService (type LoadBalancer) so a bad annotation is rejected at apply time with an
 * apiserver-style error, and by the load-balancer builder, which only ever sees a valid `config`.
 * Pure: no AWS SDK. The limits below are the ELBv2 API's own (quoted in each check) so AWS never gets a request we
 * already know it will refuse.
 */
import type { V1Service } from './types.js';
import { forbidden, invalid, notSupported, tooLong, type FieldError } from './field-errors.js';
import { isReservedTagKey } from '../lb/tags.js';

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
} as const;

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
  ssl?: SslAnnotations;
  healthCheck: HealthCheckAnnotations;
  targetNodeLabels?: Record<string, string>;
  proxyProtocolV2: boolean;
}

const field = (key: string): string => `metadata.annotations[${key}]`;

/** Splits a comma-separated annotation value, trimming blanks, as the LB controller does. */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseBool(key: string, v: string, errs: FieldError[]): boolean | undefined {
  if (v === 'true') return true;
  if (v === 'false') return false;
  errs.push(notSupported(field(key), v, ['true', 'false']));
  return undefined;
}

function parseIntRange(key: string, v: string, min: number, max: number, what: string, errs: FieldError[]) {
  if (!/^\d+$/.test(v.trim())) {
    errs.push(invalid(field(key), v, `${what} must be an integer between ${min} and ${max}`));
    return undefined;
  }
  const n = Number(v.trim());
  if (n < min || n > max) {
    errs.push(invalid(field(key), v, `${what} must be between ${min} and ${max}`));
    return undefined;
  }
  return n;
}

/** `k1=v1,k2=v2` lists (tags, attributes, node labels). Keys must be unique and non-empty. */
export function parseKeyValueList(key: string, v: string, errs: FieldError[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let ok = true;
  for (const item of splitList(v)) {
    const eq = item.indexOf('=');
    const k = (eq < 0 ? item : item.slice(0, eq)).trim();
    const val = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || k === '') {
      errs.push(
        invalid(field(key), v, `"${item}" is not a key=value pair; expected a comma-separated list of key=value`),
      );
      ok = false;
      continue;
    }
    if (k in out) {
      errs.push(invalid(field(key), v, `key "${k}" appears more than once`));
      ok = false;
      continue;
    }
    out[k] = val;
  }
  return ok ? out : undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

function isIPv6(s: string): boolean {
  // Structural check sufficient for CIDR validation: hex groups, at most one "::", at most 8 groups.
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.split('::').length > 2) return false;
  const groups = s.split(':').filter((g) => g !== '');
  if (groups.some((g) => g.length > 4)) return false;
  return s.includes('::') ? groups.length < 8 : groups.length === 8;
}

/** An IPv4 or IPv6 CIDR, like net.ParseCIDR accepts (host bits may be set; AWS normalises them). */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return false;
  const n = Number(len);
  if (isIPv4(ip)) return n <= 32;
  if (isIPv6(ip)) return n <= 128;
  return false;
}

/**
 * ELBv2 name rules (CreateLoadBalancer/CreateTargetGroup "Name"): at most 32 characters, only alphanumerics and
 * hyphens, must not begin or end with a hyphen, and a load balancer name must not begin with "internal-".
 */
export function elbv2NameProblem(name: string, kind: 'load balancer' | 'target group'): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 32) return `must be no more than 32 characters (ELBv2 ${kind} name limit)`;
  if (!/^[A-Za-z0-9-]+$/.test(name)) return 'must contain only alphanumeric characters and hyphens';
  if (name.startsWith('-') || name.endsWith('-')) return 'must not begin or end with a hyphen';
  if (kind === 'load balancer' && name.toLowerCase().startsWith('internal-')) return 'must not begin with "internal-"';
  return undefined;
}

// S3 bucket naming rules (the access log bucket): 3-63 chars, lowercase letters, digits, dots and hyphens,
// beginning and ending with a letter or digit.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const CERT_ARN = /^arn:aws[a-z-]*:(acm|iam):[a-z0-9-]*:\d{12}:(certificate|server-certificate)\/.+$/;

/** The NLB target group attribute keys we check values for; other keys pass through to AWS unchanged. */
const TG_ATTR_CHECKS: Record<string, (v: string) => string | undefined> = {
  'deregistration_delay.timeout_seconds': (v) =>
    /^\d+$/.test(v) && Number(v) <= 3600 ? undefined : 'must be an integer between 0 and 3600',
  'deregistration_delay.connection_termination.enabled': boolCheck,
  'preserve_client_ip.enabled': boolCheck,
  'proxy_protocol_v2.enabled': boolCheck,
  'stickiness.enabled': boolCheck,
  'stickiness.type': (v) => (v === 'source_ip' ? undefined : 'must be "source_ip" for a Network Load Balancer'),
  'load_balancing.cross_zone.enabled': (v) =>
    ['true', 'false', 'use_load_balancer_configuration'].includes(v)
      ? undefined
      : 'must be one of "true", "false", "use_load_balancer_configuration"',
};
function boolCheck(v: string): string | undefined {
  return v === 'true' || v === 'false' ? undefined : 'must be "true" or "false"';
}

const LB_ATTR_CHECKS: Record<string, (v: string) => string | undefined> = {
  'load_balancing.cross_zone.enabled': boolCheck,
  'deletion_protection.enabled': boolCheck,
  'access_logs.s3.enabled': boolCheck,
};

function checkAttributes(
  key: string,
  raw: string,
  attrs: Record<string, string>,
  checks: Record<string, (v: string) => string | undefined>,
  errs: FieldError[],
): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (!/^[a-z0-9_.]+$/.test(k)) {
      errs.push(
        invalid(field(key), raw, `attribute key "${k}" must contain only lowercase letters, digits, "." and "_"`),
      );
      continue;
    }
    const problem = checks[k]?.(v);
    if (problem) errs.push(invalid(field(key), raw, `attribute ${k}=${v}: ${problem}`));
  }
}

/**
 * Parses every load-balancer annotation of `svc`. `errors` lists each bad annotation once or more with
 * `metadata.annotations[<key>]` as the field; `config` holds the valid parts with defaults applied.
 */
export function parseLoadBalancerAnnotations(svc: V1Service): {
  config: LoadBalancerAnnotations;
  errors: FieldError[];
} {
  const ann = svc.metadata?.annotations ?? {};
  const errs: FieldError[] = [];
  const get = (k: string): string | undefined => {
    const v = ann[k];
    return v === undefined ? undefined : v.trim();
  };
  const config: LoadBalancerAnnotations = {
    scheme: 'internet-facing',
    ipAddressType: 'ipv4',
    additionalTags: {},
    lbAttributes: {},
    targetGroupAttributes: {},
    healthCheck: {},
    proxyProtocolV2: false,
  };

  // Load balancer type: this controller only builds NLBs; "nlb" (cloud-provider-aws) and "external" (the AWS LB
  // controller) both mean that. A Classic ELB (no annotation in cloud-provider-aws) is never built: absent = NLB.
  const type = get(A.type);
  if (type !== undefined && type !== 'nlb' && type !== 'external' && type !== 'nlb-ip') {
    errs.push(notSupported(field(A.type), type, ['nlb', 'external']));
  }
  const targetType = get(A.targetType);
  if (type === 'nlb-ip' || (targetType !== undefined && targetType !== 'instance')) {
    // Pod IPs are not addressable from an NLB in this design (nodes reach Pods through their own data plane).
    const key = type === 'nlb-ip' ? A.type : A.targetType;
    errs.push(invalid(field(key), ann[key], 'only "instance" targets are supported: targets are the cluster nodes'));
  }

  const name = get(A.name);
  if (name !== undefined) {
    const p = elbv2NameProblem(name, 'load balancer');
    if (p) errs.push(invalid(field(A.name), name, p));
    else config.name = name;
  }

  // Scheme: `-scheme` is the LB controller's spelling, `-internal` cloud-provider-aws's. Both accepted; when both are
  // present they must agree (silently preferring one would surprise whoever set the other).
  const schemeRaw = get(A.scheme);
  let scheme: Scheme | undefined;
  if (schemeRaw !== undefined) {
    if (schemeRaw === 'internet-facing' || schemeRaw === 'internal') scheme = schemeRaw;
    else errs.push(notSupported(field(A.scheme), schemeRaw, ['internet-facing', 'internal']));
  }
  const internalRaw = get(A.internal);
  if (internalRaw !== undefined) {
    const internal = parseBool(A.internal, internalRaw, errs);
    if (internal !== undefined) {
      const s: Scheme = internal ? 'internal' : 'internet-facing';
      if (scheme !== undefined && scheme !== s) {
        errs.push(
          invalid(field(A.internal), internalRaw, `conflicts with ${A.scheme}="${schemeRaw}"; set only one of them`),
        );
      }
      scheme ??= s;
    }
  }
  if (scheme) config.scheme = scheme;

  const ipType = get(A.ipAddressType);
  if (ipType !== undefined) {
    if (ipType === 'ipv4' || ipType === 'dualstack') config.ipAddressType = ipType;
    else errs.push(notSupported(field(A.ipAddressType), ipType, ['ipv4', 'dualstack']));
  }

  const subnets = get(A.subnets);
  if (subnets !== undefined) {
    const list = splitList(subnets);
    if (list.length === 0) errs.push(invalid(field(A.subnets), subnets, 'must list at least one subnet ID or Name'));
    else if (new Set(list).size !== list.length) errs.push(invalid(field(A.subnets), subnets, 'lists a subnet twice'));
    else config.subnets = list;
  }

  const eips = get(A.eipAllocations);
  if (eips !== undefined) {
    const list = splitList(eips);
    const bad = list.filter((e) => !/^eipalloc-[0-9a-f]{8,17}$/.test(e));
    if (list.length === 0 || bad.length > 0) {
      errs.push(invalid(field(A.eipAllocations), eips, 'must be a comma-separated list of eipalloc-... IDs'));
    } else if (config.scheme === 'internal') {
      errs.push(
        forbidden(field(A.eipAllocations), 'Elastic IPs can only be used with an internet-facing load balancer'),
      );
    } else if (config.subnets && config.subnets.length !== list.length) {
      errs.push(
        invalid(
          field(A.eipAllocations),
          eips,
          `must list one allocation per subnet (${config.subnets.length} subnets)`,
        ),
      );
    } else config.eipAllocations = list;
  }

  const privIps = get(A.privateIpv4Addresses);
  if (privIps !== undefined) {
    const list = splitList(privIps);
    const bad = list.filter((e) => !isIPv4(e));
    if (list.length === 0 || bad.length > 0) {
      errs.push(invalid(field(A.privateIpv4Addresses), privIps, `must be a comma-separated list of IPv4 addresses`));
    } else if (config.scheme !== 'internal') {
      errs.push(forbidden(field(A.privateIpv4Addresses), 'private IPv4 addresses require an internal load balancer'));
    } else if (config.subnets && config.subnets.length !== list.length) {
      errs.push(
        invalid(
          field(A.privateIpv4Addresses),
          privIps,
          `must list one address per subnet (${config.subnets.length} subnets)`,
        ),
      );
    } else config.privateIpv4Addresses = list;
  }

  const tags = get(A.additionalTags);
  if (tags !== undefined) {
    const kv = parseKeyValueList(A.additionalTags, tags, errs);
    if (kv) {
      let ok = true;
      for (const [k, v] of Object.entries(kv)) {
        // AWS tag limits: key 1-128 characters, value 0-256 characters; the "aws:" prefix is reserved by AWS.
        if (isReservedTagKey(k)) {
          errs.push(invalid(field(A.additionalTags), tags, `tag key "${k}" is reserved for ownership tracking`));
          ok = false;
        } else if (k.length > 128) {
          errs.push(
            invalid(field(A.additionalTags), tags, `tag key "${k.slice(0, 20)}..." is longer than 128 characters`),
          );
          ok = false;
        } else if (v.length > 256) {
          errs.push(invalid(field(A.additionalTags), tags, `value of tag "${k}" is longer than 256 characters`));
          ok = false;
        }
      }
      // 50 tags per resource is the AWS limit; we add up to 6 of our own.
      if (Object.keys(kv).length > 40) {
        errs.push(
          invalid(field(A.additionalTags), tags, 'at most 40 additional tags are allowed (AWS allows 50 per resource)'),
        );
        ok = false;
      }
      if (ok) config.additionalTags = kv;
    }
  }

  const crossZone = get(A.crossZone);
  if (crossZone !== undefined) {
    const b = parseBool(A.crossZone, crossZone, errs);
    if (b !== undefined) config.crossZoneEnabled = b;
  }

  const alEnabled = get(A.accessLogEnabled);
  const alBucket = get(A.accessLogBucket);
  const alPrefix = get(A.accessLogPrefix);
  if (alEnabled !== undefined || alBucket !== undefined || alPrefix !== undefined) {
    const enabled = alEnabled === undefined ? false : parseBool(A.accessLogEnabled, alEnabled, errs);
    if (alBucket !== undefined && !S3_BUCKET.test(alBucket)) {
      errs.push(
        invalid(
          field(A.accessLogBucket),
          alBucket,
          'must be a valid S3 bucket name (3-63 lowercase letters, digits, "." and "-")',
        ),
      );
    }
    if (enabled === true && alBucket === undefined) {
      errs.push(forbidden(field(A.accessLogBucket), `required when ${A.accessLogEnabled} is "true"`));
    }
    if (alPrefix !== undefined && (alPrefix.startsWith('/') || alPrefix.toLowerCase().includes('awslogs'))) {
      // ELBv2 rejects a prefix starting with "/" or containing "AWSLogs" (it adds AWSLogs/ itself).
      errs.push(invalid(field(A.accessLogPrefix), alPrefix, 'must not start with "/" or contain "AWSLogs"'));
    }
    if (enabled !== undefined) config.accessLog = { enabled, bucket: alBucket, prefix: alPrefix };
  }

  const lbAttrs = get(A.lbAttributes);
  if (lbAttrs !== undefined) {
    const kv = parseKeyValueList(A.lbAttributes, lbAttrs, errs);
    if (kv) {
      checkAttributes(A.lbAttributes, lbAttrs, kv, LB_ATTR_CHECKS, errs);
      config.lbAttributes = kv;
    }
  }
  const tgAttrs = get(A.tgAttributes);
  if (tgAttrs !== undefined) {
    const kv = parseKeyValueList(A.tgAttributes, tgAttrs, errs);
    if (kv) {
      checkAttributes(A.tgAttributes, tgAttrs, kv, TG_ATTR_CHECKS, errs);
      config.targetGroupAttributes = kv;
    }
  }

  const sgs = get(A.securityGroups);
  if (sgs !== undefined) {
    const list = splitList(sgs);
    if (list.length === 0) errs.push(invalid(field(A.securityGroups), sgs, 'must list at least one security group'));
    else if (list.length > 5) {
      errs.push(invalid(field(A.securityGroups), sgs, 'at most 5 security groups per load balancer (ELBv2 limit)'));
    } else config.securityGroups = list;
  }
  const manage = get(A.manageBackendSgRules);
  if (manage !== undefined) {
    const b = parseBool(A.manageBackendSgRules, manage, errs);
    if (b !== undefined) config.manageBackendSecurityGroupRules = b;
  }

  const ranges = get(A.sourceRanges);
  if (ranges !== undefined) {
    const list = splitList(ranges);
    const bad = list.filter((c) => !isCidr(c));
    if (bad.length > 0) {
      errs.push(
        invalid(
          field(A.sourceRanges),
          ranges,
          `must be a comma-separated list of CIDRs, e.g. "10.0.0.0/8" (bad: ${bad.join(', ')})`,
        ),
      );
    } else config.sourceRanges = list;
  }

  // TLS listeners.
  const cert = get(A.sslCert);
  const sslPorts = get(A.sslPorts);
  const sslPolicy = get(A.sslPolicy);
  const backend = get(A.backendProtocol);
  const alpn = get(A.alpnPolicy);
  if (sslPolicy !== undefined && !/^[A-Za-z0-9-]+$/.test(sslPolicy)) {
    errs.push(
      invalid(
        field(A.sslPolicy),
        sslPolicy,
        'must be an ELBv2 security policy name, e.g. "ELBSecurityPolicy-TLS13-1-2-2021-06"',
      ),
    );
  }
  let backendProtocol: 'tcp' | 'ssl' = 'tcp';
  if (backend !== undefined) {
    if (backend === 'tcp' || backend === 'ssl') backendProtocol = backend;
    else errs.push(notSupported(field(A.backendProtocol), backend, ['ssl', 'tcp']));
  }
  const ALPN = ['HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred', 'None'];
  if (alpn !== undefined && !ALPN.includes(alpn)) errs.push(notSupported(field(A.alpnPolicy), alpn, ALPN));
  if (cert !== undefined) {
    const arns = splitList(cert);
    const bad = arns.filter((a) => !CERT_ARN.test(a));
    if (arns.length === 0 || bad.length > 0) {
      errs.push(
        invalid(
          field(A.sslCert),
          cert,
          'must be a comma-separated list of ACM or IAM certificate ARNs (arn:aws:acm:...)',
        ),
      );
    } else {
      let ports: '*' | (number | string)[] = '*';
      if (sslPorts !== undefined && sslPorts !== '*') {
        const list = splitList(sslPorts);
        const svcPorts = svc.spec?.ports ?? [];
        const unknown = list.filter((p) => !svcPorts.some((sp) => String(sp.port) === p || (sp.name && sp.name === p)));
        if (list.length === 0 || unknown.length > 0) {
          errs.push(
            invalid(
              field(A.sslPorts),
              sslPorts,
              `must be "*" or Service port numbers/names${unknown.length ? `; not a port of this Service: ${unknown.join(', ')}` : ''}`,
            ),
          );
        }
        ports = list.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      }
      config.ssl = {
        certificateArns: arns,
        ports,
        negotiationPolicy: sslPolicy,
        backendProtocol,
        alpnPolicy: alpn,
      };
    }
  } else if (sslPorts !== undefined) {
    errs.push(forbidden(field(A.sslPorts), `requires ${A.sslCert}`));
  }

  const proxy = get(A.proxyProtocol);
  if (proxy !== undefined) {
    // As in the LB controller: "*" (all target groups) is the only accepted value.
    if (proxy === '*') config.proxyProtocolV2 = true;
    else errs.push(notSupported(field(A.proxyProtocol), proxy, ['*']));
  }

  const nodeLabels = get(A.targetNodeLabels);
  if (nodeLabels !== undefined) {
    const kv = parseKeyValueList(A.targetNodeLabels, nodeLabels, errs);
    if (kv) config.targetNodeLabels = kv;
  }

  // Health checks, with the ELBv2 limits for Network Load Balancer target groups.
  const hc = config.healthCheck;
  const hcProto = get(A.hcProtocol);
  if (hcProto !== undefined) {
    const up = hcProto.toUpperCase();
    if (up === 'TCP' || up === 'HTTP' || up === 'HTTPS') hc.protocol = up;
    else errs.push(notSupported(field(A.hcProtocol), hcProto, ['tcp', 'http', 'https']));
  }
  const hcPort = get(A.hcPort);
  if (hcPort !== undefined) {
    if (hcPort === 'traffic-port') hc.port = 'traffic-port';
    else {
      const n = parseIntRange(A.hcPort, hcPort, 1, 65535, 'health check port', errs);
      if (n !== undefined) hc.port = n;
    }
  }
  const hcPath = get(A.hcPath);
  if (hcPath !== undefined) {
    // ELBv2 HealthCheckPath: 1-1024 characters, must begin with "/".
    if (!hcPath.startsWith('/')) errs.push(invalid(field(A.hcPath), hcPath, 'must begin with "/"'));
    else if (hcPath.length > 1024) errs.push(tooLong(field(A.hcPath), 1024));
    else if (/[\s"'\\]/.test(hcPath))
      errs.push(invalid(field(A.hcPath), hcPath, 'must not contain whitespace, quotes or backslashes'));
    else hc.path = hcPath;
  }
  const interval = get(A.hcInterval);
  if (interval !== undefined) {
    const n = parseIntRange(A.hcInterval, interval, 5, 300, 'health check interval (seconds)', errs);
    if (n !== undefined) hc.intervalSeconds = n;
  }
  const timeout = get(A.hcTimeout);
  if (timeout !== undefined) {
    const n = parseIntRange(A.hcTimeout, timeout, 2, 120, 'health check timeout (seconds)', errs);
    if (n !== undefined) hc.timeoutSeconds = n;
  }
  if (hc.timeoutSeconds !== undefined && hc.intervalSeconds !== undefined && hc.timeoutSeconds > hc.intervalSeconds) {
    // A timeout longer than the interval would overlap probes; ELBv2 rejects it.
    errs.push(
      invalid(field(A.hcTimeout), timeout, `must not exceed the health check interval (${hc.intervalSeconds})`),
    );
  }
  const healthy = get(A.hcHealthy);
  if (healthy !== undefined) {
    const n = parseIntRange(A.hcHealthy, healthy, 2, 10, 'healthy threshold', errs);
    if (n !== undefined) hc.healthyThreshold = n;
  }
  const unhealthy = get(A.hcUnhealthy);
  if (unhealthy !== undefined) {
    const n = parseIntRange(A.hcUnhealthy, unhealthy, 2, 10, 'unhealthy threshold', errs);
    if (n !== undefined) hc.unhealthyThreshold = n;
  }
  const codes = get(A.hcSuccessCodes);
  if (codes !== undefined) {
    // NLB HTTP(S) health checks accept codes 200-599 as "200", "200,202" or "200-399".
    const okPart = (p: string) => {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(p);
      if (!m) return false;
      const lo = Number(m[1]);
      const hi = m[2] ? Number(m[2]) : lo;
      return lo >= 200 && hi <= 599 && lo <= hi;
    };
    const parts = splitList(codes);
    if (parts.length === 0 || !parts.every(okPart)) {
      errs.push(
        invalid(
          field(A.hcSuccessCodes),
          codes,
          'must be HTTP codes between 200 and 599, e.g. "200", "200,202" or "200-399"',
        ),
      );
    } else hc.successCodes = codes;
  }

  return { config, errors: errs };
}
