/**
 * kube-proxy's terminating-endpoint fallback: when a Service has no ready endpoint, endpoints that are terminating
 * but still serving take the traffic (a rolling update does not refuse connections); health checks and DNS keep
 * counting only ready endpoints, so load balancers still drain the node.
 */
import { describe, expect, it } from 'vitest';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { computeEndpoints } from '../../lib/model/endpoints.js';
import { renderDns } from '../../lib/dataplane/render/dns.js';
import { healthEntries } from '../../lib/dataplane/render/health.js';
import { renderRuleset } from '../../lib/dataplane/render/nft.js';
import { clusterState, ep, svc } from './fixtures.js';

const ports = [{ name: 'http', port: 8080, protocol: 'TCP' as const }];

function stateWith(endpoints: ReturnType<typeof ep>[], extra: Partial<NonNullable<V1Service['spec']>> = {}) {
  const base = clusterState();
  return {
    ...base,
    services: [
      svc('drain', {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.40',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32040,
        ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30040, targetPort: 8080 as never }],
        ...extra,
      }),
    ],
    endpoints: [{ namespace: 'default', name: 'drain', endpoints }],
  };
}

describe('terminating endpoints', () => {
  it('a terminating Pod whose Ready condition holds is serving but not ready', () => {
    const pod: V1Pod = {
      metadata: { name: 'p', namespace: 'default', labels: { app: 'x' }, deletionTimestamp: new Date() },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] },
      status: { phase: 'Running', podIP: '10.244.1.9', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const eps = computeEndpoints(
      {
        metadata: { name: 's', namespace: 'default' },
        spec: { selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 as never }] },
      },
      [pod],
    );
    expect(eps.endpoints[0]).toMatchObject({ ip: '10.244.1.9', ready: false, serving: true, terminating: true });
  });

  it('with no ready endpoint, serving-terminating ones get the traffic instead of a reject', () => {
    const term = { ...ep('10.244.1.2', 'node-1', ports, false), terminating: true, serving: true };
    const rules = renderRuleset(stateWith([term]), 'node-1');
    expect(rules).toContain('dnat to 10.244.1.2:8080');
    // Health stays 0 (the NLB drains the node) and DNS advertises nothing for a headless variant.
    expect(healthEntries(stateWith([term]), 'node-1')).toEqual([
      { namespace: 'default', name: 'drain', port: 32040, localEndpoints: 0 },
    ]);
    const headless = stateWith([term], {
      type: 'ClusterIP',
      clusterIP: 'None',
      externalTrafficPolicy: undefined,
      healthCheckNodePort: undefined,
    });
    const dns = renderDns(headless);
    expect(dns.hosts + dns.records).not.toContain('10.244.1.2');
  });

  it('ready endpoints win: the terminating one gets nothing while any is ready', () => {
    const term = { ...ep('10.244.1.2', 'node-1', ports, false), terminating: true, serving: true };
    const ready = ep('10.244.1.3', 'node-1', ports, true);
    const rules = renderRuleset(stateWith([term, ready]), 'node-1');
    expect(rules).toContain('dnat to 10.244.1.3:8080');
    expect(rules).not.toContain('10.244.1.2:8080');
  });

  it('terminating and not serving: still rejected', () => {
    const gone = { ...ep('10.244.1.2', 'node-1', ports, false), terminating: true, serving: false };
    const rules = renderRuleset(stateWith([gone]), 'node-1');
    expect(rules).not.toContain('10.244.1.2');
    expect(rules).toMatch(/reject/);
  });
});
