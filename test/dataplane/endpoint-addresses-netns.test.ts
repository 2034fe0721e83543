/**
 * On the real kernel: no Pod or Endpoints input can make a node DNAT a Service to its instance metadata service
 * (169.254.169.254), to itself (loopback, unspecified), to a multicast group or to a ClusterIP. The node namespace
 * runs a stand-in for the metadata service on 169.254.169.254:8080 (and on loopback); Pods and manual Endpoints
 * claim those addresses. Every such input is refused at validation; stored anyway (an older version, a bug), it is
 * left out of the endpoints; injected straight into the renderer's input, the renderer refuses to render. Then the
 * ruleset the node actually holds is listed, and real connections to the ClusterIPs only ever reach the real Pod.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { Testbed, type NodeNs, type PodNs } from '../../tools/netns/index.js';
import { decode } from '../../lib/model/decode.js';
import { defaultEndpoints, defaultPod, defaultService } from '../../lib/model/defaults.js';
import { validateEndpoints, validatePod } from '../../lib/model/validation.js';
import { endpointsForServices } from '../../lib/model/endpoints.js';
import { renderRuleset } from '../../lib/dataplane/render/nft.js';
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { InvalidError } from '../../lib/errors.js';
import { CLIENT, ECHO_SERVER, node } from './fixtures.js';

const PREFIX = 'h11imds';
const cfg = { ...DEFAULT_CLUSTER_CONFIG };
const METADATA = '169.254.169.254';
/** Addresses no endpoint may have, in the spellings an input could use. */
const HOSTILE = [
  METADATA,
  '169.254.0.1',
  '127.0.0.1',
  '127.1.2.3',
  '0.0.0.0',
  '224.0.0.1',
  '239.255.255.250',
  '10.96.0.1',
  '10.111.255.254',
  `::ffff:${METADATA}`,
  '::ffff:a9fe:a9fe',
  '::ffff:127.0.0.1',
  'fe80::1',
  '::1',
];
/** What a DNAT target looks like in the rendered and in the listed ruleset. */
const dnatTargets = (ruleset: string): string[] =>
  [...ruleset.matchAll(/(?:dnat to |: )(\d+\.\d+\.\d+\.\d+)(?: \. |:)\d+/g)].map((m) => m[1]!);

let tb: Testbed;
let n1: NodeNs;
let backend: PodNs;
let client: PodNs;

const services: V1Service[] = [
  defaultService({
    metadata: { name: 'web' },
    spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  }),
  defaultService({ metadata: { name: 'manual' }, spec: { clusterIP: '10.96.0.11', ports: [{ port: 80 }] } }),
];
const rawPod = (name: string, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
});
const rawEndpoints = (ips: string[]) => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'manual', namespace: 'default' },
  subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ port: 8080 }] }],
});

function stateFor(pods: V1Pod[], manual: V1Endpoints[]): DataPlaneState {
  const endpoints = endpointsForServices(services, pods, manual, cfg.serviceCidr).map((e) => e.endpoints);
  return { cfg, nodes: [node('node-1', 'i-00000000000000001', n1.ip)], services, endpoints };
}

