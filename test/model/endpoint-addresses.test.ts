/**
 * Endpoint addresses as Kubernetes validates them (ValidateEndpointIP), plus multicast and the service CIDR, on every
 * path: the IP classification (lib/model/ip.ts), Pod / Endpoints / EndpointSlice validation, the endpoint computation
 * and the data-plane renderer's own re-check.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { classifyIP, endpointIPProblems, nonSpecialIPProblems, formatIPv4 } from '../../lib/model/ip.js';
import { defaultEndpoints, defaultPod, defaultService } from '../../lib/model/defaults.js';
import { formatFieldError } from '../../lib/model/field-errors.js';
import { validateEndpointSlice, validateEndpoints, validatePod } from '../../lib/model/validation.js';
import { endpointsForServices } from '../../lib/model/endpoints.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { validateState, type DataPlaneState } from '../../lib/dataplane/render/state.js';
import { InvalidError } from '../../lib/errors.js';

const cfg = DEFAULT_CLUSTER_CONFIG; // service CIDR 10.96.0.0/12
const LOOPBACK = 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
const LINK_LOCAL = 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
const LL_MULTICAST = 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
const MULTICAST = 'may not be a multicast address (224.0.0.0/4, ff00::/8)';
const IN_CIDR = 'may not be in the service IP range (10.96.0.0/12)';

/** Every address that must never become an endpoint, with the reasons given for it. */
const SPECIAL: [string, string[]][] = [
  ['169.254.169.254', [LINK_LOCAL]],
  ['169.254.0.1', [LINK_LOCAL]],
  ['127.0.0.1', [LOOPBACK]],
  ['127.255.255.254', [LOOPBACK]],
  ['0.0.0.0', ['may not be unspecified (0.0.0.0)']],
  ['224.0.0.251', [LL_MULTICAST]],
  ['239.1.2.3', [MULTICAST]],
  ['10.96.0.10', [IN_CIDR]],
  ['10.111.255.254', [IN_CIDR]],
  ['::1', [LOOPBACK]],
  ['::', ['may not be unspecified (::)']],
  ['fe80::1', [LINK_LOCAL]],
  ['FEBF::1', [LINK_LOCAL]],
  ['ff02::fb', [LL_MULTICAST]],
  ['ff05::2', [MULTICAST]],
  // IPv4-mapped IPv6 is the IPv4 address, as Go's net.IP reads it: no way around the rule by spelling.
  ['::ffff:169.254.169.254', [LINK_LOCAL]],
  ['::ffff:a9fe:a9fe', [LINK_LOCAL]],
  ['::ffff:127.0.0.1', [LOOPBACK]],
  ['::ffff:10.96.0.1', [IN_CIDR]],
];

describe('endpointIPProblems (lib/model/ip.ts)', () => {
  it.each(SPECIAL)('refuses %s', (ip, reasons) => {
    expect(endpointIPProblems(ip, cfg.serviceCidr)).toEqual(reasons);
  });

  it.each(['10.244.1.7', '172.31.5.9', '192.0.2.1', '2001:db8::1', 'fd00::5', '10.95.255.255', '10.112.0.0'])(
    'accepts %s',
    (ip) => {
      expect(endpointIPProblems(ip, cfg.serviceCidr)).toEqual([]);
    },
  );

  it('says "must be a valid IP address" for anything else', () => {
    expect(endpointIPProblems('10.0.0.256')).toEqual(['must be a valid IP address']);
    expect(endpointIPProblems('fe80::1%eth0')).toEqual(['must be a valid IP address']);
  });

  it('nonSpecialIPProblems is exactly ValidateEndpointIP: global multicast and the service CIDR pass there', () => {
    expect(nonSpecialIPProblems('239.1.2.3')).toEqual([]);
    expect(nonSpecialIPProblems('10.96.0.10')).toEqual([]);
    expect(nonSpecialIPProblems('169.254.169.254')).toEqual([LINK_LOCAL]);
  });

  it('classifies every IPv4 address by its prefix (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const c = classifyIP(formatIPv4(n))!;
        expect(c.loopback).toBe(n >>> 24 === 127);
        expect(c.linkLocalUnicast).toBe(n >>> 16 === (169 << 8) + 254);
        expect(c.multicast).toBe(n >>> 28 === 14);
        expect(c.unspecified).toBe(n === 0);
        // The mapped spelling classifies the same.
        expect(classifyIP(`::ffff:${formatIPv4(n)}`)).toEqual(c);
      }),
    );
  });
});

