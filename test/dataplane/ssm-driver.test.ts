/** SSM driver: exact payloads with aws-sdk-client-mock, whole behaviour against moto. */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesce } from '../../lib/dataplane/coalesce.js';
import {
  failedNodes,
  handleCommandStatusEvent,
  handlePushBatch,
  pushDataPlane,
  retryNodes,
  type CommandStatusEvent,
  type DriverDeps,
} from '../../lib/dataplane/ssm-driver.js';
import { PARAMETER_PATTERNS, ssmDocumentContent, substituteParameters } from '../../lib/dataplane/ssm-document.js';
import {
  InMemoryDataPlaneStateStore,
  RecordStoreDataPlaneStateStore,
  type RecordApi,
} from '../../lib/dataplane/state-store.js';
import { ConflictError, InvalidError } from '../../lib/errors.js';
import { clusterState } from './fixtures.js';

const ssmMock = mockClient(SSMClient);
const s3Mock = mockClient(S3Client);
afterEach(() => {
  ssmMock.reset();
  s3Mock.reset();
});

function mockedDeps(store = new InMemoryDataPlaneStateStore()): DriverDeps {
  ssmMock.on(SendCommandCommand).callsFake(() => ({ Command: { CommandId: `cmd-${ssmMock.calls().length}` } }));
  s3Mock.on(PutObjectCommand).resolves({});
  s3Mock.on(GetObjectCommand).rejects(new Error('NoSuchKey'));
  return {
    ssm: new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    store,
    bucket: 'artifacts',
    documentName: 'sscontroller-dataplane',
    clusterName: 'demo',
    presign: async (key) => `https://artifacts.s3.us-east-1.amazonaws.com/${key}?X-Amz-Signature=abc`,
  };
}

const event = (commandId: string, instanceId: string, status: string): CommandStatusEvent => ({
  source: 'aws.ssm',
  'detail-type': 'EC2 Command Invocation Status-change Notification',
  detail: { 'command-id': commandId, 'instance-id': instanceId, status },
});

describe('SSM document', () => {
  it('is schema 2.2 runShellScript with every parameter guarded by allowedPattern, within the size budget', () => {
    const doc = ssmDocumentContent();
    expect(doc.schemaVersion).toBe('2.2');
    expect(doc.mainSteps[0]!.action).toBe('aws:runShellScript');
    expect(Object.keys(doc.parameters).sort()).toEqual(Object.keys(PARAMETER_PATTERNS).sort());
    for (const p of Object.values(doc.parameters)) expect(p.allowedPattern).toMatch(/^\^.*\$$/);
    expect(JSON.stringify(doc).length).toBeLessThan(32 * 1024);
    // No pattern admits a quote, so a value can never leave its single quotes in the script.
    for (const pat of Object.values(PARAMETER_PATTERNS)) expect(new RegExp(pat).test("a'b")).toBe(false);
  });

  it('substitutes {{ name }} like SSM, with any inner spacing', () => {
    expect(
      substituteParameters(["x='{{ version }}' y='{{mode}}' z='{{  other }}'"], { version: '7', mode: 'full' }),
    ).toEqual(["x='7' y='full' z='{{  other }}'"]);
  });
});

