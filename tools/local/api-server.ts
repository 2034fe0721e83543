/**
 * The API server on loopback for local mode: a per-run random bearer token (admin), a per-run self-signed
 * certificate (kubectl sends tokens only over TLS), and a kubeconfig that points kubectl at it. The backend is the
 * caller's (the write path over the local store).
 */
import { writeFileSync } from 'node:fs';
import type { ApiBackend } from '../../lib/api/backend.js';
import { RoleAuthorizer, roleTable } from '../../lib/apiserver/auth/roles.js';
import { randomToken, StaticTokenAuthenticator } from '../../lib/apiserver/auth/static-token.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import { loopbackCertificate } from '../../lib/apiserver/http/loopback-tls.js';
import { startNodeServer, type RunningServer } from '../../lib/apiserver/http/node.js';
import type { ServeOptions } from '../../lib/apiserver/resources/context.js';

export const LOCAL_USER = 'local-admin';

export interface KubeconfigParams {
  server: string;
  token: string;
  caCert: string;
  namespace?: string;
  name?: string;
}

/** A kubeconfig with one cluster, one token user and one context, current. */
export function kubeconfigYaml(p: KubeconfigParams): string {
  const name = p.name ?? 'serverless-service-controller';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${p.server}`,
    `    certificate-authority-data: ${Buffer.from(p.caCert).toString('base64')}`,
    'users:',
    `- name: ${name}`,
    '  user:',
    `    token: ${p.token}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    `    namespace: ${p.namespace ?? 'default'}`,
    `current-context: ${name}`,
    '',
  ].join('\n');
}

export interface LocalApi extends RunningServer {
  token: string;
  caCert: string;
}

export async function serveLocalApi(opts: {
  backend: ApiBackend;
  /** Written with mode 0600 (it holds the token). */
  kubeconfigPath?: string;
  port?: number;
  options?: Partial<ServeOptions>;
}): Promise<LocalApi> {
  const token = randomToken();
  const tls = await loopbackCertificate();
  const handler = createApiHandler({
    backend: opts.backend,
    authenticator: new StaticTokenAuthenticator(new Map([[token, { username: LOCAL_USER, groups: [] }]])),
    authorizer: new RoleAuthorizer(roleTable(new Map([[LOCAL_USER, 'admin']]))),
    options: opts.options,
  });
  const running = await startNodeServer(handler, { port: opts.port, tls });
  if (opts.kubeconfigPath) {
    writeFileSync(opts.kubeconfigPath, kubeconfigYaml({ server: running.url, token, caCert: tls.cert }), {
      mode: 0o600,
    });
  }
  return { ...running, token, caCert: tls.cert };
}
