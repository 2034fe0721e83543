/**
 * EKS-format token generation and verification. STS is played by a fetch stand-in that checks the SigV4 signature
 * exactly as STS does (re-signing the received request with the caller's secret, x-k8s-aws-id as received) and
 * answers with recorded STS bodies; every refusal below is decided either by the verifier's own checks (no call is
 * made) or by that signature check.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_ID_HEADER,
  execCredential,
  generateEksToken,
  type AwsCredentials,
  TOKEN_PREFIX,
} from '../../lib/apiserver/auth/eks-token.js';
import {
  checkTokenFormat,
  EksTokenAuthenticator,
  TokenError,
  verifyEksToken,
} from '../../lib/apiserver/auth/eks-verifier.js';
import { TransientError, UnauthorizedError } from '../../lib/errors.js';
import { callerIdentity, ROLE_SESSION_ARN, SIGNATURE_DOES_NOT_MATCH, THROTTLING, USER_ARN } from './fixtures/sts.js';

const REGION = 'us-east-1';
const CLUSTER = 'prod';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const ROLE_CREDS = {
  accessKeyId: 'ASIAEXAMPLEROLE00001',
  secretAccessKey: 'role-secret',
  sessionToken: 'FwoGZXIvYXdzEXAMPLE+/=',
};
const USER_CREDS = { accessKeyId: 'AKIAI44QH8DHBEXAMPLE', secretAccessKey: 'user-secret' };
const PRINCIPALS: Record<string, { secret: string; body: string }> = {
  [ROLE_CREDS.accessKeyId]: {
    secret: ROLE_CREDS.secretAccessKey,
    body: callerIdentity(ROLE_SESSION_ARN, 'AROAEXAMPLEROLEID:my-role-session-name'),
  },
  [USER_CREDS.accessKeyId]: {
    secret: USER_CREDS.secretAccessKey,
    body: callerIdentity(USER_ARN, USER_CREDS.accessKeyId),
  },
};

interface Call {
  url: string;
  headers: Record<string, string>;
}

/** The stand-in's own SHA-256 for the signer (independent of the one lib/ uses). */
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

/** What STS computes for a presigned GetCallerIdentity: SigV4 over the request as received. */
async function stsSignature(clusterId: string, credentials: AwsCredentials, date: Date, expiresIn: number) {
  const signer = new SignatureV4({ credentials, region: REGION, service: 'sts', sha256: Sha256 as never });
  const hostname = 'sts.us-east-1.amazonaws.com';
  const req = {
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, [CLUSTER_ID_HEADER]: clusterId },
  };
  const signed = await signer.presign(req, { expiresIn, signingDate: date });
  return signed.query?.['X-Amz-Signature'];
}

/** STS: recomputes the presigned signature with the caller's secret and the x-k8s-aws-id header it received. */
function fakeSts(calls: Call[], answer?: { status: number; body: string }): typeof fetch {
  return (async (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>));
    calls.push({ url: url.toString(), headers });
    if (answer) return new Response(answer.body, { status: answer.status });
    const q = url.searchParams;
    const [akid] = (q.get('X-Amz-Credential') ?? '').split('/');
    const principal = PRINCIPALS[akid ?? ''];
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '')!;
    const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    const creds = {
      accessKeyId: akid!,
      secretAccessKey: principal?.secret ?? 'unknown',
      sessionToken: q.get('X-Amz-Security-Token') ?? undefined,
    };
    const expected = await stsSignature(headers[CLUSTER_ID_HEADER] ?? '', creds, date, Number(q.get('X-Amz-Expires')));
    const ok = principal && expected === q.get('X-Amz-Signature');
    return ok ? new Response(principal.body, { status: 200 }) : new Response(SIGNATURE_DOES_NOT_MATCH, { status: 403 });
  }) as typeof fetch;
}

const opts = (calls: Call[], extra: Partial<Parameters<typeof verifyEksToken>[1]> = {}) => ({
  clusterId: CLUSTER,
  region: REGION,
  fetch: fakeSts(calls),
  now: () => NOW + 30_000,
  ...extra,
});

const decode = (token: string) => new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString());
const encode = (url: URL | string) => TOKEN_PREFIX + Buffer.from(String(url)).toString('base64url');

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedError);
    return (err as TokenError).detail ?? (err as Error).message;
  }
  throw new Error('expected the token to be refused');
}

