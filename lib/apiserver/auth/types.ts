/**
 * Authentication and authorization seams of the API server. An Authenticator turns a request's credentials into a
 * user (or throws UnauthorizedError); an Authorizer decides per verb and resource, as RBAC does, and its refusal is
 * the apiserver's 403 text.
 */
import type { ApiRequest } from '../http/types.js';

export interface UserInfo {
  /** The name shown in 403 messages and passed to the backend (`user` in WriteOptions). */
  username: string;
  groups: readonly string[];
}

export interface Authenticator {
  /** The user behind the request's credentials; throws UnauthorizedError when they are missing or not valid. */
  authenticate(req: ApiRequest): Promise<UserInfo>;
}

export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface Authorizer {
  /** undefined = allowed; otherwise the reason to refuse. */
  authorize(user: UserInfo, attrs: ResourceAttributes): string | undefined;
}

/** `Bearer <token>` from the Authorization header, or undefined. */
export function bearerToken(req: ApiRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}
