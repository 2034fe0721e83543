/**
 * Node ports of the data plane's own (Gateway backends that are ClusterIP Services): rendered exactly like a NodePort
 * of the Service port (same verdict map, slot maps and chains), never shown in the Service. Golden ruleset
 * (UPDATE_GOLDEN=1 rewrites it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors.js';
import { renderUdpConntrack } from '../../lib/dataplane/render/conntrack.js';
import { renderDelta, renderRuleset } from '../../lib/dataplane/render/nft.js';
import { serviceViews, type BackendNodePort, type DataPlaneState } from '../../lib/dataplane/render/state.js';
import { clusterState, ep, svc } from './fixtures.js';

const GOLDEN = join(import.meta.dirname, 'golden');

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden file ${file}: run with UPDATE_GOLDEN=1`);
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const hidden = (service: string, uid: string, port: number, protocol: BackendNodePort['protocol'], nodePort: number) =>
  ({ namespace: 'default', service, uid, port, protocol, nodePort }) satisfies BackendNodePort;

/** The fixture cluster plus ClusterIP Services that are Gateway backends. */
function gatewayState(): DataPlaneState {
  const s = clusterState();
  const withUid = (name: string, uid: string, spec: Parameters<typeof svc>[1]) => {
    const o = svc(name, spec);
    o.metadata!.uid = uid;
    return o;
  };
  s.services.push(
    withUid('gw-plain', 'uid-plain', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.40',
      ports: [
        { name: 'tcp', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    }),
    withUid('gw-aff', 'uid-aff', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.41',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } },
      ports: [{ port: 9000, protocol: 'TCP' }],
    }),
    withUid('gw-none', 'uid-none', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.42',
      ports: [{ port: 80, protocol: 'TCP' }],
    }),
  );
  const ports = [
    { name: 'tcp', port: 8080, protocol: 'TCP' as const },
    { name: 'dns', port: 5353, protocol: 'UDP' as const },
  ];
  s.endpoints.push(
    {
      namespace: 'default',
      name: 'gw-plain',
      endpoints: [ep('10.244.1.2', 'node-1', ports), ep('10.244.2.2', 'node-2', ports)],
    },
    {
      namespace: 'default',
      name: 'gw-aff',
      endpoints: [ep('10.244.1.3', 'node-1', [{ name: '', port: 9000, protocol: 'TCP' }])],
    },
  );
  s.backendNodePorts = [
    hidden('gw-plain', 'uid-plain', 80, 'TCP', 31500),
    hidden('gw-plain', 'uid-plain', 53, 'UDP', 31501),
    hidden('gw-aff', 'uid-aff', 9000, 'TCP', 31502),
    hidden('gw-none', 'uid-none', 80, 'TCP', 31503),
    // left over from a deleted Service of the same name: renders nothing
    hidden('gw-plain', 'uid-old', 80, 'TCP', 31504),
    // a number some Service holds as its own NodePort (never given by the allocator): the Service keeps it
    hidden('gw-none', 'uid-none', 81, 'TCP', 30081),
  ];
  return s;
}

