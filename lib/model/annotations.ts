/**
 * Parsing and validation of the Service annotations that shape a Network Load Balancer: every
 * `service.beta.kubernetes.io/aws-load-balancer-*` annotation the AWS load balancer controller honours for NLBs with
 * instance targets, plus `service.beta.kubernetes.io/load-balancer-source-ranges`.
 *
 * Called by validateService (type LoadBalancer) so a bad annotation is rejected at apply time with an
 * apiserver-style error, and by the load-balancer builder, which only ever sees a valid `config`.
 * Pure: no AWS SDK. The limits are the AWS APIs' own (quoted in each check, lib/model/annotations/validators.ts) so
 * AWS never gets a request we already know it will refuse.
 *
 * One table entry per annotation (ANNOTATIONS below): its parser (built from lib/model/annotations/parsers.ts), its
 * checks, and where a valid value goes. Adding an annotation is adding its name to A and an entry here. Entries run
 * in table order, which is the order of the errors; a check involving another annotation (scheme vs internal, EIPs
 * vs subnets, ...) is a named function below, run by the entry it reports on.
 */
import type { V1Service } from './types.js';
import { forbidden, invalid, type FieldError } from './field-errors.js';
import { isReservedTagKey } from '../tags.js';
import { isIPv4 } from './ip.js';
import { A, type LoadBalancerAnnotations, type HealthCheckAnnotations, type Scheme } from './annotations/types.js';
import {
  annotationField,
  atMost,
  bad,
  bool,
  distinct,
  intInRange,
  keyValues,
  list,
  listOf,
  map,
  matches,
  nonEmpty,
  oneOf,
  rejecting,
  reporting,
  splitList,
  text,
  type At,
  type Check,
  type Ctx,
  type Parser,
  type Pending,
} from './annotations/parsers.js';
import {
  LB_ATTR_CHECKS,
  TG_ATTR_CHECKS,
  accessLogPrefix,
  attributes,
  elbv2Name,
  healthCheckPath,
  isAwsCidr,
  isCertificateArn,
  isEipAllocationId,
  s3BucketName,
  successCodes,
} from './annotations/validators.js';

export { A, ANNOTATION_PREFIX } from './annotations/types.js';
export type { HealthCheckAnnotations, LoadBalancerAnnotations, Scheme, SslAnnotations } from './annotations/types.js';
export { parseKeyValueList, splitList } from './annotations/parsers.js';
export { elbv2NameProblem } from './annotations/validators.js';

/** The AWS resource an annotation shapes. */
export type Resource =
  'load balancer' | 'listener' | 'target group' | 'health check' | 'security group' | 'targets' | 'every resource';

interface Entry<T> {
  key: string;
  affects: Resource;
  parse: Parser<T>;
  /** Where a valid value goes: a config field, or `pending` for a rule that assembles several annotations. */
  apply?: (v: T, ctx: Ctx) => void;
}

export interface AnnotationEntry {
  readonly key: string;
  readonly affects: Resource;
  /** Parses and checks the annotation when the Service has it, reporting to ctx.errs. */
  run(ctx: Ctx): void;
}

function entry<T>(e: Entry<T>): AnnotationEntry {
  return {
    key: e.key,
    affects: e.affects,
    run(ctx) {
      const raw = ctx.ann[e.key];
      if (raw === undefined) return;
      const v = e.parse({ ...ctx, key: e.key, field: annotationField(e.key), value: raw.trim(), raw });
      if (v !== undefined) e.apply?.(v, ctx);
    },
  };
}

const to =
  <K extends keyof LoadBalancerAnnotations>(k: K) =>
  (v: LoadBalancerAnnotations[K], ctx: Ctx) => {
    ctx.config[k] = v;
  };
const toHealthCheck =
  <K extends keyof HealthCheckAnnotations>(k: K) =>
  (v: HealthCheckAnnotations[K], ctx: Ctx) => {
    ctx.config.healthCheck[k] = v;
  };
const toPending =
  <K extends keyof Pending>(k: K) =>
  (v: Pending[K], ctx: Ctx) => {
    ctx.pending[k] = v;
  };

// --- Rules involving more than one annotation ---

/**
 * Pod IPs are not addressable from an NLB in this design (nodes reach Pods through their own data plane), so only
 * "instance" targets: `type: nlb-ip` or `nlb-target-type` other than instance. Reported once, on the type when it
 * says nlb-ip, showing the value as written.
 */
function instanceTargetsOnly(_: string, at: At): FieldError | undefined {
  const typeSaysIp = at.get(A.type) === 'nlb-ip';
  const refused = at.key === A.type ? typeSaysIp : !typeSaysIp && at.value !== 'instance';
  return refused
    ? invalid(at.field, at.raw, 'only "instance" targets are supported: targets are the cluster nodes')
    : undefined;
}

