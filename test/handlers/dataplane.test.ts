import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { InvalidError } from '../../lib/errors.js';
import { handlePushRecords, handleSsmStatus, parsePushRequest } from '../../lib/handlers/dataplane.js';
import { InMemoryDataPlaneStateStore, type PushRecord } from '../../lib/dataplane/state-store.js';
import type { CommandStatusEvent } from '../../lib/dataplane/ssm-driver.js';
import type { Runtime } from '../../lib/runtime/runtime.js';

const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0fedcba9876543210';

describe('parsePushRequest', () => {
  it.each([
    ['{"generation":0}', { generation: 0, full: false, retryInstances: [] }],
    ['{"generation":12,"full":true}', { generation: 12, full: true, retryInstances: [] }],
    // Only a JSON true forces a full push; anything else is a delta request.
    ['{"generation":12,"full":"true"}', { generation: 12, full: false, retryInstances: [] }],
    [
      `{"generation":3,"retryInstances":["${I1}","mi-0123456789abcdef0","i-12345678"]}`,
      { generation: 3, full: false, retryInstances: [I1, 'mi-0123456789abcdef0', 'i-12345678'] },
    ],
    ['{"generation":1,"retryInstances":[],"extra":"ignored"}', { generation: 1, full: false, retryInstances: [] }],
  ])('accepts %s', (body, want) => {
    expect(parsePushRequest(body)).toEqual(want);
  });

  const GEN = 'invalid push request: generation: must be a non-negative integer';
  const IDS = 'invalid push request: retryInstances: must be EC2 instance ids';
  it.each([
    ['{"generation":', 'invalid push request: not JSON'],
    ['', 'invalid push request: not JSON'],
    ['null', GEN],
    ['42', GEN],
    ['[]', GEN],
    ['{}', GEN],
    ['{"generation":-1}', GEN],
    ['{"generation":1.5}', GEN],
    ['{"generation":"3"}', GEN],
    [`{"generation":1,"retryInstances":"${I1}"}`, IDS],
    ['{"generation":1,"retryInstances":[5]}', IDS],
    ['{"generation":1,"retryInstances":["i-123"]}', IDS], // too short
    ['{"generation":1,"retryInstances":["i-0123456789ABCDEF0"]}', IDS], // ids are lower-case hex
    ['{"generation":1,"retryInstances":["i-0123456789abcdef0123"]}', IDS], // too long
    ['{"generation":1,"retryInstances":["node-1"]}', IDS],
    // Whatever reaches SSM as an InstanceId must be an id, never text that could mean something else.
    [`{"generation":1,"retryInstances":["${I1}; reboot"]}`, IDS],
    [`{"generation":1,"retryInstances":["${I1}","$(id)"]}`, IDS],
  ])('rejects %s', (body, message) => {
    expect(() => parsePushRequest(body)).toThrow(InvalidError);
    expect(() => parsePushRequest(body)).toThrow(message);
  });
});

/** A pusher that records what it was asked for. */
function fakePusher() {
  const calls: { reason?: string; raw?: unknown }[] = [];
  return {
    calls,
    async request(reason: string) {
      calls.push({ reason });
    },
    async requestRaw(raw: unknown) {
      calls.push({ raw });
    },
  };
}

function statusEvent(commandId: string, instanceId: string, status: string): CommandStatusEvent {
  return {
    source: 'aws.ssm',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    detail: { 'command-id': commandId, 'instance-id': instanceId, status, 'document-name': 'sscontroller-dataplane' },
  };
}

function runtimeWith(store: InMemoryDataPlaneStateStore, pusher: ReturnType<typeof fakePusher>): Runtime {
  // handleSsmStatus only reads these two members of the Runtime.
  return { dataPlaneStore: store, pusher } as unknown as Runtime;
}

