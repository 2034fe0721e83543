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

describe('clusterMode', () => {
  const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/kubeconfig-AbC123';
  const mode = (m: Record<string, unknown>) => ({ clusterMode: m as unknown as ServiceControllerProps['clusterMode'] });

  it('is off by default; on, it resolves auth, defaults the flags and places the watcher only with both lists', () => {
    expect(resolveConfig(base).clusterMode).toBeUndefined();
    expect(resolveConfig({ ...base, ...mode({ auth: { eksClusterName: ' prod-eks ' } }) }).clusterMode).toEqual({
      auth: { kind: 'eks', eksClusterName: 'prod-eks' },
      defaultLoadBalancerClass: false,
      dataPlane: false,
      vpc: undefined,
    });
    const c = resolveConfig({
      ...base,
      ...mode({
        auth: { kubeconfigSecretArn: SECRET },
        defaultLoadBalancerClass: true,
        dataPlane: true,
        subnetIds: ['subnet-0123abcd'],
        securityGroupIds: ['sg-0123abcd'],
      }),
    });
    expect(c.clusterMode).toEqual({
      auth: { kind: 'kubeconfig', kubeconfigSecretArn: SECRET },
      defaultLoadBalancerClass: true,
      dataPlane: true,
      vpc: { subnetIds: ['subnet-0123abcd'], securityGroupIds: ['sg-0123abcd'] },
    });
  });

  it.each<[Record<string, unknown>, string]>([
    [{}, 'clusterMode.auth: Required value: give exactly one of eksClusterName and kubeconfigSecretArn'],
    [{ auth: {} }, 'clusterMode.auth: Required value'],
    [
      { auth: { eksClusterName: 'a', kubeconfigSecretArn: SECRET } },
      'clusterMode.auth: Invalid value: {"eksClusterName":"a","kubeconfigSecretArn":"' +
        SECRET +
        '"}: give exactly one of eksClusterName and kubeconfigSecretArn, not both',
    ],
    [
      { auth: { eksClusterName: '-prod' } },
      'clusterMode.auth.eksClusterName: Invalid value: "-prod": must be an EKS cluster name',
    ],
    [{ auth: { eksClusterName: 'x'.repeat(101) } }, 'clusterMode.auth.eksClusterName: Invalid value'],
    [{ auth: { eksClusterName: 'my.cluster' } }, 'clusterMode.auth.eksClusterName: Invalid value: "my.cluster"'],
    [
      { auth: { kubeconfigSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/kubeconfig' } },
      'clusterMode.auth.kubeconfigSecretArn: Invalid value: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/kubeconfig": must be the complete ARN of a Secrets Manager secret, with the 6-character suffix',
    ],
    [
      { auth: { kubeconfigSecretArn: 'arn:aws:s3:::bucket/kubeconfig-AbC123' } },
      'clusterMode.auth.kubeconfigSecretArn: Invalid value: "arn:aws:s3:::bucket/kubeconfig-AbC123"',
    ],
    [{ auth: { kubeconfigSecretArn: 'prod/kubeconfig' } }, 'clusterMode.auth.kubeconfigSecretArn: Invalid value'],
    [
      { auth: { eksClusterName: 'a' }, subnetIds: ['subnet-0123abcd'] },
      'clusterMode.securityGroupIds: Required value: the watcher in subnets needs security groups too',
    ],
    [
      { auth: { eksClusterName: 'a' }, securityGroupIds: ['sg-0123abcd'] },
      'clusterMode.subnetIds: Required value: security groups are only used with subnets',
    ],
    [
      { auth: { eksClusterName: 'a' }, subnetIds: ['subnet-xyz'], securityGroupIds: ['sg-0123abcd'] },
      'clusterMode.subnetIds[0]: Invalid value: "subnet-xyz": must be a subnet ID',
    ],
    [
      { auth: { eksClusterName: 'a' }, subnetIds: ['subnet-0123abcd'], securityGroupIds: ['sg-1', 'sg-0123abcd'] },
      'clusterMode.securityGroupIds[0]: Invalid value: "sg-1": must be a security group ID',
    ],
    [
      {
        auth: { eksClusterName: 'a' },
        subnetIds: ['subnet-0123abcd', 'subnet-0123abcd'],
        securityGroupIds: ['sg-0123abcd'],
      },
      'clusterMode.subnetIds[1]: Duplicate value: "subnet-0123abcd"',
    ],
    [
      {
        auth: { eksClusterName: 'a' },
        subnetIds: ['subnet-0123abcd'],
        securityGroupIds: ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `sg-0123abc${x}`),
      },
      'at most 5 security groups (a Lambda limit)',
    ],
    [
      { auth: { eksClusterName: 'a' }, dataPlane: 'yes' },
      'clusterMode.dataPlane: Invalid value: "yes": must be true or false',
    ],
  ])('%j -> %s', (m, message) => {
    const e = errorOf(mode(m));
    expect(e.message).toContain('ServiceController "ServiceController" is invalid: ');
    expect(e.message).toContain(message);
  });

  it('reports cluster-mode problems together with the others', () => {
    const e = errorOf({ nodePortRange: '2-1', ...mode({ auth: { eksClusterName: '' } }) });
    expect(e.causes.map((c) => c.field)).toEqual(['nodePortRange', 'clusterMode.auth.eksClusterName']);
  });

  it('reads flat context keys; any of them turns cluster mode on', () => {
    const baseCtx: Record<string, unknown> = { ...base };
    const ctx: Record<string, unknown> = {
      ...base,
      clusterModeEksClusterName: 'prod-eks',
      clusterModeDataPlane: 'true',
      clusterModeSubnetIds: 'subnet-0123abcd, subnet-0123abce',
      clusterModeSecurityGroupIds: ['sg-0123abcd'],
    };
    const props = propsFromContext((k) => ctx[k]);
    expect(props.clusterMode).toEqual({
      auth: { eksClusterName: 'prod-eks' },
      dataPlane: true,
      subnetIds: ['subnet-0123abcd', 'subnet-0123abce'],
      securityGroupIds: ['sg-0123abcd'],
    });
    expect(resolveConfig(props).clusterMode?.vpc?.subnetIds).toHaveLength(2);
    const kc = propsFromContext((k) =>
      k === 'clusterModeKubeconfigSecretArn' ? SECRET : k === 'clusterModeDefaultLoadBalancerClass' ? 'false' : ctx[k],
    );
    expect(kc.clusterMode?.auth).toEqual({ eksClusterName: 'prod-eks', kubeconfigSecretArn: SECRET });
    expect(() => resolveConfig(kc)).toThrow(/clusterMode.auth: Invalid value: .*not both/);
    expect('clusterMode' in propsFromContext((k) => baseCtx[k])).toBe(false);
    const noAuth = propsFromContext((k) => (k === 'clusterModeDataPlane' ? 'true' : baseCtx[k]));
    expect(() => resolveConfig(noAuth)).toThrow(/clusterMode.auth: Required value/);
    expect(() => propsFromContext((k) => (k === 'clusterModeDataPlane' ? 'on' : undefined))).toThrow(
      /context clusterModeDataPlane: Invalid value: "on"/,
    );
  });
});
