/**
 * The LB-COST/MO column end to end: the real kubectl and the real svcctl binary against the API server configured
 * with a region. `-o wide` shows it (priority 1), the default output does not; a LoadBalancer Service of ours gets
 * its NLB's fixed monthly cost (internal, internet-facing with named subnets, internet-facing with the server's AZ
 * count), everything else `<none>`; a region without a price is `<unknown>`. The cell rule agrees with lib/lb's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { hasOwnLoadBalancer, loadBalancerCostCell } from '../../lib/apiserver/table/services.js';
import { wantsLoadBalancer } from '../../lib/lb/index.js';
import { OWN_LOAD_BALANCER_CLASS } from '../../lib/model/cluster-names.js';
import { formatMonthly, monthlyFixedCost } from '../../lib/model/pricing.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { runBinary } from '../support/cli.js';
import type { Kubectl } from '../support/kubectl.js';
import { resourceOf } from '../support/registry.js';

const SUBNETS = 'service.beta.kubernetes.io/aws-load-balancer-subnets';
const SCHEME = 'service.beta.kubernetes.io/aws-load-balancer-scheme';

let api: TestApi;
let k: Kubectl;
let home: string;

const svc = (name: string, spec: object, annotations?: Record<string, string>): ApiObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: { selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }], ...spec },
  }) as ApiObject;

const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

const byName = (out: string): Record<string, string[]> =>
  Object.fromEntries(
    rows(out)
      .slice(1)
      .map((r) => [r[0], r]),
  );

/** What the column must say, from pricing.ts itself. */
const usEast = (azs: number) =>
  formatMonthly(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 1, internetFacingAzs: azs })!.total);

beforeAll(async () => {
  api = await startTestApi({ pricing: { region: 'us-east-1', internetFacingAzs: 3 } });
  k = api.kubectl();
  home = mkdtempSync(join(tmpdir(), 'svcctl-cost-'));
  const r = resourceOf('services');
  for (const o of [
    svc('public', { type: 'LoadBalancer' }),
    svc('private', { type: 'LoadBalancer' }, { [SCHEME]: 'internal' }),
    svc('two-azs', { type: 'LoadBalancer' }, { [SUBNETS]: 'subnet-aaaa1111,subnet-bbbb2222' }),
    svc('own-class', { type: 'LoadBalancer', loadBalancerClass: OWN_LOAD_BALANCER_CLASS }, { [SCHEME]: 'internal' }),
    svc('other-class', { type: 'LoadBalancer', loadBalancerClass: 'example.com/other' }),
    svc('backend', { type: 'ClusterIP' }),
    svc('nodeport', { type: 'NodePort' }),
  ])
    await api.backend.create(r, 'default', o, {});
}, 120_000);

afterAll(async () => {
  await api?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('kubectl get svc -o wide', () => {
  it('adds LB-COST/MO after SELECTOR with each Service NLB fixed monthly cost', async () => {
    const res = await k.run(['get', 'svc', '-o', 'wide']);
    expect(res.stderr).toBe('');
    const table = rows(res.stdout);
    expect(table[0]).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR', 'LB-COST/MO']);
    const cost = Object.fromEntries(Object.entries(byName(res.stdout)).map(([n, r]) => [n, r.at(-1)]));
    expect(cost).toEqual({
      public: '$27.38/mo', // 16.425 NLB + 3 AZs × 3.65 public IPv4
      private: '$16.43/mo',
      'two-azs': '$23.73/mo',
      'own-class': '$16.43/mo',
      'other-class': '<none>',
      backend: '<none>',
      nodeport: '<none>',
    });
    expect(cost.public).toBe(usEast(3));
    expect(cost['two-azs']).toBe(usEast(2));
    expect(cost.private).toBe(usEast(0));
  });

  it('the default output leaves the column out', async () => {
    const res = await k.run(['get', 'svc', 'public']);
    expect(rows(res.stdout)[0]).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  });
});

describe('svcctl get services -o wide', () => {
  const svcctl = (args: string[]) =>
    runBinary({ ...process.env, HOME: home, SVCCTL_HOME: home, KUBECONFIG: '' }, [
      '--kubeconfig',
      k.kubeconfig,
      ...args,
    ]);

  it('prints the same column and the same values as kubectl', async () => {
    const s = await svcctl(['get', 'services', '-o', 'wide']);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const kc = await k.run(['get', 'svc', '-o', 'wide']);
    expect(rows(s.stdout)[0]).toEqual(rows(kc.stdout)[0]);
    const cells = (out: string) => Object.fromEntries(Object.entries(byName(out)).map(([n, r]) => [n, r.at(-1)]));
    expect(cells(s.stdout)).toEqual(cells(kc.stdout));
    expect(cells(s.stdout).public).toBe('$27.38/mo');
    const plain = await svcctl(['get', 'services']);
    expect(plain.stdout).not.toContain('LB-COST/MO');
  });
});

describe('the cell rule', () => {
  const base = (spec: object, meta: object = {}): V1Service =>
    ({ metadata: { name: 'x', namespace: 'default', ...meta }, spec: { ports: [{ port: 80 }], ...spec } }) as V1Service;

  it('agrees with lib/lb wantsLoadBalancer on who has an NLB of its own', () => {
    const cases = [
      base({ type: 'LoadBalancer' }),
      base({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }),
      base({ type: 'LoadBalancer', loadBalancerClass: OWN_LOAD_BALANCER_CLASS }),
      base({ type: 'LoadBalancer', loadBalancerClass: 'example.com/other' }),
      base({ type: 'LoadBalancer' }, { deletionTimestamp: new Date() }),
      base({ type: 'ClusterIP' }),
      base({ type: 'NodePort' }),
      base({ type: 'ExternalName', externalName: 'x.example.com' }),
    ];
    for (const c of cases) expect(hasOwnLoadBalancer(c)).toBe(wantsLoadBalancer(c));
  });

  it('without a server region, or in a region without a price: <unknown>; no AZ count: the NLB charge +IPv4', () => {
    const lb = base({ type: 'LoadBalancer' });
    expect(loadBalancerCostCell(lb, undefined)).toBe('<unknown>');
    expect(loadBalancerCostCell(lb, { region: 'mars-north-1' })).toBe('<unknown>');
    expect(loadBalancerCostCell(lb, { region: 'us-east-1' })).toBe('$16.43/mo+IPv4');
    expect(loadBalancerCostCell(lb, { region: 'eu-west-2', internetFacingAzs: 3 })).toBe('$30.27/mo');
    expect(loadBalancerCostCell(base({ type: 'ClusterIP' }), undefined)).toBe('<none>');
  });
});
