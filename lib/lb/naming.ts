/**
 * Deterministic ELBv2 names. ELBv2 limits load balancer and target group names to 32 characters of [A-Za-z0-9-];
 * names must be unique per account and region, so the cluster is part of the hash. Scheme: see
 * docs/load-balancers.md — `k8s-<ns8>-<name8>-<hash10>` (4 + 8 + 1 + 8 + 1 + 10 = 32 characters at most).
 * Names are identifiers for humans and for AWS's uniqueness checks only; ownership is always decided by tags.
 */
import { createHash } from 'node:crypto';

function part(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 8);
}

function hash10(fields: (string | number)[]): string {
  // NUL-separated so ("ab","c") and ("a","bc") hash differently.
  return createHash('sha256').update(fields.join('\0')).digest('hex').slice(0, 10);
}

function compose(namespace: string, name: string, h: string): string {
  const ns = part(namespace);
  const nm = part(name);
  return ['k8s', ns, nm, h].filter((p) => p.length > 0).join('-');
}

/**
 * The scheme is hashed in: scheme cannot change in place, and a replacement NLB needs a different name because
 * AWS refuses a second load balancer with the same name. So is having no security group (`disable-nlb-sg`: none can
 * be added to such an NLB, nor the last one removed), only when so, which leaves every other name as it was.
 */
export function loadBalancerName(
  cluster: string,
  namespace: string,
  name: string,
  scheme: string,
  withoutSecurityGroups = false,
): string {
  const fields = ['lb', cluster, namespace, name, scheme, ...(withoutSecurityGroups ? ['no-sg'] : [])];
  return compose(namespace, name, hash10(fields));
}

/** Everything AWS cannot change in place on a target group is hashed in, so a replacement gets a new name. */
export function targetGroupName(
  cluster: string,
  namespace: string,
  name: string,
  key: string,
  protocol: string,
  nodePort: number,
  vpcId: string,
): string {
  return compose(namespace, name, hash10(['tg', cluster, namespace, name, key, protocol, nodePort, vpcId, 'instance']));
}

/** EC2 security group names: up to 255 characters, unique per VPC. */
export function securityGroupName(cluster: string, namespace: string, name: string): string {
  return `k8s-elb-${cluster}-${namespace}-${name}`.slice(0, 200) + '-' + hash10(['sg', cluster, namespace, name]);
}
