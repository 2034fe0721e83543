/**
 * The demo `npm start` shows: Pods behind the example Services, and real requests through a ClusterIP (from a Pod),
 * a NodePort (from a machine on the VPC), cluster DNS (from a Pod, through its node's resolver) and the load
 * balancer (from this machine, through the NLB stand-in). Every address is inside namespaces this process created.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { LocalSystem } from './system.js';

export interface DemoPod {
  name: string;
  labels: Record<string, string>;
  ports: { name: string; port: number }[];
  /** Index into the running nodes (round-robin when out of range). */
  node: number;
}

export const DEMO_PODS: DemoPod[] = [
  { name: 'hellok8s-1', labels: { app: 'hellok8s' }, ports: [{ name: 'http', port: 4567 }], node: 0 },
  { name: 'hellok8s-2', labels: { app: 'hellok8s' }, ports: [{ name: 'http', port: 4567 }], node: 1 },
  {
    name: 'nginx-1',
    labels: { app: 'nginx' },
    ports: [
      { name: 'http', port: 80 },
      { name: 'https', port: 443 },
    ],
    node: 2,
  },
  {
    name: 'nginx-2',
    labels: { app: 'nginx' },
    ports: [
      { name: 'http', port: 80 },
      { name: 'https', port: 443 },
    ],
    node: 0,
  },
];

/** Starts the demo Pods' servers in their namespaces and registers them as Pods (Ready, with their IPs). */
export async function startDemoPods(sys: LocalSystem, pods = DEMO_PODS): Promise<V1Pod[]> {
  const dp = sys.dataplane!;
  const nodes = [...dp.nodesByInstance.entries()];
  const out: V1Pod[] = [];
  for (const p of pods) {
    const [instanceId, n] = nodes[p.node % nodes.length]!;
    const { pod } = await dp.addPod(instanceId, p.name, p.labels, p.ports);
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: 'default', labels: p.labels },
      spec: {
        nodeName: n.info.name,
        containers: [
          { name: 'app', image: 'demo-http', ports: p.ports.map((x) => ({ name: x.name, containerPort: x.port })) },
        ],
      },
      status: {
        phase: 'Running',
        podIP: pod.ip,
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'app', ready: true, restartCount: 0, image: 'demo-http', imageID: '', started: true },
        ],
      },
    });
  }
  return out;
}

export interface ProbeResult {
  what: string;
  command: string;
  ok: boolean;
  output: string;
}

/** curl in a namespace (argv, no shell; bounded by -m). */
async function curlIn(sys: LocalSystem, ns: string, url: string): Promise<{ ok: boolean; out: string }> {
  const r = await sys.dataplane!.exec(ns, ['curl', '-s', '-m', '3', url], 8000);
  return { ok: r.code === 0 && r.stdout.startsWith('hello'), out: (r.stdout || r.stderr).trim() };
}

/** The Pod's resolv.conf is the kubelet's (search <ns>.svc.<domain> svc.<domain> <domain>, ndots:5): short names work. */
async function dnsProbes(
  sys: LocalSystem,
  fromPod: { ns: string; name: string },
  clusterIP: string,
): Promise<ProbeResult[]> {
  const dp = sys.dataplane!;
  const results: ProbeResult[] = [];
  for (const name of ['nginx', 'nginx.default.svc.cluster.local']) {
    const dns = await dp.exec(fromPod.ns, ['getent', 'hosts', name]);
    results.push({
      what: 'DNS from pod ' + fromPod.name,
      command: `getent hosts ${name}`,
      ok: dns.code === 0 && dns.stdout.includes(clusterIP),
      output: dns.stdout.trim() || dns.stderr.trim(),
    });
  }
  for (const url of ['http://nginx:8080/', 'http://nginx.default:8080/']) {
    const r = await curlIn(sys, fromPod.ns, url);
    results.push({
      what: 'DNS name of a ClusterIP from pod ' + fromPod.name,
      command: `curl ${url}`,
      ok: r.ok,
      output: r.out,
    });
  }
  return results;
}

export async function runDemoRequests(sys: LocalSystem): Promise<ProbeResult[]> {
  const dp = sys.dataplane!;
  const api = sys.target.api;
  const results: ProbeResult[] = [];
  const fromPod = dp.pods[0]!.pod;
  const nginx = await api.getService('default', 'nginx');
  const hello = await api.getService('default', 'hellok8s-svc');
  const nodes = [...dp.nodesByInstance.values()];

  const cip = `http://${nginx.spec!.clusterIP}:8080/`;
  let r = await curlIn(sys, fromPod.ns, cip);
  results.push({
    what: 'ClusterIP nginx:8080 from pod ' + fromPod.name,
    command: `curl ${cip}`,
    ok: r.ok,
    output: r.out,
  });

  const np = `http://${nodes[nodes.length - 1]!.node.ip}:${hello.spec!.ports![0]!.nodePort}/`;
  r = await curlIn(sys, dp.client.ns, np);
  results.push({ what: 'NodePort hellok8s-svc from a VPC client', command: `curl ${np}`, ok: r.ok, output: r.out });

  results.push(...(await dnsProbes(sys, fromPod, nginx.spec!.clusterIP!)));

  await sys.proxy?.refresh();
  for (const l of sys.proxy?.listeners() ?? []) {
    const url = `http://127.0.0.1:${l.localPort}/`;
    let body = '';
    let ok = false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      body = (await res.text()).trim();
      ok = res.ok && body.startsWith('hello');
    } catch (err) {
      body = (err as Error).message;
    }
    results.push({
      what: `load balancer ${l.serviceName ?? l.loadBalancerName}:${l.listenerPort} (${l.dnsName})`,
      command: `curl ${url}`,
      ok,
      output: body,
    });
  }
  return results;
}

export function formatProbes(results: ProbeResult[]): string {
  return (
    results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.what}\n       $ ${r.command}\n       ${r.output}`).join('\n') +
    '\n'
  );
}
