/**
 * Node objects and Events against moto (EC2, ELBv2, DynamoDB):
 * - every cluster instance becomes a Node at resync (labels, providerID, addresses, Ready), a second resync
 *   writes nothing, a Spot interruption cordons its Node, a terminated instance's Node goes; each with the node
 *   controllers' Events;
 * - a LoadBalancer Service's messages record the service controller's Events, and the same Event again bumps its
 *   count instead of adding an object; Events never become messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { CoreV1Event, V1Node, V1Service } from '@kubernetes/client-node';
import { handleNodeEvent, type NodeEvent } from '../../lib/handlers/node-events.js';
import { logger } from '../../lib/handlers/observability.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { makeTestRuntime, type TestRuntime } from '../handlers/support.js';
import { uniqueName } from '../support/aws.js';
import { drainLog } from './support.js';

logger.setLogLevel('CRITICAL');

const stateChange = (id: string, state: string): NodeEvent => ({
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  detail: { 'instance-id': id, state },
});

const cond = (n: V1Node | undefined, type: string) => n?.status?.conditions?.find((c) => c.type === type);
const reasons = (events: CoreV1Event[]) => events.map((e) => `${e.reason} x${e.count}`).sort();

describe('Node objects mirror the cluster instances', () => {
  let c: Cluster;
  let t: TestRuntime;
  let ids: string[];
  const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
  const asMock = mockClient(autoscaling);
  const nodes = async () => t.rt.store.list<V1Node>('Node', '');
  const nodeEvents = async (name: string) =>
    (await t.rt.store.list<CoreV1Event>('Event', 'default')).filter((e) => e.involvedObject.name === name);

  beforeAll(async () => {
    c = await makeCluster();
    ids = [await c.addNode({}, 0), await c.addNode({ team: 'web' }, 1)];
    t = await makeTestRuntime({ clusterName: c.clusterName });
  });
  afterAll(() => asMock.restore());

  it('a resync registers every instance as the Node a kubelet and cloud-provider-aws would (RegisteredNode)', async () => {
    await t.rt.controller.resync();
    const all = await nodes();
    expect(all).toHaveLength(2);
    const d = await c.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[1]!] }));
    const inst = d.Reservations![0]!.Instances![0]!;
    const node = all.find((n) => n.spec?.providerID === `aws:///us-east-1b/${ids[1]}`)!;
    expect(node.metadata?.name).toBe(inst.PrivateDnsName);
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': inst.PrivateDnsName,
      'node.kubernetes.io/instance-type': 't3.micro',
      'topology.kubernetes.io/zone': 'us-east-1b',
      'topology.kubernetes.io/region': 'us-east-1',
      // moto's first Amazon image (the fixture's) may be a Windows one: the label says what EC2 says.
      'kubernetes.io/os': inst.Platform?.toLowerCase() === 'windows' ? 'windows' : 'linux',
    });
    expect(node.metadata?.labels?.team).toBeUndefined();
    expect(node.status?.addresses?.[0]).toEqual({ type: 'InternalIP', address: inst.PrivateIpAddress });
    expect(cond(node, 'Ready')).toMatchObject({ status: 'True', reason: 'InstanceRunning' });
    const evs = await nodeEvents(node.metadata!.name!);
    expect(evs.map((e) => [e.reason, e.source?.component, e.message])).toEqual([
      [
        'RegisteredNode',
        'node-controller',
        `Node ${node.metadata!.name} event: Registered Node ${node.metadata!.name} in Controller`,
      ],
    ]);
  });

  it('a second resync writes nothing: no heartbeat churn, the revision stays', async () => {
    const before = await t.rt.store.currentRevision();
    await t.rt.controller.resync();
    expect(await t.rt.store.currentRevision()).toBe(before);
  });

  it('a Spot interruption cordons the Node: NotReady (NodeLeaving), unschedulable, tainted; NodeNotReady', async () => {
    const leavingName = (await nodes()).find((n) => n.spec?.providerID?.endsWith(ids[0]!))!.metadata!.name!;
    const ns = uniqueName('pods');
    await t.rt.api.applyPod({
      metadata: { name: 'on-it', namespace: ns },
      spec: { nodeName: leavingName, containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Running', podIP: '10.244.7.7', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await handleNodeEvent(
      { controller: t.rt.controller, autoscaling },
      { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': ids[0] } },
    );
    const node = (await nodes()).find((n) => n.spec?.providerID?.endsWith(ids[0]!))!;
    expect(node.spec?.unschedulable).toBe(true);
    expect(node.spec?.taints?.map((x) => `${x.key}:${x.effect}`)).toContain(
      'node.kubernetes.io/unschedulable:NoSchedule',
    );
    expect(cond(node, 'Ready')).toMatchObject({ status: 'False', reason: 'NodeLeaving' });
    expect(reasons(await nodeEvents(node.metadata!.name!))).toEqual(['NodeNotReady x1', 'RegisteredNode x1']);
    // The Pod marked not ready gets the node lifecycle controller's Warning (MarkPodsNotReady).
    const [podEvent, ...more] = await t.rt.store.list<CoreV1Event>('Event', ns);
    expect(more).toEqual([]);
    expect(podEvent).toMatchObject({
      type: 'Warning',
      reason: 'NodeNotReady',
      message: 'Node is not ready',
      involvedObject: { kind: 'Pod', name: 'on-it', namespace: ns },
      source: { component: 'node-controller' },
    });
  });

  it('a terminated instance: its Node is deleted (DeletingNode, RemovingNode)', async () => {
    const gone = (await nodes()).find((n) => n.spec?.providerID?.endsWith(ids[1]!))!;
    await c.terminate(ids[1]!);
    await handleNodeEvent({ controller: t.rt.controller, autoscaling }, stateChange(ids[1]!, 'terminated'));
    expect((await nodes()).map((n) => n.metadata?.name)).not.toContain(gone.metadata?.name);
    const evs = await nodeEvents(gone.metadata!.name!);
    expect(evs.filter((e) => e.reason === 'DeletingNode').map((e) => e.source?.component)).toEqual([
      'cloud-node-lifecycle-controller',
    ]);
    expect(reasons(evs)).toEqual(['DeletingNode x1', 'RegisteredNode x1', 'RemovingNode x1']);
  });
});

describe('load balancer Events on the Service', () => {
  let c: Cluster;
  let t: TestRuntime;
  const ns = uniqueName('lbev');
  const lbSvc = (labels: Record<string, string> = {}, type = 'LoadBalancer'): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns, labels },
    spec: { type, selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
  });
  const events = async () => t.rt.store.list<CoreV1Event>('Event', ns);

  beforeAll(async () => {
    c = await makeCluster();
    await c.addNode({}, 0);
    t = await makeTestRuntime({
      clusterName: c.clusterName,
      env: { VPC_ID: c.vpcId, SUBNET_IDS: c.subnetIds.join(','), NODE_SECURITY_GROUP_ID: c.nodeSgId },
    });
  });

  it('EnsuringLoadBalancer and EnsuredLoadBalancer, about the Service (uid), from service-controller', async () => {
    await t.rt.api.applyService(lbSvc());
    const drained = await drainLog(t.rt.store, t.rt.controller, 0);
    expect(drained.messages.some((m) => m.kind === 'Event')).toBe(false);
    const svc = await t.rt.api.getService(ns, 'web');
    expect(svc.status?.loadBalancer?.ingress?.[0]?.hostname).toBeDefined();
    const evs = await events();
    expect(reasons(evs)).toEqual(['EnsuredLoadBalancer x1', 'EnsuringLoadBalancer x1']);
    for (const e of evs) {
      expect(e.involvedObject).toMatchObject({ kind: 'Service', namespace: ns, name: 'web', uid: svc.metadata?.uid });
      expect(e.source?.component).toBe('service-controller');
      expect(e.reportingComponent).toBe('service-controller');
    }
    expect(evs.find((e) => e.reason === 'EnsuredLoadBalancer')?.message).toBe('Ensured load balancer');
  });

  it('the Service changed: the same two Events, count 2, no new Event objects', async () => {
    const rev = await t.rt.store.currentRevision();
    await t.rt.api.applyService(lbSvc({ tier: 'front' }));
    await drainLog(t.rt.store, t.rt.controller, rev);
    const evs = await events();
    expect(reasons(evs)).toEqual(['EnsuredLoadBalancer x2', 'EnsuringLoadBalancer x2']);
    const ensured = evs.find((e) => e.reason === 'EnsuredLoadBalancer')!;
    expect(Date.parse(String(ensured.lastTimestamp))).toBeGreaterThan(Date.parse(String(ensured.firstTimestamp)));
  });

  it('a node joins: UpdatedLoadBalancer with new hosts', async () => {
    const id = await c.addNode({}, 1);
    await handleNodeEvent(
      { controller: t.rt.controller, autoscaling: new AutoScalingClient({}) },
      stateChange(id, 'running'),
    );
    const updated = (await events()).find((e) => e.reason === 'UpdatedLoadBalancer');
    expect(updated?.message).toBe('Updated load balancer with new hosts');
  });

  it('no longer a LoadBalancer: DeletingLoadBalancer and DeletedLoadBalancer', async () => {
    const rev = await t.rt.store.currentRevision();
    await t.rt.api.applyService(lbSvc({ tier: 'front' }, 'ClusterIP'));
    await drainLog(t.rt.store, t.rt.controller, rev);
    expect(reasons(await events())).toEqual([
      'DeletedLoadBalancer x1',
      'DeletingLoadBalancer x1',
      'EnsuredLoadBalancer x2',
      'EnsuringLoadBalancer x2',
      'UpdatedLoadBalancer x1',
    ]);
  });
});
