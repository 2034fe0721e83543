/**
 * On the real kernel: a ClusterIP Service that is a Gateway backend gets a node port of the data plane's own, and a
 * connection to <any node>:<that port> from outside the cluster (where the NLB sits) reaches the Service's Pods,
 * masqueraded like a NodePort with externalTrafficPolicy Cluster. Without the allocation the port is closed again.
 * Two nodes, two Pods and a VPC client as network namespaces; each node's rules applied with `nft -f`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testbed, type ClientNs, type NodeNs } from '../../tools/netns/index.js';
import { renderDelta, renderRuleset } from '../../lib/dataplane/render/nft.js';
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { CLIENT, ECHO_SERVER, ep, node, svc } from './fixtures.js';

const HIDDEN = 31600;
let tb: Testbed;
let n1: NodeNs;
let n2: NodeNs;
let client: ClientNs;
let state: DataPlaneState;

function stateFor(withHidden: boolean): DataPlaneState {
  const web = svc('gw-web', { type: 'ClusterIP', clusterIP: '10.96.0.60', ports: [{ port: 80, protocol: 'TCP' }] });
  web.metadata!.uid = 'uid-gw-web';
  const ports = [{ name: '', port: 8080, protocol: 'TCP' as const }];
  return {
    cfg: { ...DEFAULT_CLUSTER_CONFIG },
    nodes: [node('node-1', 'i-00000000000000001', n1.ip), node('node-2', 'i-00000000000000002', n2.ip)],
    services: [web],
    endpoints: [
      {
        namespace: 'default',
        name: 'gw-web',
        endpoints: [ep(`10.244.${n1.index}.2`, 'node-1', ports), ep(`10.244.${n2.index}.2`, 'node-2', ports)],
      },
    ],
    ...(withHidden
      ? {
          backendNodePorts: [
            { namespace: 'default', service: 'gw-web', uid: 'uid-gw-web', port: 80, protocol: 'TCP', nodePort: HIDDEN },
          ],
        }
      : {}),
  };
}

async function nft(ns: string, input: string): Promise<void> {
  const r = await tb.exec(ns, ['nft', '-f', '-'], { input });
  expect(r.code, r.stderr).toBe(0);
}

async function connect(host: string, port: number, count: number): Promise<string[]> {
  const r = await tb.exec(client.ns, ['python3', '-c', CLIENT, host, String(port), String(count), '1']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n');
}

beforeAll(async () => {
  tb = await Testbed.forRun('sscbp');
  n1 = await tb.addNode('node1');
  n2 = await tb.addNode('node2');
  const a = await tb.addPod(n1, 'a');
  const b = await tb.addPod(n2, 'b');
  client = await tb.addClient('nlb');
  for (const p of [a, b]) tb.spawn(p.ns, ['python3', '-c', ECHO_SERVER, p.name, '8080']);
  for (let i = 0; i < 50; i++) {
    const ra = await tb.exec(n1.ns, ['python3', '-c', CLIENT, a.ip, '8080', '1', '0.5']);
    const rb = await tb.exec(n2.ns, ['python3', '-c', CLIENT, b.ip, '8080', '1', '0.5']);
    if (ra.stdout.startsWith('a') && rb.stdout.startsWith('b')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  state = stateFor(true);
  await nft(n1.ns, renderRuleset(state, 'node-1'));
  await nft(n2.ns, renderRuleset(state, 'node-2'));
}, 120_000);

afterAll(async () => {
  await tb?.destroy();
});

describe('hidden backend node port on the kernel', () => {
  it('every node forwards <node>:<hidden port> to the ClusterIP Service’s Pods, masqueraded', async () => {
    for (const n of [n1, n2]) {
      const lines = await connect(n.ip, HIDDEN, 16);
      const who = lines.map((l) => l.split(' ')[0]);
      expect(new Set(who)).toEqual(new Set(['a', 'b'])); // both Pods, from either node (cluster-wide choice)
      // masqueraded: the Pod sees a node address, never the client's (replies return through the node)
      for (const l of lines) expect(l.split(' ')[1]).not.toBe(client.ip);
    }
  });

  it('the ClusterIP Service has no NodePort otherwise: another port of the node stays closed', async () => {
    expect((await connect(n1.ip, HIDDEN + 1, 1))[0]).toMatch(/^REFUSED/);
  });

  it('released (a delta without it), the port is closed on the node', async () => {
    const next = stateFor(false);
    await nft(n1.ns, renderDelta(state, next, 'node-1')!);
    expect((await connect(n1.ip, HIDDEN, 2)).map((l) => l.split(' ')[0])).toEqual(['REFUSED', 'REFUSED']);
    // node-2 still has it until its own push
    expect((await connect(n2.ip, HIDDEN, 1))[0]).toMatch(/^[ab] /);
  });
});
