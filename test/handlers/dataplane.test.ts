import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { InvalidError } from '../../lib/errors.js';
import { handlePushRecords, handleSsmStatus } from '../../lib/handlers/dataplane.js';
import { InMemoryDataPlaneStateStore, type PushRecord } from '../../lib/dataplane/state-store.js';
import type { CommandStatusEvent } from '../../lib/dataplane/ssm-driver.js';
import { parsePushRequest, type PushTrigger } from '../../lib/dataplane/triggers.js';
import type { Runtime } from '../../lib/runtime/runtime.js';

const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0fedcba9876543210';

describe('parsePushRequest', () => {
  it.each([
    ['{"kind":"objects","generation":0}', { kind: 'objects', generation: 0 }],
    ['{"kind":"resync","generation":12,"extra":"ignored"}', { kind: 'resync', generation: 12 }],
    [
      `{"kind":"node-joined","generation":3,"instanceId":"${I1}"}`,
      { kind: 'node-joined', generation: 3, instanceId: I1 },
    ],
    [`{"kind":"node-left","generation":3,"instanceId":"${I2}"}`, { kind: 'node-left', generation: 3, instanceId: I2 }],
    [
      `{"kind":"retry","instanceIds":["${I1}","mi-0123456789abcdef0","i-12345678"]}`,
      { kind: 'retry', instanceIds: [I1, 'mi-0123456789abcdef0', 'i-12345678'] },
    ],
  ])('accepts %s', (body, want) => {
    expect(parsePushRequest(body)).toEqual(want);
  });

  const KIND = 'invalid push request: kind: must be objects, node-joined, node-left, resync or retry';
  const GEN = 'invalid push request: generation: must be a non-negative integer';
  const IDS = 'invalid push request: instanceIds: must be EC2 instance ids';
  const ID = 'invalid push request: instanceId: must be an EC2 instance id';
  it.each([
    ['{"generation":', 'invalid push request: not JSON'],
    ['', 'invalid push request: not JSON'],
    ['null', KIND],
    ['42', KIND],
    ['[]', KIND],
    ['{"generation":1}', KIND], // the text of a reason is no trigger
    ['{"kind":"Service default/running ADDED","generation":1}', KIND],
    ['{"kind":"objects"}', GEN],
    ['{"kind":"objects","generation":-1}', GEN],
    ['{"kind":"resync","generation":1.5}', GEN],
    ['{"kind":"objects","generation":"3"}', GEN],
    ['{"kind":"node-joined","generation":1}', ID],
    ['{"kind":"node-left","generation":1,"instanceId":"node-1"}', ID],
    [`{"kind":"retry","instanceIds":"${I1}"}`, IDS],
    ['{"kind":"retry","instanceIds":[]}', IDS],
    ['{"kind":"retry","instanceIds":[5]}', IDS],
    ['{"kind":"retry","instanceIds":["i-123"]}', IDS], // too short
    ['{"kind":"retry","instanceIds":["i-0123456789ABCDEF0"]}', IDS], // ids are lower-case hex
    ['{"kind":"retry","instanceIds":["i-0123456789abcdef0123"]}', IDS], // too long
    // Whatever reaches SSM as an InstanceId must be an id, never text that could mean something else.
    [`{"kind":"retry","instanceIds":["${I1}; reboot"]}`, IDS],
    [`{"kind":"retry","instanceIds":["${I1}","$(id)"]}`, IDS],
  ])('rejects %s', (body, message) => {
    expect(() => parsePushRequest(body)).toThrow(InvalidError);
    expect(() => parsePushRequest(body)).toThrow(message);
  });
});

