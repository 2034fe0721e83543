/**
 * Data-plane benchmark (not a test): `npx tsx bench/dataplane.ts [sizes...]` (default 100 1000 10000).
 *
 * For each size N, in namespaces this script creates (and removes), side by side:
 *   (a) ours: renderRuleset (verdict maps), full apply (`nft -f`), one-Service change (renderDelta, `nft -f`);
 *   (b) kube-proxy iptables-mode style: one linear `services` chain with one rule per Service port, a chain per
 *       Service choosing an endpoint with `numgen` like the statistic match, written with nft. Its one-Service
 *       change rewrites the services chain and the changed Service's chains, as iptables-restore does for
 *       KUBE-SERVICES.
 * and first-packet latency: TCP connect() time from a pod to the LAST Service in the list (worst case for a linear
 * chain), a bounded number of connections to addresses inside the benchmark's own namespaces.
 */
import { performance } from 'node:perf_hooks';
import { renderDelta, renderRuleset } from '../lib/dataplane/render/nft.js';
import type { DataPlaneState } from '../lib/dataplane/render/state.js';
import { DEFAULT_CLUSTER_CONFIG, type StoredService } from '../lib/model/types.js';
import { sh, Testbed, type NodeNs, type PodNs } from '../tools/netns/index.js';

const SIZES = process.argv.slice(2).map(Number).filter(Boolean);
const sizes = SIZES.length ? SIZES : [100, 1000, 10000];
const CONNECTIONS = 400;
/** Latency rounds per size; the reported p50/p99 are medians over rounds (2 shared cores make single runs noisy). */
const ROUNDS = 5;
/** One-Service changes timed per size (alternating remove/add of an endpoint); the median is reported. */
const CHANGES = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const svcIp = (i: number) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

