/**
 * EKS-format bearer tokens, as `aws eks get-token` and aws-iam-authenticator make them: `k8s-aws-v1.` + base64url
 * (no padding) of a SigV4-presigned `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&
 * Version=2011-06-15` whose signature covers the header `x-k8s-aws-id: <cluster>`. The server proves who the caller
 * is by replaying the URL to STS with that header; a token for another cluster fails STS's signature check.
 * Presigned with the SDK's SigV4 signer (loaded lazily: only the token command needs it).
 */
import { createHash, createHmac } from 'node:crypto';
import { stsHost } from './sts-endpoint.js';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** aws-iam-authenticator presigns for 60 s; STS accepts the URL for 15 min after X-Amz-Date regardless. */
const PRESIGN_SECONDS = 60;
/** Tokens are reported as valid for 14 minutes (one less than STS's 15), as aws-iam-authenticator does. */
const TOKEN_LIFETIME_MS = 14 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const toBytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** The SigV4 signer's hash: SHA-256, or HMAC-SHA-256 when given a key. */
class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret ? createHmac('sha256', toBytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The presigned GetCallerIdentity URL bound to `clusterId`. */
export async function presignedCallerIdentityUrl(
  clusterId: string,
  region: string,
  credentials: AwsCredentials,
  now: Date = new Date(),
): Promise<string> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
  const hostname = stsHost(region);
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: clusterId },
    },
    { expiresIn: PRESIGN_SECONDS, signingDate: now },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encode(k)}=${encode(String(v))}`)
    .join('&');
  return `https://${hostname}/?${query}`;
}

export async function generateEksToken(
  clusterId: string,
  region: string,
  credentials: AwsCredentials,
  now: Date = new Date(),
): Promise<{ token: string; expiration: Date }> {
  const url = await presignedCallerIdentityUrl(clusterId, region, credentials, now);
  return {
    token: TOKEN_PREFIX + Buffer.from(url).toString('base64url'),
    expiration: new Date(now.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** The kubectl exec credential plugin's output (client.authentication.k8s.io/v1beta1 ExecCredential). */
export function execCredential(token: string, expiration: Date): Record<string, unknown> {
  return {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    spec: {},
    status: { expirationTimestamp: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'), token },
  };
}
