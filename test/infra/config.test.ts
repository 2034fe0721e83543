import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors.js';
import { DEFAULTS, resolveConfig, type ServiceControllerProps } from '../../infra/lib/config.js';
import { propsFromContext } from '../../infra/lib/context.js';
import { ServiceControllerStack } from '../../infra/lib/stack.js';
import { cdkJsonContext } from './helpers.js';

const base: ServiceControllerProps = {
  clusterName: 'demo',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
};

function errorOf(props: Partial<ServiceControllerProps>): InvalidError {
  try {
    resolveConfig({ ...base, ...props } as ServiceControllerProps);
  } catch (e) {
    if (e instanceof InvalidError) return e;
    throw e;
  }
  throw new Error('expected resolveConfig to throw');
}

describe('resolveConfig defaults', () => {
  it('subnetIds is optional (subnets are discovered by tag); no concurrency is reserved by default', () => {
    const { subnetIds: _ignored, ...noSubnets } = base;
    const c = resolveConfig(noSubnets);
    expect(c.subnetIds).toEqual([]);
    expect(c.reserveConcurrency).toBe(false);
    expect(resolveConfig({ ...base, reserveConcurrency: true }).reserveConcurrency).toBe(true);
  });

  it('applies documented defaults and derives the cluster tag', () => {
    const c = resolveConfig(base);
    expect(c.serviceCidr).toBe('10.96.0.0/12');
    expect(c.nodePortRange).toEqual({ min: 30000, max: 32767 });
    expect(c.clusterDomain).toBe('cluster.local');
    expect(c.resyncIntervalMinutes).toBe(DEFAULTS.resyncIntervalMinutes);
    expect(c.nlbQuota).toBe(50);
    expect(c.enableDriftRule).toBe(false);
    expect(c.removalPolicy).toBe('retain');
    expect(c.clusterTagKey).toBe('kubernetes.io/cluster/demo');
    // cloud-provider-aws: `owned` and `shared` both mean membership (docs/deploy.md).
    expect(c.nodeSelector).toEqual({ key: 'kubernetes.io/cluster/demo', values: ['owned', 'shared'] });
    expect(c.nodeSecurityGroupId).toBeUndefined();
  });

  it('keeps explicit values', () => {
    const c = resolveConfig({
      ...base,
      nodeSelectorTag: 'role=k8s-node',
      serviceCidr: '172.20.0.0/16',
      nodePortRange: '31000-31999',
      resyncIntervalMinutes: 1,
      nodeSecurityGroupId: 'sg-0123456789abcdef0',
    });
    expect(c.nodeSelector).toEqual({ key: 'role', values: ['k8s-node'] });
    expect(resolveConfig({ ...base, nodeSelectorTag: 'pool=a,b' }).nodeSelector).toEqual({
      key: 'pool',
      values: ['a', 'b'],
    });
    expect(c.nodePortRange).toEqual({ min: 31000, max: 31999 });
    expect(c.resyncIntervalMinutes).toBe(1);
    expect(c.nodeSecurityGroupId).toBe('sg-0123456789abcdef0');
  });
});

describe('the API role mapping', () => {
  it('maps role and user ARNs (paths and other partitions included) to their roles; nobody by default', () => {
    expect(resolveConfig(base).apiPrincipals).toEqual([]);
    const c = resolveConfig({
      ...base,
      adminPrincipalArns: ['arn:aws:iam::123456789012:role/ops'],
      viewPrincipalArns: ['arn:aws-cn:iam::123456789012:user/auditor'],
      writerPrincipalArns: ['arn:aws:iam::123456789012:role/ci/producer'],
    });
    expect(c.apiPrincipals).toEqual([
      { arn: 'arn:aws:iam::123456789012:role/ops', role: 'admin' },
      { arn: 'arn:aws-cn:iam::123456789012:user/auditor', role: 'view' },
      { arn: 'arn:aws:iam::123456789012:role/ci/producer', role: 'writer' },
    ]);
  });

  it('reads comma lists from context', () => {
    const props = propsFromContext((k) =>
      k === 'adminPrincipalArns' ? 'arn:aws:iam::1:role/a, arn:aws:iam::1:user/b' : undefined,
    );
    expect(props.adminPrincipalArns).toEqual(['arn:aws:iam::1:role/a', 'arn:aws:iam::1:user/b']);
  });
});