async function nft(input?: string, ...args: string[]): Promise<string> {
  const r = await tb.exec(n1.ns, ['nft', ...args], input === undefined ? {} : { input });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function connect(host: string, count: number): Promise<string[]> {
  const r = await tb.exec(client.ns, ['python3', '-c', CLIENT, host, '80', String(count), '1']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n');
}

beforeAll(async () => {
  tb = await Testbed.create(PREFIX);
  n1 = await tb.addNode('node1');
  backend = await tb.addPod(n1, 'web');
  client = await tb.addPod(n1, 'client');
  tb.spawn(backend.ns, ['python3', '-c', ECHO_SERVER, 'backend', '8080']);
  // The node's instance metadata service stand-in: 169.254.169.254 on the node, and loopback, port 8080.
  expect((await tb.exec(n1.ns, ['ip', 'addr', 'add', `${METADATA}/32`, 'dev', 'lo'])).code).toBe(0);
  tb.spawn(n1.ns, ['python3', '-c', ECHO_SERVER, 'METADATA', '8080']);
  for (let i = 0; i < 50; i++) {
    const up = await tb.exec(n1.ns, ['python3', '-c', CLIENT, METADATA, '8080', '1', '0.5']);
    const be = await tb.exec(n1.ns, ['python3', '-c', CLIENT, backend.ip, '8080', '1', '0.5']);
    if (up.stdout.startsWith('METADATA') && be.stdout.startsWith('backend')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
}, 120_000);

afterAll(async () => {
  await tb?.destroy();
});

describe('no DNAT to the instance metadata service from any Pod or Endpoints input', () => {
  it('validation refuses every hostile Pod and Endpoints at the door', () => {
    for (const ip of HOSTILE) {
      const pod = defaultPod(decode(rawPod('p', ip), { strict: true }).object as V1Pod);
      expect(validatePod(pod, cfg).length, ip).toBeGreaterThan(0);
      const ep = defaultEndpoints(decode(rawEndpoints([ip]), { strict: true }).object as V1Endpoints);
      expect(validateEndpoints(ep, cfg).length, ip).toBeGreaterThan(0);
    }
  });

  it('stored anyway, they are left out: the node holds rules to the real Pod only, and traffic never reaches 169.254.169.254', async () => {
    const pods = [...HOSTILE.map((ip, i) => rawPod(`bad-${i}`, ip)), rawPod('good', backend.ip)].map(
      (p) => decode(p, { strict: true }).object as V1Pod,
    );
    const manual = [decode(rawEndpoints([...HOSTILE, backend.ip]), { strict: true }).object as V1Endpoints];
    const rules = renderRuleset(stateFor(pods, manual), 'node-1');
    expect(new Set(dnatTargets(rules))).toEqual(new Set([backend.ip]));
    await nft(rules, '-f', '-');
    const listed = await nft(undefined, 'list', 'ruleset');
    // The kernel's own listing: the only DNAT target is the Pod, and no special address appears in the table at all.
    expect(new Set(dnatTargets(listed))).toEqual(new Set([backend.ip]));
    for (const ip of ['169.254.', '127.0.0.1', '127.1.2.3', '224.0.0.1', '239.255.255.250', '10.111.255.254'])
      expect(listed).not.toContain(ip);
    for (const clusterIP of ['10.96.0.10', '10.96.0.11']) {
      const replies = await connect(clusterIP, 20);
      expect(replies.map((l) => l.split(' ')[0])).toEqual(Array(20).fill('backend'));
    }
  }, 60_000);

  it('injected straight into the renderer, it is refused and the node keeps its rules', async () => {
    const before = await nft(undefined, 'list', 'ruleset');
    for (const ip of HOSTILE.filter((x) => !x.includes(':'))) {
      const s = stateFor([], []);
      s.endpoints = [
        {
          namespace: 'default',
          name: 'web',
          endpoints: [{ ip, ready: true, terminating: false, ports: [{ name: '', port: 8080, protocol: 'TCP' }] }],
        },
      ];
      expect(() => renderRuleset(s, 'node-1'), ip).toThrow(InvalidError);
    }
    expect(await nft(undefined, 'list', 'ruleset')).toBe(before);
    expect((await connect('10.96.0.10', 5)).map((l) => l.split(' ')[0])).toEqual(Array(5).fill('backend'));
  });

  it('no mix of Pods and Endpoints renders a DNAT to a special address (property, 300 inputs)', () => {
    const ip = fc.oneof(fc.constantFrom(...HOSTILE), fc.ipV4(), fc.ipV6());
    fc.assert(
      fc.property(fc.array(ip, { maxLength: 6 }), fc.array(ip, { maxLength: 6 }), (podIPs, epIPs) => {
        const pods = podIPs.map((a, i) => decode(rawPod(`p${i}`, a), { strict: true }).object as V1Pod);
        const manual = [decode(rawEndpoints(epIPs), { strict: true }).object as V1Endpoints];
        for (const target of dnatTargets(renderRuleset(stateFor(pods, manual), 'node-1'))) {
          expect(HOSTILE).not.toContain(target);
          const [a, b] = target.split('.').map(Number);
          expect(a === 127 || target === '0.0.0.0' || (a! >= 224 && a! <= 239) || (a === 169 && b === 254)).toBe(false);
          expect(a === 10 && b! >= 96 && b! <= 111).toBe(false);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
