/**
 * The Events a Service's load balancer work records, with cloud-provider's service controller reasons and wording
 * (kubernetes/cloud-provider controllers/service/controller.go), source component `service-controller`:
 *
 * | when                                                | type    | reason                  | message                                  |
 * | --------------------------------------------------- | ------- | ----------------------- | ---------------------------------------- |
 * | a Service that wants a load balancer is reconciled   | Normal  | EnsuringLoadBalancer    | Ensuring load balancer                   |
 * | ... and it converged                                | Normal  | EnsuredLoadBalancer     | Ensured load balancer                    |
 * | ... and it failed                                   | Warning | SyncLoadBalancerFailed  | Error syncing load balancer: <error>     |
 * | a Service no longer wants one, or is gone            | Normal  | DeletingLoadBalancer    | Deleting load balancer                   |
 * | ... and it is gone                                  | Normal  | DeletedLoadBalancer     | Deleted load balancer                    |
 * | a node joined or left and the targets followed       | Normal  | UpdatedLoadBalancer     | Updated load balancer with new hosts     |
 * | ... and that failed                                 | Warning | UpdateLoadBalancerFailed| Error updating load balancer with new hosts [<nodes>]: <error> |
 * | no node may be a target                             | Warning | UnAvailableLoadBalancer | There are no available nodes for LoadBalancer |
 *
 * As upstream, these are recorded when a change of the Service (its message) or of the nodes leads to work, not on
 * every periodic resync (which records only failures).
 */
import type { V1Service } from '@kubernetes/client-node';
import type { LoadBalancerStatus } from '../lb/index.js';
import type { EventObjectRef } from '../model/events.js';
import type { Recorder } from './event-recorder.js';

export class LoadBalancerEvents {
  constructor(private readonly rec?: Recorder) {}

  /** EnsuringLoadBalancer, the reconcile, then EnsuredLoadBalancer or SyncLoadBalancerFailed. */
  async ensure(
    svc: V1Service,
    eligibleNodes: number,
    run: () => Promise<LoadBalancerStatus>,
  ): Promise<LoadBalancerStatus> {
    await this.rec?.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    if (eligibleNodes === 0)
      await this.rec?.event(svc, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
    let st: LoadBalancerStatus;
    try {
      st = await run();
    } catch (err) {
      await this.failed(svc, (err as Error).message);
      throw err;
    }
    if (st.error) await this.failed(svc, st.error);
    else await this.rec?.event(svc, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
    return st;
  }

  /** DeletingLoadBalancer, the removal, then DeletedLoadBalancer (only when `run` says there was one). */
  async delete(svc: V1Service | EventObjectRef, run: () => Promise<boolean>): Promise<void> {
    let existed: boolean;
    try {
      existed = await run();
    } catch (err) {
      await this.rec?.event(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
      await this.rec?.event(
        svc,
        'Warning',
        'DeleteLoadBalancerFailed',
        `Error deleting load balancer: ${(err as Error).message}`,
      );
      throw err;
    }
    if (!existed) return;
    await this.rec?.event(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
    await this.rec?.event(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
  }

  failed(svc: V1Service, error: string): Promise<void> {
    return (
      this.rec?.event(svc, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${error}`) ??
      Promise.resolve()
    );
  }

  /** The node set changed: UpdatedLoadBalancer for Services whose targets followed, a warning for failures. */
  async hostsUpdated(svc: V1Service, hosts: readonly string[], error?: string): Promise<void> {
    if (error) {
      const msg = `Error updating load balancer with new hosts [${hosts.join(' ')}]: ${error}`;
      await this.rec?.event(svc, 'Warning', 'UpdateLoadBalancerFailed', msg);
    } else if (hosts.length === 0)
      await this.rec?.event(svc, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
    else await this.rec?.event(svc, 'Normal', 'UpdatedLoadBalancer', 'Updated load balancer with new hosts');
  }
}
