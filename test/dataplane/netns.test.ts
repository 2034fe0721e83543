/**
 * End to end on a real kernel: two nodes and three pods as network namespaces, the node agent run by the local
 * transport with the real SSM document, real connections through the rules, DNS through the node's dnsmasq.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPush, inlineArchive, renderManifest, sha256hex, tgz, type Push } from '../../lib/dataplane/bundle.js';
import { agentRoot, sendLocalCommand, type LocalTarget } from '../../tools/local/transport.js';
import type { DataPlaneState } from '../../lib/dataplane/render/state.js';
import { handleCommandStatusEvent } from '../../lib/dataplane/ssm-driver.js';
import { ssmDocumentContent, type DataPlaneParameters } from '../../lib/dataplane/ssm-document.js';
import { InMemoryDataPlaneStateStore } from '../../lib/dataplane/state-store.js';
import { Testbed, type NodeNs, type PodNs } from '../../tools/netns/index.js';
import { CLIENT, ECHO_SERVER, HTTP_GET, clusterState } from './fixtures.js';
import { DNS_QUERY } from '../support/dns.js';

const BASE = 'sscne';
let tb: Testbed;
let n1: NodeNs;
let n2: NodeNs;
let b1: PodNs;
let client: { ns: string; ip: string };
const roots: Record<string, string> = {};
const store = new InMemoryDataPlaneStateStore();
const doc = ssmDocumentContent();
let state: DataPlaneState;

function params(push: Push, mode: 'full' | 'delta'): DataPlaneParameters {
  const archive = inlineArchive(push);
  return {
    version: String(push.version),
    mode,
    manifestSha256: sha256hex(archive),
    manifestUrl: '',
    inline: archive.toString('base64'),
  };
}

function targets(): LocalTarget[] {
  return tb.nodes.map((n, i) => ({
    instanceId: state.nodes[i]!.instanceId,
    ns: n.ns,
    env: { SSC_ROOT: roots[n.ns]!, SSC_DNS_LISTEN: n.ip, SSC_DNS_UPSTREAM: '172.31.0.1' },
  }));
}

async function apply(push: Push, mode: 'full' | 'delta', p = params(push, mode)) {
  const r = await sendLocalCommand(doc, p, targets(), {
    onEvent: async (e) => {
      await store.putCommand(e.detail['command-id'], { version: push.version, digests: push.digests });
      await handleCommandStatusEvent(e, { store });
    },
  });
  return r.invocations;
}

async function connect(ns: string, host: string, port: number, count: number, timeout = 2): Promise<string[]> {
  const r = await tb.exec(ns, ['python3', '-c', CLIENT, host, String(port), String(count), String(timeout)]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n');
}

const names = (lines: string[]) => lines.map((l) => l.split(' ')[0]!);

beforeAll(async () => {
  tb = await Testbed.forRun(BASE);
  n1 = await tb.addNode('node1');
  n2 = await tb.addNode('node2');
  const a1 = await tb.addPod(n1, 'a1');
  const a2 = await tb.addPod(n1, 'a2');
  b1 = await tb.addPod(n2, 'b1');
  client = await tb.addClient('client');
  for (const p of [a1, a2, b1]) tb.spawn(p.ns, ['python3', '-c', ECHO_SERVER, p.name, '8080']);
  // The "VPC resolver": knows the ExternalName target only.
  tb.spawn(tb.vpcNs, [
    'dnsmasq',
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--listen-address=172.31.0.1',
    '--bind-interfaces',
    '--host-record=db.example.test,192.0.2.10',
    '--pid-file=',
  ]);
  for (const n of [n1, n2]) {
    roots[n.ns] = agentRoot(`${tb.prefix}-${n.name}`);
    tb.setResolver(n.ns, n.ip);
  }
  state = clusterState();
  // echo servers up before traffic (bounded wait)
  for (let i = 0; i < 50; i++) {
    const r = await tb.exec(b1.ns, ['python3', '-c', CLIENT, b1.ip, '8080', '1', '0.5']);
    if (r.stdout.startsWith('b1')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const inv = await apply(buildPush({ next: state, version: 1 }), 'full');
  for (const i of inv) expect(i.exitCode, i.stdout + i.stderr).toBe(0);
  for (const i of inv) expect(i.summary).toMatchObject({ dns: 'started' });
}, 120_000);

afterAll(async () => {
  await tb?.destroy();
  for (const r of Object.values(roots)) rmSync(r, { recursive: true, force: true });
});

describe('node agent through the local transport', () => {
  it('applied version 1 on both nodes and recorded it from the status events', async () => {
    const nodes = await store.listNodes();
    expect(nodes.map((n) => [n.instanceId, n.appliedVersion]).sort()).toEqual([
      ['i-00000000000000001', 1],
      ['i-00000000000000002', 1],
    ]);
    const r = await tb.exec(n1.ns, ['nft', 'list', 'table', 'ip', 'sscontroller']);
    expect(r.stdout).toContain('map service-ips');
  });

  it('ClusterIP reaches every ready endpoint, about evenly', async () => {
    const got = names(await connect(b1.ns, '10.96.0.10', 80, 90));
    const counts = { a1: 0, a2: 0, b1: 0 } as Record<string, number>;
    for (const g of got) counts[g] = (counts[g] ?? 0) + 1;
    expect(Object.keys(counts).sort()).toEqual(['a1', 'a2', 'b1']);
    for (const k of ['a1', 'a2', 'b1']) expect(counts[k]).toBeGreaterThanOrEqual(12); // expected 30 each
  });

  it('NodePort answers on every node address, masqueraded (externalTrafficPolicy Cluster)', async () => {
    for (const n of [n1, n2]) {
      const lines = await connect(client.ns, n.ip, 30080, 12);
      expect(new Set(names(lines)).size).toBeGreaterThan(1);
      for (const l of lines) expect(l.split(' ')[1]).not.toBe(client.ip);
    }
  });

  it('externalTrafficPolicy Local: only local pods, client address preserved, health port 200/503', async () => {
    const lines = await connect(client.ns, n1.ip, 30081, 10);
    for (const l of lines) expect(l.split(' ').slice(0, 2)).toEqual(['a1', client.ip]);
    const none = await connect(client.ns, n2.ip, 30081, 1, 1);
    expect(none[0]).toMatch(/^TIMEOUT/); // dropped: node-2 has no local endpoint
    const h1 = await tb.exec(client.ns, ['python3', '-c', HTTP_GET, n1.ip, '32001']);
    expect(h1.stdout.trim()).toBe(
      '200 {"service": {"namespace": "default", "name": "loc"}, "localEndpoints": 1, "serviceProxyHealthy": true}',
    );
    const h2 = await tb.exec(client.ns, ['python3', '-c', HTTP_GET, n2.ip, '32001']);
    expect(h2.stdout.trim()).toMatch(/^503 .*"localEndpoints": 0/);
  });

  it('hairpin: a pod reaching its own Service lands on itself too, masqueraded', async () => {
    const a1 = tb.pods.find((p) => p.name === 'a1')!;
    const lines = await connect(a1.ns, '10.96.0.10', 80, 45);
    expect(lines.every((l) => /^(a1|a2|b1) /.test(l))).toBe(true);
    const self = lines.filter((l) => l.startsWith('a1 '));
    expect(self.length).toBeGreaterThan(0);
    for (const l of self) expect(l.split(' ')[1]).not.toBe(a1.ip); // source rewritten, or the reply would bypass NAT
  });

  it('sessionAffinity ClientIP sticks to one endpoint', async () => {
    const got = new Set(names(await connect(b1.ns, '10.96.0.12', 80, 25)));
    expect(got.size).toBe(1);
  });

  it('a Service without ready endpoints refuses connections, fast', async () => {
    const [line] = await connect(b1.ns, '10.96.0.13', 80, 1);
    expect(line).toMatch(/^REFUSED/);
    expect(Number(line!.split(' ')[1])).toBeLessThan(0.5);
    // and so does an unknown port of a ClusterIP
    expect((await connect(b1.ns, '10.96.0.10', 81, 1))[0]).toMatch(/^REFUSED/);
  });

  it('DNS through the node resolver: A, headless, and ExternalName as a CNAME', async () => {
    const a = await tb.exec(n1.ns, ['getent', 'ahostsv4', 'web.default.svc.cluster.local']);
    expect(a.stdout).toContain('10.96.0.10');
    const h = await tb.exec(n1.ns, ['getent', 'ahostsv4', 'headless.default.svc.cluster.local']);
    expect(
      new Set(
        h.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(/\s+/)[0]),
      ),
    ).toEqual(new Set(['10.244.1.2', '10.244.2.2']));
    const e = await tb.exec(n1.ns, ['getent', 'ahostsv4', 'ext.default.svc.cluster.local']);
    // first line carries the canonical name: the CNAME target
    expect(e.stdout.split('\n')[0]).toMatch(/^192\.0\.2\.10\s+STREAM\s+db\.example\.test$/);
    const nx = await tb.exec(n1.ns, ['getent', 'ahostsv4', 'nope.default.svc.cluster.local']);
    expect(nx.code).not.toBe(0);
  });

  it('DNS: SRV for named ports (per ready endpoint for headless), NXDOMAIN for a port the Service lacks', async () => {
    const srv = async (name: string) =>
      (await tb.exec(n1.ns, ['python3', '-c', DNS_QUERY, name, 'SRV'])).stdout.trim().split('\n').sort();
    expect(await srv('_http._tcp.web.default.svc.cluster.local')).toEqual([
      'SRV 0 100 80 web.default.svc.cluster.local',
    ]);
    expect(await srv('_http._tcp.headless.default.svc.cluster.local')).toEqual([
      'SRV 0 50 8080 10-244-1-2.headless.default.svc.cluster.local',
      'SRV 0 50 8080 10-244-2-2.headless.default.svc.cluster.local',
    ]);
    expect(await srv('_nope._tcp.web.default.svc.cluster.local')).toEqual(['RCODE 3']);
    const target = await tb.exec(n1.ns, ['getent', 'ahostsv4', '10-244-2-2.headless.default.svc.cluster.local']);
    expect(target.stdout).toContain('10.244.2.2');
  });

  it('writes the ClusterFirst resolv.conf per namespace and a kubelet fragment; a Pod using it resolves short names', async () => {
    const root = roots[n1.ns]!;
    const conf = readFileSync(join(root, 'var/lib/sscontroller/pod-resolv/default.conf'), 'utf8');
    expect(conf).toBe(
      `search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${n1.ip}\noptions ndots:5\n`,
    );
    expect(readFileSync(join(root, 'var/lib/sscontroller/pod-resolv/team-a.conf'), 'utf8')).toMatch(
      /^search team-a\.svc\.cluster\.local svc\.cluster\.local cluster\.local\n/,
    );
    expect(readFileSync(join(root, 'etc/sscontroller/kubelet-dns.yaml'), 'utf8')).toContain(
      `kind: KubeletConfiguration\nclusterDNS:\n  - ${n1.ip}\nclusterDomain: cluster.local\n`,
    );
    const a1 = tb.pods.find((p) => p.name === 'a1')!;
    tb.writeResolvConf(a1.ns, conf);
    for (const name of ['web', 'web.default', 'web.default.svc']) {
      const r = await tb.exec(a1.ns, ['getent', 'hosts', name]);
      expect(r.stdout, name).toMatch(/^10\.96\.0\.10\s+web\.default\.svc\.cluster\.local/);
    }
    expect((await tb.exec(a1.ns, ['getent', 'hosts', 'my-db.team-a'])).stdout).toContain('10.96.5.5');
    expect(
      (await tb.exec(a1.ns, ['python3', '-c', DNS_QUERY, '_http._tcp.web.default.svc.cluster.local', 'SRV'])).stdout,
    ).toBe('SRV 0 100 80 web.default.svc.cluster.local\n');
  });

  it('writes env files in the kubelet format', () => {
    const env = readFileSync(join(roots[n1.ns]!, 'var/lib/sscontroller/env/default.env'), 'utf8');
    expect(env).toContain('WEB_SERVICE_HOST=10.96.0.10\n');
    expect(env).toContain('WEB_SERVICE_PORT_HTTP=80\n');
    expect(env).toContain('WEB_PORT_80_TCP=tcp://10.96.0.10:80\n');
    expect(env).not.toContain('EXT_');
    expect(env).not.toContain('HEADLESS_');
    const teamA = readFileSync(join(roots[n1.ns]!, 'var/lib/sscontroller/env/team-a.env'), 'utf8');
    expect(teamA).toContain('MY_DB_SERVICE_PORT_PG_MAIN=5432\n');
    expect(teamA).toContain('KUBERNETES_SERVICE_HOST=10.96.0.1\n');
  });

  it('a small change is applied as a delta, and traffic follows it', async () => {
    const next = structuredClone(state);
    next.endpoints[0]!.endpoints = next.endpoints[0]!.endpoints.filter((e) => e.ip !== '10.244.2.2');
    const push = buildPush({ next, version: 2, prev: { state, version: 1 } });
    const inv = await apply(push, 'delta');
    for (const i of inv) {
      expect(i.exitCode, i.stdout).toBe(0);
      // web is not headless: its DNS records did not change, so dnsmasq is neither restarted nor reloaded
      expect(i.summary).toMatchObject({ status: 'applied', rules: 'delta', dns: 'unchanged', version: 2 });
    }
    const got = new Set(names(await connect(b1.ns, '10.96.0.10', 80, 30)));
    expect(got).toEqual(new Set(['a1', 'a2']));
    state = next;
  });

  it('a failed apply leaves the previous rules in place and is reported as Failed', async () => {
    const before = (await tb.exec(n1.ns, ['nft', 'list', 'table', 'ip', 'sscontroller'])).stdout;
    // A push whose ruleset nft refuses (references a chain that does not exist).
    const good = buildPush({ next: state, version: 3 });
    const broken: Push = { version: 3, entries: [], bundles: new Map(), digests: {} };
    const files: Record<string, string> = {
      version: '3\n',
      'ruleset.nft':
        'add table ip sscontroller\ndelete table ip sscontroller\ntable ip sscontroller {\n\tchain x {\n\t\tgoto missing\n\t}\n}\n',
      'dnsmasq.conf': '',
      'health.tsv': '',
    };
    files.SHA256SUMS = Object.keys(files)
      .sort()
      .map((f) => `${sha256hex(files[f]!)}  ${f}\n`)
      .join('');
    const b = tgz(files);
    broken.bundles.set(sha256hex(b), b);
    broken.entries = [...good.entries.map((e) => ({ ...e, sha256: sha256hex(b) }))];
    const inv = await apply(broken, 'full');
    for (const i of inv) {
      expect(i.exitCode).toBe(2);
      expect(i.status).toBe('Failed');
      expect(i.summary).toMatchObject({ status: 'failed' });
    }
    expect((await tb.exec(n1.ns, ['nft', 'list', 'table', 'ip', 'sscontroller'])).stdout).toBe(before);
    expect(new Set(names(await connect(b1.ns, '10.96.0.10', 80, 10)))).toEqual(new Set(['a1', 'a2']));
    const nodes = await store.listNodes();
    for (const n of nodes) expect(n).toMatchObject({ appliedVersion: 2, failedVersion: 3, lastStatus: 'Failed' });
  });

  it('S3 mode: fetches the manifest and its bundle by URL and verifies both', async () => {
    const push = buildPush({ next: state, version: 5 });
    const dir = mkdtempSync(join(tmpdir(), `${tb.prefix}-www-`));
    roots.www = dir;
    const base = `http://${client.ip}:8000`;
    const manifest = renderManifest(push, (sha) => `${base}/bundles/${sha}.tgz`);
    mkdirSync(join(dir, 'bundles'));
    for (const [sha, b] of push.bundles) writeFileSync(join(dir, 'bundles', `${sha}.tgz`), b);
    writeFileSync(join(dir, 'manifest.tsv'), manifest);
    tb.spawn(client.ns, ['python3', '-m', 'http.server', '--bind', client.ip, '--directory', dir, '8000']);
    for (let i = 0; i < 50; i++) {
      if ((await tb.exec(n1.ns, ['curl', '-fsS', '-o', '/dev/null', `${base}/manifest.tsv`])).code === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const p: DataPlaneParameters = {
      version: '5',
      mode: 'delta',
      manifestSha256: sha256hex(manifest),
      manifestUrl: `${base}/manifest.tsv`,
      inline: '',
    };
    const inv = await apply(push, 'delta', p);
    for (const i of inv)
      expect(i.summary, i.stdout + i.stderr).toMatchObject({ status: 'applied', version: 5, rules: 'full' });
  });

  it('refuses a bundle whose sha256 does not match, changing nothing', async () => {
    const push = buildPush({ next: state, version: 4 });
    const p = { ...params(push, 'full'), manifestSha256: '0'.repeat(64) };
    const inv = await apply(push, 'full', p);
    for (const i of inv) expect(i.summary).toMatchObject({ status: 'failed', detail: 'inline bundle sha256 mismatch' });
    const applied = readFileSync(join(roots[n1.ns]!, 'var/lib/sscontroller/applied-version'), 'utf8');
    expect(applied.trim()).toBe('5');
  });
});

describe('after a change of Local-policy endpoints', () => {
  it('health answers follow the endpoint, and internalTrafficPolicy Local stays on the node', async () => {
    const next = structuredClone(state);
    const unnamed = [{ name: '', port: 8080, protocol: 'TCP' as const }];
    next.endpoints[1]!.endpoints = [
      { ip: '10.244.2.2', nodeName: 'node-2', ready: true, terminating: false, ports: unnamed },
    ];
    next.services.push({
      metadata: { namespace: 'default', name: 'itp' },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.96.0.20',
        internalTrafficPolicy: 'Local',
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    });
    next.endpoints.push({
      namespace: 'default',
      name: 'itp',
      endpoints: [{ ip: '10.244.1.2', nodeName: 'node-1', ready: true, terminating: false, ports: unnamed }],
    });
    const inv = await apply(buildPush({ next, version: 6 }), 'full');
    // a new Service is new DNS data: dnsmasq re-reads it on SIGHUP (no restart), and answers at once
    for (const i of inv) expect(i.summary, i.stdout).toMatchObject({ status: 'applied', version: 6, dns: 'reloaded' });
    expect((await tb.exec(n2.ns, ['getent', 'ahostsv4', 'itp.default.svc.cluster.local'])).stdout).toContain(
      '10.96.0.20',
    );
    // the health server re-reads its data after the apply (SIGHUP); poll briefly, bounded
    let h1 = '';
    for (let i = 0; i < 30 && !h1.startsWith('503'); i++) {
      h1 = (await tb.exec(client.ns, ['python3', '-c', HTTP_GET, n1.ip, '32001'])).stdout.trim();
      if (!h1.startsWith('503')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(h1).toMatch(/^503 /);
    const h2 = await tb.exec(client.ns, ['python3', '-c', HTTP_GET, n2.ip, '32001']);
    expect(h2.stdout.trim()).toMatch(/^200 .*"localEndpoints": 1/);
    // internalTrafficPolicy Local: a2 on node-1 reaches a1; b1 on node-2 has no local endpoint and is dropped
    const a2 = tb.pods.find((p) => p.name === 'a2')!;
    expect(new Set(names(await connect(a2.ns, '10.96.0.20', 80, 10)))).toEqual(new Set(['a1']));
    expect((await connect(b1.ns, '10.96.0.20', 80, 1, 1))[0]).toMatch(/^TIMEOUT/);
  });
});

describe('a full sync', () => {
  it('keeps sessionAffinity entries and their timeouts: a client keeps its endpoint (no `delete table`)', async () => {
    const first = new Set(names(await connect(b1.ns, '10.96.0.12', 80, 5)));
    expect(first.size).toBe(1);
    const setsBefore = (await tb.exec(n2.ns, ['nft', 'list', 'table', 'ip', 'sscontroller'])).stdout;
    // the set's timeout applies to each element: `update` left b1's address with its expiry
    const remembered = new RegExp(`elements = \\{ ${b1.ip.replace(/\./g, '\\.')} expires \\d+m`);
    expect(setsBefore).toMatch(remembered);
    const next = structuredClone(state);
    next.services.push({
      metadata: { namespace: 'default', name: 'later' },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.21', ports: [{ port: 80, protocol: 'TCP' }] },
    });
    const inv = await apply(buildPush({ next, version: 7 }), 'full');
    for (const i of inv) expect(i.summary, i.stdout).toMatchObject({ status: 'applied', version: 7, rules: 'full' });
    const after = (await tb.exec(n2.ns, ['nft', 'list', 'table', 'ip', 'sscontroller'])).stdout;
    expect(after).toContain('10.96.0.21');
    expect(after).toMatch(remembered);
    expect(new Set(names(await connect(b1.ns, '10.96.0.12', 80, 20)))).toEqual(first);
  });
});
