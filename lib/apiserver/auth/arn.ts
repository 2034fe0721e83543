/**
 * Caller ARNs as aws-iam-authenticator canonicalises them (pkg/arn): an STS assumed-role session
 * `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` is the role `arn:aws:iam::ACCOUNT:role/ROLE`; IAM users, roles,
 * the root user and federated users stay as they are. Role ARNs in the role mapping may carry a path
 * (`role/team/ROLE`), which an assumed-role ARN never shows, so mapping keys are compared without it.
 */
const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f']);

interface ParsedArn {
  partition: string;
  service: string;
  account: string;
  resource: string;
}

function parse(arn: string): ParsedArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition, service, , account] = parts;
  return { partition: partition!, service: service!, account: account!, resource: parts.slice(5).join(':') };
}

/** The canonical principal ARN, or undefined when `arn` is not an identity ARN of a known partition. */
export function canonicalArn(arn: string): string | undefined {
  const p = parse(arn);
  if (!p || !PARTITIONS.has(p.partition)) return undefined;
  const parts = p.resource.split('/');
  if (p.service === 'sts') {
    if (parts[0] === 'federated-user') return arn;
    if (parts[0] === 'assumed-role' && parts.length >= 3) {
      return `arn:${p.partition}:iam::${p.account}:role/${parts.slice(1, -1).join('/')}`;
    }
    return undefined;
  }
  if (p.service === 'iam' && ['role', 'user', 'root'].includes(parts[0]!)) return arn;
  return undefined;
}

/** `arn:aws:iam::1:role/path/to/Name` -> `arn:aws:iam::1:role/Name`; other ARNs unchanged. */
export function stripRolePath(arn: string): string {
  const p = parse(arn);
  if (!p || p.service !== 'iam') return arn;
  const parts = p.resource.split('/');
  if (parts[0] !== 'role' || parts.length <= 2) return arn;
  return `arn:${p.partition}:iam::${p.account}:role/${parts.at(-1)}`;
}
