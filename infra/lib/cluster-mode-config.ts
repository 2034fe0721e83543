/**
 * The clusterMode prop: serve an EXISTING Kubernetes cluster's LoadBalancer Services from outside it (the watcher
 * function, functions/cluster-watcher.ts). Pure, like config.ts: defaults and validation only, reported with the same
 * apiserver-style field errors under `clusterMode.*`.
 */
import type { FieldError } from '../../lib/model/field-errors.js';
import { duplicate, invalid, required } from '../../lib/model/field-errors.js';

/** How the watcher authenticates to the cluster's API server: exactly one of the two. */
export type ClusterModeAuthProps =
  | {
      /**
       * An EKS cluster in the stack's account and region: the endpoint and CA come from eks:DescribeCluster, the
       * token is signed with the watcher's role, which needs an EKS access entry (docs/deploy.md, "Cluster mode").
       */
      readonly eksClusterName: string;
    }
  | {
      /**
       * The full ARN (with the 6-character suffix Secrets Manager appends) of a secret whose SecretString is a
       * kubeconfig with a bearer token or client certificate (no exec plugin). The secret must be encrypted with the
       * AWS managed key `aws/secretsmanager`: the watcher's role is granted no kms:Decrypt.
       */
      readonly kubeconfigSecretArn: string;
    };

export interface ClusterModeProps {
  readonly auth: ClusterModeAuthProps;
  /**
   * Also serve LoadBalancer Services without `spec.loadBalancerClass` (the cluster's own cloud controller must then be
   * told to skip them). Default false: only Services of this controller's class.
   */
  readonly defaultLoadBalancerClass?: boolean;
  /** Mirror Pods and every Service too, and push the data plane (replacing kube-proxy on the nodes). Default false. */
  readonly dataPlane?: boolean;
  /**
   * Subnets (in the construct's vpcId) and security groups for the watcher, so it can reach a private API endpoint.
   * Both or neither; without them the function runs outside any VPC and needs a public endpoint.
   */
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
}

export type ResolvedClusterAuth =
  | { readonly kind: 'eks'; readonly eksClusterName: string }
  | { readonly kind: 'kubeconfig'; readonly kubeconfigSecretArn: string };

export interface ResolvedClusterMode {
  readonly auth: ResolvedClusterAuth;
  readonly defaultLoadBalancerClass: boolean;
  readonly dataPlane: boolean;
  /** The watcher's VPC placement; undefined: no VPC. */
  readonly vpc: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] } | undefined;
}

// EKS cluster names: 1-100 characters, alphanumerics, '-' and '_', starting with an alphanumeric (lib/cluster/auth.ts).
const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
// A secret's complete ARN: secret names are 1-512 of [A-Za-z0-9/_+=.@-], and Secrets Manager appends `-` plus six
// random characters. IAM matches the ARN exactly, so a partial ARN (without the suffix) would match nothing.
const SECRET_ARN =
  /^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SG_ID = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** Lambda's limits on a function's VpcConfig. */
const MAX_SUBNETS = 16;
const MAX_SECURITY_GROUPS = 5;

const FIELD = 'clusterMode';

/** Validates clusterMode (undefined when not set), pushing its problems onto errs. */
export function resolveClusterMode(
  props: ClusterModeProps | undefined,
  errs: FieldError[],
): ResolvedClusterMode | undefined {
  if (props === undefined) return undefined;
  if (props === null || typeof props !== 'object') {
    errs.push(invalid(FIELD, props, 'must be an object with an auth'));
    return undefined;
  }
  const auth = resolveAuth(props.auth, errs);
  const defaultLoadBalancerClass = flag('defaultLoadBalancerClass', props.defaultLoadBalancerClass, errs);
  const dataPlane = flag('dataPlane', props.dataPlane, errs);
  const vpc = resolveVpc(props, errs);
  return auth && { auth, defaultLoadBalancerClass, dataPlane, vpc };
}

