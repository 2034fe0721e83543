/** SSM driver: exact payloads with aws-sdk-client-mock, whole behaviour against moto. */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { buildPush } from '../../lib/dataplane/bundle.js';
import { coalesce } from '../../lib/dataplane/triggers.js';
import {
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

const NOW = new Date('2026-12-01T10:00:00.000Z');

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
    now: () => NOW,
  };
}

/** Every node of the push reports Success for every command sent so far. */
async function allApplied(deps: DriverDeps): Promise<void> {
  for (const c of ssmMock.commandCalls(SendCommandCommand)) {
    const id = (await c.returnValue)?.Command?.CommandId as string;
    const ids = c.args[0].input.InstanceIds ?? ['i-00000000000000001', 'i-00000000000000002'];
    for (const i of ids) await handleCommandStatusEvent(event(id, i, 'Success'), deps);
  }
}

/** The files of a bundle (.tgz, ustar), by name. */
function untar(tgz: Buffer): Record<string, string> {
  const b = gunzipSync(tgz);
  const out: Record<string, string> = {};
  for (let off = 0; off + 512 <= b.length && b[off] !== 0;) {
    const name = b
      .subarray(off, off + 100)
      .toString()
      .replace(/\0.*$/s, '');
    const size = parseInt(b.subarray(off + 124, off + 136).toString(), 8);
    out[name] = b.subarray(off + 512, off + 512 + size).toString();
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
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
    expect(JSON.stringify(doc).length).toBeLessThan(40 * 1024);
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
  it('first push: ONE SendCommand targeted by the node selector, with concurrency and error limits', async () => {
    const deps = mockedDeps();
    const r = await pushDataPlane(deps, clusterState(), { generation: 3 });
    expect(r).toMatchObject({ version: 1, commandIds: ['cmd-1'], targets: 'all', inline: true });
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
    expect(await deps.store.getCommand('cmd-1')).toMatchObject({ version: 1 });
    expect((await deps.store.getLastPush())?.endpointNodes).toEqual(['node-1', 'node-2']);
  });

  it('uses a presigned manifest URL when the push does not fit inline; nodes with the shared bundle are not listed', async () => {
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
    ).toEqual(['i-00000000000000001', '*']);
  });

  it('refuses bad state with an apiserver-style error and sends nothing', async () => {
    const deps = mockedDeps();
    const bad = clusterState();
    bad.services[1]!.spec!.clusterIP = "10.96.0.10'; reboot #";
    await expect(pushDataPlane(deps, bad)).rejects.toThrow(InvalidError);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('renders nothing new when no node content changed: no version, no S3 write, no SendCommand', async () => {
    const deps = mockedDeps();
    await pushDataPlane(deps, clusterState());
    ssmMock.resetHistory();
    s3Mock.resetHistory();
    const same = clusterState();
    same.services[1]!.status = { loadBalancer: { ingress: [{ hostname: 'x.elb.amazonaws.com' }] } }; // not rendered
    expect(await pushDataPlane(deps, same)).toBeUndefined();
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect((await deps.store.getLastPush())?.version).toBe(1);
  });

  it('sends a new version only to the nodes whose content differs from what they hold, by InstanceIds', async () => {
    const deps = mockedDeps();
    await pushDataPlane(deps, clusterState());
    await allApplied(deps);
    const v2 = clusterState();
    v2.endpoints[0]!.endpoints.pop();
    const r2 = await pushDataPlane(deps, v2);
    // every node's rules change with an endpoint: one command for the whole selector
    expect(r2).toMatchObject({ version: 2, targets: 'all' });
    const cmd2 = r2!.commandIds[0]!;
    await handleCommandStatusEvent(event(cmd2, 'i-00000000000000001', 'Success'), deps);
    await handleCommandStatusEvent(event(cmd2, 'i-00000000000000002', 'Failed'), deps);
    ssmMock.resetHistory();
    // the change is undone: node-2 (which never got v2) already holds that content; only node-1 needs it
    const r3 = await pushDataPlane(deps, clusterState());
    expect(r3).toMatchObject({ version: 3, targets: ['i-00000000000000001'] });
    const calls = ssmMock.commandCalls(SendCommandCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({ InstanceIds: ['i-00000000000000001'], MaxErrors: '100%' });
    expect(calls[0]!.args[0].input.Targets).toBeUndefined();
  });

  it('a node standing at an older version gets a delta from that version; others from the last push', () => {
    const v1 = clusterState();
    const v2 = structuredClone(v1);
    v2.endpoints[0]!.endpoints.pop();
    const v3 = structuredClone(v2);
    v3.endpoints[2]!.endpoints.pop();
    const push = buildPush({
      next: v3,
      version: 3,
      prev: { state: v2, version: 2 },
      nodeBases: [{ version: 1, state: v1, instanceIds: ['i-00000000000000002'] }],
    });
    const entry = (id: string) => push.entries.find((e) => e.instanceId === id)!.sha256;
    const star = untar(push.bundles.get(entry('*'))!);
    const n2 = untar(push.bundles.get(entry('i-00000000000000002'))!);
    expect(star['delta.base']).toBe('2\n');
    expect(n2['delta.base']).toBe('1\n');
    expect(n2['ruleset.nft']).toBe(star['ruleset.nft']); // same content, another starting point
    expect(push.digests['*']).toBeDefined();
    // an older version whose state is not at hand: the full ruleset only (the agent does a full sync)
    const noState = buildPush({
      next: v3,
      version: 3,
      prev: { state: v2, version: 2 },
      nodeBases: [{ version: 1, instanceIds: ['i-00000000000000002'] }],
    });
    const files = untar(
      noState.bundles.get(noState.entries.find((e) => e.instanceId === 'i-00000000000000002')!.sha256)!,
    );
    expect(files['delta.nft']).toBeUndefined();
  });

  it('retries specific nodes with at most 50 InstanceIds per call, re-sending the latest push (no new version)', async () => {
    const deps = mockedDeps();
    await pushDataPlane(deps, clusterState());
    ssmMock.resetHistory();
    const ids = Array.from({ length: 120 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    const sent = await retryNodes(deps, ids);
    const calls = ssmMock.commandCalls(SendCommandCommand);
    expect(calls.map((c) => c.args[0].input.InstanceIds!.length)).toEqual([50, 50, 20]);
    expect(
      calls.every((c) => c.args[0].input.Targets === undefined && c.args[0].input.Parameters!.version![0] === '1'),
    ).toBe(true);
    expect(calls.every((c) => c.args[0].input.MaxErrors === '100%')).toBe(true);
    expect(sent).toHaveLength(3);
    expect((await deps.store.getLastPush())?.version).toBe(1);
  });

  it('coalesces a burst of triggers into one render; a node that joins gets the latest push, alone', async () => {
    const deps = mockedDeps();
    let loads = 0;
    const loadDesired = async () => {
      loads++;
      return { generation: 12, state: clusterState() };
    };
    const burst = Array.from({ length: 10 }, (_, i) => ({ kind: 'objects' as const, generation: i + 3 }));
    const r1 = await handlePushBatch(burst, { ...deps, loadDesired });
    expect(r1.pushed?.version).toBe(1);
    expect(loads).toBe(1);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    await allApplied(deps);
    // the same (old) generations again: nothing new to render, nothing sent
    const r2 = await handlePushBatch(burst, { ...deps, loadDesired });
    expect(r2).toEqual({ pushed: undefined, retried: [], pruned: [] });
    expect(loads).toBe(1);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    // a third node joins: same content for everyone, so no new version; the new node alone gets the latest push
    const joinedState = clusterState();
    joinedState.nodes.push({ ...joinedState.nodes[0]!, name: 'node-3', instanceId: 'i-00000000000000003' });
    const r3 = await handlePushBatch([{ kind: 'node-joined', instanceId: 'i-00000000000000003', generation: 20 }], {
      ...deps,
      loadDesired: async () => ({ generation: 20, state: joinedState }),
    });
    expect(r3).toEqual({ pushed: undefined, retried: ['i-00000000000000003'], pruned: [] });
    const last = ssmMock.commandCalls(SendCommandCommand).at(-1)!.args[0].input;
    expect(last).toMatchObject({ InstanceIds: ['i-00000000000000003'], Parameters: { version: ['1'] } });
  });
});

describe('coalesce', () => {
  it('takes the newest generation, notes resyncs and joins, unions retries, and drops what was already pushed', () => {
    expect(
      coalesce(
        [
          { kind: 'objects', generation: 4 },
          { kind: 'resync', generation: 9 },
          { kind: 'node-joined', instanceId: 'i-b', generation: 7 },
          { kind: 'retry', instanceIds: ['i-b', 'i-a'] },
        ],
        5,
      ),
    ).toEqual({ generation: 9, resync: true, joined: ['i-b'], retryInstances: ['i-a', 'i-b'] });
    expect(coalesce([{ kind: 'objects', generation: 4 }], 5)).toEqual({
      generation: undefined,
      resync: false,
      joined: [],
      retryInstances: [],
    });
  });
});

describe('handleCommandStatusEvent', () => {
  it('raises applied versions monotonically, records failures, ignores foreign and non-final events', async () => {
    const store = new InMemoryDataPlaneStateStore();
    const c = (v: number) => ({ version: v, digests: { '*': `d${v}` } });
    await store.putCommand('c5', c(5));
    await store.putCommand('c4', c(4));
    await store.putCommand('c6', c(6));
    expect(await handleCommandStatusEvent(event('c5', 'i-1', 'Success'), { store })).toMatchObject({
      appliedVersion: 5,
      appliedDigest: 'd5',
    });
    // a late event of an older command never lowers it
    expect(await handleCommandStatusEvent(event('c4', 'i-1', 'Success'), { store })).toMatchObject({
      appliedVersion: 5,
      appliedDigest: 'd5',
    });
    expect(await handleCommandStatusEvent(event('c6', 'i-1', 'TimedOut'), { store })).toMatchObject({
      appliedVersion: 5,
      failedVersion: 6,
      failures: 1,
    });
    expect(await handleCommandStatusEvent(event('c6', 'i-1', 'InProgress'), { store })).toBeUndefined();
    expect(await handleCommandStatusEvent(event('other', 'i-1', 'Success'), { store })).toBeUndefined();
    expect(await handleCommandStatusEvent(event('c6', 'i-1', 'Success'), { store })).toMatchObject({
      appliedVersion: 6,
      failedVersion: undefined,
      failures: 0,
    });
  });
});

describe('RecordStoreDataPlaneStateStore', () => {
  it('maps onto the record API: one item per node with a TTL, retried on conflict', async () => {
    const rows = new Map<string, { data: unknown; version: number; expiresAt?: Date }>();
    let conflicts = 1;
    const api: RecordApi = {
      async getRecord<T>(kind: string, id: string) {
        const r = rows.get(`${kind}|${id}`);
        return r ? { id, data: structuredClone(r.data) as T, version: r.version } : undefined;
      },
      async putRecord<T>(kind: string, id: string, data: T, expected?: number, opts?: { expiresAt?: Date }) {
        const cur = rows.get(`${kind}|${id}`);
        if (kind === 'dataplane-node' && conflicts-- > 0) throw new ConflictError('modified');
        if (expected !== undefined && (cur?.version ?? 0) !== expected) throw new ConflictError('modified');
        rows.set(`${kind}|${id}`, { data, version: (cur?.version ?? 0) + 1, expiresAt: opts?.expiresAt });
        return (cur?.version ?? 0) + 1;
      },
      async listRecords<T>(kind: string) {
        return [...rows]
          .filter(([k]) => k.startsWith(`${kind}|`))
          .map(([k, r]) => ({ id: k.split('|')[1]!, data: r.data as T, version: r.version }));
      },
      async deleteRecord(kind: string, id: string) {
        rows.delete(`${kind}|${id}`);
      },
      async nextSequence() {
        return 42;
      },
    };
    const s = new RecordStoreDataPlaneStateStore(api, 'demo');
    expect(await s.nextVersion()).toBe(42);
    await s.putCommand('c1', { version: 42, digests: { '*': 'd' } });
    expect(await s.getCommand('c1')).toEqual({ version: 42, digests: { '*': 'd' } });
    const status = {
      instanceId: 'i-1',
      appliedVersion: 42,
      failures: 0,
      updatedAt: 'now',
      expiresAt: '2099-01-01T00:00:00.000Z',
    };
    await s.updateNode('i-1', () => status);
    expect(await s.listNodes()).toEqual([status]);
    expect(rows.get('dataplane-node|demo/i-1')?.expiresAt).toEqual(new Date('2099-01-01T00:00:00.000Z'));
    await s.deleteNode('i-1');
    expect(await s.listNodes()).toEqual([]);
  });
});
