/**
 * Counting SendCommand calls (issue acceptance): the push path against moto (DynamoDB store, S3 artifacts, EC2 node
 * discovery), with SSM mocked by aws-sdk-client-mock so every call is counted exactly and results are fed back as
 * SSM's status events would be. The clock is simulated: retry delays are taken, not waited for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { makeAutoScalingClient } from '../../lib/aws/autoscaling-client.js';
import { readControllerEnv } from '../../lib/config-env.js';
import { nodeDataPlaneView } from '../../lib/dataplane/node-status.js';
import { digestFor } from '../../lib/dataplane/state-store.js';
import type { PushRequest } from '../../lib/dataplane/triggers.js';
import { handlePushRecords, handleSsmStatus } from '../../lib/handlers/dataplane.js';
import { handleNodeEvent } from '../../lib/handlers/node-events.js';
import { ensureLocalClusterAws, launchLocalNode, type LocalNode } from '../../tools/local/cluster-aws.js';
import { buildRuntime, type Runtime } from '../../lib/runtime/runtime.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { RecordingLogger, RecordingPusher } from '../handlers/support.js';

const ssm = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const ssmMock = mockClient(ssm);
let seq = 0;
ssmMock.on(SendCommandCommand).callsFake(() => ({ Command: { CommandId: `cmd-${++seq}` } }));

describe('SendCommand counts', () => {
  const clients = motoClients();
  const pusher = new RecordingPusher();
  let rt: Runtime;
  let nodes: LocalNode[];
  let clock = new Date('2026-12-01T10:00:00.000Z');
  let failing = new Set<string>();
  let reported = 0;
  let handled = 0;
  const ns = uniqueName('ns');

  /** Feeds SSM's result of every command not reported yet: Success, or Failed for the nodes in `failing`. */
  async function report(): Promise<void> {
    const calls = ssmMock.commandCalls(SendCommandCommand);
    for (const c of calls.slice(reported)) {
      const id = ((await c.returnValue) as { Command: { CommandId: string } }).Command.CommandId;
      const targets = c.args[0].input.InstanceIds ?? nodes.map((n) => n.instanceId);
      for (const i of targets) {
        const status = failing.has(i) ? 'Failed' : 'Success';
        await handleSsmStatus(rt, {
          source: 'aws.ssm',
          'detail-type': 'EC2 Command Invocation Status-change Notification',
          detail: { 'command-id': id, 'instance-id': i, status },
        });
      }
    }
    reported = calls.length;
  }

  /** Delivers the triggers recorded so far as the push queue would (retries after their delay), then reports. */
  async function deliver(): Promise<void> {
    while (handled < pusher.triggers.length) {
      const t = pusher.triggers[handled++]!;
      let req: PushRequest;
      if (t.kind === 'retry') {
        clock = new Date(clock.getTime() + (t.delaySeconds ?? 0) * 1000);
        req = { kind: 'retry', instanceIds: t.instanceIds };
      } else {
        req = {
          ...t,
          generation: await rt.api.store.nextSequence(`dataplane-generation-${rt.env.cluster.clusterName}`),
        };
      }
      await handlePushRecords(rt, [{ body: JSON.stringify(req) }]);
      await report();
    }
  }

  const sent = () => ssmMock.commandCalls(SendCommandCommand).length;

  beforeAll(async () => {
    const tableName = uniqueName('count');
    const clusterName = uniqueName('cnt');
    const bucket = uniqueName('count-artifacts');
    await ensureTable(clients.dynamodb, tableName);
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const env = readControllerEnv({
      TABLE_NAME: tableName,
      CLUSTER_NAME: clusterName,
      ARTIFACT_BUCKET: bucket,
      SSM_DOCUMENT_NAME: 'ssc-count-dataplane',
    });
    rt = buildRuntime(env, { clients, pusher, log: new RecordingLogger(), ssm });
    rt.driver!.now = () => clock;
    const aws = await ensureLocalClusterAws(clients.ec2, clusterName, 'us-east-1');
    nodes = [];
    for (const i of [0, 1, 2]) nodes.push(await launchLocalNode(clients.ec2, clusterName, aws, i));
    await rt.api.applyService({
      metadata: { namespace: ns, name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    } as V1Service);
    await rt.controller.resync();
    await deliver();
  });

  it('the first resync pushed once, to the node selector; every node applied it', async () => {
    expect(sent()).toBe(1);
    expect(ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input.Targets).toEqual([
      { Key: `tag:kubernetes.io/cluster/${rt.env.cluster.clusterName}`, Values: ['owned', 'shared'] },
    ]);
    const last = (await rt.dataPlaneStore.getLastPush())!;
    for (const n of nodes)
      expect(nodeDataPlaneView(n.instanceId, await rt.dataPlaneStore.getNode(n.instanceId, clock), last).state).toBe(
        'InSync',
      );
  });

  it('a resync with no change makes 0 SendCommand calls', async () => {
    const before = sent();
    for (let i = 0; i < 3; i++) {
      await rt.controller.resync();
      await deliver();
    }
    expect(sent() - before).toBe(0);
  });

  it("an unrelated instance's `running` event makes 0 (and asks for nothing); a node already in sync gets nothing", async () => {
    const before = sent();
    const triggers = pusher.triggers.length;
    const r = await clients.ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
    );
    const stranger = r.Instances![0]!.InstanceId!;
    const deps = { controller: rt.controller, autoscaling: makeAutoScalingClient({ maxAttempts: 3 }) };
    const ev = (id: string) => ({
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': id, state: 'running' },
    });
    expect((await handleNodeEvent(deps, ev(stranger))).kind).toBe('ignored');
    expect(pusher.triggers.length).toBe(triggers);
    await handleNodeEvent(deps, ev(nodes[0]!.instanceId)); // a cluster node (re)reported running, already in sync
    await deliver();
    expect(sent() - before).toBe(0);
  });

  it('a failing node gets a bounded, growing-interval series of retries, alone, and no new version for anyone', async () => {
    const victim = nodes[2]!.instanceId;
    failing = new Set([victim]);
    const pod: V1Pod = {
      metadata: { namespace: ns, name: 'web-1', labels: { app: 'web' } },
      spec: { nodeName: nodes[0]!.name, containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Running', podIP: '10.244.1.7', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    await rt.api.applyPod(pod);
    const before = sent();
    await pusher.request({ kind: 'objects' });
    const triggersBefore = pusher.triggers.length - 1;
    await deliver();
    const last = (await rt.dataPlaneStore.getLastPush())!;
    const calls = ssmMock.commandCalls(SendCommandCommand).slice(before);
    // the change itself: one command to the selector; then retries of the victim only
    expect(calls[0]!.args[0].input.Targets).toBeDefined();
    const retries = calls.slice(1).map((c) => c.args[0].input);
    expect(retries).toHaveLength(5);
    for (const r of retries) {
      expect(r.InstanceIds).toEqual([victim]);
      expect(r.Targets).toBeUndefined();
      expect(r.Parameters!.version).toEqual([String(last.version)]); // the same push re-sent: no new version
    }
    const delays = pusher.triggers.slice(triggersBefore).flatMap((t) => (t.kind === 'retry' ? [t.delaySeconds] : []));
    expect(delays).toEqual([10, 20, 40, 80, 160]);
    const view = nodeDataPlaneView(victim, await rt.dataPlaneStore.getNode(victim, clock), last);
    expect(view).toMatchObject({ state: 'Failing', failures: 6 });
    // the other nodes hold the latest push and were sent nothing after it
    for (const n of nodes.slice(0, 2))
      expect((await rt.dataPlaneStore.getNode(n.instanceId, clock))?.appliedDigest).toBe(
        digestFor(last.digests, n.instanceId),
      );
    // reported and left alone: a resync (nothing changed) does not retry it
    const afterSeries = sent();
    await rt.controller.resync();
    await deliver();
    expect(sent()).toBe(afterSeries);
  });

  it('until something changes for it: new content starts a new series (and the node recovers)', async () => {
    const victim = nodes[2]!.instanceId;
    failing = new Set();
    await rt.api.updatePodStatus(ns, 'web-1', (st) => ({
      ...st,
      conditions: [{ type: 'Ready', status: 'False' }],
    }));
    const before = sent();
    await pusher.request({ kind: 'objects' });
    await deliver();
    expect(sent() - before).toBe(1);
    const last = (await rt.dataPlaneStore.getLastPush())!;
    expect(nodeDataPlaneView(victim, await rt.dataPlaneStore.getNode(victim, clock), last)).toMatchObject({
      state: 'InSync',
      failures: 0,
    });
  });
});
