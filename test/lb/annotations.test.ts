import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { V1Service } from '../../lib/model/types.js';
import { A, parseLoadBalancerAnnotations } from '../../lib/model/annotations.js';
import { isCidr } from '../../lib/model/ip.js';
import { formatFieldError } from '../../lib/model/field-errors.js';

function svc(
  annotations: Record<string, string>,
  ports = [
    { name: 'http', port: 80 },
    { name: 'https', port: 443 },
  ],
): V1Service {
  return {
    metadata: { name: 'web', namespace: 'default', annotations },
    spec: { type: 'LoadBalancer', ports: ports.map((p) => ({ ...p, protocol: 'TCP', nodePort: 30000 + p.port })) },
  };
}
const parse = (a: Record<string, string>) => parseLoadBalancerAnnotations(svc(a));
const messages = (a: Record<string, string>) => parse(a).errors.map(formatFieldError);

describe('parseLoadBalancerAnnotations', () => {
  it('defaults: internet-facing, ipv4, backend rules left to the default, no errors', () => {
    const { config, errors } = parse({});
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      scheme: 'internet-facing',
      ipAddressType: 'ipv4',
    });
    expect(config.manageBackendSecurityGroupRules).toBeUndefined();
    expect(config.subnets).toBeUndefined();
    expect(config.ssl).toBeUndefined();
  });

  it('scheme from -scheme or -internal; conflicting values are rejected', () => {
    expect(parse({ [A.scheme]: 'internal' }).config.scheme).toBe('internal');
    expect(parse({ [A.internal]: 'true' }).config.scheme).toBe('internal');
    expect(parse({ [A.internal]: 'false' }).config.scheme).toBe('internet-facing');
    expect(messages({ [A.scheme]: 'foo' })).toEqual([
      `metadata.annotations[${A.scheme}]: Unsupported value: "foo": supported values: "internet-facing", "internal"`,
    ]);
    expect(messages({ [A.internal]: 'yes' })[0]).toContain('supported values: "true", "false"');
    expect(messages({ [A.scheme]: 'internet-facing', [A.internal]: 'true' })[0]).toContain('conflicts with');
  });

  it('health check limits follow NLB rules', () => {
    const ok = parse({
      [A.hcProtocol]: 'http',
      [A.hcPort]: '10256',
      [A.hcPath]: '/healthz',
      [A.hcInterval]: '10',
      [A.hcTimeout]: '6',
      [A.hcHealthy]: '3',
      [A.hcUnhealthy]: '3',
      [A.hcSuccessCodes]: '200-399',
    });
    expect(ok.errors).toEqual([]);
    expect(ok.config.healthCheck).toEqual({
      protocol: 'HTTP',
      port: 10256,
      path: '/healthz',
      intervalSeconds: 10,
      timeoutSeconds: 6,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
      successCodes: '200-399',
    });
    expect(parse({ [A.hcPort]: 'traffic-port' }).config.healthCheck.port).toBe('traffic-port');
    expect(messages({ [A.hcInterval]: '4' })).toEqual([
      `metadata.annotations[${A.hcInterval}]: Invalid value: "4": health check interval (seconds) must be between 5 and 300`,
    ]);
    expect(messages({ [A.hcInterval]: '301' })).toHaveLength(1);
    expect(messages({ [A.hcInterval]: 'ten' })[0]).toContain('must be an integer between 5 and 300');
    expect(messages({ [A.hcTimeout]: '1' })).toHaveLength(1);
    expect(parse({ [A.hcInterval]: '10', [A.hcTimeout]: '10' }).errors).toEqual([]);
    expect(messages({ [A.hcInterval]: '10', [A.hcTimeout]: '11' })[0]).toContain(
      'must not exceed the health check interval',
    );
    expect(messages({ [A.hcHealthy]: '11' })).toHaveLength(1);
    expect(messages({ [A.hcUnhealthy]: '1' })).toHaveLength(1);
    expect(messages({ [A.hcProtocol]: 'udp' })[0]).toContain('supported values: "tcp", "http", "https"');
    expect(messages({ [A.hcPath]: 'healthz' })[0]).toContain('must begin with "/"');
    expect(messages({ [A.hcPort]: '70000' })).toHaveLength(1);
    expect(messages({ [A.hcSuccessCodes]: '100' })).toHaveLength(1);
  });

  it('load balancer names follow ELBv2 rules', () => {
    expect(parse({ [A.name]: 'my-nlb-1' }).config.name).toBe('my-nlb-1');
    expect(messages({ [A.name]: 'a'.repeat(33) })[0]).toContain('no more than 32 characters');
    expect(messages({ [A.name]: 'my_nlb' })[0]).toContain('only alphanumeric characters and hyphens');
    expect(messages({ [A.name]: '-nlb' })[0]).toContain('must not begin or end with a hyphen');
    expect(messages({ [A.name]: 'internal-x' })[0]).toContain('"internal-"');
  });

  it('source ranges are CIDRs', () => {
    expect(parse({ [A.sourceRanges]: '10.0.0.0/8, 192.168.1.0/24,2001:db8::/32' }).config.sourceRanges).toEqual([
      '10.0.0.0/8',
      '192.168.1.0/24',
      '2001:db8::/32',
    ]);
    const m = messages({ [A.sourceRanges]: '10.0.0.0/8,10.0.0.300/32,foo' });
    expect(m).toHaveLength(1);
    expect(m[0]).toContain('bad: 10.0.0.300/32, foo');
  });

  it('key=value lists: tags, attributes, node labels', () => {
    const { config, errors } = parse({
      [A.additionalTags]: 'team=web, env=prod',
      [A.tgAttributes]: 'deregistration_delay.timeout_seconds=30,preserve_client_ip.enabled=true',
      [A.lbAttributes]: 'deletion_protection.enabled=false',
      [A.targetNodeLabels]: 'role=edge',
    });
    expect(errors).toEqual([]);
    expect(config.additionalTags).toEqual({ team: 'web', env: 'prod' });
    expect(config.targetGroupAttributes).toEqual({
      'deregistration_delay.timeout_seconds': '30',
      'preserve_client_ip.enabled': 'true',
    });
    expect(config.targetNodeLabels).toEqual({ role: 'edge' });
    expect(messages({ [A.additionalTags]: 'team' })[0]).toContain('is not a key=value pair');
    expect(messages({ [A.additionalTags]: 'a=1,a=2' })[0]).toContain('appears more than once');
    expect(messages({ [A.additionalTags]: 'kubernetes.io/cluster/x=owned' })[0]).toContain('reserved');
    expect(messages({ [A.additionalTags]: 'aws:foo=1' })[0]).toContain('reserved');
    expect(messages({ [A.tgAttributes]: 'deregistration_delay.timeout_seconds=9999' })[0]).toContain('0 and 3600');
    expect(messages({ [A.tgAttributes]: 'stickiness.type=lb_cookie' })[0]).toContain('source_ip');
  });

  it('booleans are exactly "true" or "false"', () => {
    expect(parse({ [A.crossZone]: 'true' }).config.crossZoneEnabled).toBe(true);
    expect(messages({ [A.crossZone]: 'True' })).toHaveLength(1);
    expect(messages({ [A.manageBackendSgRules]: '1' })).toHaveLength(1);
    expect(parse({ [A.manageBackendSgRules]: 'false' }).config.manageBackendSecurityGroupRules).toBe(false);
  });

  it('access logs need a valid bucket when enabled', () => {
    expect(
      parse({ [A.accessLogEnabled]: 'true', [A.accessLogBucket]: 'my-logs', [A.accessLogPrefix]: 'nlb' }).config
        .accessLog,
    ).toEqual({
      enabled: true,
      bucket: 'my-logs',
      prefix: 'nlb',
    });
    expect(messages({ [A.accessLogEnabled]: 'true' })[0]).toContain('required when');
    expect(messages({ [A.accessLogEnabled]: 'true', [A.accessLogBucket]: 'My_Bucket' })[0]).toContain('S3 bucket name');
    expect(
      messages({ [A.accessLogEnabled]: 'true', [A.accessLogBucket]: 'b-1', [A.accessLogPrefix]: '/x' }),
    ).toHaveLength(1);
  });

  it('subnets, EIPs and private addresses agree with the scheme and with each other', () => {
    expect(parse({ [A.subnets]: 'subnet-0123456789abcdef0, public-a' }).config.subnets).toEqual([
      'subnet-0123456789abcdef0',
      'public-a',
    ]);
    expect(messages({ [A.subnets]: 'a,a' })[0]).toContain('twice');
    expect(
      parse({ [A.subnets]: 'a,b', [A.eipAllocations]: 'eipalloc-0123456789abcdef0,eipalloc-00000000' }).config
        .eipAllocations,
    ).toHaveLength(2);
    expect(messages({ [A.subnets]: 'a,b', [A.eipAllocations]: 'eipalloc-01234567' })[0]).toContain(
      'one allocation per subnet',
    );
    expect(messages({ [A.scheme]: 'internal', [A.eipAllocations]: 'eipalloc-01234567' })[0]).toContain(
      'internet-facing',
    );
    expect(messages({ [A.eipAllocations]: 'eip-1' })[0]).toContain('eipalloc-');
    expect(
      parse({ [A.scheme]: 'internal', [A.privateIpv4Addresses]: '10.0.1.10' }).config.privateIpv4Addresses,
    ).toEqual(['10.0.1.10']);
    expect(messages({ [A.privateIpv4Addresses]: '10.0.1.10' })[0]).toContain('require an internal');
    expect(messages({ [A.scheme]: 'internal', [A.privateIpv4Addresses]: '10.0.1' })[0]).toContain('IPv4 addresses');
  });

  it('TLS: certificate ARNs, ports that exist, policy, backend protocol', () => {
    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123';
    const { config, errors } = parse({
      [A.sslCert]: cert,
      [A.sslPorts]: 'https',
      [A.sslPolicy]: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      [A.backendProtocol]: 'ssl',
    });
    expect(errors).toEqual([]);
    expect(config.ssl).toEqual({
      certificateArns: [cert],
      ports: ['https'],
      negotiationPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      backendProtocol: 'ssl',
      alpnPolicy: undefined,
    });
    expect(parse({ [A.sslCert]: cert }).config.ssl?.ports).toBe('*');
    expect(messages({ [A.sslCert]: 'not-an-arn' })[0]).toContain('certificate ARNs');
    expect(messages({ [A.sslCert]: cert, [A.sslPorts]: '8443' })[0]).toContain('not a port of this Service: 8443');
    expect(messages({ [A.sslPorts]: '443' })[0]).toContain('Forbidden: requires');
    expect(messages({ [A.backendProtocol]: 'http' })[0]).toContain('supported values: "ssl", "tcp"');
  });

  it('type, target type and proxy protocol', () => {
    expect(parse({ [A.type]: 'nlb' }).errors).toEqual([]);
    expect(parse({ [A.type]: 'external', [A.targetType]: 'instance' }).errors).toEqual([]);
    expect(messages({ [A.type]: 'clb' })).toHaveLength(1);
    expect(messages({ [A.targetType]: 'ip' })[0]).toContain('only "instance" targets');
    expect(parse({ [A.proxyProtocol]: '*' }).config.proxyProtocolV2).toBe(true);
    expect(messages({ [A.proxyProtocol]: 'tcp-80' })).toHaveLength(1);
  });

  it('reports every bad annotation, not only the first', () => {
    expect(messages({ [A.scheme]: 'x', [A.hcInterval]: '1', [A.crossZone]: 'no' })).toHaveLength(3);
  });

  it('isCidr accepts every valid IPv4 CIDR and rejects out-of-range parts (property)', () => {
    fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, len) => isCidr(`${ip}/${len}`)));
    fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 33, max: 999 }), (ip, len) => !isCidr(`${ip}/${len}`)));
    fc.assert(
      fc.property(
        fc.ipV6(),
        fc.integer({ min: 0, max: 128 }),
        // fast-check also generates IPv4-embedded forms (::ffff:1.2.3.4), which AWS's CIDR fields do not take.
        (ip, len) => ip.includes('.') || isCidr(`${ip}/${len}`),
      ),
    );
  });
});
