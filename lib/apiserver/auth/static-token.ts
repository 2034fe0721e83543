/**
 * Static bearer tokens (kube-apiserver's --token-auth-file): local mode writes a random per-run token into the
 * local kubeconfig. Tokens are compared by SHA-256 digest in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../../errors.js';
import type { ApiRequest } from '../http/types.js';
import { bearerToken, type Authenticator, type UserInfo } from './types.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class StaticTokenAuthenticator implements Authenticator {
  private readonly entries: { digest: Buffer; user: UserInfo }[];

  constructor(tokens: ReadonlyMap<string, UserInfo>) {
    this.entries = [...tokens].map(([token, user]) => ({ digest: digest(token), user }));
  }

  async authenticate(req: ApiRequest): Promise<UserInfo> {
    const token = bearerToken(req);
    if (!token) throw new UnauthorizedError();
    const d = digest(token);
    const hit = this.entries.find((e) => timingSafeEqual(e.digest, d));
    if (!hit) throw new UnauthorizedError();
    return hit.user;
  }
}

/** A fresh random token for one local run (256 bits, URL-safe). */
export const randomToken = (): string => randomBytes(32).toString('base64url');
