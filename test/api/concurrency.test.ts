/**
 * Racing writers against the real DynamoDB wire protocol (moto): many applyService calls at once, some fighting over
 * the same requested value, must come out with distinct values, exactly one winner per contested value, and an
 * allocation table that matches the stored Services exactly (no leaked or doubly-owned value).
 */
import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { heldValues, POOL_CLUSTER_IP, POOL_NODE_PORT } from '../../lib/api/allocator.js';
import { ApiServer } from '../../lib/api/server.js';
import { InvalidError } from '../../lib/errors.js';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../../lib/model/types.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { serializingMiddleware } from '../../lib/aws/serialize.js';

// One request in flight at a time on the wire (see lib/aws/serialize.ts: moto is not atomic per request).
const { dynamodb } = motoClients({ middleware: [serializingMiddleware()] });

async function newServer(cfg: ClusterConfig): Promise<ApiServer> {
  const tableName = uniqueName('race');
  await ensureTable(dynamodb, tableName);
  return new ApiServer({ dynamodb, tableName, cfg });
}

const svc = (name: string, spec: V1Service['spec']): V1Service => ({
  metadata: { name, namespace: 'race' },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

/** The allocation items must be exactly the values the stored Services hold, each owned by its holder. */
async function expectTableConsistent(api: ApiServer): Promise<V1Service[]> {
  const services = await api.listServices('race');
  const wantIPs = new Map<string, string>();
  const wantPorts = new Map<string, string>();
  for (const s of services) {
    const h = heldValues(s);
    for (const v of h.clusterIP) {
      expect(wantIPs.has(v), `clusterIP ${v} held twice`).toBe(false);
      wantIPs.set(v, s.metadata!.uid!);
    }
    for (const v of h.nodePort) {
      expect(wantPorts.has(v), `nodePort ${v} held twice`).toBe(false);
      wantPorts.set(v, s.metadata!.uid!);
    }
  }
  expect(await api.store.listAllocations(POOL_CLUSTER_IP)).toEqual(wantIPs);
  expect(await api.store.listAllocations(POOL_NODE_PORT)).toEqual(wantPorts);
  return services;
}

describe('concurrent allocation (moto DynamoDB)', () => {
  it('60 concurrent applies: distinct values, one winner per contested ClusterIP / NodePort', async () => {
    const api = await newServer(DEFAULT_CLUSTER_CONFIG);
    const calls: { name: string; obj: V1Service; contest?: string }[] = [];
    for (let i = 0; i < 30; i++) calls.push({ name: `auto-${i}`, obj: svc(`auto-${i}`, { type: 'NodePort' }) });
    for (let i = 0; i < 10; i++) {
      calls.push({ name: `ip-${i}`, contest: 'ip', obj: svc(`ip-${i}`, { clusterIP: '10.96.0.50' }) });
    }
    for (let i = 0; i < 10; i++) {
      calls.push({
        name: `np-${i}`,
        contest: 'np',
        obj: svc(`np-${i}`, { type: 'NodePort', ports: [{ port: 80, nodePort: 30050 }] }),
      });
    }
    for (let i = 0; i < 10; i++) {
      calls.push({
        name: `lb-${i}`,
        contest: 'hc',
        obj: svc(`lb-${i}`, { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30060 }),
      });
    }
    const results = await Promise.allSettled(calls.map((c) => api.applyService(c.obj)));

    const byContest = (k: string | undefined) => results.filter((_r, i) => calls[i]!.contest === k);
    for (const r of byContest(undefined)) expect(r.status).toBe('fulfilled');
    const messages: Record<string, string> = {
      ip: 'spec.clusterIPs[0]: Invalid value: "10.96.0.50": failed to allocate IP 10.96.0.50: provided IP is already allocated',
      np: 'spec.ports[0].nodePort: Invalid value: 30050: provided port is already allocated',
      hc: 'spec.healthCheckNodePort: Invalid value: 30060: failed to allocate requested HealthCheck NodePort 30060: provided port is already allocated',
    };
    for (const k of ['ip', 'np', 'hc']) {
      const rs = byContest(k);
      expect(
        rs.filter((r) => r.status === 'fulfilled'),
        `winners for ${k}`,
      ).toHaveLength(1);
      for (const r of rs) {
        if (r.status === 'fulfilled') continue;
        expect(r.reason).toBeInstanceOf(InvalidError);
        expect((r.reason as Error).message).toMatch(/^Service "[a-z]+-\d" is invalid: /);
        expect((r.reason as Error).message.endsWith(messages[k]!)).toBe(true);
      }
    }

    const services = await expectTableConsistent(api);
    expect(services).toHaveLength(30 + 3);
    const ips = services.map((s) => s.spec!.clusterIP!);
    expect(new Set(ips).size).toBe(ips.length);
    expect(ips).toContain('10.96.0.50');
    const ports = services.flatMap((s) => [
      ...(s.spec?.ports ?? []).map((p) => p.nodePort).filter(Boolean),
      ...(s.spec?.healthCheckNodePort ? [s.spec.healthCheckNodePort] : []),
    ]);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports).toContain(30050);
    expect(ports).toContain(30060);
  });

  it('55 concurrent automatic NodePorts in a 64-port range all succeed with distinct ports (collision retries)', async () => {
    const api = await newServer({ ...DEFAULT_CLUSTER_CONFIG, nodePortRange: { min: 31000, max: 31063 } });
    const results = await Promise.allSettled(
      Array.from({ length: 55 }, (_, i) => api.applyService(svc(`dense-${i}`, { type: 'NodePort' }))),
    );
    const failures = results
      .filter((r) => r.status === 'rejected')
      .map((r) => String((r as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    const services = await expectTableConsistent(api);
    const ports = services.map((s) => s.spec!.ports![0]!.nodePort!);
    expect(new Set(ports).size).toBe(55);
    for (const p of ports) expect(p >= 31000 && p <= 31063).toBe(true);
  });

  it('concurrent deletes and re-creates keep the allocation table exact', async () => {
    const api = await newServer(DEFAULT_CLUSTER_CONFIG);
    await Promise.all(Array.from({ length: 20 }, (_, i) => api.applyService(svc(`churn-${i}`, { type: 'NodePort' }))));
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => api.deleteService('race', `churn-${i}`)),
      ...Array.from({ length: 10 }, (_, i) => api.applyService(svc(`churn-${10 + i}`, { type: 'ClusterIP' }))),
      ...Array.from({ length: 10 }, (_, i) => api.applyService(svc(`fresh-${i}`, { type: 'NodePort' }))),
    ]);
    const services = await expectTableConsistent(api);
    expect(services).toHaveLength(20);
    expect(
      services.filter((s) => s.metadata!.name!.startsWith('churn-')).every((s) => s.spec?.type === 'ClusterIP'),
    ).toBe(true);
  });
});