describe('handleSsmStatus', () => {
  it('a Failed invocation marks the node and asks the pusher to retry exactly that instance', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-7', 7);
    const pusher = fakePusher();
    const node = await handleSsmStatus(runtimeWith(store, pusher), statusEvent('cmd-7', I1, 'Failed'));
    expect(node).toMatchObject({ instanceId: I1, appliedVersion: 0, lastStatus: 'Failed', failedVersion: 7 });
    expect(pusher.calls).toEqual([{ raw: { retryInstances: [I1] } }]);
    expect(await store.listNodes()).toHaveLength(1);
  });

  it.each(['TimedOut', 'Delivery Timed Out', 'Undeliverable', 'Cancelled', 'Terminated', 'Execution Timed Out'])(
    'every final failure status (%s) asks for a retry',
    async (status) => {
      const store = new InMemoryDataPlaneStateStore();
      await store.putCommand('cmd-1', 1);
      const pusher = fakePusher();
      await handleSsmStatus(runtimeWith(store, pusher), statusEvent('cmd-1', I2, status));
      expect(pusher.calls).toEqual([{ raw: { retryInstances: [I2] } }]);
    },
  );

  it('a Success records the applied version and asks for nothing', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-3', 3);
    const pusher = fakePusher();
    const node = await handleSsmStatus(runtimeWith(store, pusher), statusEvent('cmd-3', I1, 'Success'));
    expect(node).toMatchObject({ instanceId: I1, appliedVersion: 3, lastStatus: 'Success' });
    expect(node?.failedVersion).toBeUndefined();
    expect(pusher.calls).toEqual([]);
  });

  it('a later success clears the failure (only the failure itself asked for a retry)', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-4', 4);
    await store.putCommand('cmd-5', 5);
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    await handleSsmStatus(rt, statusEvent('cmd-4', I1, 'Failed'));
    const node = await handleSsmStatus(rt, statusEvent('cmd-5', I1, 'Success'));
    expect(node).toMatchObject({ appliedVersion: 5, lastStatus: 'Success' });
    expect(node?.failedVersion).toBeUndefined();
    expect(pusher.calls).toEqual([{ raw: { retryInstances: [I1] } }]);
  });

  it('a late failure of an older version than the node already applied asks for no retry', async () => {
    // Status events are not ordered: v6 succeeded, then the v5 failure arrives.
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-5', 5);
    await store.putCommand('cmd-6', 6);
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    await handleSsmStatus(rt, statusEvent('cmd-6', I1, 'Success'));
    const node = await handleSsmStatus(rt, statusEvent('cmd-5', I1, 'Failed'));
    expect(node?.appliedVersion).toBe(6);
    expect(pusher.calls).toEqual([]);
  });

  it('events for commands we did not send, non-final statuses and malformed details change nothing', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-1', 1);
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    expect(await handleSsmStatus(rt, statusEvent('someone-elses-command', I1, 'Failed'))).toBeUndefined();
    for (const s of ['Pending', 'InProgress', 'Delayed'])
      expect(await handleSsmStatus(rt, statusEvent('cmd-1', I1, s))).toBeUndefined();
    expect(await handleSsmStatus(rt, { detail: { 'command-id': '', 'instance-id': I1, status: 'Failed' } })).toBe(
      undefined,
    );
    expect(await handleSsmStatus(rt, {} as CommandStatusEvent)).toBeUndefined();
    expect(pusher.calls).toEqual([]);
    expect(await store.listNodes()).toEqual([]);
  });
});

describe('handlePushRecords', () => {
  it('without a configured data plane it skips', async () => {
    const out = await handlePushRecords({ driver: undefined } as unknown as Runtime, [{ body: '{"generation":1}' }]);
    expect(out).toEqual({ pushed: undefined, retried: [], skipped: 'data plane not configured' });
  });

  it('drops malformed requests, skips generations already pushed, and re-sends the latest push to retry ids', async () => {
    const store = new InMemoryDataPlaneStateStore();
    const last: PushRecord = {
      version: 9,
      generation: 5,
      stateKey: 'dataplane/c/state-9.json.gz',
      parameters: { mode: 'delta', version: '9', inline: 'e30=', manifestUrl: '', sha256: 'abc' } as never,
      commandId: 'cmd-9',
      pushedAt: '2026-11-21T15:00:00.000Z',
    };
    await store.putLastPush(last);
    const ssm = new SSMClient({ region: 'us-east-1' });
    const ssmMock = mockClient(ssm);
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-retry-1' } });
    const rt = {
      driver: {
        ssm,
        s3: new S3Client({ region: 'us-east-1' }),
        store,
        bucket: 'unused',
        documentName: 'sscontroller-dataplane',
        clusterName: 'c',
        loadDesired: () => {
          throw new Error('nothing newer than generation 5 was requested: no state should be loaded');
        },
      },
    } as unknown as Runtime;
    const out = await handlePushRecords(rt, [
      { body: 'garbage' },
      { body: '{"generation":4}' },
      { body: `{"generation":5,"retryInstances":["${I2}","not-an-id"]}` }, // malformed as a whole: dropped
      { body: `{"generation":5,"retryInstances":["${I1}"]}` },
    ]);
    expect(out).toEqual({ pushed: undefined, retried: ['cmd-retry-1'] });
    const sent = ssmMock.commandCalls(SendCommandCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.args[0].input).toMatchObject({
      DocumentName: 'sscontroller-dataplane',
      InstanceIds: [I1],
      Parameters: { mode: ['full'], version: ['9'] },
    });
    expect(await store.getCommandVersion('cmd-retry-1')).toBe(9);
  });
});