/**
 * `-scheme` is the LB controller's spelling, `-internal` cloud-provider-aws's. Both accepted; when both are present
 * they must agree (silently preferring one would surprise whoever set the other).
 */
const agreesWithScheme: Check<Scheme> = (s, at) =>
  at.pending.scheme !== undefined && at.pending.scheme !== s
    ? bad(at, `conflicts with ${A.scheme}="${at.pending.scheme}"; set only one of them`)
    : undefined;

const internetFacingOnly: Check<string[]> = (_, at) =>
  at.config.scheme === 'internal'
    ? forbidden(at.field, 'Elastic IPs can only be used with an internet-facing load balancer')
    : undefined;

const internalOnly: Check<string[]> = (_, at) =>
  at.config.scheme !== 'internal'
    ? forbidden(at.field, 'private IPv4 addresses require an internal load balancer')
    : undefined;

/** ELBv2 SubnetMappings: an EIP or a private address is given per subnet, so the lists pair up. */
const onePerSubnet =
  (what: string): Check<string[]> =>
  (l, at) => {
    const n = at.config.subnets?.length;
    return n !== undefined && n !== l.length ? bad(at, `must list one ${what} per subnet (${n} subnets)`) : undefined;
  };

/** On the enabled flag, reported on the bucket's field (it cannot also have the bucket's own error: it is absent). */
const bucketWhenEnabled: Check<boolean> = (enabled, at) =>
  enabled && at.get(A.accessLogBucket) === undefined
    ? forbidden(annotationField(A.accessLogBucket), `required when ${A.accessLogEnabled} is "true"`)
    : undefined;

/** A timeout longer than the interval would overlap probes; ELBv2 rejects it. */
const withinInterval: Check<number> = (t, at) => {
  const interval = at.config.healthCheck.intervalSeconds;
  return interval !== undefined && t > interval
    ? bad(at, `must not exceed the health check interval (${interval})`)
    : undefined;
};

/** "*" or ports of this Service; needs a certificate (and says nothing more when the certificate is itself bad). */
function sslPorts(at: At): '*' | (number | string)[] | undefined {
  if (at.get(A.sslCert) === undefined) {
    at.errs.push(forbidden(at.field, `requires ${A.sslCert}`));
    return undefined;
  }
  if (at.pending.certificateArns === undefined) return undefined;
  if (at.value === '*') return '*';
  const ports = splitList(at.value);
  const svcPorts = at.svc.spec?.ports ?? [];
  const unknown = ports.filter((p) => !svcPorts.some((sp) => String(sp.port) === p || (sp.name && sp.name === p)));
  if (ports.length === 0 || unknown.length > 0) {
    const which = unknown.length ? `; not a port of this Service: ${unknown.join(', ')}` : '';
    at.errs.push(bad(at, `must be "*" or Service port numbers/names${which}`));
  }
  // Kept even when refused: the builder reports on the ports as written too.
  return ports.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** AWS tag limits: key 1-128 characters, value 0-256; the "aws:" prefix and our ownership keys are reserved. */
const awsTagLimits: Check<Record<string, string>> = (tags, at) => {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(tags)) {
    if (isReservedTagKey(k)) errs.push(bad(at, `tag key "${k}" is reserved for ownership tracking`));
    else if (k.length > 128) errs.push(bad(at, `tag key "${k.slice(0, 20)}..." is longer than 128 characters`));
    else if (v.length > 256) errs.push(bad(at, `value of tag "${k}" is longer than 256 characters`));
  }
  // 50 tags per resource is the AWS limit; we add up to 6 of our own.
  if (Object.keys(tags).length > 40) {
    errs.push(bad(at, 'at most 40 additional tags are allowed (AWS allows 50 per resource)'));
  }
  return errs;
};

/** The access log settings, from three annotations: any of them turns the setting on (enabled defaults to false). */
function assembleAccessLog(ctx: Ctx): void {
  const [enabledRaw, bucket, prefix] = [A.accessLogEnabled, A.accessLogBucket, A.accessLogPrefix].map(ctx.get);
  if (enabledRaw === undefined && bucket === undefined && prefix === undefined) return;
  const enabled = enabledRaw === undefined ? false : ctx.pending.accessLogEnabled;
  if (enabled !== undefined) ctx.config.accessLog = { enabled, bucket, prefix };
}

