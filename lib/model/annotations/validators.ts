/**
 * Checks on one annotation's value against the AWS API that will receive it (ELBv2, S3, ACM/IAM, EC2), so AWS never
 * gets a request we already know it will refuse. Each quotes the limit it enforces. Checks that involve several
 * annotations live next to the table, in lib/model/annotations.ts.
 */
import { tooLong } from '../field-errors.js';
import { isCidr } from '../ip.js';
import { bad, splitList, type Check } from './parsers.js';

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

export const elbv2Name =
  (kind: 'load balancer' | 'target group'): Check<string> =>
  (name, at) => {
    const p = elbv2NameProblem(name, kind);
    return p ? bad(at, p) : undefined;
  };

export const isEipAllocationId = (s: string): boolean => /^eipalloc-[0-9a-f]{8,17}$/.test(s);

/** EC2 managed prefix list IDs: AWS-managed ones have 8 hex digits (pl-63a5400a), customer-managed ones 17. */
export const isPrefixListId = (s: string): boolean => /^pl-[0-9a-f]{8,17}$/.test(s);

// Go's ParseCIDR also takes IPv4-embedded IPv6 (::ffff:1.2.3.4/120); the EC2 and ELBv2 CIDR fields do not.
export const isAwsCidr = (c: string): boolean => isCidr(c) && !(c.includes(':') && c.includes('.'));

const CERT_ARN = /^arn:aws[a-z-]*:(acm|iam):[a-z0-9-]*:\d{12}:(certificate|server-certificate)\/.+$/;
export const isCertificateArn = (s: string): boolean => CERT_ARN.test(s);

// S3 bucket naming rules (the access log bucket): 3-63 chars, lowercase letters, digits, dots and hyphens,
// beginning and ending with a letter or digit.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const s3BucketName: Check<string> = (b, at) =>
  S3_BUCKET.test(b)
    ? undefined
    : bad(at, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, "." and "-")');

// ELBv2 rejects a prefix starting with "/" or containing "AWSLogs" (it adds AWSLogs/ itself).
export const accessLogPrefix: Check<string> = (p, at) =>
  p.startsWith('/') || p.toLowerCase().includes('awslogs')
    ? bad(at, 'must not start with "/" or contain "AWSLogs"')
    : undefined;

// ELBv2 HealthCheckPath: 1-1024 characters, must begin with "/".
export const healthCheckPath: Check<string>[] = [
  (p, at) => (p.startsWith('/') ? undefined : bad(at, 'must begin with "/"')),
  (p, at) => (p.length > 1024 ? tooLong(at.field, 1024) : undefined),
  (p, at) => (/[\s"'\\]/.test(p) ? bad(at, 'must not contain whitespace, quotes or backslashes') : undefined),
];

/** NLB HTTP(S) health checks accept codes 200-599 as "200", "200,202" or "200-399". */
export const successCodes: Check<string> = (codes, at) => {
  const okPart = (p: string) => {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(p);
    if (!m) return false;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    return lo >= 200 && hi <= 599 && lo <= hi;
  };
  const parts = splitList(codes);
  return parts.length === 0 || !parts.every(okPart)
    ? bad(at, 'must be HTTP codes between 200 and 599, e.g. "200", "200,202" or "200-399"')
    : undefined;
};

function boolCheck(v: string): string | undefined {
  return v === 'true' || v === 'false' ? undefined : 'must be "true" or "false"';
}

/** The NLB target group attribute keys we check values for; other keys pass through to AWS unchanged. */
export const TG_ATTR_CHECKS: Record<string, (v: string) => string | undefined> = {
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

/**
 * Listener attributes of a Network Load Balancer (ELBv2 ListenerAttribute): tcp.idle_timeout.seconds only, 60-6000
 * (AWS default 350). Every other key is refused: NLB listeners have no other attribute.
 */
export const LISTENER_ATTR_CHECKS: Record<string, (v: string) => string | undefined> = {
  'tcp.idle_timeout.seconds': (v) =>
    /^\d{1,4}$/.test(v) && Number(v) >= 60 && Number(v) <= 6000 ? undefined : 'must be an integer between 60 and 6000',
};

export const LB_ATTR_CHECKS: Record<string, (v: string) => string | undefined> = {
  'load_balancing.cross_zone.enabled': boolCheck,
  'deletion_protection.enabled': boolCheck,
  'access_logs.s3.enabled': boolCheck,
};

/** Every attribute's key is an ELBv2 attribute key, and the values of the keys in `checks` pass them. */
export const attributes =
  (checks: Record<string, (v: string) => string | undefined>): Check<Record<string, string>> =>
  (attrs, at) =>
    Object.entries(attrs).flatMap(([k, v]) => {
      // ELBv2 attribute keys are dot-separated lowercase words (load_balancing.cross_zone.enabled).
      if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(k)) {
        return [bad(at, `attribute key "${k}" must be lowercase words of letters, digits and "_", separated by "."`)];
      }
      const problem = Object.hasOwn(checks, k) ? checks[k]?.(v) : undefined;
      return problem ? [bad(at, `attribute ${k}=${v}: ${problem}`)] : [];
    });
