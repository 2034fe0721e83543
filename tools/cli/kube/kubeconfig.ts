/**
 * kubeconfig files as kubectl reads them (client-go's clientcmd), for what svcctl needs: the current context's
 * cluster (server, CA, insecure-skip-tls-verify), its user (bearer token, token file, client certificate, or an exec
 * credential plugin) and its namespace. $KUBECONFIG may list several files: as clientcmd merges them, the first file
 * that sets a value wins (current-context, and each named cluster, user and context). Relative file paths inside a
 * kubeconfig are relative to that file. Parsed with js-yaml (a kubeconfig is YAML or JSON).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';

export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  interactiveMode?: string;
}

export interface ResolvedKubeconfig {
  /** The file(s) it came from, for messages. */
  paths: string[];
  contextName: string;
  server: string;
  /** PEM, from certificate-authority-data or certificate-authority. */
  ca?: string;
  insecure: boolean;
  /** tls-server-name. */
  serverName?: string;
  token?: string;
  clientCert?: string;
  clientKey?: string;
  exec?: ExecConfig;
  namespace: string;
}

type Named<T> = { name?: string } & Record<string, T | undefined>;
interface RawConfig {
  'current-context'?: string;
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<Record<string, unknown>>[];
}

export class KubeconfigError extends Error {}

function readConfig(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeconfigError(
      `error: stat ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
    );
  }
  const doc = yaml.load(text);
  if (doc !== undefined && doc !== null && (typeof doc !== 'object' || Array.isArray(doc)))
    throw new KubeconfigError(`error: error loading config file "${path}": not a kubeconfig`);
  return (doc ?? {}) as RawConfig;
}

/** Entry `name` of one section across the files, the first file's winning; relative paths resolved. */
function pick(
  files: { path: string; cfg: RawConfig }[],
  section: 'clusters' | 'users' | 'contexts',
  field: 'cluster' | 'user' | 'context',
  name: string,
): { value: Record<string, unknown>; dir: string } | undefined {
  for (const f of files) {
    const hit = (f.cfg[section] ?? []).find((e) => e?.name === name);
    const value = hit?.[field];
    if (value && typeof value === 'object') return { value: value as Record<string, unknown>, dir: dirname(f.path) };
  }
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function fileOrData(data: unknown, file: unknown, dir: string): string | undefined {
  const d = str(data);
  if (d) return Buffer.from(d, 'base64').toString('utf8');
  const f = str(file);
  return f ? readFileSync(isAbsolute(f) ? f : join(dir, f), 'utf8') : undefined;
}

export interface KubeconfigSelection {
  /** --context */
  context?: string;
}

export function loadKubeconfig(paths: string[], sel: KubeconfigSelection = {}): ResolvedKubeconfig {
  const files = paths.map((path) => ({ path, cfg: readConfig(path) }));
  const contextName = sel.context ?? files.map((f) => str(f.cfg['current-context'])).find(Boolean);
  if (!contextName) throw new KubeconfigError('error: current-context is not set in ' + paths.join(':'));
  const ctx = pick(files, 'contexts', 'context', contextName);
  if (!ctx) throw new KubeconfigError(`error: context "${contextName}" does not exist`);
  const clusterName = str(ctx.value.cluster) ?? '';
  const cluster = pick(files, 'clusters', 'cluster', clusterName);
  const server = str(cluster?.value.server);
  if (!cluster || !server)
    throw new KubeconfigError(`error: cluster "${clusterName}" of context "${contextName}" has no server`);
  const user = pick(files, 'users', 'user', str(ctx.value.user) ?? '');
  const u = user?.value ?? {};
  const udir = user?.dir ?? '';
  const tokenFile = str(u.tokenFile) ?? str(u['token-file']);
  return {
    paths,
    contextName,
    server: server.replace(/\/+$/, ''),
    ca: fileOrData(cluster.value['certificate-authority-data'], cluster.value['certificate-authority'], cluster.dir),
    insecure: cluster.value['insecure-skip-tls-verify'] === true,
    serverName: str(cluster.value['tls-server-name']),
    token:
      str(u.token) ??
      (tokenFile ? readFileSync(isAbsolute(tokenFile) ? tokenFile : join(udir, tokenFile), 'utf8').trim() : undefined),
    clientCert: fileOrData(u['client-certificate-data'], u['client-certificate'], udir),
    clientKey: fileOrData(u['client-key-data'], u['client-key'], udir),
    exec: u.exec && typeof u.exec === 'object' ? (u.exec as ExecConfig) : undefined,
    namespace: str(ctx.value.namespace) ?? 'default',
  };
}

/** The kubeconfig files svcctl uses: --kubeconfig, else $KUBECONFIG (a path list), else `fallback`. */
export function kubeconfigPaths(flag: string | undefined, env: string | undefined, fallback: string): string[] {
  if (flag) return [flag];
  const list = (env ?? '').split(':').filter(Boolean);
  return list.length > 0 ? list : [fallback];
}

export interface ExecKubeconfigParams {
  name: string;
  server: string;
  /** PEM; omitted for servers with a publicly trusted certificate (a Lambda Function URL). */
  caCert?: string;
  command: string;
  args: string[];
  namespace?: string;
}

/** An EKS-style kubeconfig: the user is a kubectl exec credential plugin (client.authentication.k8s.io/v1beta1). */
export function execKubeconfig(p: ExecKubeconfigParams): Record<string, unknown> {
  const cluster: Record<string, unknown> = { server: p.server };
  if (p.caCert) cluster['certificate-authority-data'] = Buffer.from(p.caCert).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: p.name, cluster }],
    users: [
      {
        name: p.name,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: p.command,
            args: p.args,
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [{ name: p.name, context: { cluster: p.name, user: p.name, namespace: p.namespace ?? 'default' } }],
    'current-context': p.name,
  };
}
