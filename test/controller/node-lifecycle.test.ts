/**
 * Node lifecycle against moto (EC2, DynamoDB): a node that leaves makes its Pods not ready at once, a gone node's
 * Pods are deleted after the grace period (podgc), a returning node's Pods stay not ready until their producer
 * re-reports them, and EC2 events about instances outside the cluster change and trigger nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { V1Pod } from '@kubernetes/client-node';
import { NodeLifecycle } from '../../lib/controller/node-lifecycle.js';
import { handleNodeEvent, type NodeEvent } from '../../lib/handlers/node-events.js';
import { ensureLocalClusterAws, launchLocalNode, type LocalNode } from '../../tools/local/cluster-aws.js';
import { defaultNodeSelector } from '../../lib/nodes/selector.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { makeTestRuntime, type TestRuntime } from '../handlers/support.js';

const stateChange = (id: string, state: string): NodeEvent => ({
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  detail: { 'instance-id': id, state },
});

const pod = (ns: string, name: string, nodeName: string, ip: string): V1Pod => ({
  metadata: { namespace: ns, name, labels: { app: 'web' } },
  spec: { nodeName, containers: [{ name: 'c', image: 'x' }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});

const ready = (p: V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready');

describe('node lifecycle', () => {
  let t: TestRuntime;
  let nodes: LocalNode[];
  const clients = motoClients();
  const ns = uniqueName('ns');
  const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
  const asMock = mockClient(autoscaling);
  asMock.on(CompleteLifecycleActionCommand).resolves({});

  beforeAll(async () => {
    t = await makeTestRuntime({ env: { POD_GC_ORPHAN_GRACE_SECONDS: '0' } });
    const aws = await ensureLocalClusterAws(clients.ec2, t.clusterName, 'us-east-1');
    nodes = [];
    for (const i of [0, 1, 2]) nodes.push(await launchLocalNode(clients.ec2, t.clusterName, aws, i));
    const pods = [
      pod(ns, 'a', nodes[0]!.name, '10.244.1.2'),
      pod(ns, 'b', nodes[1]!.name, '10.244.2.2'),
      pod(ns, 'c', nodes[2]!.name, '10.244.3.2'),
      pod(ns, 'elsewhere', 'ip-10-9-9-9.ec2.internal', '10.244.9.2'), // a node this controller never saw
    ];
    for (const p of pods) await t.rt.api.applyPod(p);
    await t.rt.controller.resync(); // the nodes become known by name
  });

  it('a Spot interruption warning makes the Pods on that node not ready at once (NodeNotReady), and only those', async () => {
    const deps = { controller: t.rt.controller, autoscaling };
    const before = t.pusher.triggers.length;
    await handleNodeEvent(deps, {
      source: 'aws.ec2',
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      detail: { 'instance-id': nodes[0]!.instanceId, 'instance-action': 'terminate' },
    });
    const a = await t.rt.api.getPod(ns, 'a');
    expect(ready(a)).toMatchObject({ status: 'False', reason: 'NodeNotReady' });
    expect(ready(a)?.message).toContain(`Node ${nodes[0]!.name} which was running pod a is leaving`);
    expect(ready(await t.rt.api.getPod(ns, 'b'))?.status).toBe('True');
    expect(t.pusher.triggers.slice(before)).toEqual([{ kind: 'node-left', instanceId: nodes[0]!.instanceId }]);
  });

  it('a returning node is a node again, but its Pods stay not ready until their producer re-reports them', async () => {
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(nodes[0]!.instanceId, 'running'));
    expect(ready(await t.rt.api.getPod(ns, 'a'))?.status).toBe('False');
    await t.rt.api.applyPod(pod(ns, 'a', nodes[0]!.name, '10.244.1.2')); // the producer says it runs and is ready
    expect(ready(await t.rt.api.getPod(ns, 'a'))?.status).toBe('True');
  });

  it('a terminated node: its Pods are NodeLost at once, then deleted by the pod GC (grace 0 here)', async () => {
    const gone = nodes[1]!;
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone.instanceId] }));
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(gone.instanceId, 'terminated'));
    expect(ready(await t.rt.api.getPod(ns, 'b'))).toMatchObject({ status: 'False', reason: 'NodeLost' });
    const gc = await t.rt.controller.lifecycle.collectOrphans();
    expect(gc.deleted).toEqual([`${ns}/b`]);
    await expect(t.rt.api.getPod(ns, 'b')).rejects.toThrow(/not found/);
    // a Pod bound to a name no node of this cluster ever had is left alone
    expect(ready(await t.rt.api.getPod(ns, 'elsewhere'))?.status).toBe('True');
  });

  it('the grace period holds: nothing is deleted before it has passed since the node went', async () => {
    let clock = new Date('2026-12-01T10:00:00Z');
    const lc = new NodeLifecycle({
      api: t.rt.api,
      ec2: clients.ec2,
      selector: defaultNodeSelector(t.clusterName),
      orphanGraceSeconds: 40,
      now: () => clock,
    });
    const node = nodes[2]!;
    await lc.left({ ...(await lc.lookup(node.instanceId))!, name: node.name }, 'terminated');
    clock = new Date(clock.getTime() + 39_000);
    expect((await lc.collectOrphans()).deleted).toEqual([]);
    expect(ready(await t.rt.api.getPod(ns, 'c'))?.status).toBe('False');
    clock = new Date(clock.getTime() + 2_000);
    expect((await lc.collectOrphans()).deleted).toEqual([`${ns}/c`]);
  });

  it('EC2 events about an instance outside the cluster change nothing and trigger nothing', async () => {
    const r = await clients.ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
    );
    const stranger = r.Instances![0]!.InstanceId!;
    const before = t.pusher.triggers.length;
    const records = (await t.rt.controller.lifecycle.records()).length;
    for (const state of ['running', 'stopped', 'terminated']) {
      const action = await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(stranger, state));
      expect(action).toEqual({ kind: 'ignored', reason: `instance ${stranger} is not a node of this cluster` });
    }
    expect(t.pusher.triggers.length).toBe(before);
    expect((await t.rt.controller.lifecycle.records()).length).toBe(records);
  });

  it('a scale-in hook completes only once the data plane has drained the node', async () => {
    const leaving = nodes[0]!;
    let drainedAfter = 2;
    const checks: string[] = [];
    asMock.resetHistory();
    await handleNodeEvent(
      {
        controller: t.rt.controller,
        autoscaling,
        drainWaitMs: 10_000,
        drained: async (n) => {
          checks.push(n.instanceId);
          return --drainedAfter <= 0;
        },
      },
      {
        source: 'aws.autoscaling',
        'detail-type': 'EC2 Instance-terminate Lifecycle Action',
        detail: { EC2InstanceId: leaving.instanceId, AutoScalingGroupName: 'asg', LifecycleHookName: 'hook' },
      },
    );
    expect(checks).toEqual([leaving.instanceId, leaving.instanceId]);
    expect(asMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    // not drained within the wait: the event fails (EventBridge retries it) and the action is not completed
    asMock.resetHistory();
    await expect(
      handleNodeEvent(
        { controller: t.rt.controller, autoscaling, drainWaitMs: 0, drained: async () => false },
        {
          source: 'aws.autoscaling',
          'detail-type': 'EC2 Instance-terminate Lifecycle Action',
          detail: { EC2InstanceId: leaving.instanceId, AutoScalingGroupName: 'asg', LifecycleHookName: 'hook' },
        },
      ),
    ).rejects.toThrow(/still routes to pods/);
    expect(asMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
  });
});
