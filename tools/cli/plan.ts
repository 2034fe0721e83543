/**
 * `svcctl plan -f FILE`: what applying these Services would change in AWS, changing nothing. Each object goes
 * through the API with dryRun=All (as `svcctl apply` would send it), so the server's defaults, validation and
 * allocations (kept ones for an existing Service, the ones it would offer a new one) are what gets planned; then the
 * load-balancer pipeline plans against AWS, read-only (Describe* calls only). Loaded only by this command: it is the
 * only one besides `local` that needs AWS SDK clients.
 */
import type { V1Service } from '@kubernetes/client-node';
import { makeClients } from '../../lib/aws/clients.js';
import { readControllerEnv, type ControllerEnv } from '../../lib/config-env.js';
import { formatPlan, planService, type LoadBalancerContext } from '../../lib/lb/index.js';
import { openLocalTarget, controllerEnvFor } from '../local/target.js';
import { discoverNodes } from '../../lib/nodes/discover.js';
import { lbContextFor } from '../../lib/runtime/runtime.js';
import type { KubeClient } from './kube/client.js';
import { formatErrors } from './kube/errors.js';
import type { Io } from './io.js';
import type { ManifestItem } from './manifests.js';
import { previewItems } from './commands/apply.js';

/** Where to look: the local cluster's VPC (local API), or the deployed cluster's settings from the environment. */
async function awsContext(
  local: boolean,
  cluster: string | undefined,
  progress: (m: string) => void,
): Promise<{ env: ControllerEnv; lb: LoadBalancerContext }> {
  let env: ControllerEnv;
  let clients;
  if (local) {
    const target = await openLocalTarget(progress);
    env = controllerEnvFor(target);
    clients = target.clients;
  } else {
    env = readControllerEnv({ ...process.env, CLUSTER_NAME: cluster ?? process.env.CLUSTER_NAME ?? '' });
    clients = makeClients();
  }
  const lb = lbContextFor(env, clients);
  if (!lb)
    throw new Error(
      'error: planning needs the cluster VPC (VPC_ID, SUBNET_IDS, CLUSTER_NAME) to observe load balancers',
    );
  return { env, lb };
}

export async function planCommand(
  client: KubeClient,
  items: ManifestItem[],
  opts: { local: boolean; cluster?: string },
  io: Io,
  progress: (m: string) => void,
): Promise<number> {
  const services = items.filter((i) => i.r.kind === 'Service');
  const { planned, errors } = await previewItems(client, services, io);
  if (errors.length) {
    io.stderr(formatErrors(errors));
    return 1;
  }
  const { env, lb } = await awsContext(opts.local, opts.cluster, progress);
  const nodes = await discoverNodes(lb.clients.ec2, env.nodeSelector);
  for (const p of planned) {
    const plan = await planService(lb, p.preview as V1Service, nodes);
    const note = p.action === 'created' ? ' (new: NodePorts shown are the ones it would be offered)' : '';
    let out = `# service ${p.item.namespace}/${p.item.name}${note}\n`;
    out += plan.actions.length ? formatPlan(plan) : 'No changes. AWS matches this Service.\n';
    io.stdout(out.endsWith('\n') ? out : `${out}\n`);
  }
  return 0;
}