describe('resolveConfig rejects contradictory props with apiserver-style messages', () => {
  it.each<[Partial<ServiceControllerProps>, string]>([
    [{ clusterName: '' }, 'clusterName: Required value'],
    [{ clusterName: '-bad' }, 'clusterName: Invalid value: "-bad"'],
    [{ clusterName: 'x'.repeat(101) }, 'clusterName: Too long'],
    [{ vpcId: 'vpc-xyz' }, 'vpcId: Invalid value: "vpc-xyz"'],
    [{ subnetIds: ['subnet-xyz'] }, 'subnetIds[0]: Invalid value: "subnet-xyz"'],
    [{ subnetIds: ['subnet-0123abcd', 'subnet-0123abcd'] }, 'subnetIds[1]: Duplicate value: "subnet-0123abcd"'],
    [{ serviceCidr: '10.96.0.0' }, 'serviceCidr: Invalid value: "10.96.0.0": must be an IPv4 CIDR'],
    [{ serviceCidr: '10.96.0.0/33' }, 'serviceCidr: Invalid value: "10.96.0.0/33"'],
    [{ serviceCidr: '10.0.0.0/8' }, 'the prefix length must be 12 or more'],
    [{ serviceCidr: '10.96.0.1/12' }, 'did you mean 10.96.0.0/12?'],
    [{ serviceCidr: '300.1.0.0/16' }, 'serviceCidr: Invalid value: "300.1.0.0/16"'],
    [{ nodePortRange: '0-100' }, 'nodePortRange: Invalid value: "0-100": ports must be within 1-65535'],
    [{ nodePortRange: '30000-70000' }, 'ports must be within 1-65535'],
    [{ nodePortRange: '32767-30000' }, 'nodePortRange: Invalid value: "32767-30000": min must not be greater than max'],
    [{ nodePortRange: '30000' }, 'must be "min-max"'],
    [
      { resyncIntervalMinutes: 0 },
      'resyncIntervalMinutes: Invalid value: 0: must be a whole number of minutes, at least 1',
    ],
    [{ resyncIntervalMinutes: 0.5 }, 'resyncIntervalMinutes: Invalid value: 0.5'],
    [{ nlbQuota: 0 }, 'nlbQuota: Invalid value: 0: must be a positive integer'],
    [{ nodeSelectorTag: 'novalue' }, 'nodeSelectorTag: Invalid value: "novalue": must be "key=value"'],
    [{ nodeSelectorTag: 'aws:foo=1' }, 'nodeSelectorTag: Invalid value'],
    [{ nodeSecurityGroupId: 'sg-nothex!' }, 'nodeSecurityGroupId: Invalid value'],
    [
      { nodeAutoScalingGroupNames: ['a', 'a'] },
      'nodeAutoScalingGroupNames: Invalid value: "a,a": names must be unique',
    ],
    [{ lifecycleHeartbeatSeconds: 10 }, 'lifecycleHeartbeatSeconds: Invalid value: 10'],
    [{ logRetentionDays: 2 }, 'logRetentionDays: Unsupported value: 2'],
    [{ removalPolicy: 'keep' as never }, 'removalPolicy: Unsupported value: "keep"'],
    [{ clusterDomain: 'Cluster..local' }, 'clusterDomain: Invalid value'],
    [{ alarmTopicArn: 'topic' }, 'alarmTopicArn: Invalid value: "topic"'],
    [
      { adminPrincipalArns: ['arn:aws:sts::123456789012:assumed-role/ops/me'] },
      'adminPrincipalArns[0]: Invalid value: "arn:aws:sts::123456789012:assumed-role/ops/me": must be an IAM role or user ARN',
    ],
    [{ viewPrincipalArns: ['ops'] }, 'viewPrincipalArns[0]: Invalid value: "ops"'],
    [
      {
        adminPrincipalArns: ['arn:aws:iam::123456789012:role/ops'],
        viewPrincipalArns: ['arn:aws:iam::123456789012:role/ops'],
      },
      'viewPrincipalArns[0]: Duplicate value: "arn:aws:iam::123456789012:role/ops"',
    ],
  ])('%j -> %s', (props, message) => {
    const e = errorOf(props);
    expect(e.message).toContain('ServiceController "ServiceController" is invalid: ');
    expect(e.message).toContain(message);
    expect(e.permanent).toBe(true);
  });

  it('reports every problem at once, bracketed like kubectl', () => {
    const e = errorOf({ clusterName: '', nodePortRange: '2-1', resyncIntervalMinutes: 0 });
    expect(e.message).toMatch(/^ServiceController "ServiceController" is invalid: \[.*\]$/);
    expect(e.causes.map((c) => c.field)).toEqual(['clusterName', 'nodePortRange', 'resyncIntervalMinutes']);
  });

  it('fails the stack before creating anything', () => {
    const app = new App({ context: cdkJsonContext() });
    expect(
      () => new ServiceControllerStack(app, 'Bad', { controller: { ...base, nodePortRange: '40000-30000' } }),
    ).toThrow(/nodePortRange: Invalid value: "40000-30000": min must not be greater than max/);
    // The stack itself exists but holds no resources from the controller.
    expect(app.node.findAll().some((c) => c.node.path.includes('Controller/Table'))).toBe(false);
  });
});

describe('propsFromContext', () => {
  it('reads cdk.json demo values (strings and comma lists)', () => {
    const ctx = cdkJsonContext();
    const props = propsFromContext((k) => ctx[k]);
    expect(props.clusterName).toBe('demo');
    expect(props.subnetIds).toEqual(['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
    expect(props.nodeSecurityGroupId).toBe('sg-0123456789abcdef0');
    expect(() => resolveConfig(props)).not.toThrow();
  });

  it('converts -c strings to numbers, booleans and lists; unset keys keep defaults', () => {
    const ctx: Record<string, unknown> = {
      ...base,
      subnetIds: ' subnet-0123abcd , subnet-0123abce ',
      resyncIntervalMinutes: '10',
      enableDriftRule: 'true',
      nodeAutoScalingGroupNames: ['ng-a', 'ng-b'],
    };
    const props = propsFromContext((k) => ctx[k]);
    expect(props).toMatchObject({
      subnetIds: ['subnet-0123abcd', 'subnet-0123abce'],
      resyncIntervalMinutes: 10,
      enableDriftRule: true,
      nodeAutoScalingGroupNames: ['ng-a', 'ng-b'],
    });
    expect('nlbQuota' in props).toBe(false);
    expect(resolveConfig(props).nlbQuota).toBe(50);
  });

  it('turns a non-numeric number into a validation error naming the key', () => {
    const ctx: Record<string, unknown> = { ...base, nlbQuota: 'lots' };
    const props = propsFromContext((k) => ctx[k]);
    expect(() => resolveConfig(props)).toThrow(/nlbQuota: Invalid value: NaN/);
  });

  it('rejects a boolean that is not true/false', () => {
    const ctx: Record<string, unknown> = { ...base, enableDriftRule: 'yes' };
    expect(() => propsFromContext((k) => ctx[k])).toThrow(/context enableDriftRule: Invalid value: "yes"/);
  });
});
