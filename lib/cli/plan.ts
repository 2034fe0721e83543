/**
 * `svcctl plan -f FILE`: what applying these Services would change in AWS, without changing anything. The Service is
 * defaulted, validated and given the allocations it would get (kept ones from the stored Service, picks for new
 * ones), then the load-balancer pipeline plans against the observed AWS state.
 */
import type { V1Service } from '@kubernetes/client-node';
import { NotFoundError } from '../errors.js';
import { planAllocation } from '../api/allocator.js';
import { defaultService, defaultServiceUpdate } from '../model/defaults.js';
import { throwIfInvalid } from '../model/field-errors.js';
import { validateService, validateServiceUpdate } from '../model/validation.js';
import { formatPlan, planService } from '../lb/index.js';
import { discoverNodes } from '../nodes/discover.js';
import { controllerLbContext } from './inline.js';
import type { Target } from './target.js';

export async function planServices(target: Target, objects: V1Service[]): Promise<string> {
  const lb = controllerLbContext(target);
  if (!lb) throw new Error('error: planning needs the cluster VPC (VPC_ID) to observe load balancers');
  const nodes = await discoverNodes(target.clients.ec2, target.cfg.clusterName);
  let out = '';
  for (const obj of objects) {
    const ns = obj.metadata?.namespace ?? 'default';
    const name = obj.metadata?.name ?? '';
    let prev: V1Service | undefined;
    try {
      prev = await target.api.getService(ns, name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const desired = prev ? defaultServiceUpdate(obj, prev) : defaultService(obj);
    // The stored identity (uid is part of the ownership tags) is what an apply would keep.
    if (prev)
      desired.metadata = {
        ...desired.metadata,
        uid: prev.metadata?.uid,
        creationTimestamp: prev.metadata?.creationTimestamp,
      };
    throwIfInvalid(
      'Service',
      name,
      prev ? validateServiceUpdate(desired, prev, target.cfg) : validateService(desired, target.cfg),
    );
    const alloc = planAllocation(target.api.allocator, { next: desired, prev });
    throwIfInvalid('Service', name, alloc.errors);
    const plan = await planService(lb, alloc.service, nodes);
    out += `# service ${ns}/${name}${prev ? '' : ' (new: NodePorts shown are the ones it would be offered)'}\n`;
    out += plan.actions.length ? formatPlan(plan) : 'No changes. AWS matches this Service.\n';
    if (!out.endsWith('\n')) out += '\n';
  }
  return out;
}