describe('pushDataPlane (exact payloads)', () => {
  it('sends ONE SendCommand targeted by the cluster tag, with concurrency and error limits', async () => {
    const deps = mockedDeps();
    const r = await pushDataPlane(deps, clusterState(), { generation: 3 });
    expect(r).toMatchObject({ version: 1, commandId: 'cmd-1', inline: true });
    const calls = ssmMock.commandCalls(SendCommandCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({
      DocumentName: 'sscontroller-dataplane',
      Targets: [{ Key: 'tag:kubernetes.io/cluster/demo', Values: ['owned', 'shared'] }],
      MaxConcurrency: '50%',
      MaxErrors: '25%',
    });
    expect(input.InstanceIds).toBeUndefined();
    const p = input.Parameters!;
    expect(p.version).toEqual(['1']);
    expect(p.mode).toEqual(['delta']);
    expect(p.manifestUrl).toEqual(['']);
    // the sha256 parameter is the sha256 of the inline archive the agent receives
    expect(createHash('sha256').update(Buffer.from(p.inline![0]!, 'base64')).digest('hex')).toBe(p.manifestSha256![0]);
    // bundles (content addressed) and the state snapshot went to S3
    const keys = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toContain('dataplane/demo/state/v1.json.gz');
    expect(keys.filter((k) => /^dataplane\/demo\/bundles\/[0-9a-f]{64}\.tgz$/.test(k!))).toHaveLength(2); // node-1 differs (Local endpoint), node-2 = '*'
    expect(await deps.store.getCommandVersion('cmd-1')).toBe(1);
  });

  it('uses a presigned manifest URL when the push does not fit inline', async () => {
    const deps = { ...mockedDeps(), inlineBudget: 10 };
    await pushDataPlane(deps, clusterState());
    const p = ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input.Parameters!;
    expect(p.inline).toEqual(['']);
    expect(p.manifestUrl![0]).toBe(
      'https://artifacts.s3.us-east-1.amazonaws.com/dataplane/demo/manifests/v1.tsv?X-Amz-Signature=abc',
    );
    const manifest = s3Mock
      .commandCalls(PutObjectCommand)
      .find((c) => c.args[0].input.Key === 'dataplane/demo/manifests/v1.tsv')!;
    const body = String(manifest.args[0].input.Body);
    expect(createHash('sha256').update(body).digest('hex')).toBe(p.manifestSha256![0]);
    expect(
      body
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['i-00000000000000001', 'i-00000000000000002', '*']);
  });

  it('refuses bad state with an apiserver-style error and sends nothing', async () => {
    const deps = mockedDeps();
    const bad = clusterState();
    bad.services[1]!.spec!.clusterIP = "10.96.0.10'; reboot #";
    await expect(pushDataPlane(deps, bad)).rejects.toThrow(InvalidError);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('retries specific nodes with at most 50 InstanceIds per call', async () => {
    const deps = mockedDeps();
    await pushDataPlane(deps, clusterState());
    ssmMock.resetHistory();
    const ids = Array.from({ length: 120 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    const sent = await retryNodes(deps, ids);
    const calls = ssmMock.commandCalls(SendCommandCommand);
    expect(calls.map((c) => c.args[0].input.InstanceIds!.length)).toEqual([50, 50, 20]);
    expect(
      calls.every((c) => c.args[0].input.Targets === undefined && c.args[0].input.Parameters!.mode![0] === 'full'),
    ).toBe(true);
    expect(sent).toHaveLength(3);
  });

  it('coalesces a burst of requests into one push, then retries failed nodes', async () => {
    const deps = mockedDeps();
    let loads = 0;
    const loadDesired = async () => {
      loads++;
      return { generation: 12, state: clusterState() };
    };
    const burst = Array.from({ length: 10 }, (_, i) => ({ generation: i + 3 }));
    const r1 = await handlePushBatch(burst, { ...deps, loadDesired });
    expect(r1.pushed?.version).toBe(1);
    expect(loads).toBe(1);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    // the same (old) generations again: nothing new to push
    const r2 = await handlePushBatch(burst, { ...deps, loadDesired });
    expect(r2.pushed).toBeUndefined();
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    // a node failed: the next batch re-sends to it only
    await handleCommandStatusEvent(event('cmd-1', 'i-00000000000000002', 'Failed'), deps);
    expect(await failedNodes(deps.store)).toEqual(['i-00000000000000002']);
    const r3 = await handlePushBatch([], { ...deps, loadDesired });
    expect(r3.retried).toHaveLength(1);
    expect(ssmMock.commandCalls(SendCommandCommand)[1]!.args[0].input.InstanceIds).toEqual(['i-00000000000000002']);
  });
});

describe('coalesce', () => {
  it('takes the newest generation, ORs full, unions retries, and drops what was already pushed', () => {
    expect(
      coalesce(
        [{ generation: 4 }, { generation: 9, full: true }, { generation: 7, retryInstances: ['i-b', 'i-a'] }],
        5,
      ),
    ).toEqual({
      generation: 9,
      full: true,
      retryInstances: ['i-a', 'i-b'],
    });
    expect(coalesce([{ generation: 4, full: true }], 5)).toEqual({
      generation: undefined,
      full: false,
      retryInstances: [],
    });
  });
});

describe('handleCommandStatusEvent', () => {
  it('raises applied versions monotonically, records failures, ignores foreign and non-final events', async () => {
    const store = new InMemoryDataPlaneStateStore();
    await store.putCommand('c5', 5);
    await store.putCommand('c4', 4);
    await store.putCommand('c6', 6);
    expect(await handleCommandStatusEvent(event('c5', 'i-1', 'Success'), { store })).toMatchObject({
      appliedVersion: 5,
    });
    // a late event of an older command never lowers it
    expect(await handleCommandStatusEvent(event('c4', 'i-1', 'Success'), { store })).toMatchObject({
      appliedVersion: 5,
    });
    expect(await handleCommandStatusEvent(event('c6', 'i-1', 'TimedOut'), { store })).toMatchObject({
      appliedVersion: 5,
      failedVersion: 6,
    });
    expect(await handleCommandStatusEvent(event('c6', 'i-1', 'InProgress'), { store })).toBeUndefined();
    expect(await handleCommandStatusEvent(event('other', 'i-1', 'Success'), { store })).toBeUndefined();
    expect(await handleCommandStatusEvent(event('c6', 'i-1', 'Success'), { store })).toMatchObject({
      appliedVersion: 6,
      failedVersion: undefined,
    });
  });
});

describe('RecordStoreDataPlaneStateStore', () => {
  it('maps onto getRecord/putRecord/nextSequence and retries node updates on conflict', async () => {
    const rows = new Map<string, { data: unknown; version: number }>();
    let conflicts = 1;
    const api: RecordApi = {
      async getRecord<T>(kind: string, id: string) {
        const r = rows.get(`${kind}|${id}`);
        return r ? { id, data: structuredClone(r.data) as T, version: r.version } : undefined;
      },
      async putRecord<T>(kind: string, id: string, data: T, expected?: number) {
        const cur = rows.get(`${kind}|${id}`);
        if (id.endsWith('/nodes') && conflicts-- > 0) throw new ConflictError('modified');
        if (expected !== undefined && (cur?.version ?? 0) !== expected) throw new ConflictError('modified');
        rows.set(`${kind}|${id}`, { data, version: (cur?.version ?? 0) + 1 });
        return (cur?.version ?? 0) + 1;
      },
      async nextSequence() {
        return 42;
      },
    };
    const s = new RecordStoreDataPlaneStateStore(api, 'demo');
    expect(await s.nextVersion()).toBe(42);
    await s.putCommand('c1', 42);
    expect(await s.getCommandVersion('c1')).toBe(42);
    await s.updateNode('i-1', () => ({ instanceId: 'i-1', appliedVersion: 42, updatedAt: 'now' }));
    expect(await s.listNodes()).toEqual([{ instanceId: 'i-1', appliedVersion: 42, updatedAt: 'now' }]);
  });
});
