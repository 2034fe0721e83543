/** Endpoint hosts follow the region's partition: presigned artifact URLs and the STS host a token may name. */
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dnsSuffix, regionalHost } from '../../lib/aws/partition.js';
import { stsHost } from '../../lib/apiserver/auth/sts-endpoint.js';
import { presignGet } from '../../lib/dataplane/ssm-driver.js';

describe('partition DNS suffix', () => {
  it('amazonaws.com.cn in aws-cn, amazonaws.com elsewhere', () => {
    expect(dnsSuffix('cn-north-1')).toBe('amazonaws.com.cn');
    expect(dnsSuffix('cn-northwest-1')).toBe('amazonaws.com.cn');
    expect(dnsSuffix('eu-west-1')).toBe('amazonaws.com');
    expect(dnsSuffix('us-gov-west-1')).toBe('amazonaws.com');
    expect(regionalHost('s3', 'cn-north-1')).toBe('s3.cn-north-1.amazonaws.com.cn');
    expect(stsHost('cn-northwest-1')).toBe('sts.cn-northwest-1.amazonaws.com.cn');
    expect(stsHost('us-east-1')).toBe('sts.us-east-1.amazonaws.com');
  });
});

describe('presignGet without a custom endpoint', () => {
  // The test setup points the SDK at moto; a presigned URL for AWS itself is built only without that override.
  const saved: Record<string, string | undefined> = {};
  const VARS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'];
  beforeEach(() => {
    for (const v of VARS) {
      saved[v] = process.env[v];
      delete process.env[v];
    }
  });
  afterEach(() => {
    for (const v of VARS)
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
  });

  const client = (region: string) =>
    new S3Client({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });

  it('names the bucket on the partition’s S3 host (aws-cn)', async () => {
    const url = new URL(await presignGet(client('cn-north-1'), 'artifacts', 'dataplane/c/state/v1.json.gz', 60));
    expect(url.host).toBe('artifacts.s3.cn-north-1.amazonaws.com.cn');
    expect(url.pathname).toBe('/dataplane/c/state/v1.json.gz');
    expect(url.searchParams.get('X-Amz-Credential')).toContain('/cn-north-1/s3/aws4_request');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
  });

  it('and amazonaws.com in the aws partition', async () => {
    const url = new URL(await presignGet(client('eu-west-1'), 'artifacts', 'k', 60));
    expect(url.host).toBe('artifacts.s3.eu-west-1.amazonaws.com');
  });
});
