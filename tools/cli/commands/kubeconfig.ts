/**
 * `svcctl kubeconfig`: a kubeconfig for kubectl (and any client library).
 * - Without --server: the local API's (its per-run token and certificate), starting the local system if none runs.
 * - With --server URL --cluster-name NAME --region R: a deployed stack's API (the ApiUrl output), EKS-style: the user
 *   is an exec credential plugin running `svcctl token --cluster-name NAME --region R` with the caller's AWS
 *   credentials (AWS_PROFILE is kept when set). --certificate-authority FILE pins a private CA; a Function URL needs
 *   none.
 * Printed, or written with mode 0600 to --write FILE.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { ensureLocalSystem, svcctlBin } from '../../local/autostart.js';
import { localKubeconfigPath } from '../../local/state.js';
import { execKubeconfig } from '../kube/kubeconfig.js';
import { UsageError, type Io } from '../io.js';

export interface KubeconfigFlags {
  server?: string;
  'cluster-name'?: string;
  region?: string;
  'certificate-authority'?: string;
  write?: string;
}

function deployed(flags: KubeconfigFlags): string {
  const name = flags['cluster-name'];
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!name || !region) throw new UsageError('kubeconfig --server needs --cluster-name and --region (or AWS_REGION)');
  let url: URL;
  try {
    url = new URL(flags.server!);
  } catch {
    throw new UsageError(`--server: not a URL: ${flags.server}`);
  }
  if (url.protocol !== 'https:')
    throw new UsageError('--server must be an https:// URL (kubectl sends tokens only over TLS)');
  const cfg = execKubeconfig({
    name,
    server: url.href.replace(/\/+$/, ''),
    caCert: flags['certificate-authority'] ? readFileSync(flags['certificate-authority'], 'utf8') : undefined,
    command: svcctlBin(),
    args: ['token', '--cluster-name', name, '--region', region],
  });
  if (process.env.AWS_PROFILE) {
    const exec = (cfg.users as { user: { exec: Record<string, unknown> } }[])[0]!.user.exec;
    exec.env = [{ name: 'AWS_PROFILE', value: process.env.AWS_PROFILE }];
  }
  return yaml.dump(cfg, { noArrayIndent: true, lineWidth: -1 });
}

export async function kubeconfig(flags: KubeconfigFlags, io: Io, progress: (m: string) => void): Promise<number> {
  let text: string;
  if (flags.server) text = deployed(flags);
  else {
    await ensureLocalSystem(progress);
    text = readFileSync(localKubeconfigPath(), 'utf8');
  }
  if (!flags.write) {
    io.stdout(text);
    return 0;
  }
  writeFileSync(flags.write, text, { mode: 0o600 });
  io.stdout(`kubeconfig written to ${flags.write}; point kubectl at it with:\nexport KUBECONFIG=${flags.write}\n`);
  return 0;
}
