import { regionalHost } from '../../aws/partition.js';

/**
 * The one STS endpoint a token may name: the configured region's regional endpoint in its partition
 * (sts.<region>.amazonaws.com, sts.<region>.amazonaws.com.cn in aws-cn). Nothing else — not the global endpoint,
 * not another region, not a FIPS or dual-stack name — so a token can never make the server call a host of the
 * token's choosing.
 */
export function stsHost(region: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`invalid AWS region ${JSON.stringify(region)}`);
  return regionalHost('sts', region);
}
