/**
 * Parsing and validation of the Service annotations that shape a Network Load Balancer: every
 * `service.beta.kubernetes.io/aws-load-balancer-*` annotation the AWS load balancer controller honours for NLBs with
 * instance targets, plus `service.beta.kubernetes.io/load-balancer-source-ranges`. cloud-provider-aws's NLB
 * annotations use the same keys (its `-internal` and `-type: nlb` included), so a Service written for either controller
 * is read unchanged where the meaning is the same here; an annotation of theirs that cannot mean the same here is
 * refused with the reason (a table entry below), and one that is known but not built is listed in IGNORED_ANNOTATIONS.
 * The comparison, annotation by annotation: docs/load-balancers.md#annotations.
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
import {
  A,
  ANNOTATION_PREFIX,
  LISTENER_ACTIONS_PREFIX,
  LISTENER_ATTRIBUTES_PREFIX,
  type LoadBalancerAnnotations,
  type HealthCheckAnnotations,
  type Scheme,
} from './annotations/types.js';
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
  LISTENER_ATTR_CHECKS,
  TG_ATTR_CHECKS,
  accessLogPrefix,
  attributes,
  elbv2Name,
  healthCheckPath,
  isAwsCidr,
  isCertificateArn,
  isEipAllocationId,
  isPrefixListId,
  s3BucketName,
  successCodes,
} from './annotations/validators.js';

export { A, ANNOTATION_PREFIX, LISTENER_ACTIONS_PREFIX, LISTENER_ATTRIBUTES_PREFIX } from './annotations/types.js';
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

/** An NLB without security groups has none of the user's either: only one of the two annotations may say so. */
const notWithSecurityGroups: Check<boolean> = (disabled, at) =>
  disabled && at.get(A.securityGroups) !== undefined
    ? bad(at, `conflicts with ${A.securityGroups}: an NLB without security groups has none; set only one of them`)
    : undefined;

/**
 * Prefix lists restrict the managed security group. Without it (disable-nlb-sg) the nodes' security group would admit
 * the default ranges instead, the opposite of what the list asks: refused rather than ignored.
 */
const needsManagedSecurityGroup: Check<string[]> = (_, at) =>
  at.get(A.disableNlbSg) === 'true'
    ? bad(
        at,
        `needs the NLB's security group, which ${A.disableNlbSg}: "true" leaves out; ` +
          'list the client ranges in spec.loadBalancerSourceRanges instead',
      )
    : undefined;

/** The LB controller's `CapacityUnits=N` (a key=value map whose only key is CapacityUnits); 0 resets. */
function capacityUnits(at: At): number | undefined {
  const kv = keyValues(at);
  if (kv === undefined) return undefined;
  const v = Object.keys(kv).length === 1 ? kv.CapacityUnits : undefined;
  if (v === undefined) {
    at.errs.push(bad(at, 'must be CapacityUnits=<number>, e.g. "CapacityUnits=1000"'));
    return undefined;
  }
  // ModifyCapacityReservation's CapacityUnits is an int32.
  if (!/^\d{1,10}$/.test(v) || Number(v) > 2147483647) {
    at.errs.push(bad(at, 'CapacityUnits must be an integer between 0 and 2147483647'));
    return undefined;
  }
  if (Number(v) > 0 && at.get(A.sslCert) !== undefined) {
    at.errs.push(bad(at, 'a Network Load Balancer with TLS listeners cannot reserve capacity (ELBv2)'));
    return undefined;
  }
  return Number(v);
}

const ALPN = ['HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred', 'None'] as const;

// --- Annotations of the other controllers that mean the same here only for some values ---

/** Refuses every value: only the annotation's absence can be honoured here. */
const refuse =
  (detail: string): Check<unknown> =>
  (_, at) =>
    bad(at, detail);

