/**
 * Services written for cloud-provider-aws (CCM) or aws-load-balancer-controller (LBC) keep their annotations: what
 * means the same here is read unchanged, what cannot is refused with the reason, what is known but not built is
 * listed as ignored; and docs/load-balancers.md#annotations has a row for every one of them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { V1Service, V1ServicePort } from '../../lib/model/types.js';
import {
  A,
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  IGNORED_ANNOTATIONS,
  LISTENER_ACTIONS_PREFIX,
  LISTENER_ATTRIBUTES_PREFIX,
  ignoredAnnotations,
  parseLoadBalancerAnnotations,
} from '../../lib/model/annotations.js';
import { formatFieldError } from '../../lib/model/field-errors.js';
import { repoPath } from '../../lib/repo-path.js';

const TCP_80_443: V1ServicePort[] = [
  { name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 },
  { name: 'https', port: 443, protocol: 'TCP', nodePort: 30443 },
];

function svc(annotations: Record<string, string>, ports: V1ServicePort[] = TCP_80_443): V1Service {
  return {
    metadata: { name: 'web', namespace: 'default', annotations },
    spec: { type: 'LoadBalancer', ports },
  };
}
const parse = (a: Record<string, string>, ports?: V1ServicePort[]) => parseLoadBalancerAnnotations(svc(a, ports));
const messages = (a: Record<string, string>, ports?: V1ServicePort[]) => parse(a, ports).errors.map(formatFieldError);
const DEFAULT_CONFIG = parse({}).config;

describe('Services written for the other controllers', () => {
  it('a cloud-provider-aws NLB Service is read unchanged', () => {
    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123';
    const { config, errors } = parse({
      [A.type]: 'nlb',
      [A.internal]: 'true',
      [A.subnets]: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
      [A.privateIpv4Addresses]: '10.0.1.10,10.0.2.10',
      [A.additionalTags]: 'team=web,cost-center=',
      [A.crossZone]: 'true',
      [A.accessLogEnabled]: 'true',
      [A.accessLogBucket]: 'my-logs',
      [A.sslCert]: cert,
      [A.sslPorts]: 'https',
      [A.sslPolicy]: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      [A.backendProtocol]: 'ssl',
      [A.hcProtocol]: 'http',
      [A.hcPath]: '/healthz',
      [A.hcPort]: 'traffic-port',
      [A.hcInterval]: '10',
      [A.hcTimeout]: '5',
      [A.hcHealthy]: '3',
      [A.hcUnhealthy]: '3',
      [A.targetNodeLabels]: 'role=edge',
      [A.tgAttributes]: 'preserve_client_ip.enabled=false',
      [A.sourceRanges]: '10.0.0.0/8',
      // Classic ELB only in CCM: no effect on its NLBs, none here.
      [`${ANNOTATION_PREFIX}connection-idle-timeout`]: '120',
      [`${ANNOTATION_PREFIX}extra-security-groups`]: 'sg-0123456789abcdef0',
    });
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      scheme: 'internal',
      subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      privateIpv4Addresses: ['10.0.1.10', '10.0.2.10'],
      additionalTags: { team: 'web', 'cost-center': '' },
      crossZoneEnabled: true,
      accessLog: { enabled: true, bucket: 'my-logs' },
      targetNodeLabels: { role: 'edge' },
      targetGroupAttributes: { 'preserve_client_ip.enabled': 'false' },
      sourceRanges: ['10.0.0.0/8'],
      ssl: { certificateArns: [cert], ports: ['https'], backendProtocol: 'ssl' },
    });
    expect(config.securityGroups).toBeUndefined();
  });

  it('an aws-load-balancer-controller Service is read unchanged', () => {
    const { config, errors } = parse({
      [A.type]: 'external',
      [A.targetType]: 'instance',
      [A.scheme]: 'internet-facing',
      [A.ipAddressType]: 'ipv4',
      [A.eipAllocations]: 'eipalloc-0123456789abcdef0',
      [A.subnets]: 'public-a',
      [A.lbAttributes]: 'deletion_protection.enabled=true',
      [A.tgAttributes]: 'deregistration_delay.timeout_seconds=30',
      [A.securityGroups]: 'sg-0123456789abcdef0',
      [A.manageBackendSgRules]: 'true',
      [A.proxyProtocol]: '*',
      [A.hcSuccessCodes]: '200-299',
      [A.hcProtocol]: 'HTTP',
      [A.enableTcpUdpListener]: 'true',
      [A.multiClusterTargetGroup]: 'false',
      [A.inboundSgRulesOnPrivateLink]: 'on',
      [A.enablePrefixForIpv6SourceNat]: 'off',
    });
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      scheme: 'internet-facing',
      eipAllocations: ['eipalloc-0123456789abcdef0'],
      lbAttributes: { 'deletion_protection.enabled': 'true' },
      securityGroups: ['sg-0123456789abcdef0'],
      manageBackendSecurityGroupRules: true,
      proxyProtocolV2: true,
      healthCheck: { protocol: 'HTTP', successCodes: '200-299' },
    });
  });

  it('proxy-protocol-per-target-group: every TCP port = "*", none = off, some = refused', () => {
    const perTg = A.proxyProtocolPerTargetGroup;
    expect(parse({ [perTg]: '80, 443' }).config.proxyProtocolV2).toBe(true);
    expect(parse({ [perTg]: '443,80,8080' }).config.proxyProtocolV2).toBe(true);
    expect(parse({ [perTg]: '8080' })).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    expect(parse({ [perTg]: '' })).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    expect(messages({ [perTg]: '443' })).toEqual([
      `metadata.annotations[${perTg}]: Invalid value: "443": proxy protocol on some TCP ports only is not supported: ` +
        `list every TCP port of this Service (80, 443) or none, or use ${A.proxyProtocol}: "*"`,
    ]);
    expect(messages({ [perTg]: '80,https' })).toEqual([
      `metadata.annotations[${perTg}]: Invalid value: "80,https": must be a comma-separated list of Service port ` +
        'numbers (bad: https)',
    ]);
    // -proxy-protocol wins, as in the LB controller (the list is still checked).
    expect(parse({ [perTg]: '443', [A.proxyProtocol]: '*' })).toMatchObject({
      errors: [],
      config: { proxyProtocolV2: true },
    });
    expect(messages({ [perTg]: 'x', [A.proxyProtocol]: '*' })).toHaveLength(1);
    // The target group attribute would win here and lose in the LB controller: refused rather than guessed.
    expect(messages({ [perTg]: '80,443', [A.tgAttributes]: 'proxy_protocol_v2.enabled=false' })[0]).toContain(
      `conflicts with proxy_protocol_v2.enabled in ${A.tgAttributes}`,
    );
  });

  it('proxy-protocol-per-target-group counts TCP target groups only (UDP and TCP_UDP never get PPv2)', () => {
    const ports: V1ServicePort[] = [
      { name: 'web', port: 80, protocol: 'TCP', nodePort: 30080 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053 },
      { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053 },
      { name: 'syslog', port: 514, protocol: 'UDP', nodePort: 30514 },
    ];
    expect(parse({ [A.proxyProtocolPerTargetGroup]: '80' }, ports).config.proxyProtocolV2).toBe(true);
    expect(parse({ [A.proxyProtocolPerTargetGroup]: '53,514' }, ports)).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    expect(
      parse({ [A.proxyProtocolPerTargetGroup]: '80', [A.type]: 'nlb' }, [{ port: 80, nodePort: 30080 }]).config,
    ).toMatchObject({ proxyProtocolV2: true });
  });

  it('enable-tcp-udp-listener: a boolean that changes nothing (TCP+UDP on one port is always one TCP_UDP listener)', () => {
    expect(parse({ [A.enableTcpUdpListener]: 'true' })).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    expect(parse({ [A.enableTcpUdpListener]: 'false' })).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    expect(messages({ [A.enableTcpUdpListener]: 'yes' })).toEqual([
      `metadata.annotations[${A.enableTcpUdpListener}]: Unsupported value: "yes": supported values: "true", "false"`,
    ]);
  });

  it('values that cannot mean here what they mean in the LB controller are refused with the reason', () => {
    const udp: V1ServicePort[] = [
      { name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 },
      { name: 'h3', port: 443, protocol: 'UDP', nodePort: 30443 },
    ];
    expect(messages({ [A.quicEnabledPorts]: '443' }, udp)).toEqual([
      `metadata.annotations[${A.quicEnabledPorts}]: Invalid value: "443": QUIC listeners are not supported ` +
        '(UDP port 443); UDP stays UDP',
    ]);
    expect(messages({ [A.quicEnabledPorts]: 'h3' }, udp)).toHaveLength(1);
    // Non-UDP ports are ignored by the LB controller too.
    expect(parse({ [A.quicEnabledPorts]: '80' }, udp).errors).toEqual([]);

    expect(messages({ [A.multiClusterTargetGroup]: 'true' })).toEqual([
      `metadata.annotations[${A.multiClusterTargetGroup}]: Invalid value: "true": not supported: a target group ` +
        'serves one Service, and targets not registered here are removed',
    ]);
    expect(messages({ [A.inboundSgRulesOnPrivateLink]: 'off' })[0]).toContain('always apply to PrivateLink traffic');
    expect(messages({ [A.inboundSgRulesOnPrivateLink]: 'maybe' })[0]).toContain('supported values: "on", "off"');
    expect(messages({ [A.ipv6Addresses]: '2600:1f18::10' })[0]).toContain('static IPv6 addresses are not supported');
    expect(messages({ [A.enablePrefixForIpv6SourceNat]: 'on' })[0]).toContain('only "off" (the default) is');
    expect(messages({ [A.sourceNatIpv6Prefixes]: 'auto' })[0]).toContain('IPv6 source NAT prefixes are not supported');
  });

  it('listener actions (actions.<PROTOCOL>-<port>) are refused, each on its own field', () => {
    const action = '{"type":"forward","forwardConfig":{"baseServiceWeight":10}}';
    expect(
      messages({ [`${LISTENER_ACTIONS_PREFIX}UDP-53`]: action, [`${LISTENER_ACTIONS_PREFIX}TCP-80`]: ` ${action} ` }),
    ).toEqual([
      `metadata.annotations[${LISTENER_ACTIONS_PREFIX}TCP-80]: Invalid value: ${JSON.stringify(action)}: listener ` +
        "actions are not supported: each listener forwards to its own port's target group",
      `metadata.annotations[${LISTENER_ACTIONS_PREFIX}UDP-53]: Invalid value: ${JSON.stringify(action)}: listener ` +
        "actions are not supported: each listener forwards to its own port's target group",
    ]);
  });

  it('known annotations that are not built are accepted, have no effect, and are named by ignoredAnnotations', () => {
    const ann = {
      [`${ANNOTATION_PREFIX}connection-draining-enabled`]: 'true',
      [`${ANNOTATION_PREFIX}connection-draining-timeout`]: '60',
      [`${ANNOTATION_PREFIX}access-log-emit-interval`]: '5',
      'example.com/unrelated': 'x',
    };
    expect(parse(ann)).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    const found = ignoredAnnotations(svc(ann));
    expect(found.map((i) => [i.key.replace(ANNOTATION_PREFIX, ''), i.status])).toEqual([
      ['access-log-emit-interval', 'Classic ELB only'],
      ['connection-draining-enabled', 'Classic ELB only'],
      ['connection-draining-timeout', 'Classic ELB only'],
    ]);
    expect(found.every((i) => i.why.length > 0)).toBe(true);
    expect(ignoredAnnotations(svc({}))).toEqual([]);
    expect(ignoredAnnotations({})).toEqual([]);
  });

  it('security-group-prefix-lists, disable-nlb-sg, enable-icmp-for-path-mtu-discovery, minimum-load-balancer-capacity: read as LBC writes them', () => {
    expect(
      parse({
        [A.securityGroupPrefixLists]: 'pl-00000000, pl-0123456789abcdef0',
        [A.icmpForPathMtuDiscovery]: 'on',
        [A.minimumCapacity]: 'CapacityUnits=1000',
      }),
    ).toEqual({
      config: {
        ...DEFAULT_CONFIG,
        securityGroupPrefixLists: ['pl-00000000', 'pl-0123456789abcdef0'],
        icmpForPathMtuDiscovery: true,
        minimumCapacityUnits: 1000,
      },
      errors: [],
    });
    expect(parse({ [A.disableNlbSg]: 'true', [A.icmpForPathMtuDiscovery]: 'off' })).toEqual({
      config: { ...DEFAULT_CONFIG, disableNlbSecurityGroup: true, icmpForPathMtuDiscovery: false },
      errors: [],
    });
    // CapacityUnits=0 is the LB controller's reset.
    expect(parse({ [A.minimumCapacity]: 'CapacityUnits=0' }).config.minimumCapacityUnits).toBe(0);
  });

  it('bad values of those four are refused with apiserver-style errors on the annotation', () => {
    const f = (k: string) => `metadata.annotations[${k}]`;
    expect(messages({ [A.securityGroupPrefixLists]: 'pl-0123456789abcdef0,sg-0123456789abcdef0' })).toEqual([
      `${f(A.securityGroupPrefixLists)}: Invalid value: "pl-0123456789abcdef0,sg-0123456789abcdef0": must be a ` +
        'comma-separated list of managed prefix list IDs (pl-...)',
    ]);
    expect(messages({ [A.securityGroupPrefixLists]: '' })[0]).toContain('managed prefix list IDs');
    expect(messages({ [A.securityGroupPrefixLists]: 'pl-00000000,pl-00000000' })[0]).toContain('twice');
    // Without the NLB's security group the node SG would admit the default ranges: refused, not ignored.
    expect(messages({ [A.securityGroupPrefixLists]: 'pl-00000000', [A.disableNlbSg]: 'true' })).toEqual([
      `${f(A.securityGroupPrefixLists)}: Invalid value: "pl-00000000": needs the NLB's security group, which ` +
        `${A.disableNlbSg}: "true" leaves out; list the client ranges in spec.loadBalancerSourceRanges instead`,
    ]);
    expect(messages({ [A.disableNlbSg]: 'yes' })).toEqual([
      `${f(A.disableNlbSg)}: Unsupported value: "yes": supported values: "true", "false"`,
    ]);
    expect(messages({ [A.disableNlbSg]: 'true', [A.securityGroups]: 'sg-0123456789abcdef0' })).toEqual([
      `${f(A.disableNlbSg)}: Invalid value: "true": conflicts with ${A.securityGroups}: an NLB without security ` +
        'groups has none; set only one of them',
    ]);
    expect(parse({ [A.disableNlbSg]: 'false', [A.securityGroups]: 'sg-0123456789abcdef0' }).errors).toEqual([]);
    expect(messages({ [A.icmpForPathMtuDiscovery]: 'true' })).toEqual([
      `${f(A.icmpForPathMtuDiscovery)}: Unsupported value: "true": supported values: "on", "off"`,
    ]);
    expect(messages({ [A.minimumCapacity]: '1000' })[0]).toContain('"1000" is not a key=value pair');
    for (const v of ['capacityunits=1000', 'CapacityUnits=1000,Other=1'])
      expect(messages({ [A.minimumCapacity]: v }), v).toEqual([
        `${f(A.minimumCapacity)}: Invalid value: "${v}": must be CapacityUnits=<number>, e.g. "CapacityUnits=1000"`,
      ]);
    expect(messages({ [A.minimumCapacity]: 'CapacityUnits=' })[0]).toContain('CapacityUnits must be an integer');
    expect(messages({ [A.minimumCapacity]: 'CapacityUnits=-5' })).toEqual([
      `${f(A.minimumCapacity)}: Invalid value: "CapacityUnits=-5": CapacityUnits must be an integer between 0 ` +
        'and 2147483647',
    ]);
    expect(messages({ [A.minimumCapacity]: 'CapacityUnits=3000000000' })[0]).toContain('between 0 and 2147483647');
    expect(
      messages({
        [A.minimumCapacity]: 'CapacityUnits=1000',
        [A.sslCert]: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      }),
    ).toEqual([
      `${f(A.minimumCapacity)}: Invalid value: "CapacityUnits=1000": a Network Load Balancer with TLS listeners ` +
        'cannot reserve capacity (ELBv2)',
    ]);
  });

  it('listener-attributes.<PROTOCOL>-<port>: read per listener, as LBC writes it', () => {
    const key = (s: string) => `${LISTENER_ATTRIBUTES_PREFIX}${s}`;
    expect(
      parse({
        [key('TCP-80')]: 'tcp.idle_timeout.seconds=400',
        [key('TCP_UDP-53')]: ' tcp.idle_timeout.seconds = 6000 ',
      }),
    ).toEqual({
      config: {
        ...DEFAULT_CONFIG,
        listenerAttributes: {
          'TCP-80': { 'tcp.idle_timeout.seconds': '400' },
          'TCP_UDP-53': { 'tcp.idle_timeout.seconds': '6000' },
        },
      },
      errors: [],
    });
  });

  it('listener-attributes: a bad name, key or value is refused on that annotation', () => {
    const key = (s: string) => `${LISTENER_ATTRIBUTES_PREFIX}${s}`;
    const field = (s: string) => `metadata.annotations[${key(s)}]`;
    expect(messages({ [key('TCP-80')]: 'tcp.idle_timeout.seconds=59' })).toEqual([
      `${field('TCP-80')}: Invalid value: "tcp.idle_timeout.seconds=59": attribute tcp.idle_timeout.seconds=59: must ` +
        'be an integer between 60 and 6000',
    ]);
    expect(messages({ [key('TCP-80')]: 'tcp.idle_timeout.seconds=6001' })[0]).toContain('between 60 and 6000');
    expect(messages({ [key('TCP-80')]: 'tcp.idle_timeout.seconds=1e3' })[0]).toContain('between 60 and 6000');
    expect(messages({ [key('TCP-80')]: 'routing.http2.enabled=true' })).toEqual([
      `${field('TCP-80')}: Invalid value: "routing.http2.enabled=true": unsupported listener attribute ` +
        '"routing.http2.enabled": a Network Load Balancer listener has tcp.idle_timeout.seconds',
    ]);
    expect(messages({ [key('TCP-80')]: '400' })[0]).toContain('is not a key=value pair');
    for (const bad of ['tcp-80', 'HTTP-80', 'TCP-0', 'TCP-65536', 'TCP80', 'TCP-'])
      expect(messages({ [key(bad)]: 'tcp.idle_timeout.seconds=400' }), bad).toEqual([
        `${field(bad)}: Invalid value: "tcp.idle_timeout.seconds=400": the name must end in ` +
          'listener-attributes.<PROTOCOL>-<port>, PROTOCOL one of TCP, UDP, TCP_UDP, TLS',
      ]);
  });

  it('no annotation is both read and ignored', () => {
    const read = new Set(ANNOTATIONS.map((e) => e.key));
    for (const i of IGNORED_ANNOTATIONS) expect(read.has(i.key), i.key).toBe(false);
    expect(new Set(ANNOTATIONS.map((e) => e.key)).size).toBe(ANNOTATIONS.length);
  });
});

describe('docs/load-balancers.md#annotations', () => {
  /** The backquoted names in the first cell of every row of the annotation table, `…` expanded. */
  function documentedKeys(): string[] {
    const doc = readFileSync(repoPath('docs/load-balancers.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Annotations'), doc.indexOf('## Which Services are served'));
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    return rows.flatMap((r) =>
      [...r.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/^…/, ANNOTATION_PREFIX)),
    );
  }

  it('has a row for every annotation read or ignored here', () => {
    const documented = documentedKeys();
    const expected = [
      ...ANNOTATIONS.map((e) => e.key),
      ...IGNORED_ANNOTATIONS.map((i) => (i.prefix ? `${i.key}*` : i.key)),
    ];
    for (const key of expected) {
      const found = key.endsWith('*')
        ? documented.some((d) => d.startsWith(key.slice(0, -1)))
        : documented.includes(key);
      expect(found, key).toBe(true);
    }
  });

  it('documents nothing that is neither read nor ignored', () => {
    const known = (k: string) =>
      ANNOTATIONS.some((e) => (e.key.endsWith('*') ? k.startsWith(e.key.slice(0, -1)) : e.key === k)) ||
      IGNORED_ANNOTATIONS.some((i) => (i.prefix ? k.startsWith(i.key) : i.key === k));
    expect(documentedKeys().filter((k) => !known(k))).toEqual([]);
  });
});
