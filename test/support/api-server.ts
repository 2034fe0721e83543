/**
 * Starts the API server (lib/apiserver over node:https on loopback) for acceptance tests, on the real backend
 * (`createTestBackend`: StoreBackend over a moto table of its own).
 */
import { RoleAuthorizer, roleTable, type Role } from '../../lib/apiserver/auth/roles.js';
import { randomToken, StaticTokenAuthenticator } from '../../lib/apiserver/auth/static-token.js';
import type { UserInfo } from '../../lib/apiserver/auth/types.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import { loopbackCertificate } from '../../lib/apiserver/http/loopback-tls.js';
import { startNodeServer } from '../../lib/apiserver/http/node.js';
import type { ApiRequest } from '../../lib/apiserver/http/types.js';
import type { ServeOptions } from '../../lib/apiserver/resources/context.js';
import { kubectlFor, type Kubectl } from './kubectl.js';
import { createTestBackend, type TestBackend } from './test-backend.js';

export interface TestApi extends TestBackend {
  url: string;
  /** PEM of the server certificate (its own CA). */
  caCert: string;
  /** A bearer token per role: admin, view, writer. */
  tokens: Record<Role, string>;
  kubectl(role?: Role): Kubectl;
  /** Destroys every open connection (watches included), as a network failure would. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * `onRequest` sees every request before the server handles it, and may hold it (a returned promise): tests count
 * what a client sent, or make one answer come back after later ones.
 */
export async function startTestApi(
  options: Partial<ServeOptions> = {},
  onRequest?: (req: ApiRequest) => void | Promise<void>,
  /** How often the backend polls its change log (watch latency against moto load; default 30 ms). */
  tailerPollMs?: number,
): Promise<TestApi> {
  const tb = await createTestBackend({ bookmarkIntervalMs: options.bookmarkIntervalMs, tailerPollMs });
  const roles: Role[] = ['admin', 'view', 'writer'];
  const tokens = Object.fromEntries(roles.map((r) => [r, randomToken()])) as Record<Role, string>;
  const users = new Map<string, UserInfo>(roles.map((r) => [tokens[r], { username: `test-${r}`, groups: [] }]));
  const handler = createApiHandler({
    backend: tb.backend,
    authenticator: new StaticTokenAuthenticator(users),
    authorizer: new RoleAuthorizer(roleTable(new Map(roles.map((r) => [`test-${r}`, r])))),
    options,
  });
  const tls = await loopbackCertificate();
  const hooked = onRequest
    ? async (req: ApiRequest) => {
        await onRequest(req);
        return handler(req);
      }
    : handler;
  const running = await startNodeServer(hooked, { tls });
  return {
    ...tb,
    url: running.url,
    caCert: tls.cert,
    tokens,
    kubectl: (role = 'admin') => kubectlFor(running.url, tokens[role], tls.cert),
    dropConnections: () => running.server.closeAllConnections(),
    close: async () => {
      await running.close();
      tb.closeBackend();
    },
  };
}
