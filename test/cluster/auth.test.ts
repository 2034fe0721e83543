/**
 * Cluster mode's authentication to an existing cluster (lib/cluster/auth.ts). Real parts: moto plays Secrets Manager
 * and EKS (the worker's AWS_ENDPOINT_URL; the default clients are used, so the endpoint variables are honoured), the
 * EKS token is checked by the API server's own verifier (lib/apiserver/auth/eks-verifier.ts) against the STS
 * stand-in that re-signs like STS, and the KubeConfigs built are used by @kubernetes/client-node for a real list
 * over TLS against a loopback API stand-in. aws-sdk-client-mock is used where an exact DescribeCluster or
 * GetSecretValue answer matters.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_ID_HEADER, TOKEN_PREFIX } from '../../lib/apiserver/auth/eks-token.js';
import { checkTokenFormat, TokenError, verifyEksToken } from '../../lib/apiserver/auth/eks-verifier.js';
import { loopbackCertificate, type LoopbackTls } from '../../lib/apiserver/http/loopback-tls.js';
import {
  ClusterAuth,
  ClusterAuthError,
  KUBECONFIG_MAX_AGE_MS,
  readClusterAuthSettings,
  type CredentialsProvider,
} from '../../lib/cluster/auth.js';
import { ConfigError } from '../../lib/cluster-env.js';
import { CLUSTER_MODE_ENV } from '../../lib/contracts.js';
import { ROLE_SESSION_ARN, callerIdentity } from '../apiserver/fixtures/sts.js';
import { uniqueName } from '../support/aws.js';
import { stsStandIn } from '../support/sts-standin.js';

const REGION = 'us-east-1';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:watcher-kubeconfig-AbCdEf';
/** The credentials test/setup/worker-moto.ts puts in the environment: what the default clients sign with. */
const ENV_CREDS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const STS = stsStandIn(REGION, [{ ...ENV_CREDS, body: callerIdentity(ROLE_SESSION_ARN, 'AROAEXAMPLE:watcher') }]);
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

interface KcParts {
  server?: unknown;
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  current?: unknown;
}

/** A kubeconfig document with one cluster, user and context, overridable part by part. */
function kubeconfig(p: KcParts = {}): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'prod', cluster: p.cluster ?? { server: p.server ?? 'https://k8s.example.com:6443' } }],
    users: [{ name: 'watcher', user: p.user ?? { token: 'abc.def' } }],
    contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'watcher' } }],
    'current-context': 'current' in p ? p.current : 'prod',
  };
  return yaml.dump(doc);
}

/** ClusterAuth over a Secrets Manager client whose GetSecretValue answers `out`. */
function secretAuth(out: Partial<GetSecretValueCommandOutput>): ClusterAuth {
  const secretsManager = new SecretsManagerClient({ region: REGION });
  mockClient(secretsManager).on(GetSecretValueCommand, { SecretId: ARN }).resolves(out);
  return new ClusterAuth({ auth: 'kubeconfig', kubeconfigSecretArn: ARN }, { secretsManager });
}

async function authError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClusterAuthError);
  return (err as Error).message;
}