describe('hidden backend node ports in the ruleset', () => {
  it('matches the golden ruleset', () => {
    golden('ruleset-backend-ports-node-1.nft', renderRuleset(gatewayState(), 'node-1'));
  });

  it('a plain ClusterIP port: the NodePort verdict map and slot maps, like a NodePort', () => {
    const text = renderRuleset(gatewayState(), 'node-1');
    expect(text).toMatch(/\btcp \. 31500 : goto nodeport-slots-tcp-2\b/);
    expect(text).toContain('31500 . 0 : 10.244.1.2 . 8080');
    expect(text).toContain('31500 . 1 : 10.244.2.2 . 8080');
    expect(text).toMatch(/\budp \. 31501 : goto nodeport-slots-udp-2\b/);
    expect(text).toContain('31501 . 1 : 10.244.2.2 . 5353');
    // the same masquerading slot chain a NodePort uses (replies return through this node)
    expect(text).toContain(
      '\tchain nodeport-slots-tcp-2 {\n\t\tjump mark-for-masquerade\n\t\tmeta l4proto tcp dnat ip to tcp dport . numgen random mod 2 map @nodeport-backends-tcp\n\t}',
    );
  });

  it('a port with its own chains (session affinity) enters through an external chain, like a NodePort', () => {
    const text = renderRuleset(gatewayState(), 'node-1');
    expect(text).toMatch(/\btcp \. 31502 : goto external-\w+-default\/gw-aff\/tcp\/\n?/);
    expect(text).toMatch(
      /chain external-\w+-default\/gw-aff\/tcp\/ \{\n\t\tjump mark-for-masquerade\n\t\tgoto service-/,
    );
  });

  it('no endpoints: rejected at once; stale uids and numbers a Service holds render nothing', () => {
    const text = renderRuleset(gatewayState(), 'node-1');
    expect(text).toMatch(/map no-endpoint-nodeports \{[^}]*elements = \{[^}]*tcp \. 31503 : goto reject-chain/);
    expect(text).not.toContain('31504');
    expect(text.match(/tcp \. 30081 :/g)).toHaveLength(1); // the LoadBalancer Service's own NodePort only
  });

  it('the Service never shows it: the input is untouched and the view keeps nodePort empty', () => {
    const s = gatewayState();
    const before = structuredClone(s.services);
    renderRuleset(s, 'node-1');
    expect(s.services).toEqual(before);
    const v = serviceViews(s).find((x) => x.name === 'gw-plain')!;
    expect(v.ports.map((p) => [p.port, p.nodePort, p.backendNodePort])).toEqual([
      [80, undefined, 31500],
      [53, undefined, 31501],
    ]);
  });

  it('UDP conntrack cleanup covers the hidden port', () => {
    expect(renderUdpConntrack(gatewayState())).toContain('nodeport\t31501\n');
  });

  it('adding or removing one is a delta of map elements (and the shared slot chain of its endpoint count)', () => {
    const next = gatewayState();
    const prev = { ...next, backendNodePorts: next.backendNodePorts!.filter((b) => b.nodePort !== 31500) };
    const ops = (d: string) => d.split('\n').filter((l) => l && !l.startsWith('#'));
    const add = ops(renderDelta(prev, next, 'node-1')!);
    // No other TCP node port has 2 endpoints here, so the shared chain nodeport-slots-tcp-2 comes (and goes) with it.
    expect(add).toEqual([
      'add chain ip sscontroller nodeport-slots-tcp-2',
      'add rule ip sscontroller nodeport-slots-tcp-2 jump mark-for-masquerade',
      'add rule ip sscontroller nodeport-slots-tcp-2 meta l4proto tcp dnat ip to tcp dport . numgen random mod 2 map @nodeport-backends-tcp',
      'add element ip sscontroller nodeport-backends-tcp { 31500 . 0 : 10.244.1.2 . 8080, 31500 . 1 : 10.244.2.2 . 8080 }',
      'add element ip sscontroller service-nodeports { tcp . 31500 : goto nodeport-slots-tcp-2 }',
    ]);
    const del = ops(renderDelta(next, prev, 'node-1')!);
    expect(del).toEqual([
      'delete element ip sscontroller nodeport-backends-tcp { 31500 . 0, 31500 . 1 }',
      'delete element ip sscontroller service-nodeports { tcp . 31500 }',
      'flush chain ip sscontroller nodeport-slots-tcp-2',
      'delete chain ip sscontroller nodeport-slots-tcp-2',
    ]);
  });

  it('refuses an entry that could change the meaning of the rules', () => {
    const s = gatewayState();
    s.backendNodePorts!.push({ ...hidden('x', 'u', 80, 'TCP', 70000), namespace: 'Bad ns' });
    expect(() => renderRuleset(s, 'node-1')).toThrow(InvalidError);
    expect(() => renderRuleset(s, 'node-1')).toThrow(
      /backendNodePorts\[6\]\.namespace: Invalid value: "Bad ns": must be a DNS label, backendNodePorts\[6\]\.nodePort: Invalid value: 70000/,
    );
  });

  it('renders the fixture cluster without any hidden port exactly as before', () => {
    const s = clusterState();
    expect(renderRuleset({ ...s, backendNodePorts: [] }, 'node-1')).toBe(renderRuleset(s, 'node-1'));
  });
});