describe('validation refuses special endpoint addresses', () => {
  const pod = (podIP: string): V1Pod =>
    defaultPod({
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
      status: { podIP, podIPs: [{ ip: podIP }] },
    });

  it.each(SPECIAL)('a Pod reporting %s', (ip, reasons) => {
    const msgs = validatePod(pod(ip), cfg).map(formatFieldError);
    expect(msgs).toEqual([
      ...reasons.map((r) => `status.podIP: Invalid value: "${ip}": ${r}`),
      ...reasons.map((r) => `status.podIPs[0].ip: Invalid value: "${ip}": ${r}`),
    ]);
  });

  it('without the cluster config, the service CIDR is not known and not checked', () => {
    expect(validatePod(pod('10.96.0.10'))).toEqual([]);
    expect(validatePod(pod('169.254.169.254')).length).toBe(2);
  });

  it.each(SPECIAL)('an Endpoints address %s', (ip, reasons) => {
    const ep: V1Endpoints = defaultEndpoints({
      metadata: { name: 'db' },
      subsets: [{ addresses: [{ ip }], notReadyAddresses: [{ ip }], ports: [{ port: 80 }] }],
    });
    expect(validateEndpoints(ep, cfg).map(formatFieldError)).toEqual([
      ...reasons.map((r) => `subsets[0].addresses[0].ip: Invalid value: "${ip}": ${r}`),
      ...reasons.map((r) => `subsets[0].notReadyAddresses[0].ip: Invalid value: "${ip}": ${r}`),
    ]);
  });

  it.each(SPECIAL)('an EndpointSlice address %s', (ip, reasons) => {
    const addressType = ip.includes(':') ? 'IPv6' : 'IPv4';
    const slice: V1EndpointSlice = {
      metadata: { name: 'web-abc12', namespace: 'default' },
      addressType,
      endpoints: [{ addresses: [ip] }],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    };
    expect(validateEndpointSlice(slice, cfg).map(formatFieldError)).toEqual(
      reasons.map((r) => `endpoints[0].addresses[0]: Invalid value: "${ip}": ${r}`),
    );
  });
});

