/**
 * Stale UDP conntrack entries are cleared by the agent, on the real kernel: a client that keeps its source port
 * keeps its conntrack entry, so without clearing, its datagrams would still go to the endpoint that was removed
 * (here it is still alive and would answer, which makes the difference visible).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPush, inlineArchive, sha256hex, type Push } from '../../lib/dataplane/bundle.js';
import { agentRoot, sendLocalCommand } from '../../tools/local/transport.js';
import { renderUdpConntrack } from '../../lib/dataplane/render/conntrack.js';
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import { Testbed, type NodeNs, type PodNs } from '../../tools/netns/index.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { ep, node, svc } from './fixtures.js';

const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(2048)
    s.sendto(sys.argv[1].encode(), addr)
`;
// One datagram from a FIXED source port (so the conntrack entry is reused), one answer, bounded by a timeout.
const UDP_ASK = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 40000))
s.settimeout(2)
s.sendto(b"?", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(2048)[0].decode())
except socket.timeout:
    print("timeout")
`;

const BASE = 'sscct';
let tb: Testbed;
let n1: NodeNs;
let u1: PodNs;
let u2: PodNs;
let client: PodNs;
let root: string;
const doc = ssmDocumentContent();

function state(endpointIps: string[]): DataPlaneState {
  const udp = [{ name: 'dns', port: 5353, protocol: 'UDP' as const }];
  return {
    cfg: { ...DEFAULT_CLUSTER_CONFIG },
    nodes: [node('node-1', 'i-0000000000000000a', n1.ip)],
    services: [
      svc('dns', {
        type: 'ClusterIP',
        clusterIP: '10.96.0.53',
        ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 as never }],
      }),
    ],
    endpoints: [{ namespace: 'default', name: 'dns', endpoints: endpointIps.map((ip) => ep(ip, 'node-1', udp)) }],
  };
}

async function apply(push: Push) {
  const archive = inlineArchive(push);
  const r = await sendLocalCommand(
    doc,
    {
      version: String(push.version),
      mode: 'full',
      manifestSha256: sha256hex(archive),
      manifestUrl: '',
      inline: archive.toString('base64'),
    },
    [{ instanceId: 'i-0000000000000000a', ns: n1.ns, env: { SSC_ROOT: root, SSC_DNS: 'off' } }],
  );
  expect(r.invocations[0]!.exitCode, r.invocations[0]!.stdout + r.invocations[0]!.stderr).toBe(0);
  return r.invocations[0]!;
}

const ask = async () => (await tb.exec(client.ns, ['python3', '-c', UDP_ASK, '10.96.0.53', '53'])).stdout.trim();

beforeAll(async () => {
  tb = await Testbed.forRun(BASE);
  n1 = await tb.addNode('node1');
  u1 = await tb.addPod(n1, 'u1');
  u2 = await tb.addPod(n1, 'u2');
  client = await tb.addPod(n1, 'cl');
  for (const p of [u1, u2]) {
    const proc = tb.spawn(p.ns, ['python3', '-c', UDP_ECHO, p.name, '5353']);
    await new Promise<void>((res) => proc.stdout!.once('data', () => res()));
  }
  root = agentRoot(tb.prefix);
}, 60_000);

afterAll(async () => {
  await tb?.destroy();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('UDP conntrack clearing', () => {
  it('renders the endpoints and Service ports the agent compares', () => {
    expect(renderUdpConntrack(state([u1.ip]))).toBe(`endpoint\t${u1.ip}\nservice\t10.96.0.53\t53\n`);
    expect(renderUdpConntrack(state([]))).toBe('');
  });

  it('a client keeping its source port follows the endpoint change instead of the stale entry', async () => {
    await apply(buildPush({ next: state([u1.ip]), version: 1 }));
    expect(await ask()).toBe('u1');
    expect(await ask()).toBe('u1'); // same source port: the same conntrack entry
    const inv = await apply(buildPush({ next: state([u2.ip]), version: 2 }));
    expect(await ask()).toBe('u2');
    expect(inv.summary?.detail).toMatch(/cleared stale UDP conntrack entries/);
  }, 60_000);
});
