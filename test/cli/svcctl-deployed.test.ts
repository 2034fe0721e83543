/**
 * The deployed shape end to end, on this machine: the API function's handler (lib/serving/deployed-api.ts, the store
 * in the test run's moto) behind HTTPS, EKS tokens verified against an STS stand-in that checks SigV4 as STS does,
 * the role mapping from the stack's props. `svcctl kubeconfig --server` writes the EKS-style kubeconfig whose exec
 * plugin is `svcctl token`; the real kubectl and svcctl use it with the caller's AWS credentials: the admin role
 * writes, the view user reads but is refused writes (403 in RBAC's words), unknown credentials get 401.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackCertificate } from '../../lib/apiserver/http/loopback-tls.js';
import { startNodeServer, type RunningServer } from '../../lib/apiserver/http/node.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { deployedApiHandler } from '../../lib/serving/deployed-api.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { callerIdentity, ROLE_SESSION_ARN, USER_ARN } from '../apiserver/fixtures/sts.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { cliEnv, type CliEnv } from '../support/cli.js';
import { kubectlWith } from '../support/kubectl-env.js';
import { stsStandIn } from '../support/sts-standin.js';

const REGION = 'us-west-2';
const ADMIN = { accessKeyId: 'ASIAEXAMPLEADMIN0001', secretAccessKey: 'admin-secret', sessionToken: 'admin-session' };
const VIEWER = { accessKeyId: 'AKIAEXAMPLEVIEWER001', secretAccessKey: 'viewer-secret' };
const STRANGER = { accessKeyId: 'AKIAEXAMPLESTRANGER1', secretAccessKey: 'nobody-knows' };
const creds = (c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: c.accessKeyId,
  AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
  ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
});

let server: RunningServer;
let cli: CliEnv;
let kubeconfig: string;
const stsCalls: string[] = [];

beforeAll(async () => {
  const clients = motoClients();
  const table = uniqueName('deployed');
  await ensureTable(clients.dynamodb, table);
  const handler = deployedApiHandler(
    {
      cluster: { ...DEFAULT_CLUSTER_CONFIG, clusterName: 'prod' },
      tableName: table,
      region: REGION,
      roles: [
        { arn: 'arn:aws:iam::123456789012:role/my-role-name', role: 'admin' },
        { arn: USER_ARN, role: 'view' },
      ],
    },
    {
      store: new DynamoStore(clients.dynamodb, table),
      fetch: stsStandIn(
        REGION,
        [
          { ...ADMIN, body: callerIdentity(ROLE_SESSION_ARN, 'AROAEXAMPLE:my-role-session-name') },
          { ...VIEWER, body: callerIdentity(USER_ARN, VIEWER.accessKeyId) },
        ],
        stsCalls,
      ),
    },
  );
  const tls = await loopbackCertificate();
  server = await startNodeServer(handler, { tls });
  cli = cliEnv();
  const ca = join(cli.home, 'ca.pem');
  writeFileSync(ca, tls.cert);
  kubeconfig = join(cli.home, 'prod.kubeconfig');
  const args = ['--server', server.url, '--cluster-name', 'prod', '--region', REGION];
  const r = await cli.run(['kubeconfig', ...args, '--certificate-authority', ca, '--write', kubeconfig]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(
    `kubeconfig written to ${kubeconfig}; point kubectl at it with:\nexport KUBECONFIG=${kubeconfig}\n`,
  );
}, 120_000);

afterAll(() => server?.close());

describe('an EKS-style kubeconfig from svcctl kubeconfig --server', () => {
  it('names svcctl token as the exec credential plugin, for the cluster and region', async () => {
    const { readFileSync } = await import('node:fs');
    const yaml = (await import('yaml')).parse(readFileSync(kubeconfig, 'utf8'));
    expect(yaml.users[0].user.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: expect.stringMatching(/\/bin\/svcctl\.mjs$/),
      args: ['token', '--cluster-name', 'prod', '--region', REGION],
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });
    expect(yaml.clusters[0].cluster.server).toBe(server.url);
  });

  it('kubectl with the admin role: apply and get through the token the plugin makes', async () => {
    const kubectl = kubectlWith(kubeconfig, creds(ADMIN));
    const a = await kubectl.run(['apply', '-f', 'examples/hellok8s-svc.yaml']);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe('service/hellok8s-svc created\n');
    const g = await kubectl.run(['get', 'service', 'hellok8s-svc']);
    expect(g.stdout.split('\n')[1]).toMatch(/^hellok8s-svc +NodePort +10\.\S+ +<none> +4567:30001\/TCP +\d+s$/);
    // The verifier called STS at the region's endpoint and nowhere else.
    expect(new Set(stsCalls)).toEqual(new Set([`sts.${REGION}.amazonaws.com`]));
  }, 60_000);

  it('svcctl with the same kubeconfig: reads, and applies as admin', async () => {
    const env = { ...cli.env, ...creds(ADMIN) };
    const { runBinary } = await import('../support/cli.js');
    const g = await runBinary(env, ['--kubeconfig', kubeconfig, 'get', 'services']);
    expect(g.stderr).toBe('');
    expect(g.stdout).toMatch(/^hellok8s-svc +NodePort /m);
    const a = await runBinary(env, ['--kubeconfig', kubeconfig, 'apply', '-f', 'examples/nginx-clusterip.yaml']);
    expect(a.stdout).toBe('service/nginx created\n');
  }, 60_000);

  it('the view user reads but may not write; unknown credentials are not logged in', async () => {
    const viewer = kubectlWith(kubeconfig, creds(VIEWER));
    const g = await viewer.run(['get', 'services', '-o', 'name']);
    expect(g.stdout).toBe('service/hellok8s-svc\nservice/nginx\n');
    const d = await viewer.run(['delete', 'service', 'nginx']);
    expect(d.code).toBe(1);
    expect(d.stderr).toBe(
      `Error from server (Forbidden): services "nginx" is forbidden: User "${USER_ARN}" cannot delete resource "services" in API group "" in the namespace "default"\n`,
    );
    const stranger = kubectlWith(kubeconfig, creds(STRANGER));
    const s = await stranger.run(['get', 'services']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
    );
  }, 60_000);
});
