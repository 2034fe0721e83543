/**
 * svcctl's inline reconciler for the local embedded control plane when no `npm start` loop runs: the same Controller
 * the Lambda handlers use, fed directly with the events svcctl just published.
 */
import type { WatchEvent } from '../api/events-types.js';
import { Controller } from '../controller/controller.js';
import { parseObjectEvent, toPutEventsEntry, type ObjectKind } from '../events/envelope.js';
import type { LoadBalancerContext } from '../lb/index.js';
import { lbContextFor } from '../runtime/runtime.js';
import { controllerEnvFor, type Target } from './target.js';

/** The load-balancer context for this target, built exactly as the Lambdas build theirs. */
export function controllerLbContext(target: Target): LoadBalancerContext | undefined {
  return lbContextFor(controllerEnvFor(target), target.clients);
}

export function controllerFor(target: Target): Controller {
  return new Controller({
    api: target.api,
    ec2: target.clients.ec2,
    clusterName: target.cfg.clusterName,
    lb: controllerLbContext(target),
  });
}

export async function reconcileInline(target: Target, events: WatchEvent[]): Promise<void> {
  const controller = controllerFor(target);
  for (const e of events) {
    const kind = ((e.object as { kind?: string }).kind ?? 'Service') as ObjectKind;
    const entry = toPutEventsEntry(kind, e.type, e.object as never, target.busName);
    await controller.handleObjectEvent(
      parseObjectEvent({ source: entry.Source, 'detail-type': entry.DetailType, detail: JSON.parse(entry.Detail) }),
    );
  }
}