/** A pusher that records what it was asked for. */
function fakePusher() {
  const calls: PushTrigger[] = [];
  return {
    calls,
    async request(t: PushTrigger) {
      calls.push(t);
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

const NOW = new Date('2026-12-01T10:00:00.000Z');
function runtimeWith(store: InMemoryDataPlaneStateStore, pusher: ReturnType<typeof fakePusher>): Runtime {
  // handleSsmStatus reads these members of the Runtime; the clock is the driver's.
  return { dataPlaneStore: store, pusher, driver: { now: () => NOW } } as unknown as Runtime;
}
const cmd = (v: number) => ({ version: v, digests: { '*': `d${v}` } });

describe('handleSsmStatus', () => {
  it('a Failed invocation marks the node and schedules a retry of exactly that instance, after its backoff', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-7', cmd(7));
    const pusher = fakePusher();
    const out = await handleSsmStatus(runtimeWith(store, pusher), statusEvent('cmd-7', I1, 'Failed'));
    expect(out.node).toMatchObject({ instanceId: I1, appliedVersion: 0, lastStatus: 'Failed', failedVersion: 7 });
    expect(out).toMatchObject({ retryInSeconds: 10, gaveUp: false });
    expect(pusher.calls).toEqual([{ kind: 'retry', instanceIds: [I1], delaySeconds: 10 }]);
    expect(await store.listNodes(NOW)).toHaveLength(1);
  });

  it.each(['TimedOut', 'Delivery Timed Out', 'Undeliverable', 'Cancelled', 'Terminated', 'Execution Timed Out'])(
    'every final failure status (%s) schedules a retry',
    async (status) => {
      const store = new InMemoryDataPlaneStateStore();
      await store.putCommand('cmd-1', cmd(1));
      const pusher = fakePusher();
      await handleSsmStatus(runtimeWith(store, pusher), statusEvent('cmd-1', I2, status));
      expect(pusher.calls).toEqual([{ kind: 'retry', instanceIds: [I2], delaySeconds: 10 }]);
    },
  );

  it('a Success records the applied version and its digest, and asks for nothing', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-3', cmd(3));
    const pusher = fakePusher();
    const out = await handleSsmStatus(runtimeWith(store, pusher), statusEvent('cmd-3', I1, 'Success'));
    expect(out.node).toMatchObject({ instanceId: I1, appliedVersion: 3, appliedDigest: 'd3', lastStatus: 'Success' });
    expect(out.node?.failedVersion).toBeUndefined();
    expect(pusher.calls).toEqual([]);
  });

  it('a later success clears the failure series (only the failure itself asked for a retry)', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-4', cmd(4));
    await store.putCommand('cmd-5', cmd(5));
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    await handleSsmStatus(rt, statusEvent('cmd-4', I1, 'Failed'));
    const out = await handleSsmStatus(rt, statusEvent('cmd-5', I1, 'Success'));
    expect(out.node).toMatchObject({ appliedVersion: 5, lastStatus: 'Success', failures: 0 });
    expect(out.node?.failedVersion).toBeUndefined();
    expect(pusher.calls).toHaveLength(1);
  });

  it('a late failure of an older version than the node already applied asks for no retry', async () => {
    // Status events are not ordered: v6 succeeded, then the v5 failure arrives.
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-5', cmd(5));
    await store.putCommand('cmd-6', cmd(6));
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    await handleSsmStatus(rt, statusEvent('cmd-6', I1, 'Success'));
    const out = await handleSsmStatus(rt, statusEvent('cmd-5', I1, 'Failed'));
    expect(out.node?.appliedVersion).toBe(6);
    expect(pusher.calls).toEqual([]);
  });

  it('the same result delivered twice (EventBridge is at-least-once) counts once', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-2', cmd(2));
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    await handleSsmStatus(rt, statusEvent('cmd-2', I1, 'Failed'));
    expect((await handleSsmStatus(rt, statusEvent('cmd-2', I1, 'Failed'))).node).toBeUndefined();
    expect((await store.getNode(I1, NOW))?.failures).toBe(1);
    expect(pusher.calls).toHaveLength(1);
  });

  it('events for commands we did not send, non-final statuses and malformed details change nothing', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('cmd-1', cmd(1));
    const pusher = fakePusher();
    const rt = runtimeWith(store, pusher);
    const none = { node: undefined, gaveUp: false };
    expect(await handleSsmStatus(rt, statusEvent('someone-elses-command', I1, 'Failed'))).toEqual(none);
    for (const s of ['Pending', 'InProgress', 'Delayed'])
      expect(await handleSsmStatus(rt, statusEvent('cmd-1', I1, s))).toEqual(none);
    expect(await handleSsmStatus(rt, { detail: { 'command-id': '', 'instance-id': I1, status: 'Failed' } })).toEqual(
      none,
    );
    expect(await handleSsmStatus(rt, {} as CommandStatusEvent)).toEqual(none);
    expect(pusher.calls).toEqual([]);
    expect(await store.listNodes(NOW)).toEqual([]);
  });
});

describe('handlePushRecords', () => {
  it('without a configured data plane it skips', async () => {
    const out = await handlePushRecords({ driver: undefined } as unknown as Runtime, [
      { body: '{"kind":"objects","generation":1}' },
    ]);
    expect(out).toEqual({ retried: [], pruned: [], skipped: 'data plane not configured' });
  });

  it('drops malformed requests, skips generations already pushed, and re-sends the latest push to due retries', async () => {
    const store = new InMemoryDataPlaneStateStore();
    const last: PushRecord = {
      version: 9,
      generation: 5,
      stateKey: 'dataplane/c/state/v9.json.gz',
      digests: { '*': 'd9' },
      parameters: { mode: 'delta', version: '9', inline: 'e30=', manifestUrl: '', manifestSha256: 'abc' },
      commandIds: ['cmd-9'],
      pushedAt: '2026-12-01T09:59:00.000Z',
    };
    await store.putLastPush(last);
    const status = (failures: number, retryAt: string) => ({
      instanceId: I1,
      appliedVersion: 8,
      appliedDigest: 'd8',
      failedVersion: 9,
      failures,
      nextRetryAt: retryAt,
      updatedAt: NOW.toISOString(),
      expiresAt: '2027-01-01T00:00:00.000Z',
    });
    await store.updateNode(I1, () => status(1, '2026-12-01T09:59:59.000Z')); // due
    await store.updateNode(I2, () => ({ ...status(1, '2026-12-01T10:05:00.000Z'), instanceId: I2 })); // not yet
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
        now: () => NOW,
        loadDesired: () => {
          throw new Error('nothing newer than generation 5 was requested: no state should be loaded');
        },
      },
    } as unknown as Runtime;
    const out = await handlePushRecords(rt, [
      { body: 'garbage' },
      { body: '{"kind":"objects","generation":4}' },
      { body: `{"kind":"retry","instanceIds":["${I2}","not-an-id"]}` }, // malformed as a whole: dropped
      { body: `{"kind":"retry","instanceIds":["${I1}","${I2}"]}` },
    ]);
    expect(out).toEqual({ pushed: undefined, retried: [I1], pruned: [] });
    const sent = ssmMock.commandCalls(SendCommandCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.args[0].input).toMatchObject({
      DocumentName: 'sscontroller-dataplane',
      InstanceIds: [I1],
      Parameters: { mode: ['delta'], version: ['9'] },
    });
    expect(await store.getCommand('cmd-retry-1')).toEqual({ version: 9, digests: { '*': 'd9' } });
  });
});
