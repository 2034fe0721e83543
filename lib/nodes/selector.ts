/**
 * THE node selector: which EC2 instances are this cluster's nodes. One value, used alike by node discovery
 * (DescribeInstances filter), node-event filtering, load-balancer target registration (through discovery), SendCommand
 * targeting (Targets `tag:<key>`) and the IAM condition that limits SendCommand (`ssm:resourceTag/<key>`), so none of
 * them can disagree about membership. Pure: no SDK.
 *
 * Default: `kubernetes.io/cluster/<cluster>` = `owned` or `shared`. cloud-provider-aws treats both values as "this
 * resource belongs to the cluster" (`owned`: the cluster manages its lifecycle; `shared`: it may serve several
 * clusters), so a node tagged either way is a node. The controller still tags what it CREATES `owned` only, and only
 * ever deletes `owned` resources (lib/lb/ownership.ts): membership and ownership are different questions.
 */
import { CLUSTER_TAG_OWNED, CLUSTER_TAG_SHARED, clusterTagKey } from '../tags.js';

export interface NodeSelector {
  /** EC2 tag key. */
  key: string;
  /** Any of these values matches (EC2 filters, SSM Targets and IAM StringEquals all take a list as "any of"). */
  values: string[];
}

export function defaultNodeSelector(cluster: string): NodeSelector {
  return { key: clusterTagKey(cluster), values: [CLUSTER_TAG_OWNED, CLUSTER_TAG_SHARED] };
}

/** EC2 tag keys and values: letters, digits, spaces and `+ - = . _ : / @` (no comma: it separates values here). */
const TAG_KEY = /^[A-Za-z0-9 +\-=._:/@]{1,128}$/;
const TAG_VALUE = /^[A-Za-z0-9 +\-=._:/@]{1,256}$/;

/**
 * Parses `key=value[,value...]` (split at the first `=`). Returns an error message instead of throwing so callers can
 * report it in their own style (apiserver-style field errors in infra/, ConfigError at cold start).
 */
export function parseNodeSelector(text: string): { selector?: NodeSelector; error?: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) return { error: 'must be "key=value" (several values: "key=v1,v2")' };
  // No trimming: spaces are legal in EC2 tags, so " k" and "k" are different keys.
  const key = text.slice(0, eq);
  const values = text.slice(eq + 1).split(',');
  if (!TAG_KEY.test(key) || key.toLowerCase().startsWith('aws:'))
    return { error: 'tag key must be 1-128 characters of letters, digits, spaces and + - = . _ : / @, not aws:' };
  if (values.some((v) => !TAG_VALUE.test(v)))
    return { error: 'tag values must be 1-256 characters of letters, digits, spaces and + - = . _ : / @' };
  return { selector: { key, values: [...new Set(values)] } };
}

export const formatNodeSelector = (s: NodeSelector): string => `${s.key}=${s.values.join(',')}`;

/** True when an instance's tags put it in the cluster. */
export function matchesSelector(tags: Record<string, string>, s: NodeSelector): boolean {
  return s.key in tags && s.values.includes(tags[s.key]!);
}
