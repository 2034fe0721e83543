import { beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { V1Service } from '@kubernetes/client-node';
import { InvalidError } from '../../lib/errors.js';
import { classifyNodeEvent, handleNodeEvent, type NodeEvent } from '../../lib/handlers/node-events.js';
import { ensureLocalClusterAws, launchLocalNode, type LocalNode } from '../../tools/local/cluster-aws.js';
import { observe } from '../../lib/lb/observe.js';
import { lbContextFor } from '../../lib/runtime/runtime.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { failCommand, failDynamoFor, makeTestRuntime, type TestRuntime } from './support.js';

const stateChange = (id: string, state: string): NodeEvent => ({
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  detail: { 'instance-id': id, state },
});
const spotWarning = (id: string): NodeEvent => ({
  source: 'aws.ec2',
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  detail: { 'instance-id': id, 'instance-action': 'terminate' },
});
const lifecycle = (id: string, extra: Record<string, unknown> = {}): NodeEvent => ({
  source: 'aws.autoscaling',
  'detail-type': 'EC2 Instance-terminate Lifecycle Action',
  detail: {
    LifecycleActionToken: '87654321-4321-4321-4321-210987654321',
    AutoScalingGroupName: 'nodes-asg',
    LifecycleHookName: 'drain-from-nlb',
    EC2InstanceId: id,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    ...extra,
  },
});

describe('classifyNodeEvent', () => {
  const id = 'i-0123456789abcdef0';
  it.each([
    ['running', stateChange(id, 'running'), { kind: 'joined', instanceId: id }],
    ['stopping', stateChange(id, 'stopping'), { kind: 'leaving', instanceId: id, cause: 'stopping' }],
    ['stopped', stateChange(id, 'stopped'), { kind: 'leaving', instanceId: id, cause: 'stopped' }],
    ['shutting-down', stateChange(id, 'shutting-down'), { kind: 'leaving', instanceId: id, cause: 'shutting-down' }],
    ['terminated', stateChange(id, 'terminated'), { kind: 'leaving', instanceId: id, cause: 'terminated' }],
    ['pending', stateChange(id, 'pending'), { kind: 'ignored', reason: 'state pending changes nothing' }],
    ['spot interruption warning', spotWarning(id), { kind: 'leaving', instanceId: id, cause: 'spot-interruption' }],
    [
      'terminate lifecycle action',
      lifecycle(id),
      {
        kind: 'leaving',
        instanceId: id,
        cause: 'scale-in',
        lifecycle: { hook: 'drain-from-nlb', group: 'nodes-asg', token: '87654321-4321-4321-4321-210987654321' },
      },
    ],
    [
      'lifecycle action without a token',
      lifecycle(id, { LifecycleActionToken: undefined }),
      {
        kind: 'leaving',
        instanceId: id,
        cause: 'scale-in',
        lifecycle: { hook: 'drain-from-nlb', group: 'nodes-asg', token: undefined },
      },
    ],
    [
      'unknown detail-type',
      { source: 'aws.ec2', 'detail-type': 'EBS Volume Notification', detail: {} },
      { kind: 'ignored', reason: 'detail-type EBS Volume Notification is not a node event' },
    ],
  ] as [string, NodeEvent, unknown][])('%s', (_n, ev, want) => {
    expect(classifyNodeEvent(ev)).toEqual(want);
  });

  it.each([
    ['state change', { 'detail-type': 'EC2 Instance State-change Notification', detail: { state: 'running' } }],
    ['spot warning', { 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: {} }],
    ['state change without detail', { 'detail-type': 'EC2 Instance State-change Notification' }],
  ] as [string, NodeEvent][])('missing instance-id in a %s is an InvalidError', (_n, ev) => {
    expect(() => classifyNodeEvent(ev)).toThrow(InvalidError);
    expect(() => classifyNodeEvent(ev)).toThrow('invalid event: detail.instance-id: Required value');
  });

  it('a lifecycle action missing its hook, group or instance is an InvalidError', () => {
    for (const k of ['EC2InstanceId', 'LifecycleHookName', 'AutoScalingGroupName']) {
      expect(() => classifyNodeEvent(lifecycle(id, { [k]: undefined }))).toThrow(InvalidError);
    }
  });
});

describe('handleNodeEvent against moto (EC2 + ELBv2), Auto Scaling mocked', () => {
  let t: TestRuntime;
  let nodes: LocalNode[];
  let aws: Awaited<ReturnType<typeof ensureLocalClusterAws>>;
  let tgArn: string;
  let nodePort: number;
  const clients = motoClients();
  const clusterName = uniqueName('hne');
  const ns = uniqueName('ns');
  // Only CompleteLifecycleAction goes to the mock; every other client talks to moto.
  const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
  const asMock = mockClient(autoscaling);

  /** Registered targets as ELBv2 reports them (moto reports deregistered targets as gone, not draining). */
  const targets = async () => {
    const h = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    return (h.TargetHealthDescriptions ?? [])
      .filter((d) => d.TargetHealth?.State !== 'draining')
      .map((d) => `${d.Target?.Id}:${d.Target?.Port}`)
      .sort();
  };
  const expected = (ns_: LocalNode[]) => ns_.map((n) => `${n.instanceId}:${nodePort}`).sort();

  beforeAll(async () => {
    aws = await ensureLocalClusterAws(clients.ec2, clusterName, 'us-east-1');
    nodes = [];
    for (const i of [0, 1, 2]) nodes.push(await launchLocalNode(clients.ec2, clusterName, aws, i));
    t = await makeTestRuntime({
      clusterName,
      env: { VPC_ID: aws.vpcId, SUBNET_IDS: aws.subnetIds.join(','), NODE_SECURITY_GROUP_ID: aws.nodeSecurityGroupId },
    });
    await t.rt.api.applyService({
      metadata: { name: 'web', namespace: ns },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    } as V1Service);
    const st = await t.rt.controller.reconcileServiceLoadBalancer(ns, 'web');
    expect(st?.hostname).toBeTruthy();
    const svc = await t.rt.api.getService(ns, 'web');
    nodePort = svc.spec!.ports![0]!.nodePort!;
    const world = await observe(lbContextFor(t.rt.env, clients)!, { stack: `${ns}/web` });
    tgArn = world.stacks.get(`${ns}/web`)!.targetGroups[0]!.arn;
    const tg = await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] }));
    expect(tg.TargetGroups?.[0]?.Port).toBe(nodePort);
  });

  it('a node joining ("running") is registered in the target group at the NodePort', async () => {
    expect(await targets()).toEqual(expected(nodes));
    const fourth = await launchLocalNode(clients.ec2, clusterName, aws, 3);
    const pushes = t.pusher.reasons.length;
    const action = await handleNodeEvent(
      { controller: t.rt.controller, autoscaling },
      stateChange(fourth.instanceId, 'running'),
    );
    expect(action).toEqual({ kind: 'joined', instanceId: fourth.instanceId });
    nodes.push(fourth);
    expect(await targets()).toEqual(expected(nodes));
    // A joining node asks for a data-plane push (the SQS pusher makes it a full one for "running").
    expect(t.pusher.reasons.slice(pushes)).toEqual([`node-joined ${fourth.instanceId}`]);
  });

  // ELB itself drops terminated instances from target groups (moto models that too), so this mostly checks that the
  // event is handled cleanly; the stopped-node case below is the one only the controller can handle.
  it('a terminated node is deregistered', async () => {
    const gone = nodes.pop()!;
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone.instanceId] }));
    const action = await handleNodeEvent(
      { controller: t.rt.controller, autoscaling },
      stateChange(gone.instanceId, 'terminated'),
    );
    expect(action.kind).toBe('leaving');
    expect(await targets()).toEqual(expected(nodes));
  });

  it('a stopped node is deregistered, and later passes leave it out while it stays stopped', async () => {
    const stopped = nodes[2]!;
    await clients.ec2.send(new StopInstancesCommand({ InstanceIds: [stopped.instanceId] }));
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(stopped.instanceId, 'stopped'));
    const rest = nodes.filter((n) => n !== stopped);
    expect(await targets()).toEqual(expected(rest));
    // Another node's event re-reads every node: the stopped one is seen (state stopped) and not registered.
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(nodes[0]!.instanceId, 'running'));
    expect(await targets()).toEqual(expected(rest));
    await clients.ec2.send(new StartInstancesCommand({ InstanceIds: [stopped.instanceId] }));
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(stopped.instanceId, 'running'));
    expect(await targets()).toEqual(expected(nodes));
  });

  it('a spot interruption warning deregisters the node while EC2 still reports it running', async () => {
    const warned = nodes[2]!;
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, spotWarning(warned.instanceId));
    expect(await targets()).toEqual(expected(nodes.filter((n) => n !== warned)));
    // The warning is remembered: another node's pass still sees the instance running but does not register it again.
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(nodes[0]!.instanceId, 'running'));
    expect(await targets()).toEqual(expected(nodes.filter((n) => n !== warned)));
    await t.rt.controller.resync();
    expect(await targets()).toEqual(expected(nodes.filter((n) => n !== warned)));
    // Its own running event (the interruption did not happen: it was started again) clears the mark.
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(warned.instanceId, 'running'));
    expect(await targets()).toEqual(expected(nodes));
  });

  it('a terminate lifecycle action deregisters first, then completes the action with CONTINUE', async () => {
    const leaving = nodes[1]!;
    const seenAtCompletion: string[][] = [];
    asMock.reset();
    asMock.on(CompleteLifecycleActionCommand).callsFake(async () => {
      seenAtCompletion.push(await targets());
      return {};
    });
    const action = await handleNodeEvent({ controller: t.rt.controller, autoscaling }, lifecycle(leaving.instanceId));
    expect(action).toMatchObject({ kind: 'leaving', instanceId: leaving.instanceId });
    const calls = asMock.commandCalls(CompleteLifecycleActionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'nodes-asg',
      LifecycleHookName: 'drain-from-nlb',
      LifecycleActionToken: '87654321-4321-4321-4321-210987654321',
      InstanceId: leaving.instanceId,
      LifecycleActionResult: 'CONTINUE',
    });
    // When the action was completed the node was already out of the target group.
    expect(seenAtCompletion).toEqual([expected(nodes.filter((n) => n !== leaving))]);
    // Restore it for the next test.
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(leaving.instanceId, 'running'));
    expect(await targets()).toEqual(expected(nodes));
  });

  it('when deregistration fails the event is retried and the lifecycle action is NOT completed', async () => {
    const leaving = nodes[0]!;
    let failing = true;
    const broken = await makeTestRuntime({
      clusterName,
      tableName: t.tableName,
      env: { VPC_ID: aws.vpcId, SUBNET_IDS: aws.subnetIds.join(','), NODE_SECURITY_GROUP_ID: aws.nodeSecurityGroupId },
      middleware: [failCommand('DeregisterTargetsCommand', 'ThrottlingException', () => failing)],
    });
    asMock.reset();
    asMock.on(CompleteLifecycleActionCommand).resolves({});
    await expect(
      handleNodeEvent({ controller: broken.rt.controller, autoscaling }, lifecycle(leaving.instanceId)),
    ).rejects.toThrow(/deregistration pending for .*\/web/);
    expect(asMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(await targets()).toEqual(expected(nodes));

    // EventBridge retries the same event; now it goes through.
    failing = false;
    await handleNodeEvent({ controller: broken.rt.controller, autoscaling }, lifecycle(leaving.instanceId));
    expect(asMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(await targets()).toEqual(expected(nodes.slice(1)));
  });

  it('when registration of a joining node fails the event is retried (the handler throws), then converges', async () => {
    let failing = true;
    const broken = await makeTestRuntime({
      clusterName,
      tableName: t.tableName,
      env: { VPC_ID: aws.vpcId, SUBNET_IDS: aws.subnetIds.join(','), NODE_SECURITY_GROUP_ID: aws.nodeSecurityGroupId },
      middleware: [failCommand('RegisterTargetsCommand', 'ThrottlingException', () => failing)],
    });
    const joining = await launchLocalNode(clients.ec2, clusterName, aws, 5);
    await expect(
      handleNodeEvent({ controller: broken.rt.controller, autoscaling }, stateChange(joining.instanceId, 'running')),
    ).rejects.toThrow(/target registration pending for .*\/web/);
    expect(await targets()).not.toContain(`${joining.instanceId}:${nodePort}`);
    failing = false;
    await handleNodeEvent(
      { controller: broken.rt.controller, autoscaling },
      stateChange(joining.instanceId, 'running'),
    );
    expect(await targets()).toContain(`${joining.instanceId}:${nodePort}`);
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [joining.instanceId] }));
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(joining.instanceId, 'terminated'));
  });

  it('events that change nothing make no calls, and a malformed one is an InvalidError', async () => {
    asMock.reset();
    const pushes = t.pusher.reasons.length;
    expect(
      await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(nodes[0]!.instanceId, 'pending')),
    ).toEqual({ kind: 'ignored', reason: 'state pending changes nothing' });
    await expect(
      handleNodeEvent(
        { controller: t.rt.controller, autoscaling },
        { 'detail-type': 'EC2 Instance State-change Notification', detail: { state: 'terminated' } },
      ),
    ).rejects.toThrow(InvalidError);
    expect(t.pusher.reasons.length).toBe(pushes);
    expect(asMock.calls()).toHaveLength(0);
  });

  it('a data store failure while listing Services is retried (the handler throws)', async () => {
    const broken = await makeTestRuntime({
      clusterName,
      tableName: t.tableName,
      env: { VPC_ID: aws.vpcId, SUBNET_IDS: aws.subnetIds.join(','), NODE_SECURITY_GROUP_ID: aws.nodeSecurityGroupId },
      middleware: [failDynamoFor({ kind: 'Service', key: 'obj#Service' }, () => true)],
    });
    await expect(
      handleNodeEvent({ controller: broken.rt.controller, autoscaling }, stateChange(nodes[0]!.instanceId, 'running')),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });
});
