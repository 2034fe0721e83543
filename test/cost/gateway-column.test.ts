/**
 * The LB-COST/MO column of `kubectl get gateway -o wide`, end to end: the real kubectl and the real svcctl binary
 * against the API server configured with a region. A Gateway of our GatewayClass (spec.controllerName
 * GATEWAY_CONTROLLER_NAME) shows its one NLB's fixed monthly cost, internet-facing or internal from its annotations or
 * spec.infrastructure.annotations, even before the controller has accepted it (no controller runs here: PROGRAMMED is
 * the CRD default Unknown); a Gateway of another controller's class, or of a class that does not exist, `<none>`.
 * A watch reads a class created after it began. `kubectl get svc,gateway -o wide` prints both tables with the column.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { gatewayAnnotations, gatewayCells } from '../../lib/apiserver/table/gateway.js';
import { annotationsOf } from '../../lib/gateway/build.js';
import type { Gateway } from '../../lib/model/gateway/types.js';
import { GATEWAY_CONTROLLER_NAME } from '../../lib/model/gateway/types.js';
import { formatMonthly, monthlyFixedCost } from '../../lib/model/pricing.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { runBinary } from '../support/cli.js';
import type { Kubectl } from '../support/kubectl.js';

const SCHEME = 'service.beta.kubernetes.io/aws-load-balancer-scheme';
const SUBNETS = 'service.beta.kubernetes.io/aws-load-balancer-subnets';
const OTHER_CONTROLLER = 'example.com/other-gateway-controller';

let api: TestApi;
let k: Kubectl;
let home: string;

const gatewayClass = (name: string, controllerName: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ${name}
spec:
  controllerName: ${controllerName}
`;

/** A Gateway with one TCP listener; `annotations` on metadata, `infra` as spec.infrastructure.annotations. */
function gateway(
  name: string,
  className: string,
  opts: { annotations?: Record<string, string>; infra?: Record<string, string> } = {},
): string {
  const map = (m: Record<string, string>, indent: string) =>
    Object.entries(m)
      .map(([key, v]) => `${indent}${key}: "${v}"`)
      .join('\n');
  return [
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: Gateway',
    'metadata:',
    `  name: ${name}`,
    '  namespace: default',
    ...(opts.annotations ? ['  annotations:', map(opts.annotations, '    ')] : []),
    'spec:',
    `  gatewayClassName: ${className}`,
    ...(opts.infra ? ['  infrastructure:', '    annotations:', map(opts.infra, '      ')] : []),
    '  listeners:',
    '  - name: tcp',
    '    protocol: TCP',
    '    port: 5432',
    '',
  ].join('\n');
}

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - port: 80
    protocol: TCP
