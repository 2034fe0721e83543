/**
 * `npx cdk synth --quiet` as an operator runs it: the real CLI, cdk.json's app and context, local esbuild bundling,
 * cdk-nag on every synth, and an environment with no AWS credentials or region (synth must need neither).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'ssc-synth-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Drop every AWS setting (keys, profiles, endpoints, region) so nothing can reach an account.
    if (!/^AWS_|^CDK_DEFAULT_/.test(k)) env[k] = v;
  }
  env.AWS_CONFIG_FILE = '/dev/null';
  env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return env;
}

function synth(extra: string[]) {
  return spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out, ...extra], {
    cwd: repo,
    env: offlineEnv(),
    encoding: 'utf8',
    timeout: 150_000,
  });
}

describe('cdk synth (CLI, offline, no credentials)', () => {
  it('synthesizes the demo stack from cdk.json with bundled ESM handlers and zero cdk-nag findings', () => {
    const r = synth([]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/AwsSolutions-/);
    const template = JSON.parse(readFileSync(join(out, 'ServiceController-demo.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Handler?: string } }>;
    };
    const fns = Object.values(template.Resources).filter((x) => x.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(6); // five controller functions and the Kubernetes API
    // Every function asset directory holds an ESM bundle.
    const manifest = JSON.parse(readFileSync(join(out, 'ServiceController-demo.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const dirs = Object.values(manifest.files).filter((f) => f.source.packaging === 'zip');
    expect(dirs.length).toBe(6);
    for (const d of dirs) expect(existsSync(join(out, d.source.path, 'index.mjs'))).toBe(true);
  }, 180_000);

  it('fails with one clear message on contradictory context, before building anything', () => {
    const r = synth(['-c', 'nodePortRange=32767-30000', '-c', 'resyncIntervalMinutes=0']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'ServiceController "context" is invalid: [nodePortRange: Invalid value: "32767-30000": min must not be greater than max, resyncIntervalMinutes: Invalid value: 0: must be a whole number of minutes, at least 1]',
    );
  }, 60_000);

  it('reads cluster mode from -c keys and fails clearly on a bad one', () => {
    const r = synth([
      '-c',
      'clusterModeKubeconfigSecretArn=arn:aws:secretsmanager:eu-west-1:123456789012:secret:kubeconfig',
      '-c',
      'clusterModeSubnetIds=subnet-0123abcd',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'ServiceController "context" is invalid: [clusterMode.auth.kubeconfigSecretArn: Invalid value: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kubeconfig": must be the complete ARN of a Secrets Manager secret, with the 6-character suffix Secrets Manager appends (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf), clusterMode.securityGroupIds: Required value: the watcher in subnets needs security groups too]',
    );
  }, 60_000);
});