/** Refuses one value; the others are what is built anyway (AWS's or the other controller's default). */
const refuseValue =
  <T>(value: T, detail: string): Check<T> =>
  (v, at) =>
    v === value ? bad(at, detail) : undefined;

const PPV2_ATTRIBUTE = 'proxy_protocol_v2.enabled';

/** Port numbers of this Service whose target group is TCP (TCP alone on the number): proxy protocol v2 applies there. */
function tcpPortNumbers(svc: V1Service): string[] {
  const ports = svc.spec?.ports ?? [];
  const udp = new Set(ports.filter((p) => p.protocol === 'UDP').map((p) => p.port));
  const tcp = ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP' && !udp.has(p.port)).map((p) => String(p.port));
  return [...new Set(tcp)];
}

/**
 * The LB controller's per-port proxy protocol: the listed Service port numbers get PPv2, the other target groups not,
 * and `-proxy-protocol` overrides the list. Here PPv2 is one setting for every TCP target group, so the list must name
 * all of this Service's TCP ports (= "*") or none of them (= off); some of them is refused, not approximated.
 */
function proxyProtocolPorts(at: At): boolean | undefined {
  const listed = splitList(at.value);
  const notNumbers = listed.filter((p) => !/^\d+$/.test(p));
  if (notNumbers.length > 0) {
    at.errs.push(bad(at, `must be a comma-separated list of Service port numbers (bad: ${notNumbers.join(', ')})`));
    return undefined;
  }
  if (at.get(A.proxyProtocol) !== undefined) return undefined; // overridden, as in the LB controller
  if (Object.hasOwn(at.config.targetGroupAttributes, PPV2_ATTRIBUTE)) {
    at.errs.push(bad(at, `conflicts with ${PPV2_ATTRIBUTE} in ${A.tgAttributes}; set only one of them`));
    return undefined;
  }
  const tcp = tcpPortNumbers(at.svc);
  const on = tcp.filter((p) => listed.includes(p));
  if (on.length === 0 || on.length === tcp.length) return on.length > 0;
  at.errs.push(
    bad(
      at,
      `proxy protocol on some TCP ports only is not supported: list every TCP port of this Service ` +
        `(${tcp.join(', ')}) or none, or use ${A.proxyProtocol}: "*"`,
    ),
  );
  return undefined;
}

/** The LB controller upgrades the listed UDP ports (numbers or names) to QUIC and ignores the other ports. */
const noQuicPorts: Check<string[]> = (listed, at) => {
  const udp = (at.svc.spec?.ports ?? []).filter((p) => p.protocol === 'UDP');
  const hit = udp.filter((p) => listed.includes(String(p.port)) || (!!p.name && listed.includes(p.name)));
  return hit.length > 0
    ? bad(at, `QUIC listeners are not supported (UDP port ${hit.map((p) => p.port).join(', ')}); UDP stays UDP`)
    : undefined;
};

/** Every `actions.<PROTOCOL>-<port>` annotation (the LB controller's listener default actions), refused. */
const listenerActions: AnnotationEntry = {
  key: `${LISTENER_ACTIONS_PREFIX}*`,
  affects: 'listener',
  run(ctx) {
    const keys = Object.keys(ctx.ann).filter((k) => k.startsWith(LISTENER_ACTIONS_PREFIX));
    for (const key of keys.sort()) {
      const detail = "listener actions are not supported: each listener forwards to its own port's target group";
      ctx.errs.push(invalid(annotationField(key), (ctx.ann[key] ?? '').trim(), detail));
    }
  },
};

const LISTENER_KEY = /^(TCP|UDP|TCP_UDP|TLS)-([1-9]\d{0,4})$/;