function configError(env: Record<string, string>): string {
  try {
    readClusterAuthSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('no ConfigError');
}

describe('readClusterAuthSettings', () => {
  const { auth, eksClusterName, kubeconfigSecretArn } = CLUSTER_MODE_ENV;

  it('reads the eks and kubeconfig settings', () => {
    expect(readClusterAuthSettings({ [auth]: 'eks', [eksClusterName]: ' prod_1 ' })).toEqual({
      auth: 'eks',
      eksClusterName: 'prod_1',
    });
    expect(readClusterAuthSettings({ [auth]: 'kubeconfig', [kubeconfigSecretArn]: ARN })).toEqual({
      auth: 'kubeconfig',
      kubeconfigSecretArn: ARN,
    });
    expect(
      readClusterAuthSettings({
        [auth]: 'kubeconfig',
        [kubeconfigSecretArn]: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:k-AbCdEf',
      }).kubeconfigSecretArn,
    ).toMatch(/^arn:aws-cn:/);
  });

  it('names the variable that is missing or wrong', () => {
    expect(configError({})).toBe('CLUSTER_MODE_AUTH: expected "eks" or "kubeconfig", got ""');
    expect(configError({ [auth]: 'EKS' })).toBe('CLUSTER_MODE_AUTH: expected "eks" or "kubeconfig", got "EKS"');
    expect(configError({ [auth]: 'iam' })).toMatch(/^CLUSTER_MODE_AUTH: .*got "iam"/);
    expect(configError({ [auth]: 'eks', [kubeconfigSecretArn]: ARN })).toBe(
      'CLUSTER_MODE_EKS_CLUSTER: required when CLUSTER_MODE_AUTH=eks',
    );
    expect(configError({ [auth]: 'eks', [eksClusterName]: '-bad name' })).toMatch(/^CLUSTER_MODE_EKS_CLUSTER: not an/);
    expect(configError({ [auth]: 'kubeconfig', [eksClusterName]: 'prod' })).toBe(
      'CLUSTER_MODE_KUBECONFIG_SECRET_ARN: required when CLUSTER_MODE_AUTH=kubeconfig',
    );
    expect(configError({ [auth]: 'kubeconfig', [kubeconfigSecretArn]: 'watcher-kubeconfig' })).toMatch(
      /^CLUSTER_MODE_KUBECONFIG_SECRET_ARN: not a Secrets Manager secret ARN/,
    );
  });

  it('is checked by the constructor too', () => {
    expect(() => new ClusterAuth({ auth: 'eks' })).toThrow(ConfigError);
    expect(() => new ClusterAuth({ auth: 'kubeconfig' })).toThrow(ConfigError);
  });
});

/** A loopback HTTPS API stand-in: answers a NamespaceList to requests `authorize` accepts, 401 otherwise. */
async function apiStandIn(tls: LoopbackTls, authorize: (authorization: string) => Promise<boolean>) {
  const seen: string[] = [];
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const authorization = req.headers.authorization ?? '';
    seen.push(`${req.method} ${req.url}`);
    void authorize(authorization).then((ok) => {
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] } : {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const list = async (kc: KubeConfig) => (await kc.makeApiClient(CoreV1Api).listNamespace()).kind;

describe('kubeconfig from Secrets Manager (moto)', () => {
  let tls: LoopbackTls;
  let api: Awaited<ReturnType<typeof apiStandIn>>;
  beforeAll(async () => {
    tls = await loopbackCertificate();
    api = await apiStandIn(tls, async (a) => a === 'Bearer watcher-token');
  });
  afterAll(() => api.close());

  it('loads the secret with the default client and lists over TLS with it', async () => {
    const sm = new SecretsManagerClient({});
    const text = kubeconfig({
      cluster: { server: `${api.url}/`, 'certificate-authority-data': Buffer.from(tls.cert).toString('base64') },
      user: { token: 'watcher-token' },
    });
    const { ARN: arn } = await sm.send(new CreateSecretCommand({ Name: uniqueName('kubeconfig'), SecretString: text }));
    const auth = new ClusterAuth(
      readClusterAuthSettings({ [CLUSTER_MODE_ENV.auth]: 'kubeconfig', [CLUSTER_MODE_ENV.kubeconfigSecretArn]: arn! }),
    );
    const kc = await auth.kubeConfig();
    expect(kc.getCurrentCluster()?.server).toBe(api.url);
    expect(kc.getCurrentUser()?.token).toBe('watcher-token');
    expect(await list(kc)).toBe('NamespaceList');
    expect(api.seen).toContain('GET /api/v1/namespaces');
  });

  it('reports a missing secret as a ClusterAuthError naming the call', async () => {
    const missing = ARN.replace('watcher', uniqueName('absent'));
    const auth = new ClusterAuth({ auth: 'kubeconfig', kubeconfigSecretArn: missing });
    expect(await authError(auth.kubeConfig())).toMatch(
      new RegExp(`^secretsmanager:GetSecretValue ${missing} failed: ResourceNotFoundException`),
    );
  });
});

describe('kubeconfig secret checks', () => {
  const valid: [string, string][] = [
    ['https with a token', kubeconfig()],
    ['http on 127.0.0.1', kubeconfig({ server: 'http://127.0.0.1:8080' })],
    ['http on localhost', kubeconfig({ server: 'http://localhost:8080' })],
    ['a client certificate', kubeconfig({ user: { 'client-certificate-data': CA, 'client-key-data': CA } })],
    [
      'an exec user that is not the current one',
      kubeconfig().replace('users:', 'users:\n  - name: other\n    user:\n      exec:\n        command: aws'),
    ],
  ];
  it.each(valid)('accepts %s', async (_what, text) => {
    const kc = await secretAuth({ SecretString: text }).kubeConfig();
    expect(kc.getCurrentContext()).toBe('prod');
  });

  const EXEC = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks'] } };
  const bad: [string, Partial<GetSecretValueCommandOutput>, RegExp][] = [
    ['no SecretString (binary)', { SecretBinary: new Uint8Array([1]) }, /: empty \(expected a kubeconfig/],
    ['an empty string', { SecretString: '' }, /: empty/],
    ['whitespace', { SecretString: ' \n ' }, /: empty/],
    ['not YAML', { SecretString: 'clusters: [\n  token: s3cr3t' }, /: not YAML: .* at line \d+$/],
    ['a YAML scalar', { SecretString: 'just some text' }, /: not a kubeconfig \(expected a mapping/],
    ['a YAML list', { SecretString: '- a\n- b' }, /: not a kubeconfig/],
    ['JSON null', { SecretString: 'null' }, /: not a kubeconfig/],
    ['two documents', { SecretString: 'a: 1\n---\nb: 2' }, /: not YAML: expected a single document/],
    ['clusters not a list', { SecretString: 'clusters: 5' }, /: clusters is not a list$/],
    ['a scalar cluster', { SecretString: 'clusters: [5]' }, /: clusters\[0\] is not a mapping with a cluster$/],
    ['a null user', { SecretString: 'users: [null]' }, /: users\[0\] is not a mapping with a user$/],
    ['a scalar context body', { SecretString: 'contexts: [{name: a, context: x}]' }, /contexts\[0\] is not a/],
    ['a cluster without a name', { SecretString: 'clusters: [{cluster: {server: x}}]' }, /clusters\[0\].name is/],
    ['a cluster without a server', { SecretString: kubeconfig({ cluster: {} }) }, /clusters\[0\].cluster.server is m/],
    ['a numeric server', { SecretString: kubeconfig({ server: 6443 }) }, /clusters\[0\].cluster.server is not a str/],
    ['no current-context', { SecretString: kubeconfig({ current: undefined }) }, /: no current-context$/],
    ['a numeric current-context', { SecretString: kubeconfig({ current: 7 }) }, /: current-context is not a string/],
    ['an unknown current-context', { SecretString: kubeconfig({ current: 'dev' }) }, /"dev" names no cluster$/],
    ['http on another host', { SecretString: kubeconfig({ server: 'http://10.0.0.1' }) }, /must be https \(http on/],
    ['another scheme', { SecretString: kubeconfig({ server: 'ftp://127.0.0.1' }) }, /must be https/],
    ['a server that is no URL', { SecretString: kubeconfig({ server: 'k8s:6443:x' }) }, /server must be https/],
    ['a relative server', { SecretString: kubeconfig({ server: '/api' }) }, /server is not a URL$/],
    [
      'insecure-skip-tls-verify',
      {
        SecretString: kubeconfig({ cluster: { server: 'https://k8s.example.com', 'insecure-skip-tls-verify': true } }),
      },
      /sets insecure-skip-tls-verify; give its CA instead$/,
    ],
    [
      'a CA file',
      { SecretString: kubeconfig({ cluster: { server: 'https://k8s.example.com', 'certificate-authority': '/ca' } }) },
      /names a certificate-authority file, which a Lambda does not have: use certificate-authority-data$/,
    ],
    [
      'an exec user',
      { SecretString: kubeconfig({ user: EXEC }) },
      /user "watcher" uses an exec credential plugin \(aws\), which a Lambda cannot run .*CLUSTER_MODE_AUTH=eks/,
    ],
    [
      'an auth-provider user',
      { SecretString: kubeconfig({ user: { 'auth-provider': { name: 'gcp', config: {} } } }) },
      /user "watcher" uses an auth-provider plugin \(gcp\), which a Lambda cannot run/,
    ],
    [
      'a token-file',
      { SecretString: kubeconfig({ user: { 'token-file': '/proc/self/environ' } }) },
      /users\[0\] uses token-file; a Lambda has no such file: use token$/,
    ],
    [
      'client certificate files',
      { SecretString: kubeconfig({ user: { 'client-certificate': '/c', 'client-key': '/k' } }) },
      /names client-certificate\/client-key files/,
    ],
    ['a user without credentials', { SecretString: kubeconfig({ user: {} }) }, /has no token or client-certificate/],
    ['a key without a certificate', { SecretString: kubeconfig({ user: { 'client-key-data': CA } }) }, /has no token/],
    [
      'a context without a user',
      { SecretString: kubeconfig().replace('user: watcher', 'namespace: x') },
      /current-context "prod" names no user$/,
    ],
  ];
  it.each(bad)('refuses %s with a ClusterAuthError', async (_what, out, message) => {
    const text = await authError(secretAuth(out).kubeConfig());
    expect(text).toMatch(new RegExp(`^kubeconfig secret ${ARN}: `));
    expect(text).toMatch(message);
    expect(text).not.toMatch(/s3cr3t|TypeError|Cannot read/);
  });
});

describe('eks', () => {
  it('builds the KubeConfig from moto DescribeCluster, with a token the API verifier accepts', async () => {
    const eks = new EKSClient({});
    const name = uniqueName('prod');
    await eks.send(
      new CreateClusterCommand({
        name,
        roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
        resourcesVpcConfig: { subnetIds: ['subnet-0123456789abcdef0'] },
      }),
    );
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
    const auth = new ClusterAuth(
      readClusterAuthSettings({ [CLUSTER_MODE_ENV.auth]: 'eks', [CLUSTER_MODE_ENV.eksClusterName]: name }),
    );
    const kc = await auth.kubeConfig();
    // moto answers https://<random>.<random>.us-east-1.eks.amazonaws.com/ and random CA text; EKS has no slash.
    expect(cluster?.endpoint).toMatch(/^https:\/\/[^/]+\.us-east-1\.eks\.amazonaws\.com\/?$/);
    expect(kc.getCurrentCluster()).toMatchObject({
      server: cluster!.endpoint!.replace(/\/$/, ''),
      caData: cluster!.certificateAuthority!.data,
      skipTLSVerify: false,
    });
    const token = kc.getCurrentUser()!.token!;
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    const query = new URLSearchParams(checkTokenFormat(token, { clusterId: name, region: REGION }));
    expect(query.get('X-Amz-SignedHeaders')).toContain(CLUSTER_ID_HEADER);
    const id = await verifyEksToken(token, { clusterId: name, region: REGION, fetch: STS });
    expect(id.canonicalArn).toBe('arn:aws:iam::123456789012:role/my-role-name');
    // Bound to this cluster: the same token replayed for another cluster name fails STS's signature check.
    await expect(verifyEksToken(token, { clusterId: 'other', region: REGION, fetch: STS })).rejects.toThrow(TokenError);
  });

  it('reports an unknown cluster (moto) as a ClusterAuthError', async () => {
    const auth = new ClusterAuth({ auth: 'eks', eksClusterName: uniqueName('absent') });
    expect(await authError(auth.kubeConfig())).toMatch(/^eks:DescribeCluster absent-\w+ failed: ResourceNotFound/);
  });

  /** An EKS client whose DescribeCluster answers `cluster`, counting calls. */
  function mockedEks(cluster: Record<string, unknown>) {
    const eks = new EKSClient({ region: REGION });
    const m = mockClient(eks);
    m.on(DescribeClusterCommand, { name: 'prod' }).resolves({ cluster: { name: 'prod', ...cluster } });
    return { eks, calls: () => m.commandCalls(DescribeClusterCommand).length };
  }

  it('refuses a cluster without an endpoint yet, or with a non-https one', async () => {
    const creating = mockedEks({ status: 'CREATING' });
    expect(await authError(new ClusterAuth({ auth: 'eks', eksClusterName: 'prod' }, creating).kubeConfig())).toBe(
      'EKS cluster prod (status CREATING) has no endpoint or CA yet',
    );
    const http = mockedEks({ endpoint: 'http://x.eks.amazonaws.com', certificateAuthority: { data: CA } });
    expect(await authError(new ClusterAuth({ auth: 'eks', eksClusterName: 'prod' }, http).kubeConfig())).toMatch(
      /endpoint is not https/,
    );
  });

  it('lists over TLS with the token, which the stand-in API authenticates with the verifier', async () => {
    const tls = await loopbackCertificate();
    const api = await apiStandIn(tls, async (authorization) => {
      const id = await verifyEksToken(authorization.replace(/^Bearer /, ''), {
        clusterId: 'prod',
        region: REGION,
        fetch: STS,
      }).catch(() => undefined);
      return id !== undefined;
    });
    try {
      const { eks } = mockedEks({
        endpoint: api.url,
        certificateAuthority: { data: Buffer.from(tls.cert).toString('base64') },
      });
      const kc = await new ClusterAuth({ auth: 'eks', eksClusterName: 'prod' }, { eks }).kubeConfig();
      expect(await list(kc)).toBe('NamespaceList');
    } finally {
      await api.close();
    }
  });

  it('rebuilds the KubeConfig and token once they are 10 minutes old', async () => {
    const { eks, calls } = mockedEks({
      endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
      certificateAuthority: { data: CA },
    });
    let clock = Date.now();
    const auth = new ClusterAuth({ auth: 'eks', eksClusterName: 'prod' }, { eks, now: () => clock });
    const first = await auth.kubeConfig();
    const date = (kc: KubeConfig) =>
      new URLSearchParams(
        checkTokenFormat(kc.getCurrentUser()!.token!, { clusterId: 'prod', region: REGION, now: () => clock }),
      ).get('X-Amz-Date');
    clock += KUBECONFIG_MAX_AGE_MS - 1;
    expect(await auth.kubeConfig()).toBe(first);
    expect(calls()).toBe(1);
    clock += 1;
    const second = await auth.kubeConfig();
    expect(second).not.toBe(first);
    expect(calls()).toBe(2);
    expect(date(second)).not.toBe(date(first));
    // The rebuilt token is the one the verifier accepts now; the first is past STS's 15 minutes 5 minutes later.
    clock += 5 * 60_000 + 1_000;
    expect(() =>
      checkTokenFormat(first.getCurrentUser()!.token!, { clusterId: 'prod', region: REGION, now: () => clock }),
    ).toThrow(expect.objectContaining({ detail: expect.stringMatching(/expired \(15 minute expiration\)/) }));
    await verifyEksToken(second.getCurrentUser()!.token!, {
      clusterId: 'prod',
      region: REGION,
      fetch: STS,
      now: () => clock,
    });
    expect(KUBECONFIG_MAX_AGE_MS).toBe(600_000);
  });

  it('rebuilds sooner when the signing credentials expire first, and after invalidate()', async () => {
    const { eks, calls } = mockedEks({
      endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
      certificateAuthority: { data: CA },
    });
    let clock = Date.now();
    const credentials: CredentialsProvider = async () => ({ ...ENV_CREDS, expiration: new Date(clock + 3 * 60_000) });
    const auth = new ClusterAuth({ auth: 'eks', eksClusterName: 'prod' }, { eks, credentials, now: () => clock });
    const first = await auth.kubeConfig();
    clock += 2 * 60_000 - 1;
    expect(await auth.kubeConfig()).toBe(first);
    clock += 1; // one minute before the credentials expire
    expect(await auth.kubeConfig()).not.toBe(first);
    expect(calls()).toBe(2);
    auth.invalidate();
    await auth.kubeConfig();
    expect(calls()).toBe(3);
  });

  it('shares one build between concurrent callers, and retries after a failure', async () => {
    const eks = new EKSClient({ region: REGION });
    const m = mockClient(eks);
    m.on(DescribeClusterCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ cluster: { endpoint: 'https://x.eks.amazonaws.com', certificateAuthority: { data: CA } } });
    const auth = new ClusterAuth({ auth: 'eks', eksClusterName: 'prod' }, { eks });
    expect(await authError(auth.kubeConfig())).toBe(
      'eks:DescribeCluster prod failed: ThrottlingException: Rate exceeded',
    );
    const [a, b] = await Promise.all([auth.kubeConfig(), auth.kubeConfig()]);
    expect(a).toBe(b);
    expect(m.commandCalls(DescribeClusterCommand)).toHaveLength(2);
  });
});

describe('ClusterAuth.fromKubeConfig', () => {
  it('returns the given KubeConfig, unchecked and never rebuilt', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig({ server: 'http://10.0.0.1', user: { exec: { command: 'svcctl' } } }));
    const auth = ClusterAuth.fromKubeConfig(kc);
    expect(await auth.kubeConfig()).toBe(kc);
    auth.invalidate();
    expect(await auth.kubeConfig()).toBe(kc);
  });
});
