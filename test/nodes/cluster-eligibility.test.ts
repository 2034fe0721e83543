/**
 * Node eligibility from a cluster's Node objects (cluster mode): the instance from the providerID, the exclusion
 * label and the removal taints of cluster-autoscaler and Karpenter, and how the result is laid over EC2's view.
 */
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  AUTOSCALER_DELETION_TAINT,
  eligibilityChanged,
  eligibilityOf,
  KARPENTER_DISRUPTED_TAINT,
  withEligibility,
} from '../../lib/nodes/cluster-eligibility.js';
import { eligibleNodes } from '../../lib/nodes/eligible.js';
import type { NodeInfo } from '../../lib/model/types.js';

const node = (opts: {
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  providerID?: string;
}) =>
  ({
    metadata: { name: 'ip-10-0-1-5.ec2.internal', labels: opts.labels ?? {} },
    spec: { providerID: opts.providerID ?? 'aws:///us-east-1a/i-0abc12345def67890', taints: opts.taints },
  }) as V1Node;

const ec2 = (id: string): NodeInfo => ({
  name: `name-${id}`,
  instanceId: id,
  privateIp: '10.0.1.5',
  availabilityZone: 'us-east-1a',
  state: 'running',
  labels: { team: 'ec2-tag' },
});

describe('eligibilityOf', () => {
  it('an ordinary Node is eligible, with its labels and its instance', () => {
    expect(eligibilityOf(node({ labels: { pool: 'a' } }))).toEqual({
      name: 'ip-10-0-1-5.ec2.internal',
      instanceId: 'i-0abc12345def67890',
      labels: { pool: 'a' },
    });
  });

  it.each([
    [
      'the exclusion label (any value)',
      node({ labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } }),
      'label',
    ],
    [
      'cluster-autoscaler’s deletion taint',
      node({ taints: [{ key: AUTOSCALER_DELETION_TAINT, value: '1700000000', effect: 'NoSchedule' }] }),
      AUTOSCALER_DELETION_TAINT,
    ],
    [
      'Karpenter v1’s disruption taint',
      node({ taints: [{ key: KARPENTER_DISRUPTED_TAINT, effect: 'NoSchedule' }] }),
      KARPENTER_DISRUPTED_TAINT,
    ],
    [
      'Karpenter v0.3x’s disruption taint',
      node({ taints: [{ key: 'karpenter.sh/disruption', value: 'disrupting', effect: 'NoSchedule' }] }),
      'karpenter.sh/disruption=disrupting',
    ],
  ])('%s excludes the node', (_what, n, reason) => {
    expect(eligibilityOf(n)?.excluded).toContain(reason);
  });

  it('other taints (a NoSchedule of the user, Karpenter’s other keys) do not exclude it', () => {
    const n = node({
      taints: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'karpenter.sh/disruption', value: 'other', effect: 'NoSchedule' },
      ],
    });
    expect(eligibilityOf(n)?.excluded).toBeUndefined();
  });

  it('a Node that is not an EC2 instance says nothing', () => {
    expect(eligibilityOf(node({ providerID: 'gce://project/zone/vm-1' }))).toBeUndefined();
    expect(eligibilityOf(node({ providerID: '' }))).toBeUndefined();
  });
});

describe('withEligibility', () => {
  it('lays the Node’s labels over EC2’s and keeps an excluded node out of the targets', () => {
    const nodes = [ec2('i-0aaaaaaaaaaaaaaa1'), ec2('i-0bbbbbbbbbbbbbbb2'), ec2('i-0ccccccccccccccc3')];
    const out = withEligibility(nodes, [
      { name: 'n1', instanceId: 'i-0aaaaaaaaaaaaaaa1', labels: { pool: 'a' } },
      { name: 'n2', instanceId: 'i-0bbbbbbbbbbbbbbb2', labels: {}, excluded: 'label x' },
    ]);
    expect(out[0]!.labels).toEqual({ team: 'ec2-tag', pool: 'a' });
    expect(eligibleNodes(out).map((n) => n.instanceId)).toEqual(['i-0aaaaaaaaaaaaaaa1', 'i-0ccccccccccccccc3']);
    // target-node-labels match the Node's labels
    expect(eligibleNodes(out, { pool: 'a' }).map((n) => n.instanceId)).toEqual(['i-0aaaaaaaaaaaaaaa1']);
    expect(nodes[1]!.labels).toEqual({ team: 'ec2-tag' }); // the input is not changed
  });

  it('eligibilityChanged sees a change of exclusion or labels, and nothing else', () => {
    const a = { name: 'n', instanceId: 'i-1', labels: { x: '1' } };
    expect(eligibilityChanged(a, { ...a })).toBe(false);
    expect(eligibilityChanged(a, { ...a, excluded: 'taint' })).toBe(true);
    expect(eligibilityChanged(a, { ...a, labels: { x: '2' } })).toBe(true);
    expect(eligibilityChanged(undefined, a)).toBe(true);
  });
});
