/**
 * Which API svcctl talks to, as kubectl decides it: --kubeconfig, else $KUBECONFIG, else (where kubectl would read
 * ~/.kube/config) the local system's kubeconfig. When that is the local one and no local system runs, one is started
 * in the background first (tools/local/autostart.ts).
 */
import { resolve } from 'node:path';
import { ensureLocalSystem } from '../local/autostart.js';
import { localKubeconfigPath } from '../local/state.js';
import { KubeClient } from './kube/client.js';
import { kubeconfigPaths, loadKubeconfig } from './kube/kubeconfig.js';

export interface ConnectFlags {
  kubeconfig?: string;
  context?: string;
}

/** The kubeconfig files in use, and whether they are the local system's. */
export function selectedKubeconfig(flags: ConnectFlags): { paths: string[]; local: boolean } {
  const local = localKubeconfigPath();
  const paths = kubeconfigPaths(flags.kubeconfig, process.env.KUBECONFIG, local);
  return { paths, local: paths.length === 1 && resolve(paths[0]!) === resolve(local) };
}

export async function connect(flags: ConnectFlags, progress: (m: string) => void): Promise<KubeClient> {
  const { paths, local } = selectedKubeconfig(flags);
  if (local) await ensureLocalSystem(progress);
  return new KubeClient(loadKubeconfig(paths, { context: flags.context }));
}