`;

const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

/** Last cell (LB-COST/MO) of each row by NAME, the first cell (ADDRESS is empty here, so columns are split by name). */
const costs = (table: string): Record<string, string | undefined> =>
  Object.fromEntries(
    rows(table)
      .slice(1)
      .map((r) => [r[0], r.at(-1)]),
  );

/** What the column must say, from pricing.ts itself. */
const usEast = (azs: number) =>
  formatMonthly(monthlyFixedCost({ region: 'us-east-1', loadBalancers: 1, internetFacingAzs: azs })!.total);

const EXPECTED = {
  public: '$27.38/mo', // 16.425 NLB + 3 AZs (the server's count) × 3.65 public IPv4
  private: '$16.43/mo', // metadata.annotations scheme internal
  'infra-private': '$16.43/mo', // spec.infrastructure.annotations scheme internal
  'infra-public': '$27.38/mo', // spec.infrastructure.annotations overrides metadata's internal
  'two-azs': '$23.73/mo', // subnets annotation: 2 AZs
  foreign: '<none>', // another controller's class
  orphan: '<none>', // a class that does not exist
};

const ok = (r: { code: number; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
};

beforeAll(async () => {
  api = await startTestApi({ pricing: { region: 'us-east-1', internetFacingAzs: 3 } });
  k = api.kubectl();
  home = mkdtempSync(join(tmpdir(), 'svcctl-gw-cost-'));
  const manifests = [
    gatewayClass('nlb', GATEWAY_CONTROLLER_NAME),
    gatewayClass('other', OTHER_CONTROLLER),
    gateway('public', 'nlb'),
    gateway('private', 'nlb', { annotations: { [SCHEME]: 'internal' } }),
    gateway('infra-private', 'nlb', { infra: { [SCHEME]: 'internal' } }),
    gateway('infra-public', 'nlb', { annotations: { [SCHEME]: 'internal' }, infra: { [SCHEME]: 'internet-facing' } }),
    gateway('two-azs', 'nlb', { annotations: { [SUBNETS]: 'subnet-aaaa1111,subnet-bbbb2222' } }),
    gateway('foreign', 'other'),
    gateway('orphan', 'missing'),
    SERVICE,
  ];
  ok(await k.run(['apply', '-f', '-'], { input: manifests.join('---\n') }));
}, 120_000);

afterAll(async () => {
  await api?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('kubectl get gateway -o wide', () => {
  it('adds LB-COST/MO after AGE: the NLB fixed monthly cost for our class, <none> for any other', async () => {
    const res = await k.run(['get', 'gateway', '-o', 'wide']);
    ok(res);
    expect(rows(res.stdout)[0]).toEqual(['NAME', 'CLASS', 'ADDRESS', 'PROGRAMMED', 'AGE', 'LB-COST/MO']);
    expect(costs(res.stdout)).toEqual(EXPECTED);
    expect(EXPECTED.public).toBe(usEast(3));
    expect(EXPECTED['two-azs']).toBe(usEast(2));
    expect(EXPECTED.private).toBe(usEast(0));
  });

  it('a Gateway not yet accepted (PROGRAMMED Unknown, no controller ran) already shows the cost it will have', async () => {
    const res = await k.run(['get', 'gateway', 'public', '-o', 'wide']);
    ok(res);
    expect(res.stdout).toMatch(
      /^NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE\s+LB-COST\/MO\npublic\s+nlb\s+Unknown\s+\d+s\s+\$27\.38\/mo\n$/,
    );
  });

  it('the default output leaves the column out', async () => {
    const res = await k.run(['get', 'gateway', 'public']);
    ok(res);
    expect(res.stdout).toMatch(/^NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE\npublic\s+nlb\s+Unknown\s+\d+s\n$/);
  });

  it('a watch shows the column, and a Gateway of a class created after the watch began gets its cost', async () => {
    const w = k.spawn(['get', 'gateway', '-o', 'wide', '--watch']);
    try {
      await until(() => w.output().includes('two-azs'));
      ok(
        await k.run(['apply', '-f', '-'], {
          input: [gatewayClass('late', GATEWAY_CONTROLLER_NAME), gateway('late-gw', 'late')].join('---\n'),
        }),
      );
      await until(() => w.output().includes('late-gw'));
      const out = w.output();
      expect(out.split('\n')[0]).toMatch(/^NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE\s+LB-COST\/MO$/);
      const late = out.split('\n').find((l) => l.startsWith('late-gw'));
      expect(late).toMatch(/^late-gw\s+late\s+Unknown\s+\d+s\s+\$27\.38\/mo$/);
      expect(out.split('\n').find((l) => l.startsWith('foreign'))).toMatch(/\s<none>$/);
      expect(w.stderr()).toBe('');
    } finally {
      await w.stop();
    }
    ok(await k.run(['delete', 'gateway', 'late-gw']));
    ok(await k.run(['delete', 'gatewayclass', 'late']));
  });
});

describe('kubectl get svc,gateway -o wide', () => {
  it('prints the Services table and the Gateways table, each with LB-COST/MO', async () => {
    const res = await k.run(['get', 'svc,gateway', '-o', 'wide']);
    ok(res);
    const [svcs, gws, ...rest] = res.stdout.trim().split(/\n\s*\n/);
    expect(rest).toEqual([]);
    expect(rows(svcs!)[0]).toEqual([
      'NAME',
      'TYPE',
      'CLUSTER-IP',
      'EXTERNAL-IP',
      'PORT(S)',
      'AGE',
      'SELECTOR',
      'LB-COST/MO',
    ]);
    expect(costs(svcs!)).toEqual({ 'service/web': usEast(3) });
    expect(rows(gws!)[0]).toEqual(['NAME', 'CLASS', 'ADDRESS', 'PROGRAMMED', 'AGE', 'LB-COST/MO']);
    const qualified = Object.fromEntries(
      Object.entries(EXPECTED).map(([n, v]) => [`gateway.gateway.networking.k8s.io/${n}`, v]),
    );
    expect(costs(gws!)).toEqual(qualified);
  });

  it('without -o wide neither table has the column', async () => {
    const res = await k.run(['get', 'svc,gateway']);
    ok(res);
    expect(res.stdout).not.toContain('LB-COST/MO');
    expect(res.stdout).toContain('gateway.gateway.networking.k8s.io/public');
  });
});

describe('svcctl get gateways -o wide', () => {
  const svcctl = (args: string[]) =>
    runBinary({ ...process.env, HOME: home, SVCCTL_HOME: home, KUBECONFIG: '' }, [
      '--kubeconfig',
      k.kubeconfig,
      ...args,
    ]);

  it('prints the same column and the same values as kubectl (the server Table)', async () => {
    const s = await svcctl(['get', 'gateways', '-o', 'wide']);
    ok(s);
    const kc = await k.run(['get', 'gateway', '-o', 'wide']);
    expect(rows(s.stdout)[0]).toEqual(rows(kc.stdout)[0]);
    expect(costs(s.stdout)).toEqual(costs(kc.stdout));
    expect(costs(s.stdout)).toEqual(EXPECTED);
    const plain = await svcctl(['get', 'gtw']);
    ok(plain);
    expect(plain.stdout).not.toContain('LB-COST/MO');
  });
});

describe('the cell rule', () => {
  const gw = (meta: object = {}, spec: object = {}): ApiObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'g', namespace: 'default', ...meta },
    spec: { gatewayClassName: 'nlb', listeners: [{ name: 'tcp', protocol: 'TCP', port: 1 }], ...spec },
  });
  const ours = new Map([['nlb', GATEWAY_CONTROLLER_NAME]]);
  const cost = (o: ApiObject, ctx: Parameters<typeof gatewayCells>[1]) => gatewayCells(o, ctx)!.at(-1);

  it('reads the annotations as the controller does (lib/gateway/build.ts annotationsOf)', () => {
    const cases: [Record<string, string> | undefined, Record<string, string> | undefined][] = [
      [undefined, undefined],
      [{ [SCHEME]: 'internal' }, undefined],
      [undefined, { [SCHEME]: 'internal' }],
      [{ [SCHEME]: 'internal' }, { [SCHEME]: 'internet-facing' }],
      [{ [SUBNETS]: 'a,b', other: 'x' }, { [SCHEME]: 'internal' }],
    ];
    for (const [annotations, infra] of cases) {
      const o = gw(annotations ? { annotations } : {}, infra ? { infrastructure: { annotations: infra } } : {});
      expect(gatewayAnnotations(o)).toEqual(annotationsOf(o as unknown as Gateway).metadata?.annotations);
    }
  });

  it('<unknown> without the class lookup or a price; <none> when being deleted; +IPv4 without an AZ count', () => {
    expect(cost(gw(), { now: 0, pricing: { region: 'us-east-1', internetFacingAzs: 3 } })).toBe('<unknown>');
    expect(cost(gw(), { now: 0, gatewayClasses: ours })).toBe('<unknown>');
    expect(cost(gw(), { now: 0, pricing: { region: 'mars-north-1' }, gatewayClasses: ours })).toBe('<unknown>');
    expect(cost(gw(), { now: 0, pricing: { region: 'us-east-1' }, gatewayClasses: ours })).toBe('$16.43/mo+IPv4');
    const deleting = gw({ deletionTimestamp: new Date() });
    expect(cost(deleting, { now: 0, pricing: { region: 'us-east-1' }, gatewayClasses: ours })).toBe('<none>');
    const other = new Map([['nlb', OTHER_CONTROLLER]]);
    expect(cost(gw(), { now: 0, pricing: { region: 'us-east-1' }, gatewayClasses: other })).toBe('<none>');
  });
});

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
