/**
 * `svcctl token` (the real binary) as kubectl's exec credential plugin: it prints an ExecCredential whose EKS-format
 * token, signed with the default AWS credentials (here the environment's), is accepted by the API's verifier for the
 * cluster it names and refused for any other; STS is the stand-in that checks SigV4 as STS does and answers with a
 * recorded GetCallerIdentity body.
 */
import { describe, expect, it } from 'vitest';
import { TokenError, verifyEksToken } from '../../lib/apiserver/auth/eks-verifier.js';
import { callerIdentity, ROLE_SESSION_ARN } from '../apiserver/fixtures/sts.js';
import { runBinary } from '../support/cli.js';
import { stsStandIn } from '../support/sts-standin.js';

const ROLE = {
  accessKeyId: 'ASIAEXAMPLEROLE00002',
  secretAccessKey: 'role-secret-for-token-test',
  sessionToken: 'FwoGZXIvYXdzEXAMPLE2+/=',
};
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  AWS_ACCESS_KEY_ID: ROLE.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ROLE.secretAccessKey,
  AWS_SESSION_TOKEN: ROLE.sessionToken,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const sts = stsStandIn('eu-west-1', [
  { ...ROLE, body: callerIdentity(ROLE_SESSION_ARN, 'AROAEXAMPLE:my-role-session-name') },
]);

describe('svcctl token', () => {
  it('prints an ExecCredential the verifier accepts for its cluster (the session maps to its role)', async () => {
    const before = Date.now();
    const r = await runBinary(env, ['token', '--cluster-name', 'prod', '--region', 'eu-west-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cred = JSON.parse(r.stdout);
    expect(cred).toMatchObject({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: {},
    });
    expect(cred.status.token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(cred.status.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expires = Date.parse(cred.status.expirationTimestamp);
    expect(expires).toBeGreaterThanOrEqual(before + 14 * 60_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 14 * 60_000);
    const who = await verifyEksToken(cred.status.token, { clusterId: 'prod', region: 'eu-west-1', fetch: sts });
    expect(who.canonicalArn).toBe('arn:aws:iam::123456789012:role/my-role-name');
    // Bound to its cluster: STS's signature check fails when the API of another cluster replays it.
    await expect(
      verifyEksToken(cred.status.token, { clusterId: 'staging', region: 'eu-west-1', fetch: sts }),
    ).rejects.toBeInstanceOf(TokenError);
  }, 60_000);

  it('needs the cluster name and a region', async () => {
    const noCluster = await runBinary(env, ['token', '--region', 'eu-west-1']);
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toContain('token needs --cluster-name');
    const noRegion = await runBinary(env, ['token', '--cluster-name', 'prod']);
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('token needs --region');
  }, 60_000);
});