describe('validateEndpointSlice (discovery.k8s.io/v1)', () => {
  const base = (s: Partial<V1EndpointSlice>): V1EndpointSlice => ({
    metadata: { name: 'web-abc12', namespace: 'default' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.7'], conditions: { ready: true }, nodeName: 'ip-10-0-1-5.ec2.internal' }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    ...s,
  });
  const msgs = (s: V1EndpointSlice) => validateEndpointSlice(s, cfg).map(formatFieldError);

  it('accepts a slice as the EndpointSlice controller writes it', () => {
    expect(msgs(base({}))).toEqual([]);
    expect(msgs(base({ addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com.'] }] }))).toEqual([]);
  });

  it('refuses what Kubernetes refuses, with its wording', () => {
    expect(
      msgs(
        base({
          metadata: { name: 'Web', namespace: 'default' },
          addressType: 'IP',
          endpoints: [
            { addresses: [] },
            { addresses: ['10.0.0.1'], hostname: 'a.b', hints: { forZones: [{ name: 'a' }, { name: 'a' }] } },
          ],
          ports: [
            { name: 'http', protocol: 'TCP' },
            { name: 'http', protocol: 'ICMP' },
            { name: 'x', appProtocol: 'a/b/c' },
          ],
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^metadata\.name: Invalid value: "Web": a lowercase RFC 1123 subdomain/),
      'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"',
      'endpoints[0].addresses: Required value: must contain at least 1 address',
      'endpoints[1].hostname: Invalid value: "a.b": must not contain dots',
      'endpoints[1].hints.forZones[1].name: Duplicate value: "a"',
      'ports[1].name: Duplicate value: "http"',
      'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      'ports[2].protocol: Required value',
      expect.stringMatching(/^ports\[2\]\.appProtocol: Invalid value: "a\/b\/c": a valid label key/),
    ]);
  });

  it('checks an IPv4 slice address as IPv4, and FQDNs as domains', () => {
    expect(msgs(base({ endpoints: [{ addresses: ['fd00::1'] }] }))).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
    ]);
    expect(msgs(base({ addressType: 'FQDN', endpoints: [{ addresses: ['localhost'] }] }))).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
    ]);
  });

  it('bounds endpoints per slice and addresses per endpoint', () => {
    const many = Array.from({ length: 1001 }, () => ({ addresses: ['10.244.0.1'] }));
    expect(msgs(base({ endpoints: many }))).toEqual(['endpoints: Too many: 1001: must have at most 1000 items']);
    const addrs = Array.from({ length: 101 }, (_, i) => `10.244.0.${i + 1}`);
    expect(msgs(base({ endpoints: [{ addresses: addrs }] }))).toEqual([
      'endpoints[0].addresses: Too many: 101: must have at most 100 items',
    ]);
  });
});

describe('endpoint computation leaves special addresses out', () => {
  const svc = (selector?: Record<string, string>): V1Service =>
    defaultService({ metadata: { name: 'web' }, spec: { selector, ports: [{ port: 80, targetPort: 8080 }] } });
  const readyPod = (name: string, podIP: string): V1Pod => ({
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c' }] },
    status: { podIP, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });

  it.each(SPECIAL.filter(([ip]) => !ip.includes(':')))('a Pod with IP %s is no endpoint', (ip) => {
    const pods = [readyPod('bad', ip), readyPod('good', '10.244.1.7')];
    const [e] = endpointsForServices([svc({ app: 'web' })], pods, [], cfg.serviceCidr);
    expect(e!.endpoints.endpoints.map((x) => x.ip)).toEqual(['10.244.1.7']);
  });

  it.each(SPECIAL.filter(([ip]) => !ip.includes(':')))('a manual Endpoints address %s is no endpoint', (ip) => {
    const manual: V1Endpoints = {
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip }, { ip: '10.244.1.8' }], ports: [{ port: 80 }] }],
    };
    const [e] = endpointsForServices([svc()], [], [manual], cfg.serviceCidr);
    expect(e!.endpoints.endpoints.map((x) => x.ip)).toEqual(['10.244.1.8']);
  });
});

describe("the data-plane renderer's own re-check (validateState)", () => {
  const state = (ip: string): DataPlaneState => ({
    services: [
      defaultService({
        metadata: { name: 'web' },
        spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }] },
      }),
    ],
    endpoints: [
      {
        namespace: 'default',
        name: 'web',
        endpoints: [{ ip, ready: true, terminating: false, ports: [{ name: '', port: 80, protocol: 'TCP' }] }],
      },
    ],
    nodes: [],
    cfg,
  });

  it.each(SPECIAL.filter(([ip]) => !ip.includes(':')))('refuses to render an endpoint at %s', (ip, reasons) => {
    let err: unknown;
    try {
      validateState(state(ip));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidError);
    expect((err as Error).message).toBe(
      `DataPlaneState "state" is invalid: ${reasons.map((r) => `endpoints[0].endpoints[0].ip: Invalid value: "${ip}": ${r}`).join(', ')}`,
    );
  });

  it('renders an ordinary endpoint', () => {
    expect(() => validateState(state('10.244.1.7'))).not.toThrow();
  });
});
