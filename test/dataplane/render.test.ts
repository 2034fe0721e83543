/** Pure renderers: golden ruleset (UPDATE_GOLDEN=1 rewrites), DNS, env files, health data, validation. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors.js';
import { renderDns } from '../../lib/dataplane/render/dns.js';
import { clusterFirstDns, formatResolvConf, renderPodDns } from '../../lib/dataplane/render/resolv.js';
import { renderEnvFiles } from '../../lib/dataplane/render/env.js';
import { healthEntries, renderHealthData } from '../../lib/dataplane/render/health.js';
import {
  buildModel,
  diffModels,
  NFT_NAME_MAX,
  objectName,
  renderDelta,
  renderRuleset,
} from '../../lib/dataplane/render/nft.js';
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

describe('renderRuleset', () => {
  it('matches the golden ruleset for node-1 (with pod CIDR) and node-2', () => {
    golden('ruleset-node-1.nft', renderRuleset({ ...clusterState(), podCidr: '10.244.0.0/16' }, 'node-1'));
    golden('ruleset-node-2.nft', renderRuleset(clusterState(), 'node-2'));
  });

  it('dispatches ClusterIPs through one verdict map, never a chain per Service in the hot path', () => {
    const text = renderRuleset(clusterState(), 'node-1');
    expect(text).toContain('ip daddr . meta l4proto . th dport vmap @service-ips');
    // A plain Service port (no affinity, no Local policy) has no chain of its own: its three ready endpoints are
    // slots 0..2 of the protocol's backend map, and the chain shared by every 3-endpoint TCP port picks one of them
    // with equal probability.
    expect(text).toMatch(/10\.96\.0\.10 \. tcp \. 80 : goto service-slots-tcp-3/);
    expect(text).toContain(
      '\tchain service-slots-tcp-3 {\n\t\tmeta l4proto tcp dnat ip to ip daddr . tcp dport . numgen random mod 3 map @service-backends-tcp\n\t}',
    );
    for (const [k, ip] of ['10.244.1.2', '10.244.1.3', '10.244.2.2'].entries())
      expect(text).toContain(`10.96.0.10 . 80 . ${k} : ${ip} . 8080`);
    expect(text).not.toMatch(/chain service-[A-Z2-7]{8}-default\/web\//);
    // NodePort traffic of the same port: its own slots, masqueraded first (externalTrafficPolicy Cluster).
    expect(text).toMatch(/tcp \. 30080 : goto nodeport-slots-tcp-3/);
    expect(text).toContain('30080 . 2 : 10.244.2.2 . 8080');
  });

  it('renders nothing for headless Services and ignores ExternalName ports', () => {
    const text = renderRuleset(clusterState(), 'node-1');
    expect(text).not.toContain('headless');
    expect(text).not.toContain('/ext/');
    const serviceIps = /map service-ips \{[^}]*elements = \{([^}]*)\}/.exec(text)![1]!;
    // only Services with a ClusterIP and ready endpoints (kubernetes and my-db have none: they are rejected)
    expect(serviceIps.split(',').map((e) => e.trim().split(' : ')[0])).toEqual([
      '10.96.0.12 . tcp . 80',
      '10.96.0.11 . tcp . 80',
      '10.96.0.10 . tcp . 80',
    ]);
  });

  it('rejects Services without ready endpoints and drops Local traffic on nodes without local endpoints', () => {
    const n2 = renderRuleset(clusterState(), 'node-2');
    expect(n2).toMatch(/10\.96\.0\.13 \. tcp \. 80 : goto reject-chain/);
    expect(n2).toMatch(/chain external-\w+-default\/loc\/tcp\/ \{\n(\t\t.*\n)*\t\tdrop\n/);
    const n1 = renderRuleset(clusterState(), 'node-1');
    expect(n1).toMatch(
      /chain external-\w+-default\/loc\/tcp\/ \{\n(\t\t.*\n)*\t\tgoto local-\w+-default\/loc\/tcp\/\n/,
    );
  });

  it('internalTrafficPolicy Local uses only local endpoints, and drops when there are none', () => {
    const s = clusterState();
    s.services.push(
      svc('itp', {
        type: 'ClusterIP',
        clusterIP: '10.96.0.20',
        internalTrafficPolicy: 'Local',
        ports: [{ port: 80, protocol: 'TCP' }],
      }),
    );
    s.endpoints.push({
      namespace: 'default',
      name: 'itp',
      endpoints: [ep('10.244.2.2', 'node-2', [{ name: '', port: 9, protocol: 'TCP' }])],
    });
    expect(renderRuleset(s, 'node-1')).toContain('10.96.0.20 . tcp . 80 : drop');
    expect(renderRuleset(s, 'node-2')).toMatch(/10\.96\.0\.20 \. tcp \. 80 : goto local-\w+-default\/itp\/tcp\//);
  });

  it('sessionAffinity ClientIP: a timeout set per endpoint, checked before the random choice', () => {
    const text = renderRuleset(clusterState(), 'node-1');
    expect(text).toMatch(
      /set affinity-\w+-default\/aff\/tcp\/__10\.244\.1\.2\/8080__600 \{\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout 600s\n/,
    );
    expect(text).toMatch(/update @affinity-\w+-default\/aff\/tcp\/__10\.244\.1\.2\/8080__600 \{ ip saddr \}/);
  });

  it('names are deterministic and stay within the kernel limit', () => {
    expect(objectName('service', 'a/b/tcp/http')).toBe(objectName('service', 'a/b/tcp/http'));
    expect(objectName('service', 'a/b/tcp/http')).not.toBe(objectName('service', 'a/b/tcp/https'));
    const long = objectName('endpoint', 'x'.repeat(400));
    expect(long.length).toBe(NFT_NAME_MAX);
    expect(objectName('endpoint', 'x'.repeat(400) + 'a')).not.toBe(objectName('endpoint', 'x'.repeat(400) + 'b'));
  });

  it('refuses state that could change the meaning of the rendered files, with an apiserver-style error', () => {
    const s = clusterState();
    s.services[1]!.spec!.clusterIP = '10.96.0.10 } ; flush ruleset';
    s.services[1]!.metadata!.name = 'Web\nx';
    expect(() => renderRuleset(s, 'node-1')).toThrow(InvalidError);
    expect(() => renderRuleset(s, 'node-1')).toThrow(
      'DataPlaneState "state" is invalid: [services[1].metadata.name: Invalid value: "Web\\nx": must be a DNS label, services[1].spec.clusterIP: Invalid value: "10.96.0.10 } ; flush ruleset": must be an IPv4 address or "None"]',
    );
  });
});

describe('renderDelta', () => {
  it('is small: one endpoint removed is a few map elements, no per-Service chain', () => {
    const prev = clusterState();
    const next = structuredClone(prev);
    next.endpoints[0]!.endpoints.pop();
    const delta = renderDelta(prev, next, 'node-1')!;
    const ops = delta.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ops.length).toBeLessThanOrEqual(16); // elements, plus shared slot chains appearing/disappearing
    for (const op of ops)
      expect(op).toMatch(
        /^((add|delete) element ip sscontroller [\w-]+ \{ .* \}|(add|flush|delete) chain ip sscontroller (service|nodeport)-slots-\w+-\d+|add rule ip sscontroller (service|nodeport)-slots-\w+-\d+ .*)$/,
      );
    expect(ops).toContain('delete element ip sscontroller service-backends-tcp { 10.96.0.10 . 80 . 2 }');
    expect(ops.join('\n')).toMatch(
      /add element ip sscontroller service-ips \{ 10\.96\.0\.10 \. tcp \. 80 : goto service-slots-tcp-2 \}/,
    );
  });

  it('a new Service is map elements; no change renders no operation', () => {
    const prev = clusterState();
    const next = structuredClone(prev);
    next.services.push(
      svc('new', { type: 'ClusterIP', clusterIP: '10.96.0.30', ports: [{ port: 80, protocol: 'TCP' }] }),
    );
    next.endpoints.push({
      namespace: 'default',
      name: 'new',
      endpoints: [ep('10.244.1.2', 'node-1', [{ name: '', port: 8080, protocol: 'TCP' }])],
    });
    const ops = renderDelta(prev, next, 'node-1')!
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(ops).toContain('add element ip sscontroller cluster-ips { 10.96.0.30 }');
    // A plain Service brings no chain of its own (at most a shared slot chain for a new endpoint count).
    for (const c of ops.filter((l) => l.startsWith('add chain')))
      expect(c).toMatch(/^add chain ip sscontroller service-slots-tcp-\d+$/);
    expect(ops.join('\n')).toContain('10.96.0.30 . 80 . 0 : 10.244.1.2 . 8080');
    expect(
      renderDelta(prev, prev, 'node-1')!
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    ).toEqual([]);
  });

  it('a renderer upgrade that changes the static skeleton is no delta: the bundle carries the full ruleset only', () => {
    const s = clusterState();
    const a = buildModel(s, 'node-1');
    const b = buildModel(s, 'node-1');
    b.chains.get('masquerading')!.rules.push('counter');
    expect(diffModels(a, b)).toBeUndefined();
    const changedSet = buildModel(s, 'node-1');
    changedSet.sets.get('cluster-ips')!.spec = ['type ipv4_addr', 'flags interval'];
    expect(diffModels(a, changedSet)).toBeUndefined();
    expect(diffModels(a, buildModel(s, 'node-1'))).toBeDefined();
  });

  it('a pod CIDR change rewrites the service chains in place', () => {
    const prev = clusterState();
    const delta = renderDelta(prev, { ...prev, podCidr: '10.244.0.0/16' }, 'node-1');
    expect(delta).not.toContain('delete table');
    expect(delta).toMatch(
      /add rule ip sscontroller service-slots-tcp-3 ip saddr != 10\.244\.0\.0\/16 jump mark-for-masquerade/,
    );
  });
});

describe('renderDns', () => {
  it('renders A (hosts file), SRV and ExternalName (responder records, forwarded by the servers file)', () => {
    const dns = renderDns(clusterState());
    golden('dns-hosts', dns.hosts);
    golden('dns-servers', dns.servers);
    golden('dns-records', dns.records);
    expect(dns.conf).toBe('# Generated by serverless-service-controller: cluster DNS.\nlocal=/cluster.local/\n');
    expect(dns.hosts).toContain('10.96.0.10 web.default.svc.cluster.local\n');
    expect(dns.hosts).toContain('10.244.1.2 headless.default.svc.cluster.local\n');
    expect(dns.hosts).toContain('10.244.2.2 10-244-2-2.headless.default.svc.cluster.local\n');
    expect(dns.records).toContain(
      'srv _http._tcp.web.default.svc.cluster.local 0 100 80 web.default.svc.cluster.local\n',
    );
    // headless: one SRV per ready endpoint, weight split evenly (CoreDNS)
    expect(dns.records).toContain(
      'srv _http._tcp.headless.default.svc.cluster.local 0 50 8080 10-244-2-2.headless.default.svc.cluster.local\n',
    );
    expect(dns.records).toContain('cname ext.default.svc.cluster.local db.example.test\n');
    expect(dns.servers).toContain('server=/ext.default.svc.cluster.local/127.0.0.1#5354\n');
    expect(dns.servers).toContain('server=/_tcp.web.default.svc.cluster.local/127.0.0.1#5354\n');
    expect(dns.records + dns.servers).not.toContain('_._tcp'); // unnamed ports get no SRV record
    expect(dns.servers).not.toMatch(/_tcp\.(aff|empty|loc)\./); // nor do Services with unnamed ports only
  });
});

describe('Pod resolv.conf (kubelet ClusterFirst)', () => {
  it('search <ns>.svc.<d> svc.<d> <d> then the node search domains, the cluster DNS, ndots:5', () => {
    const c = clusterFirstDns({
      namespace: 'team-a',
      clusterDomain: 'cluster.local.',
      clusterDns: ['169.254.20.10'],
      hostSearch: ['ec2.internal', 'cluster.local', 'ec2.internal.'],
    });
    expect(formatResolvConf(c)).toBe(
      'search team-a.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n' +
        'nameserver 169.254.20.10\noptions ndots:5\n',
    );
  });

  it('keeps the kubelet limits: 32 domains, none over 253 characters, 2048 characters in all', () => {
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    expect(
      clusterFirstDns({ namespace: 'a', clusterDomain: 'c.l', clusterDns: [], hostSearch: many }).searches,
    ).toHaveLength(32);
    const long = `${'x'.repeat(250)}.com`;
    expect(
      clusterFirstDns({ namespace: 'a', clusterDomain: 'c.l', clusterDns: [], hostSearch: [long] }).searches,
    ).not.toContain(long);
    const wide = Array.from({ length: 20 }, (_, i) => `${'y'.repeat(200)}${i}.com`);
    const s = clusterFirstDns({ namespace: 'a', clusterDomain: 'c.l', clusterDns: [], hostSearch: wide }).searches;
    expect(s.join(' ').length).toBeLessThanOrEqual(2048);
    expect(s.slice(0, 3)).toEqual(['a.svc.c.l', 'svc.c.l', 'c.l']);
  });

  it('pod-dns.tsv lists the domain, the options and each namespace with Services', () => {
    expect(renderPodDns(clusterState())).toBe(
      'domain\tcluster.local\noptions\tndots:5\n' +
        'search\tdefault\tdefault.svc.cluster.local svc.cluster.local cluster.local\n' +
        'search\tteam-a\tteam-a.svc.cluster.local svc.cluster.local cluster.local\n',
    );
  });
});

describe('renderEnvFiles', () => {
  it('renders the kubelet variables per namespace', () => {
    const files = renderEnvFiles(clusterState());
    expect(Object.keys(files).sort()).toEqual(['default', 'team-a']);
    expect(files['team-a']).toBe(
      [
        'KUBERNETES_SERVICE_HOST=10.96.0.1',
        'KUBERNETES_SERVICE_PORT=443',
        'KUBERNETES_SERVICE_PORT_HTTPS=443',
        'KUBERNETES_PORT=tcp://10.96.0.1:443',
        'KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443',
        'KUBERNETES_PORT_443_TCP_PROTO=tcp',
        'KUBERNETES_PORT_443_TCP_PORT=443',
        'KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1',
        'MY_DB_SERVICE_HOST=10.96.5.5',
        'MY_DB_SERVICE_PORT=5432',
        'MY_DB_SERVICE_PORT_PG_MAIN=5432',
        'MY_DB_PORT=tcp://10.96.5.5:5432',
        'MY_DB_PORT_5432_TCP=tcp://10.96.5.5:5432',
        'MY_DB_PORT_5432_TCP_PROTO=tcp',
        'MY_DB_PORT_5432_TCP_PORT=5432',
        'MY_DB_PORT_5432_TCP_ADDR=10.96.5.5',
        '',
      ].join('\n'),
    );
    expect(files.default).not.toMatch(/^(EXT|HEADLESS)_/m);
  });
});

describe('health data', () => {
  it('counts local ready endpoints of Local LoadBalancer Services per node', () => {
    expect(healthEntries(clusterState(), 'node-1')).toEqual([
      { namespace: 'default', name: 'loc', port: 32001, localEndpoints: 1 },
    ]);
    expect(renderHealthData(clusterState(), 'node-2')).toBe('32001\tdefault\tloc\t0\n');
  });
});
