/**
 * The Service status the controller writes after a load-balancer sync: a failed sync keeps the address the Service
 * already had (the upstream service controller writes status only after EnsureLoadBalancer succeeds) and says why
 * in the condition; a successful sync writes its hostname; a Service that left type LoadBalancer loses it.
 */
import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { lbStatus } from '../../lib/controller/controller.js';

const svc = (type: string, hostname?: string): V1Service => ({
  metadata: { name: 'web', namespace: 'default', generation: 2 },
  spec: { type },
  status: hostname ? { loadBalancer: { ingress: [{ hostname }] } } : {},
});

describe('lbStatus', () => {
  it('a failed sync keeps the hostname the Service had and records the failure in the condition', () => {
    const s = svc('LoadBalancer', 'old.elb.amazonaws.com');
    const out = lbStatus(s, { warnings: [], error: 'throttled' }, s.status!);
    expect(out?.loadBalancer?.ingress).toEqual([{ hostname: 'old.elb.amazonaws.com' }]);
    const cond = out?.conditions?.find((c) => c.reason === 'SyncLoadBalancerFailed');
    expect(cond).toMatchObject({ status: 'False', message: 'throttled', observedGeneration: 2 });
  });

  it('a successful sync writes its hostname; a failed first sync leaves the Service pending', () => {
    const s = svc('LoadBalancer');
    expect(lbStatus(s, { warnings: [], hostname: 'new.elb' }, {})?.loadBalancer?.ingress).toEqual([
      { hostname: 'new.elb' },
    ]);
    expect(lbStatus(s, { warnings: [], error: 'quota' }, {})?.loadBalancer?.ingress).toEqual([]);
  });

  it('a Service no longer of type LoadBalancer loses its address even when the removal failed', () => {
    const s = svc('ClusterIP', 'old.elb');
    expect(lbStatus(s, { warnings: [], error: 'in use' }, s.status!)?.loadBalancer?.ingress).toEqual([]);
  });
});
