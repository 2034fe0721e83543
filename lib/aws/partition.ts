/**
 * The one place that knows AWS endpoint host names by partition. Endpoint and presigned-URL hosts are
 * `<service>.<region>.<dnsSuffix>`: `amazonaws.com` in the aws and aws-us-gov partitions, `amazonaws.com.cn` in aws-cn
 * (regions cn-north-1, cn-northwest-1). cdk.json targets aws and aws-cn; the isolated partitions are not supported.
 */

/** The partition's DNS suffix for a region name. */
export function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** Regional endpoint host of a service, e.g. `sts.cn-north-1.amazonaws.com.cn`. */
export function regionalHost(service: string, region: string): string {
  return `${service}.${region}.${dnsSuffix(region)}`;
}
