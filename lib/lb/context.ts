/** Everything the load-balancer pipeline needs from its caller, in one object. */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Throttle } from '../aws/throttle.js';

export type LogFn = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  data?: Record<string, unknown>,
) => void;

export interface LoadBalancerContext {
  clients: { ec2: EC2Client; elbv2: ElasticLoadBalancingV2Client };
  clusterName: string;
  vpcId: string;
  /** The nodes' security group; when set, each NLB gets one SG-to-SG ingress rule on it. */
  nodeSecurityGroupId?: string;
  /** Regional quota of Network Load Balancers per account (AWS default 50). */
  nlbQuota: number;
  log?: LogFn;
  throttle: Throttle;
  /** Parallel Services in reconcileAll / describes in observation (default 8). */
  concurrency?: number;
}

export const DEFAULT_NLB_QUOTA = 50;

/** Runs `fn` over `items` with at most `limit` in flight; results keep input order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
