/**
 * Role mapping per verb (admin / view / writer) and ARN canonicalisation, and the whole request path with an
 * EKS token: the handler authenticates, authorizes and answers 401/403 Status objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalArn, stripRolePath } from '../../lib/apiserver/auth/arn.js';
import { generateEksToken } from '../../lib/apiserver/auth/eks-token.js';
import { EksTokenAuthenticator } from '../../lib/apiserver/auth/eks-verifier.js';
import { iamRoleTable, RoleAuthorizer, roleAllows, type Role } from '../../lib/apiserver/auth/roles.js';
import { createApiHandler } from '../../lib/apiserver/handler.js';
import type { BufferedResponse } from '../../lib/apiserver/http/types.js';
import { createTestBackend, type TestBackend } from '../support/test-backend.js';
import { callerIdentity, ROLE_SESSION_ARN } from './fixtures/sts.js';

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const allowed = (role: Role, resource: string, subresource?: string) =>
  VERBS.filter((verb) => roleAllows(role, { verb, group: '', resource, subresource, namespace: 'default' }));

describe('roles', () => {
  it('admin may do everything, view only reads', () => {
    expect(allowed('admin', 'services')).toEqual(VERBS);
    for (const r of ['services', 'pods', 'endpoints', 'nodes', 'events', 'namespaces']) {
      expect(allowed('view', r)).toEqual(['get', 'list', 'watch']);
    }
    expect(allowed('view', 'services', 'status')).toEqual(['get', 'list', 'watch']);
  });

  it('writer reads everything and writes Pods (and their status) and Endpoints only', () => {
    expect(allowed('writer', 'pods')).toEqual(VERBS);
    expect(allowed('writer', 'pods', 'status')).toEqual(VERBS);
    expect(allowed('writer', 'endpoints')).toEqual(VERBS);
    expect(allowed('writer', 'services')).toEqual(['get', 'list', 'watch']);
    expect(allowed('writer', 'services', 'status')).toEqual(['get', 'list', 'watch']);
    expect(allowed('writer', 'namespaces')).toEqual(['get', 'list', 'watch']);
  });

  it('refusals use the RBAC wording; callers without a role get nothing', () => {
    const authz = new RoleAuthorizer(iamRoleTable([{ arn: 'arn:aws:iam::1:role/team/viewer', role: 'view' }]));
    const viewer = { username: 'arn:aws:iam::1:role/viewer', groups: [] };
    expect(
      authz.authorize(viewer, { verb: 'list', group: '', resource: 'services', namespace: 'default' }),
    ).toBeUndefined();
    expect(authz.authorize(viewer, { verb: 'create', group: '', resource: 'services', namespace: 'default' })).toBe(
      'services is forbidden: User "arn:aws:iam::1:role/viewer" cannot create resource "services" in API group "" in the namespace "default"',
    );
    const stranger = { username: 'arn:aws:iam::1:role/other', groups: [] };
    expect(authz.authorize(stranger, { verb: 'list', group: '', resource: 'nodes' })).toBe(
      'nodes is forbidden: User "arn:aws:iam::1:role/other" cannot list resource "nodes" in API group "" at the cluster scope',
    );
  });

  it('canonicalises caller ARNs like aws-iam-authenticator', () => {
    expect(canonicalArn(ROLE_SESSION_ARN)).toBe('arn:aws:iam::123456789012:role/my-role-name');
    expect(canonicalArn('arn:aws-cn:sts::1:assumed-role/R/s')).toBe('arn:aws-cn:iam::1:role/R');
    expect(canonicalArn('arn:aws:iam::1:user/Alice')).toBe('arn:aws:iam::1:user/Alice');
    expect(canonicalArn('arn:aws:sts::1:federated-user/Bob')).toBe('arn:aws:sts::1:federated-user/Bob');
    expect(canonicalArn('arn:aws:s3:::bucket')).toBeUndefined();
    expect(canonicalArn('arn:evil:iam::1:user/x')).toBeUndefined();
    expect(canonicalArn('arn:aws:sts::1:assumed-role/only')).toBeUndefined();
    expect(stripRolePath('arn:aws:iam::1:role/a/b/Name')).toBe('arn:aws:iam::1:role/Name');
  });
});

describe('handler with EKS tokens', () => {
  const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
  const creds = { accessKeyId: 'ASIAEXAMPLEROLE00001', secretAccessKey: 's' };
  const sts = (async () =>
    new Response(callerIdentity(ROLE_SESSION_ARN, 'AROAEXAMPLE:my-role-session-name'))) as unknown as typeof fetch;

  let tb: TestBackend;
  beforeAll(async () => {
    tb = await createTestBackend();
  });
  afterAll(() => tb?.closeBackend());

  function handlerFor(role: Role) {
    return createApiHandler({
      backend: tb.backend,
      authenticator: new EksTokenAuthenticator({ clusterId: 'prod', region: 'us-east-1', fetch: sts, now: () => NOW }),
      authorizer: new RoleAuthorizer(iamRoleTable([{ arn: 'arn:aws:iam::123456789012:role/my-role-name', role }])),
    });
  }
  const request = (method: string, path: string, token?: string, body = '') => ({
    method,
    path,
    query: new URLSearchParams(),
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: async () => new TextEncoder().encode(body),
    signal: new AbortController().signal,
  });
  const json = (r: unknown) => JSON.parse(String((r as BufferedResponse).body));
  const svc = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'a' },
    spec: { ports: [{ port: 80 }] },
  });

  it('401 without a token; the mapped role decides per verb', async () => {
    const { token } = await generateEksToken('prod', 'us-east-1', creds, new Date(NOW));
    const view = handlerFor('view');
    const noToken = await view(request('GET', '/api/v1/namespaces/default/services'));
    expect(noToken.status).toBe(401);
    expect(json(noToken)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await view(request('GET', '/api/v1/namespaces/default/services', token))).status).toBe(200);
    const denied = await view(request('POST', '/api/v1/namespaces/default/services', token, svc));
    expect(denied.status).toBe(403);
    expect(json(denied).message).toBe(
      'services is forbidden: User "arn:aws:iam::123456789012:role/my-role-name" cannot create resource "services" in API group "" in the namespace "default"',
    );
    const admin = handlerFor('admin');
    expect((await admin(request('POST', '/api/v1/namespaces/default/services', token, svc))).status).toBe(201);
    // Health and version need no credentials.
    expect((await view(request('GET', '/readyz'))).status).toBe(200);
    expect((await view(request('GET', '/version'))).status).toBe(200);
  });
});
