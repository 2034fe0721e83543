/**
 * Verifies EKS-format bearer tokens (./eks-token.ts) the way aws-iam-authenticator's tokenVerifier does, with a
 * stricter host rule: the presigned URL must name exactly the configured region's STS endpoint (./sts-endpoint.ts),
 * carry only SigV4 query parameters, ask for GetCallerIdentity 2011-06-15, sign the x-k8s-aws-id header, be dated
 * within the last 15 minutes, and be scoped to that region and STS. Then it is replayed to STS — built from the
 * fixed host, never from the token's URL — with `x-k8s-aws-id: <our cluster>` (so a token minted for another
 * cluster fails STS's signature check) and `Accept: application/json`; the caller's ARN is canonicalised
 * (assumed-role -> role) and becomes the user name. No AWS SDK on this path: one fetch.
 */
import { TransientError, UnauthorizedError } from '../../errors.js';
import type { ApiRequest } from '../http/types.js';
import { canonicalArn } from './arn.js';
import { CLUSTER_ID_HEADER, TOKEN_PREFIX } from './eks-token.js';
import { stsHost } from './sts-endpoint.js';
import { bearerToken, type Authenticator, type UserInfo } from './types.js';

const MAX_TOKEN_BYTES = 4096;
const EXPIRY_MS = 15 * 60_000;
/** Clock skew tolerated for an X-Amz-Date slightly in the future. */
const SKEW_MS = 5 * 60_000;
const ALLOWED = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

export interface EksVerifierOptions {
  clusterId: string;
  region: string;
  /** Injected for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  now?: () => number;
}

export interface CallerIdentity {
  arn: string;
  canonicalArn: string;
  account: string;
  userId: string;
}

/** Why a token was refused (logged by the caller; clients only see 401 Unauthorized). */
export class TokenError extends UnauthorizedError {
  constructor(readonly detail: string) {
    super('Unauthorized');
  }
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/** The token's query string, checked; throws TokenError. */
export function checkTokenFormat(token: string, opts: EksVerifierOptions): string {
  if (token.length > MAX_TOKEN_BYTES) throw new TokenError('token is too large');
  if (!token.startsWith(TOKEN_PREFIX)) throw new TokenError(`token is missing expected "${TOKEN_PREFIX}" prefix`);
  const b64 = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(b64)) throw new TokenError('token is not base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(b64, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('token does not hold a URL');
  }
  const host = stsHost(opts.region);
  if (url.protocol !== 'https:') throw new TokenError(`unexpected scheme "${url.protocol}" in pre-signed URL`);
  if (url.host !== host || url.username || url.password)
    throw new TokenError(`unexpected host "${url.host}"; expected ${host}`);
  if (url.pathname !== '/' || url.hash) throw new TokenError('unexpected path in pre-signed URL');
  checkQuery(url.searchParams, opts);
  return url.search.slice(1);
}

function checkQuery(q: URLSearchParams, opts: EksVerifierOptions): void {
  const lower = new Map<string, string>();
  for (const [k, v] of q) {
    const key = k.toLowerCase();
    if (!ALLOWED.has(key)) throw new TokenError(`non-whitelisted query parameter "${k}"`);
    if (lower.has(key)) throw new TokenError(`duplicate query parameter found: "${k}"`);
    lower.set(key, v);
  }
  if (lower.get('action') !== 'GetCallerIdentity')
    throw new TokenError('unexpected action parameter in pre-signed URL');
  if (lower.get('version') !== '2011-06-15') throw new TokenError('unexpected version parameter in pre-signed URL');
  const signed = (lower.get('x-amz-signedheaders') ?? '').split(';').map((h) => h.toLowerCase());
  if (!signed.includes(CLUSTER_ID_HEADER)) throw new TokenError(`client did not sign the ${CLUSTER_ID_HEADER} header`);
  const expires = Number(lower.get('x-amz-expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > 900)
    throw new TokenError('invalid X-Amz-Expires parameter');
  const [, , region, service] = (lower.get('x-amz-credential') ?? '').split('/');
  if (region !== opts.region || service !== 'sts') throw new TokenError("credential scope is not this region's STS");
  const date = parseAmzDate(lower.get('x-amz-date') ?? '');
  if (date === undefined) throw new TokenError('X-Amz-Date parameter must be present and well-formed');
  const now = (opts.now ?? Date.now)();
  if (now > date + EXPIRY_MS) throw new TokenError('X-Amz-Date parameter is expired (15 minute expiration)');
  if (date > now + SKEW_MS) throw new TokenError('X-Amz-Date parameter is in the future');
}

interface StsResponse {
  GetCallerIdentityResponse?: { GetCallerIdentityResult?: { Account?: string; Arn?: string; UserId?: string } };
}

export async function verifyEksToken(token: string, opts: EksVerifierOptions): Promise<CallerIdentity> {
  const query = checkTokenFormat(token, opts);
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`https://${stsHost(opts.region)}/?${query}`, {
      method: 'GET',
      headers: { [CLUSTER_ID_HEADER]: opts.clusterId, accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new TransientError(`STS GetCallerIdentity failed: ${(err as Error).message}`, 'STSUnavailable', 1);
  }
  const body = await res.text();
  if (res.status === 429 || res.status >= 500 || body.includes('Throttling')) {
    throw new TransientError(`STS GetCallerIdentity: HTTP ${res.status}`, 'STSUnavailable', 1);
  }
  if (res.status !== 200) throw new TokenError(`STS refused the token: HTTP ${res.status}: ${body.slice(0, 300)}`);
  let parsed: StsResponse;
  try {
    parsed = JSON.parse(body) as StsResponse;
  } catch {
    throw new TokenError('STS answered with something other than JSON');
  }
  const r = parsed.GetCallerIdentityResponse?.GetCallerIdentityResult;
  const canonical = r?.Arn ? canonicalArn(r.Arn) : undefined;
  if (!r?.Arn || !canonical) throw new TokenError(`STS returned an unusable ARN ${JSON.stringify(r?.Arn)}`);
  return { arn: r.Arn, canonicalArn: canonical, account: r.Account ?? '', userId: r.UserId ?? '' };
}

export class EksTokenAuthenticator implements Authenticator {
  constructor(private readonly opts: EksVerifierOptions) {}

  async authenticate(req: ApiRequest): Promise<UserInfo> {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError();
    const id = await verifyEksToken(token, this.opts);
    return { username: id.canonicalArn, groups: [] };
  }
}
