/**
 * Crash injection for the load-balancer pipelines: a client middleware lets the Nth AWS call reach moto and then
 * "kills" the controller (throws before the response is seen). Shared by the Service and the Gateway crash tests.
 */
import type { ClientMiddleware } from '../../lib/aws/clients.js';
import { Throttle } from '../../lib/aws/throttle.js';
import type { LoadBalancerContext } from '../../lib/lb/context.js';
import { motoClients } from '../support/aws.js';

export class Crash extends Error {}

export function crashingCtx(
  base: LoadBalancerContext,
  crashAt: number,
): { ctx: LoadBalancerContext; calls: () => number } {
  let n = 0;
  const mw: ClientMiddleware = {
    name: 'crash-after-nth-call',
    middleware: (next) => async (args: unknown) => {
      const out = await next(args);
      n++;
      if (n === crashAt) throw new Crash(`crash after call ${n}`);
      return out;
    },
  };
  const c = motoClients({ middleware: [mw] });
  return {
    ctx: {
      ...base,
      clients: { ec2: c.ec2, elbv2: c.elbv2 },
      throttle: new Throttle({ targetsRate: 1e6, targetsBurst: 1e6, elbv2Rate: 1e6, elbv2Burst: 1e6 }),
    },
    calls: () => n,
  };
}

/** True when `err` is (or wraps) the injected crash. */
export const isCrash = (err: unknown): boolean =>
  err instanceof Crash || (err as { cause?: unknown }).cause instanceof Crash;