describe('generateEksToken', () => {
  it('presigns GetCallerIdentity for the regional endpoint, signing x-k8s-aws-id', async () => {
    const { token, expiration } = await generateEksToken(CLUSTER, REGION, ROLE_CREDS, new Date(NOW));
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toContain('=');
    const url = decode(token);
    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260115T120000Z');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(ROLE_CREDS.sessionToken);
    expect(expiration.getTime()).toBe(NOW + 14 * 60_000);
    expect(execCredential(token, expiration)).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: {},
      status: { expirationTimestamp: '2026-01-15T12:14:00Z', token },
    });
  });

  it('uses the .com.cn endpoint in the aws-cn partition', async () => {
    const { token } = await generateEksToken(CLUSTER, 'cn-north-1', USER_CREDS, new Date(NOW));
    expect(decode(token).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('verifyEksToken', () => {
  it('accepts a valid token: one call to the regional endpoint with our cluster id; assumed-role -> role', async () => {
    const calls: Call[] = [];
    const { token } = await generateEksToken(CLUSTER, REGION, ROLE_CREDS, new Date(NOW));
    const id = await verifyEksToken(token, opts(calls));
    expect(id.canonicalArn).toBe('arn:aws:iam::123456789012:role/my-role-name');
    expect(id.arn).toBe(ROLE_SESSION_ARN);
    expect(calls).toHaveLength(1);
    expect(new URL(calls[0]!.url).host).toBe('sts.us-east-1.amazonaws.com');
    expect(calls[0]!.headers).toEqual({ 'x-k8s-aws-id': 'prod', accept: 'application/json' });
    const user = await verifyEksToken(
      (await generateEksToken(CLUSTER, REGION, USER_CREDS, new Date(NOW))).token,
      opts(calls),
    );
    expect(user.canonicalArn).toBe(USER_ARN);
  });

  it('refuses a forged token: tampered signature, tampered query, wrong secret (STS says SignatureDoesNotMatch)', async () => {
    const calls: Call[] = [];
    const url = decode((await generateEksToken(CLUSTER, REGION, USER_CREDS, new Date(NOW))).token);
    const sig = new URL(url);
    sig.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    expect(await refused(verifyEksToken(encode(sig), opts(calls)))).toContain('HTTP 403');
    const expires = new URL(url);
    expires.searchParams.set('X-Amz-Expires', '900');
    expect(await refused(verifyEksToken(encode(expires), opts(calls)))).toContain('SignatureDoesNotMatch');
    const wrongSecret = await generateEksToken(
      CLUSTER,
      REGION,
      { ...USER_CREDS, secretAccessKey: 'guess' },
      new Date(NOW),
    );
    expect(await refused(verifyEksToken(wrongSecret.token, opts(calls)))).toContain('SignatureDoesNotMatch');
    expect(await refused(verifyEksToken('k8s-aws-v1.!!!', opts(calls)))).toBe('token is not base64url');
    expect(await refused(verifyEksToken('Bearer-something', opts(calls)))).toContain('prefix');
  });

  it('refuses an expired token without calling STS', async () => {
    const calls: Call[] = [];
    const { token } = await generateEksToken(CLUSTER, REGION, USER_CREDS, new Date(NOW));
    const detail = await refused(verifyEksToken(token, opts(calls, { now: () => NOW + 15 * 60_000 + 1000 })));
    expect(detail).toContain('expired');
    expect(calls).toHaveLength(0);
  });

  it('refuses a token minted for another cluster (the x-k8s-aws-id signature no longer matches)', async () => {
    const calls: Call[] = [];
    const { token } = await generateEksToken('staging', REGION, ROLE_CREDS, new Date(NOW));
    expect(await refused(verifyEksToken(token, opts(calls)))).toContain('SignatureDoesNotMatch');
    expect(calls[0]!.headers['x-k8s-aws-id']).toBe('prod');
  });

  it('refuses every other host without calling it: global, other region, look-alikes, ports, userinfo', async () => {
    const calls: Call[] = [];
    const good = decode((await generateEksToken(CLUSTER, REGION, USER_CREDS, new Date(NOW))).token);
    const hosts = [
      'sts.amazonaws.com',
      'sts.us-west-2.amazonaws.com',
      'sts-fips.us-east-1.amazonaws.com',
      'sts.us-east-1.api.aws',
      'sts.us-east-1.amazonaws.com.evil.example',
      'evil.example',
      'sts.us-east-1.amazonaws.com:8443',
      '169.254.169.254',
    ];
    for (const host of hosts) {
      const u = new URL(good);
      u.host = host;
      expect(await refused(verifyEksToken(encode(u), opts(calls)))).toContain('unexpected host');
    }
    const userinfo = new URL(good);
    userinfo.username = 'x';
    expect(await refused(verifyEksToken(encode(userinfo), opts(calls)))).toContain('unexpected host');
    const http = new URL(good);
    http.protocol = 'http:';
    expect(await refused(verifyEksToken(encode(http), opts(calls)))).toContain('unexpected scheme');
    expect(calls).toHaveLength(0);
  });

  it("refuses a token replayed to another region's endpoint", async () => {
    const calls: Call[] = [];
    const west = await generateEksToken(CLUSTER, 'us-west-2', USER_CREDS, new Date(NOW));
    expect(await refused(verifyEksToken(west.token, opts(calls)))).toContain('unexpected host');
    // Same URL re-pointed at our endpoint: its credential scope still names us-west-2.
    const u = decode(west.token);
    u.host = 'sts.us-east-1.amazonaws.com';
    expect(await refused(verifyEksToken(encode(u), opts(calls)))).toContain('credential scope');
    expect(calls).toHaveLength(0);
  });

  it('refuses other actions, unsigned cluster id, unknown or duplicate parameters, another path', async () => {
    const calls: Call[] = [];
    const good = decode((await generateEksToken(CLUSTER, REGION, USER_CREDS, new Date(NOW))).token);
    const variants: [(u: URL) => void, string][] = [
      [(u) => u.searchParams.set('Action', 'AssumeRole'), 'unexpected action'],
      [(u) => u.searchParams.set('X-Amz-SignedHeaders', 'host'), 'did not sign the x-k8s-aws-id header'],
      [(u) => u.searchParams.set('RoleArn', 'x'), 'non-whitelisted query parameter "RoleArn"'],
      [(u) => u.searchParams.append('action', 'GetCallerIdentity'), 'duplicate query parameter'],
      [(u) => (u.pathname = '/other'), 'unexpected path'],
      [(u) => u.searchParams.set('X-Amz-Expires', '3600'), 'invalid X-Amz-Expires'],
    ];
    for (const [mutate, why] of variants) {
      const u = new URL(good);
      mutate(u);
      expect(await refused(verifyEksToken(encode(u), opts(calls)))).toContain(why);
    }
    expect(calls).toHaveLength(0);
    expect(() => checkTokenFormat(`${TOKEN_PREFIX}${'A'.repeat(5000)}`, opts(calls))).toThrow(TokenError);
  });

  it('STS throttling or outage is a retryable 503, not a 401', async () => {
    const { token } = await generateEksToken(CLUSTER, REGION, USER_CREDS, new Date(NOW));
    const throttled = opts([], { fetch: fakeSts([], { status: 400, body: THROTTLING }) });
    await expect(verifyEksToken(token, throttled)).rejects.toBeInstanceOf(TransientError);
    const down = opts([], { fetch: fakeSts([], { status: 503, body: 'Service Unavailable' }) });
    await expect(verifyEksToken(token, down)).rejects.toBeInstanceOf(TransientError);
  });

  it('EksTokenAuthenticator reads the bearer token and names the user by canonical ARN', async () => {
    const { token } = await generateEksToken(CLUSTER, REGION, ROLE_CREDS, new Date(NOW));
    const auth = new EksTokenAuthenticator(opts([]));
    const req = (authorization?: string) => ({
      method: 'GET',
      path: '/api',
      query: new URLSearchParams(),
      headers: authorization ? { authorization } : {},
      body: async () => new Uint8Array(),
      signal: new AbortController().signal,
    });
    expect(await auth.authenticate(req(`Bearer ${token}`))).toEqual({
      username: 'arn:aws:iam::123456789012:role/my-role-name',
      groups: [],
    });
    await expect(auth.authenticate(req())).rejects.toBeInstanceOf(UnauthorizedError);
  });
});
