/**
 * STS's GetCallerIdentity as the API's token verifier meets it, for tests: a fetch stand-in that checks the presigned
 * request exactly as STS does (re-signs it with the caller's secret and the x-k8s-aws-id header it received, so a
 * token for another cluster or a tampered one fails) and answers with recorded STS bodies
 * (test/apiserver/fixtures/sts.ts). Only the region's STS host is answered; anything else is a test failure.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { CLUSTER_ID_HEADER } from '../../lib/apiserver/auth/eks-token.js';
import { SIGNATURE_DOES_NOT_MATCH } from '../apiserver/fixtures/sts.js';

export interface StsPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The recorded GetCallerIdentity body STS answers for this principal. */
  body: string;
}

class Sha256 {
  private readonly parts: Buffer[] = [];
  constructor(private readonly key?: string | Uint8Array) {}
  update(d: string | Uint8Array) {
    this.parts.push(Buffer.from(d));
  }
  async digest() {
    const h = this.key ? createHmac('sha256', this.key) : createHash('sha256');
    return new Uint8Array(h.update(Buffer.concat(this.parts)).digest());
  }
}

function amzDate(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return new Date(0);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function stsStandIn(region: string, principals: StsPrincipal[], calls: string[] = []): typeof fetch {
  const host = `sts.${region}.amazonaws.com`;
  return (async (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push(url.host);
    if (url.host !== host) throw new Error(`the verifier called ${url.host}, not ${host}`);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const q = url.searchParams;
    const [akid] = (q.get('X-Amz-Credential') ?? '').split('/');
    const p = principals.find((x) => x.accessKeyId === akid);
    if (!p) return new Response(SIGNATURE_DOES_NOT_MATCH, { status: 403 });
    const signer = new SignatureV4({
      credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, sessionToken: p.sessionToken },
      region,
      service: 'sts',
      sha256: Sha256 as never,
    });
    const signed = await signer.presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: host,
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host, [CLUSTER_ID_HEADER]: headers[CLUSTER_ID_HEADER] ?? '' },
      },
      { expiresIn: Number(q.get('X-Amz-Expires')), signingDate: amzDate(q.get('X-Amz-Date') ?? '') },
    );
    const ok = signed.query?.['X-Amz-Signature'] === q.get('X-Amz-Signature');
    return ok ? new Response(p.body, { status: 200 }) : new Response(SIGNATURE_DOES_NOT_MATCH, { status: 403 });
  }) as typeof fetch;
}
