/** One node selector for discovery, node events, SendCommand targeting and the IAM condition. */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ConfigError, readControllerEnv } from '../../lib/config-env.js';
import { describeNode, discoverNodes } from '../../lib/nodes/discover.js';
import { defaultNodeSelector, matchesSelector, parseNodeSelector } from '../../lib/nodes/selector.js';
import { selectorTargets } from '../../lib/dataplane/ssm-driver.js';

describe('node selector', () => {
  it('defaults to the cluster tag with owned OR shared (cloud-provider-aws membership)', () => {
    const s = defaultNodeSelector('prod');
    expect(s).toEqual({ key: 'kubernetes.io/cluster/prod', values: ['owned', 'shared'] });
    expect(matchesSelector({ 'kubernetes.io/cluster/prod': 'shared' }, s)).toBe(true);
    expect(matchesSelector({ 'kubernetes.io/cluster/prod': 'other' }, s)).toBe(false);
    expect(matchesSelector({ 'kubernetes.io/cluster/dev': 'owned' }, s)).toBe(false);
    expect(selectorTargets(s)).toEqual([{ Key: 'tag:kubernetes.io/cluster/prod', Values: ['owned', 'shared'] }]);
  });

  it.each([
    ['role=k8s-node', { key: 'role', values: ['k8s-node'] }],
    ['pool=a,b,a', { key: 'pool', values: ['a', 'b'] }],
    ['k=v=w', { key: 'k', values: ['v=w'] }],
  ])('parses %s', (text, want) => {
    expect(parseNodeSelector(text)).toEqual({ selector: want });
  });

  it.each(['novalue', '=x', 'aws:x=1', 'k=', 'k=a,,b', 'k=a;b', 'k\n=v'])('refuses %j', (text) => {
    expect(parseNodeSelector(text).error).toMatch(/must be|tag (key|values)/);
  });

  it('NODE_SELECTOR_TAG reaches the controller environment, and a bad one fails at cold start', () => {
    expect(readControllerEnv({ CLUSTER_NAME: 'c' }).nodeSelector).toEqual(defaultNodeSelector('c'));
    expect(readControllerEnv({ NODE_SELECTOR_TAG: 'pool=a,b' }).nodeSelector).toEqual({
      key: 'pool',
      values: ['a', 'b'],
    });
    expect(() => readControllerEnv({ NODE_SELECTOR_TAG: 'nope' })).toThrow(ConfigError);
    expect(() => readControllerEnv({ NODE_SELECTOR_TAG: 'nope' })).toThrow(/NODE_SELECTOR_TAG: must be "key=value"/);
  });

  it('discovery and the single-node lookup filter on the selector (the lookup by filter, in any state)', async () => {
    const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const m = mockClient(ec2);
    m.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const sel = { key: 'pool', values: ['a', 'b'] };
    await discoverNodes(ec2, sel);
    expect(await describeNode(ec2, sel, 'i-0123456789abcdef0')).toBeUndefined();
    const [d, one] = m.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters);
    expect(d).toEqual([
      { Name: 'tag:pool', Values: ['a', 'b'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    expect(one).toEqual([
      { Name: 'tag:pool', Values: ['a', 'b'] },
      { Name: 'instance-id', Values: ['i-0123456789abcdef0'] },
    ]);
  });
});