/** TLS listeners: a valid certificate turns them on; the other ssl annotations refine them. */
function assembleSsl(ctx: Ctx): void {
  const certificateArns = ctx.pending.certificateArns;
  if (certificateArns === undefined) return;
  ctx.config.ssl = {
    certificateArns,
    ports: ctx.pending.sslPorts ?? '*',
    negotiationPolicy: ctx.get(A.sslPolicy),
    backendProtocol: ctx.pending.backendProtocol ?? 'tcp',
    alpnPolicy: ctx.get(A.alpnPolicy),
  };
}

const ALPN = ['HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred', 'None'] as const;

/** Every annotation, in the order its errors are reported. */
export const ANNOTATIONS: readonly AnnotationEntry[] = [
  // This controller only builds NLBs; "nlb" (cloud-provider-aws) and "external" (the AWS LB controller) both mean
  // that. A Classic ELB (no annotation in cloud-provider-aws) is never built: absent = NLB.
  entry({
    key: A.type,
    affects: 'load balancer',
    parse: rejecting(oneOf(['nlb', 'external', 'nlb-ip'], { shown: ['nlb', 'external'] }), instanceTargetsOnly),
  }),
  entry({ key: A.targetType, affects: 'target group', parse: rejecting(text, instanceTargetsOnly) }),
  entry({
    key: A.name,
    affects: 'load balancer',
    parse: rejecting(text, elbv2Name('load balancer')),
    apply: to('name'),
  }),
  entry({
    key: A.scheme,
    affects: 'load balancer',
    parse: oneOf(['internet-facing', 'internal']),
    apply: (s: Scheme, ctx) => {
      ctx.config.scheme = ctx.pending.scheme = s;
    },
  }),
  entry({
    key: A.internal,
    affects: 'load balancer',
    parse: rejecting(
      map(bool, (internal): Scheme => (internal ? 'internal' : 'internet-facing')),
      agreesWithScheme,
    ),
    apply: to('scheme'),
  }),
  entry({
    key: A.ipAddressType,
    affects: 'load balancer',
    parse: oneOf(['ipv4', 'dualstack']),
    apply: to('ipAddressType'),
  }),
  entry({
    key: A.subnets,
    affects: 'load balancer',
    parse: rejecting(list, nonEmpty('must list at least one subnet ID or Name'), distinct('lists a subnet twice')),
    apply: to('subnets'),
  }),
  entry({
    key: A.eipAllocations,
    affects: 'load balancer',
    parse: rejecting(
      listOf(isEipAllocationId, 'must be a comma-separated list of eipalloc-... IDs'),
      internetFacingOnly,
      onePerSubnet('allocation'),
    ),
    apply: to('eipAllocations'),
  }),
  entry({
    key: A.privateIpv4Addresses,
    affects: 'load balancer',
    parse: rejecting(
      listOf(isIPv4, 'must be a comma-separated list of IPv4 addresses'),
      internalOnly,
      onePerSubnet('address'),
    ),
    apply: to('privateIpv4Addresses'),
  }),
  entry({
    key: A.additionalTags,
    affects: 'every resource',
    parse: rejecting(keyValues, awsTagLimits),
    apply: to('additionalTags'),
  }),
  entry({ key: A.crossZone, affects: 'load balancer', parse: bool, apply: to('crossZoneEnabled') }),
  // The access log: three annotations, assembled by assembleAccessLog (bucket and prefix are kept as written).
  entry({
    key: A.accessLogEnabled,
    affects: 'load balancer',
    parse: reporting(bool, bucketWhenEnabled),
    apply: toPending('accessLogEnabled'),
  }),
  entry({ key: A.accessLogBucket, affects: 'load balancer', parse: rejecting(text, s3BucketName) }),
  entry({ key: A.accessLogPrefix, affects: 'load balancer', parse: rejecting(text, accessLogPrefix) }),
  entry({
    key: A.lbAttributes,
    affects: 'load balancer',
    parse: reporting(keyValues, attributes(LB_ATTR_CHECKS)),
    apply: to('lbAttributes'),
  }),
  entry({
    key: A.tgAttributes,
    affects: 'target group',
    parse: reporting(keyValues, attributes(TG_ATTR_CHECKS)),
    apply: to('targetGroupAttributes'),
  }),
  entry({
    key: A.securityGroups,
    affects: 'security group',
    parse: rejecting(
      list,
      nonEmpty('must list at least one security group'),
      atMost(5, 'at most 5 security groups per load balancer (ELBv2 limit)'),
    ),
    apply: to('securityGroups'),
  }),
  entry({
    key: A.manageBackendSgRules,
    affects: 'security group',
    parse: bool,
    apply: to('manageBackendSecurityGroupRules'),
  }),
  entry({
    key: A.sourceRanges,
    affects: 'security group',
    parse: listOf(
      isAwsCidr,
      (failing) => `must be a comma-separated list of CIDRs, e.g. "10.0.0.0/8" (bad: ${failing.join(', ')})`,
      { allowEmpty: true },
    ),
    apply: to('sourceRanges'),
  }),
  // TLS listeners: assembled by assembleSsl (policy and ALPN are kept as written).
  entry({
    key: A.sslPolicy,
    affects: 'listener',
    parse: rejecting(
      text,
      matches(/^[A-Za-z0-9-]+$/, 'must be an ELBv2 security policy name, e.g. "ELBSecurityPolicy-TLS13-1-2-2021-06"'),
    ),
  }),
  entry({
    key: A.backendProtocol,
    affects: 'listener',
    parse: oneOf(['tcp', 'ssl'], { shown: ['ssl', 'tcp'] }),
    apply: toPending('backendProtocol'),
  }),
  entry({ key: A.alpnPolicy, affects: 'listener', parse: oneOf(ALPN) }),
  entry({
    key: A.sslCert,
    affects: 'listener',
    parse: listOf(isCertificateArn, 'must be a comma-separated list of ACM or IAM certificate ARNs (arn:aws:acm:...)'),
    apply: toPending('certificateArns'),
  }),
  entry({ key: A.sslPorts, affects: 'listener', parse: sslPorts, apply: toPending('sslPorts') }),
  // As in the LB controller: "*" (all target groups) is the only accepted value.
  entry({
    key: A.proxyProtocol,
    affects: 'target group',
    parse: map(oneOf(['*']), () => true),
    apply: to('proxyProtocolV2'),
  }),
  entry({ key: A.targetNodeLabels, affects: 'targets', parse: keyValues, apply: to('targetNodeLabels') }),
  // Health checks, with the ELBv2 limits for Network Load Balancer target groups.
  entry({
    key: A.hcProtocol,
    affects: 'health check',
    parse: oneOf(['TCP', 'HTTP', 'HTTPS'], { shown: ['tcp', 'http', 'https'], normalize: (s) => s.toUpperCase() }),
    apply: toHealthCheck('protocol'),
  }),
  entry({
    key: A.hcPort,
    affects: 'health check',
    parse: (at) => (at.value === 'traffic-port' ? 'traffic-port' : intInRange(1, 65535, 'health check port')(at)),
    apply: toHealthCheck('port'),
  }),
  entry({
    key: A.hcPath,
    affects: 'health check',
    parse: rejecting(text, ...healthCheckPath),
    apply: toHealthCheck('path'),
  }),
  entry({
    key: A.hcInterval,
    affects: 'health check',
    parse: intInRange(5, 300, 'health check interval (seconds)'),
    apply: toHealthCheck('intervalSeconds'),
  }),
  entry({
    key: A.hcTimeout,
    affects: 'health check',
    parse: reporting(intInRange(2, 120, 'health check timeout (seconds)'), withinInterval),
    apply: toHealthCheck('timeoutSeconds'),
  }),
  entry({
    key: A.hcHealthy,
    affects: 'health check',
    parse: intInRange(2, 10, 'healthy threshold'),
    apply: toHealthCheck('healthyThreshold'),
  }),
  entry({
    key: A.hcUnhealthy,
    affects: 'health check',
    parse: intInRange(2, 10, 'unhealthy threshold'),
    apply: toHealthCheck('unhealthyThreshold'),
  }),
  entry({
    key: A.hcSuccessCodes,
    affects: 'health check',
    parse: rejecting(text, successCodes),
    apply: toHealthCheck('successCodes'),
  }),
];

/**
 * Parses every load-balancer annotation of `svc`. `errors` lists each bad annotation once or more with
 * `metadata.annotations[<key>]` as the field; `config` holds the valid parts with defaults applied.
 */
export function parseLoadBalancerAnnotations(svc: V1Service): {
  config: LoadBalancerAnnotations;
  errors: FieldError[];
} {
  const ann = svc.metadata?.annotations ?? {};
  const ctx: Ctx = {
    svc,
    ann,
    get: (k) => {
      const v = ann[k];
      return v === undefined ? undefined : v.trim();
    },
    config: {
      scheme: 'internet-facing',
      ipAddressType: 'ipv4',
      additionalTags: {},
      lbAttributes: {},
      targetGroupAttributes: {},
      healthCheck: {},
      proxyProtocolV2: false,
    },
    pending: {},
    errs: [],
  };
  for (const e of ANNOTATIONS) e.run(ctx);
  assembleAccessLog(ctx);
  assembleSsl(ctx);
  return { config: ctx.config, errors: ctx.errs };
}