function state(n: number, backends: string[], variant = 0): DataPlaneState {
  const services: StoredService[] = [];
  const endpoints: DataPlaneState['endpoints'] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(5, '0')}`;
    services.push({
      metadata: { namespace: 'bench', name },
      spec: { type: 'ClusterIP', clusterIP: svcIp(i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    // the changed Service (index 0) loses an endpoint in variant 1
    const eps = i === 0 && variant === 1 ? backends.slice(0, 1) : backends;
    endpoints.push({
      namespace: 'bench',
      name,
      endpoints: eps.map((ip) => ({
        ip,
        nodeName: 'n',
        ready: true,
        terminating: false,
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' as const }],
      })),
    });
  }
  return { cfg: { ...DEFAULT_CLUSTER_CONFIG, serviceCidr: '10.96.0.0/12' }, nodes: [], services, endpoints };
}

function iptablesStyle(n: number, backends: string[], variant = 0): { full: string; change: string } {
  const T = 'ip kpipt';
  const svcChain = (i: number, eps: string[]) => {
    const lines = [`\tchain svc-${i} {`];
    eps.forEach((ip, k) => {
      const rest = eps.length - k;
      // statistic --mode random --probability 1/rest, then the last one unconditionally
      lines.push(rest > 1 ? `\t\tnumgen random mod ${rest} == 0 goto sep-${i}-${k}` : `\t\tgoto sep-${i}-${k}`);
    });
    lines.push('\t}');
    eps.forEach((ip, k) =>
      lines.push(
        `\tchain sep-${i}-${k} {`,
        `\t\tip saddr ${ip} meta mark set meta mark | 0x4000`,
        `\t\tmeta l4proto tcp dnat to ${ip}:8080`,
        '\t}',
      ),
    );
    return lines;
  };
  const rules = Array.from({ length: n }, (_, i) => `ip daddr ${svcIp(i)} tcp dport 80 goto svc-${i}`);
  const full = [
    `add table ${T}`,
    `delete table ${T}`,
    `table ${T} {`,
    '\tchain nat-prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tjump services',
    '\t}',
    '\tchain nat-output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tjump services',
    '\t}',
    '\tchain services {',
    ...rules.map((r) => `\t\t${r}`),
    '\t}',
  ];
  for (let i = 0; i < n; i++) full.push(...svcChain(i, i === 0 && variant === 1 ? backends.slice(0, 1) : backends));
  full.push('}', '');
  const eps = variant === 1 ? backends : backends.slice(0, 1);
  const change = [
    `flush chain ${T} services`,
    `flush chain ${T} svc-0`,
    ...rules.map((r) => `add rule ${T} services ${r}`),
    ...eps.map((_ip, k) =>
      eps.length - k > 1
        ? `add rule ${T} svc-0 numgen random mod ${eps.length - k} == 0 goto sep-0-${k}`
        : `add rule ${T} svc-0 goto sep-0-${k}`,
    ),
    '',
  ].join('\n');
  return { full: full.join('\n'), change };
}

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function nftApply(tb: Testbed, ns: string, text: string): Promise<void> {
  const r = await tb.exec(ns, ['nft', '-f', '-'], { input: text, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`nft failed in ${ns}: ${r.stderr.slice(0, 400)}`);
}

const LATENCY = `
import socket, sys, time
host, count = sys.argv[1], int(sys.argv[2])
out = []
for _ in range(count):
    t0 = time.perf_counter()
    c = socket.create_connection((host, 80), timeout=2)
    out.append((time.perf_counter() - t0) * 1e6)
    c.close()
out.sort()
print("%.1f %.1f" % (out[len(out) // 2], out[min(len(out) - 1, int(len(out) * 0.99))]))
`;
const ECHO = `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(512)
while True:
    c, a = s.accept(); c.close()
`;

async function latency(tb: Testbed, from: PodNs, ip: string): Promise<[number, number]> {
  await tb.exec(from.ns, ['python3', '-c', LATENCY, ip, '20']); // warm-up (ARP, caches)
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await tb.exec(from.ns, ['python3', '-c', LATENCY, ip, String(CONNECTIONS)]);
    if (r.code !== 0) throw new Error(`latency run failed: ${r.stderr}`);
    const [p50, p99] = r.stdout.trim().split(' ').map(Number);
    p50s.push(p50!);
    p99s.push(p99!);
  }
  return [median(p50s), median(p99s)];
}

async function setupNode(tb: Testbed, name: string): Promise<{ node: NodeNs; client: PodNs; backends: string[] }> {
  const node = await tb.addNode(name);
  const server = await tb.addPod(node, `${name}s`);
  const client = await tb.addPod(node, `${name}c`);
  tb.spawn(server.ns, ['python3', '-c', ECHO]);
  // a second address on the server pod, so every Service has two endpoints (a real random choice)
  const second = server.ip.replace(/\.(\d+)$/, (_m, d: string) => `.${Number(d) + 100}`);
  await tb.exec(server.ns, ['ip', 'addr', 'add', `${second}/32`, 'dev', 'eth0']);
  await tb.exec(node.ns, ['ip', 'route', 'add', `${second}/32`, 'dev', `p${server.ip.split('.')[3]}`]);
  return { node, client, backends: [server.ip, second] };
}

interface Row {
  n: number;
  mode: string;
  render: number;
  full: number;
  change: number;
  changeLines: number;
  p50: number;
  p99: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const tb = await Testbed.forRun('sscbench');
  try {
    const ours = await setupNode(tb, 'ours');
    const ipt = await setupNode(tb, 'ipt');
    await new Promise((r) => setTimeout(r, 500));
    for (const n of sizes) {
      // (a) ours
      let text = '';
      const s0 = state(n, ours.backends);
      const s1 = state(n, ours.backends, 1);
      const render = await timed(() => {
        text = renderRuleset(s0, 'n');
      });
      // A node's first apply (no table yet); a full sync over an existing table adds the prelude's flush/delete lines.
      await tb.exec(ours.node.ns, ['nft', 'delete', 'table', 'ip', 'sscontroller']);
      const full = await timed(() => nftApply(tb, ours.node.ns, text));
      const delta = renderDelta(s0, s1, 'n')!;
      const back = renderDelta(s1, s0, 'n')!;
      const changes: number[] = [];
      for (let i = 0; i < CHANGES; i++)
        changes.push(await timed(() => nftApply(tb, ours.node.ns, i % 2 ? back : delta)));
      const change = median(changes);
      const [p50, p99] = await latency(tb, ours.client, svcIp(n - 1));
      rows.push({
        n,
        mode: 'ours (verdict maps)',
        render,
        full,
        change,
        changeLines: delta.split('\n').length,
        p50,
        p99,
      });
      // (b) iptables-style linear chain
      let t2 = { full: '', change: '' };
      const renderB = await timed(() => {
        t2 = iptablesStyle(n, ipt.backends);
      });
      const fullB = await timed(() => nftApply(tb, ipt.node.ns, t2.full));
      const changesB: number[] = [];
      for (let i = 0; i < CHANGES; i++)
        changesB.push(await timed(() => nftApply(tb, ipt.node.ns, iptablesStyle(n, ipt.backends, (i + 1) % 2).change)));
      const changeB = median(changesB);
      const [q50, q99] = await latency(tb, ipt.client, svcIp(n - 1));
      rows.push({
        n,
        mode: 'iptables-style linear chain',
        render: renderB,
        full: fullB,
        change: changeB,
        changeLines: t2.change.split('\n').length,
        p50: q50,
        p99: q99,
      });
      // clear between sizes so each size starts from an empty table
      await tb.exec(ours.node.ns, ['nft', 'delete', 'table', 'ip', 'sscontroller']);
      await tb.exec(ipt.node.ns, ['nft', 'delete', 'table', 'ip', 'kpipt']);
      console.error(`done N=${n}`);
    }
  } finally {
    await tb.destroy();
  }
  const f = (x: number) => x.toFixed(1);
  const spawn = median(
    await Promise.all([0, 1, 2].map(() => timed(async () => void (await sh('ip', ['netns', 'list']))))),
  );
  console.log(`(every apply includes spawning ip netns exec + nft: ~${spawn.toFixed(0)} ms for a trivial spawn here)`);
  console.log(
    '| Services | rules | render (ms) | full apply (ms) | one-Service change (ms) | change size (lines) | connect p50 (µs) | connect p99 (µs) |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.n} | ${r.mode} | ${f(r.render)} | ${f(r.full)} | ${f(r.change)} | ${r.changeLines} | ${f(r.p50)} | ${f(r.p99)} |`,
    );
}

await main();
