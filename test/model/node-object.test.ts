/**
 * The Node object of an instance (lib/model/node-object.ts): the whole object for a running instance as a golden
 * file (test/model/golden/node-running.json), cordoning of leaving nodes, taints of not-ready and stopped ones,
 * DataPlaneReady, and no churn: mirroring an unchanged instance later gives back the stored object.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import {
  dataPlaneCondition,
  desiredNode,
  instanceIdOf,
  regionOf,
  TAINT_NOT_READY,
  TAINT_SHUTDOWN,
  TAINT_UNSCHEDULABLE,
} from '../../lib/model/node-object.js';
import type { NodeInfo } from '../../lib/model/types.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

function golden(name: string, value: unknown): void {
  const file = join(GOLDEN, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.CI && !existsSync(file)) throw new Error(`golden file ${file} missing`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const instance = (over: Partial<NodeInfo> = {}): NodeInfo => ({
  name: 'ip-10-0-1-5.ec2.internal',
  instanceId: 'i-0123456789abcdef0',
  privateIp: '10.0.1.5',
  privateIps: ['10.0.1.5', '10.0.1.77'],
  availabilityZone: 'us-east-1a',
  state: 'running',
  labels: { 'kubernetes.io/cluster/prod': 'owned', Team: 'web' },
  instanceType: 'm6g.large',
  architecture: 'arm64',
  publicIp: '3.80.1.2',
  publicDnsName: 'ec2-3-80-1-2.compute-1.amazonaws.com',
  ...over,
});

const t0 = new Date('2025-01-01T00:00:00.000Z');
const t1 = new Date('2025-01-01T01:00:00.000Z');
const cond = (n: V1Node, type: string) => n.status?.conditions?.find((c) => c.type === type);

describe('a running instance as a Node', () => {
  it('is what a kubelet plus cloud-provider-aws register (golden); instance tags are not labels', () => {
    const node = desiredNode({
      node: instance(),
      dataPlane: { instanceId: 'i-0123456789abcdef0', state: 'InSync', failures: 0 },
      now: t0,
    });
    golden('node-running', node);
    expect(node.metadata?.labels?.Team).toBeUndefined();
    expect(node.spec?.providerID).toBe('aws:///us-east-1a/i-0123456789abcdef0');
    expect(instanceIdOf(node.spec?.providerID)).toBe('i-0123456789abcdef0');
  });

  it('mirrored again an hour later unchanged: the same object (no heartbeat, no revision churn)', () => {
    const first = desiredNode({ node: instance(), now: t0 });
    const again = desiredNode({ node: instance(), previous: first, now: t1 });
    expect(again).toEqual(first);
  });

  it('a change of a condition moves its timestamps; an unchanged one keeps them', () => {
    const first = desiredNode({
      node: instance(),
      dataPlane: { instanceId: 'i', state: 'InSync', failures: 0 },
      now: t0,
    });
    const next = desiredNode({
      node: instance(),
      dataPlane: { instanceId: 'i', state: 'Retrying', failures: 2 },
      previous: first,
      now: t1,
    });
    expect(cond(next, 'Ready')).toEqual(cond(first, 'Ready'));
    expect(cond(next, 'DataPlaneReady')).toMatchObject({
      status: 'False',
      reason: 'PushFailed',
      lastTransitionTime: t1.toISOString(),
      lastHeartbeatTime: t1.toISOString(),
    });
  });
});

describe('nodes that are not (or no longer) ready', () => {
  it('a leaving node is cordoned (unschedulable, unschedulable taint) and NotReady with the reason', () => {
    const node = desiredNode({ node: instance(), leaving: { reason: 'Spot interruption warning' }, now: t0 });
    expect(node.spec?.unschedulable).toBe(true);
    expect(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual([
      `${TAINT_UNSCHEDULABLE}:NoSchedule`,
      `${TAINT_NOT_READY}:NoSchedule`,
      `${TAINT_NOT_READY}:NoExecute`,
    ]);
    expect(cond(node, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'NodeLeaving',
      message: 'node is leaving the cluster (Spot interruption warning)',
    });
  });

  it('a stopped instance carries the shutdown taint; the NoExecute taint keeps its timeAdded', () => {
    const first = desiredNode({ node: instance({ state: 'stopped' }), now: t0 });
    expect(first.spec?.taints?.map((t) => t.key)).toEqual([TAINT_SHUTDOWN, TAINT_NOT_READY, TAINT_NOT_READY]);
    expect(first.spec?.unschedulable).toBeUndefined();
    const later = desiredNode({ node: instance({ state: 'stopped' }), previous: first, now: t1 });
    expect(later).toEqual(first);
    expect(cond(later, 'Ready')).toMatchObject({ status: 'False', reason: 'InstanceNotRunning' });
  });

  it('running again: Ready True from then on, no taints', () => {
    const stopped = desiredNode({ node: instance({ state: 'stopped' }), now: t0 });
    const back = desiredNode({ node: instance(), previous: stopped, now: t1 });
    expect(back.spec?.taints).toBeUndefined();
    expect(cond(back, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: t1.toISOString() });
  });
});

describe('details', () => {
  it('addresses in cloud-provider-aws order; no DNS addresses for an instance named by its id', () => {
    const n = desiredNode({
      node: instance({ name: 'i-0123456789abcdef0', publicIp: undefined, publicDnsName: undefined }),
      now: t0,
    });
    expect(n.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.1.5' },
      { type: 'InternalIP', address: '10.0.1.77' },
    ]);
  });

  it('region from the zone (local zones included); x86_64 is amd64; Windows instances say so', () => {
    expect(regionOf('us-east-1a')).toBe('us-east-1');
    expect(regionOf('us-west-2-lax-1a')).toBe('us-west-2');
    const n = desiredNode({ node: instance({ architecture: 'x86_64', platform: 'windows' }), now: t0 });
    expect(n.metadata?.labels?.['kubernetes.io/arch']).toBe('amd64');
    expect(n.status?.nodeInfo).toMatchObject({ architecture: 'amd64', operatingSystem: 'windows', kubeletVersion: '' });
  });

  it('every data-plane state maps to a condition', () => {
    const states = ['InSync', 'Pending', 'Retrying', 'Failing', 'Unknown'] as const;
    expect(states.map((state) => dataPlaneCondition({ instanceId: 'i', state, failures: 0 }).status)).toEqual([
      'True',
      'Unknown',
      'False',
      'False',
      'Unknown',
    ]);
  });

  it('providerIDs: aws:///zone/id and the older aws://zone/id; anything else is no instance', () => {
    expect(instanceIdOf('aws://us-east-1a/i-0abc')).toBe('i-0abc');
    expect(instanceIdOf('aws:///us-east-1a/i-0abc')).toBe('i-0abc');
    expect(instanceIdOf('gce://p/z/n')).toBeUndefined();
    expect(instanceIdOf(undefined)).toBeUndefined();
  });
});
