/**
 * Boot-time restore: kernel rules do not survive a reboot and SSM may have nothing new to send, so the agent keeps
 * the last verified bundle and re-applies it with SSC_RESTORE=1 (a systemd oneshot unit on real nodes). Simulated on
 * the real kernel by deleting our table in a node namespace.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPush, inlineArchive, sha256hex } from '../../lib/dataplane/bundle.js';
import { agentRoot, sendLocalCommand } from '../../tools/local/transport.js';
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { AGENT_DIR, ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import { Testbed, type NodeNs, type PodNs } from '../../tools/netns/index.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { CLIENT, ECHO_SERVER, ep, node, svc } from './fixtures.js';

const BASE = 'sscrs';
let tb: Testbed;
let n1: NodeNs;
let backend: PodNs;
let client: PodNs;
let root: string;

function state(): DataPlaneState {
  return {
    cfg: { ...DEFAULT_CLUSTER_CONFIG },
    nodes: [node('node-1', 'i-0000000000000000b', n1.ip)],
    services: [
      svc('web', {
        type: 'ClusterIP',
        clusterIP: '10.96.0.80',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 as never }],
      }),
    ],
    endpoints: [
      {
        namespace: 'default',
        name: 'web',
        endpoints: [ep(backend.ip, 'node-1', [{ name: 'http', port: 8080, protocol: 'TCP' }])],
      },
    ],
  };
}

const restore = async () => {
  const r = await tb.exec(n1.ns, ['bash', join(root, AGENT_DIR, 'node-agent.sh')], {
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      SSC_ROOT: root,
      SSC_RESTORE: '1',
      SSC_DNS: 'off',
    },
  });
  return { code: r.code, summary: JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown> };
};
const connect = async () =>
  (await tb.exec(client.ns, ['python3', '-c', CLIENT, '10.96.0.80', '80', '1', '1'])).stdout.trim().split(' ')[0];

beforeAll(async () => {
  tb = await Testbed.forRun(BASE);
  n1 = await tb.addNode('node1');
  backend = await tb.addPod(n1, 'be');
  client = await tb.addPod(n1, 'cl');
  tb.spawn(backend.ns, ['python3', '-c', ECHO_SERVER, 'be', '8080']);
  root = agentRoot(tb.prefix);
  for (let i = 0; i < 50; i++) {
    const r = await tb.exec(client.ns, ['python3', '-c', CLIENT, backend.ip, '8080', '1', '0.5']);
    if (r.stdout.startsWith('be')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
}, 60_000);

afterAll(async () => {
  await tb?.destroy();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('boot-time restore', () => {
  it('with nothing applied yet, restore does nothing and says so', async () => {
    // The agent as the SSM document installs it, before any push reached this node.
    mkdirSync(join(root, AGENT_DIR), { recursive: true });
    copyFileSync('agent/node-agent.sh', join(root, AGENT_DIR, 'node-agent.sh'));
    const r = await restore();
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ status: 'unchanged', detail: 'no applied bundle to restore' });
  });

  it('re-applies the last applied bundle after the rules are gone, and is a no-op while they are present', async () => {
    const push = buildPush({ next: state(), version: 7 });
    const archive = inlineArchive(push);
    const r = await sendLocalCommand(
      ssmDocumentContent(),
      {
        version: '7',
        mode: 'full',
        manifestSha256: sha256hex(archive),
        manifestUrl: '',
        inline: archive.toString('base64'),
      },
      [{ instanceId: 'i-0000000000000000b', ns: n1.ns, env: { SSC_ROOT: root, SSC_DNS: 'off' } }],
    );
    expect(r.invocations[0]!.exitCode, r.invocations[0]!.stdout).toBe(0);
    expect(await connect()).toBe('be');

    // "Reboot": the kernel forgets our table.
    expect((await tb.exec(n1.ns, ['nft', 'delete', 'table', 'ip', 'sscontroller'])).code).toBe(0);
    expect(await connect()).not.toBe('be');

    const restored = await restore();
    expect(restored.code).toBe(0);
    expect(restored.summary).toMatchObject({ status: 'applied', version: 7, rules: 'full' });
    expect(await connect()).toBe('be');

    const again = await restore();
    expect(again.summary).toMatchObject({ status: 'unchanged', version: 7 });
  }, 60_000);
});