/** The attributes of one `listener-attributes.<PROTOCOL>-<port>` annotation: the name's shape, keys and values. */
function listenerAttributes(at: At): Record<string, string> | undefined {
  const m = LISTENER_KEY.exec(at.key.slice(LISTENER_ATTRIBUTES_PREFIX.length));
  if (!m || Number(m[2]) > 65535) {
    at.errs.push(
      bad(at, `the name must end in listener-attributes.<PROTOCOL>-<port>, PROTOCOL one of TCP, UDP, TCP_UDP, TLS`),
    );
    return undefined;
  }
  const kv = keyValues(at);
  if (kv === undefined) return undefined;
  const errs = Object.entries(kv).flatMap(([k, v]) => {
    if (!Object.hasOwn(LISTENER_ATTR_CHECKS, k))
      return [
        bad(at, `unsupported listener attribute "${k}": a Network Load Balancer listener has tcp.idle_timeout.seconds`),
      ];
    const problem = LISTENER_ATTR_CHECKS[k]!(v);
    return problem ? [bad(at, `attribute ${k}=${v}: ${problem}`)] : [];
  });
  at.errs.push(...errs);
  return errs.length ? undefined : kv;
}

/** Every `listener-attributes.<PROTOCOL>-<port>` annotation; which listener each names is checked by the builder. */
const listenerAttributesEntry: AnnotationEntry = {
  key: `${LISTENER_ATTRIBUTES_PREFIX}*`,
  affects: 'listener',
  run(ctx) {
    const keys = Object.keys(ctx.ann).filter((k) => k.startsWith(LISTENER_ATTRIBUTES_PREFIX));
    for (const key of keys.sort()) {
      const raw = ctx.ann[key] ?? '';
      const v = listenerAttributes({ ...ctx, key, field: annotationField(key), value: raw.trim(), raw });
      if (v === undefined) continue;
      ctx.config.listenerAttributes ??= {};
      ctx.config.listenerAttributes[key.slice(LISTENER_ATTRIBUTES_PREFIX.length)] = v;
    }
  },
};

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
  // The LB controller's static IPv6 addresses and IPv6 source NAT of dualstack NLBs: not built here.
  entry({
    key: A.ipv6Addresses,
    affects: 'load balancer',
    parse: rejecting(text, refuse('static IPv6 addresses are not supported; without it each subnet assigns one')),
  }),
  entry({
    key: A.enablePrefixForIpv6SourceNat,
    affects: 'load balancer',
    parse: rejecting(
      oneOf(['on', 'off']),
      refuseValue('on', 'IPv6 source NAT prefixes are not supported; only "off" (the default) is'),
    ),
  }),
  entry({
    key: A.sourceNatIpv6Prefixes,
    affects: 'load balancer',
    parse: rejecting(text, refuse(`IPv6 source NAT prefixes are not supported (${A.enablePrefixForIpv6SourceNat})`)),
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
  // AWS evaluates an NLB's security group rules on PrivateLink traffic unless told otherwise ("on"), as built here.
  entry({
    key: A.inboundSgRulesOnPrivateLink,
    affects: 'security group',
    parse: rejecting(
      oneOf(['on', 'off']),
      refuseValue('off', 'not supported: the inbound rules always apply to PrivateLink traffic (AWS default "on")'),
    ),
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
  // NLB without security groups (AWS: none can be added later, nor the last removed: a change replaces the NLB).
  entry({
    key: A.disableNlbSg,
    affects: 'security group',
    parse: rejecting(bool, notWithSecurityGroups),
    apply: to('disableNlbSecurityGroup'),
  }),
  // The managed SG's sources: prefix lists (as the LB controller: with security-groups set, no managed SG, no effect).
  entry({
    key: A.securityGroupPrefixLists,
    affects: 'security group',
    parse: rejecting(
      listOf(isPrefixListId, 'must be a comma-separated list of managed prefix list IDs (pl-...)'),
      distinct('lists a prefix list twice'),
      needsManagedSecurityGroup,
    ),
    apply: to('securityGroupPrefixLists'),
  }),
  // "on" adds ICMP "fragmentation needed" to the managed SG (the LB controller reads any other value as off).
  entry({
    key: A.icmpForPathMtuDiscovery,
    affects: 'security group',
    parse: map(oneOf(['on', 'off']), (v) => v === 'on'),
    apply: to('icmpForPathMtuDiscovery'),
  }),
  entry({
    key: A.minimumCapacity,
    affects: 'load balancer',
    parse: capacityUnits,
    apply: to('minimumCapacityUnits'),
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
  // TCP and UDP on one port always share one TCP_UDP listener here: what "true" asks for; "false" changes nothing.
  entry({ key: A.enableTcpUdpListener, affects: 'listener', parse: bool }),
  entry({ key: A.quicEnabledPorts, affects: 'listener', parse: rejecting(list, noQuicPorts) }),
  listenerActions,
  listenerAttributesEntry,
  // As in the LB controller: "*" (all target groups) is the only accepted value.
  entry({
    key: A.proxyProtocol,
    affects: 'target group',
    parse: map(oneOf(['*']), () => true),
    apply: to('proxyProtocolV2'),
  }),
  entry({
    key: A.proxyProtocolPerTargetGroup,
    affects: 'target group',
    parse: proxyProtocolPorts,
    apply: to('proxyProtocolV2'),
  }),
  entry({ key: A.targetNodeLabels, affects: 'targets', parse: keyValues, apply: to('targetNodeLabels') }),
  entry({
    key: A.multiClusterTargetGroup,
    affects: 'targets',
    parse: rejecting(
      bool,
      refuseValue(
        true,
        'not supported: a target group serves one Service, and targets not registered here are removed',
      ),
    ),
  }),
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
 * An annotation of cloud-provider-aws or aws-load-balancer-controller that nothing here reads, so a Service carrying it
 * is accepted and the annotation has no effect:
 * - `Classic ELB only`: cloud-provider-aws reads it for Classic ELBs only, so on its NLBs it had no effect either;
 * - `not yet`: the LB controller builds it for NLBs; this controller does not yet (docs/load-balancers.md#annotations).
 */
export interface IgnoredAnnotation {
  /** The key, or the start of every key when `prefix` is set. */
  readonly key: string;
  readonly prefix?: boolean;
  readonly status: 'Classic ELB only' | 'not yet';
  /** What is built instead. */
  readonly why: string;
}

const DRAINING = "an NLB drains by its target groups' deregistration delay (target-group-attributes)";
export const IGNORED_ANNOTATIONS: readonly IgnoredAnnotation[] = [
  {
    key: `${ANNOTATION_PREFIX}access-log-emit-interval`,
    status: 'Classic ELB only',
    why: 'an NLB publishes its access logs every 5 minutes',
  },
  { key: `${ANNOTATION_PREFIX}connection-draining-enabled`, status: 'Classic ELB only', why: DRAINING },
  { key: `${ANNOTATION_PREFIX}connection-draining-timeout`, status: 'Classic ELB only', why: DRAINING },
  {
    key: `${ANNOTATION_PREFIX}connection-idle-timeout`,
    status: 'Classic ELB only',
    why: "an NLB's TCP idle timeout is a listener attribute: listener-attributes.TCP-<port>: tcp.idle_timeout.seconds=N",
  },
  {
    key: `${ANNOTATION_PREFIX}extra-security-groups`,
    status: 'Classic ELB only',
    why: `the NLB has the managed security group, or exactly those of ${A.securityGroups}`,
  },
];

/** The ignored annotations `svc` carries (for a status warning), in table order. */
export function ignoredAnnotations(
  svc: V1Service,
): { key: string; status: IgnoredAnnotation['status']; why: string }[] {
  const keys = Object.keys(svc.metadata?.annotations ?? {}).sort();
  return IGNORED_ANNOTATIONS.flatMap((i) =>
    keys
      .filter((k) => (i.prefix ? k.startsWith(i.key) : k === i.key))
      .map((key) => ({ key, status: i.status, why: i.why })),
  );
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
