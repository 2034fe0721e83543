/**
 * kubectl exec credential plugins (client-go's plugin/pkg/client/auth/exec): run `command args...` with the
 * kubeconfig's extra environment and KUBERNETES_EXEC_INFO, read an ExecCredential from its stdout, use
 * status.token (EKS-style plugins such as `svcctl token` and `aws eks get-token` return one; a plugin that returns
 * only a client certificate is refused with a clear message). argv is passed as given, never through a shell; stderr
 * goes to the user's terminal as kubectl lets it.
 */
import { spawn } from 'node:child_process';
import type { ExecConfig } from './kubeconfig.js';

const SUPPORTED = ['client.authentication.k8s.io/v1beta1', 'client.authentication.k8s.io/v1'];

function run(cfg: ExecConfig, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cfg.command, cfg.args ?? [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', (err) => reject(new Error(`exec: executable ${cfg.command} failed: ${err.message}`)));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
  });
}

/** The bearer token the plugin returns. */
export async function runExecPlugin(cfg: ExecConfig): Promise<string> {
  const apiVersion = cfg.apiVersion ?? 'client.authentication.k8s.io/v1beta1';
  if (!SUPPORTED.includes(apiVersion)) throw new Error(`exec plugin: invalid apiVersion "${apiVersion}"`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const e of cfg.env ?? []) env[e.name] = e.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: { interactive: false } });
  const r = await run(cfg, env);
  if (r.code !== 0)
    throw new Error(`getting credentials: exec: executable ${cfg.command} failed with exit code ${r.code}`);
  let cred: { apiVersion?: string; status?: Record<string, unknown> };
  try {
    cred = JSON.parse(r.stdout);
  } catch {
    throw new Error(`getting credentials: decoding stdout: couldn't get version/kind; json parse error`);
  }
  if (cred.apiVersion !== apiVersion)
    throw new Error(
      `getting credentials: exec plugin is configured to use API version ${apiVersion}, plugin returned version ${cred.apiVersion}`,
    );
  const token = cred.status?.token;
  if (typeof token === 'string' && token) return token;
  if (cred.status?.clientCertificateData)
    throw new Error('getting credentials: svcctl supports exec plugins that return a token, not a client certificate');
  throw new Error("getting credentials: exec plugin didn't return a token or cert/key pair");
}
