import { describe, expect, it } from 'vitest';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { endpointsForServices } from '../../lib/model/endpoints.js';

const svc = (name: string, spec: V1Service['spec']): V1Service => ({ metadata: { name, namespace: 'default' }, spec });
const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] },
  status: { podIP: '10.244.1.4', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
};
const manual: V1Endpoints = {
  metadata: { name: 'external-db', namespace: 'default' },
  subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }],
};

describe('endpointsForServices', () => {
  it('selector Services from Pods, selector-less ones from manual Endpoints, none for ExternalName', () => {
    const out = endpointsForServices(
      [
        svc('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 as never }] }),
        svc('external-db', { ports: [{ port: 5432 }] }),
        svc('orphan', { ports: [{ port: 1 }] }),
        svc('db', { type: 'ExternalName', externalName: 'db.example.test' }),
      ],
      [pod],
      [manual],
    );
    expect(
      out.map((e) => [e.service.metadata!.name, e.endpoints.endpoints.map((x) => `${x.ip}:${x.ports[0]?.port}`)]),
    ).toEqual([
      ['web', ['10.244.1.4:8080']],
      ['external-db', ['192.0.2.10:5432']],
    ]);
  });
});