function resolveAuth(auth: ClusterModeAuthProps | undefined, errs: FieldError[]): ResolvedClusterAuth | undefined {
  const field = `${FIELD}.auth`;
  const given = auth && typeof auth === 'object' ? (auth as Record<string, unknown>) : {};
  const eks = given.eksClusterName;
  const secret = given.kubeconfigSecretArn;
  if (eks !== undefined && secret !== undefined) {
    errs.push(invalid(field, auth, 'give exactly one of eksClusterName and kubeconfigSecretArn, not both'));
    return undefined;
  }
  if (eks !== undefined) {
    const name = typeof eks === 'string' ? eks.trim() : eks;
    if (typeof name === 'string' && EKS_CLUSTER_NAME.test(name)) return { kind: 'eks', eksClusterName: name };
    errs.push(
      invalid(
        `${field}.eksClusterName`,
        name,
        'must be an EKS cluster name: 1-100 characters of [A-Za-z0-9_-], starting with a letter or digit',
      ),
    );
    return undefined;
  }
  if (secret !== undefined) {
    const arn = typeof secret === 'string' ? secret.trim() : secret;
    if (typeof arn === 'string' && SECRET_ARN.test(arn)) return { kind: 'kubeconfig', kubeconfigSecretArn: arn };
    errs.push(
      invalid(
        `${field}.kubeconfigSecretArn`,
        arn,
        'must be the complete ARN of a Secrets Manager secret, with the 6-character suffix Secrets Manager appends ' +
          '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)',
      ),
    );
    return undefined;
  }
  errs.push(required(field, 'give exactly one of eksClusterName and kubeconfigSecretArn'));
  return undefined;
}

function flag(name: string, v: unknown, errs: FieldError[]): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') errs.push(invalid(`${FIELD}.${name}`, v, 'must be true or false'));
  return v === true;
}

/** Subnets and security groups: both or neither, well-formed, unique, within Lambda's limits. */
function resolveVpc(props: ClusterModeProps, errs: FieldError[]): ResolvedClusterMode['vpc'] {
  const subnetIds = ids('subnetIds', props.subnetIds, SUBNET_ID, 'a subnet ID such as subnet-0123abcd', errs);
  const securityGroupIds = ids(
    'securityGroupIds',
    props.securityGroupIds,
    SG_ID,
    'a security group ID such as sg-0123abcd',
    errs,
  );
  if (subnetIds.length > MAX_SUBNETS)
    errs.push(invalid(`${FIELD}.subnetIds`, subnetIds.join(','), `at most ${MAX_SUBNETS} subnets (a Lambda limit)`));
  if (securityGroupIds.length > MAX_SECURITY_GROUPS) {
    const detail = `at most ${MAX_SECURITY_GROUPS} security groups (a Lambda limit)`;
    errs.push(invalid(`${FIELD}.securityGroupIds`, securityGroupIds.join(','), detail));
  }
  if (subnetIds.length > 0 && securityGroupIds.length === 0)
    errs.push(required(`${FIELD}.securityGroupIds`, 'the watcher in subnets needs security groups too'));
  if (securityGroupIds.length > 0 && subnetIds.length === 0)
    errs.push(required(`${FIELD}.subnetIds`, 'security groups are only used with subnets'));
  return subnetIds.length > 0 && securityGroupIds.length > 0 ? { subnetIds, securityGroupIds } : undefined;
}

function ids(name: string, list: unknown, shape: RegExp, what: string, errs: FieldError[]): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    errs.push(invalid(`${FIELD}.${name}`, list, 'must be a list of IDs'));
    return [];
  }
  const out = list.map((s) => (typeof s === 'string' ? s.trim() : s)).filter((s) => s !== '');
  const seen = new Set<unknown>();
  out.forEach((s, i) => {
    if (typeof s !== 'string' || !shape.test(s)) errs.push(invalid(`${FIELD}.${name}[${i}]`, s, `must be ${what}`));
    else if (seen.has(s)) errs.push(duplicate(`${FIELD}.${name}[${i}]`, s));
    seen.add(s);
  });
  return out as string[];
}
