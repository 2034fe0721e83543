/** SSM driver against moto: real S3 objects, presigned URLs that really fetch, a real SendCommand record. */
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { CreateDocumentCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { handleCommandStatusEvent, pushDataPlane, type DriverDeps } from '../../lib/dataplane/ssm-driver.js';
import { ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import { InMemoryDataPlaneStateStore, RecordStoreDataPlaneStateStore } from '../../lib/dataplane/state-store.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import { motoClients, uniqueName } from '../support/aws.js';
import { clusterState } from './fixtures.js';

describe('against moto', () => {
  it('stores artifacts in S3 and creates one command with the cluster-tag target and the parameters', async () => {
    const clients = motoClients();
    const bucket = uniqueName('h4-artifacts');
    const cluster = uniqueName('h4c');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const documentName = uniqueName('h4-dataplane');
    await clients.ssm.send(
      new CreateDocumentCommand({
        Name: documentName,
        DocumentType: 'Command',
        DocumentFormat: 'JSON',
        Content: JSON.stringify(ssmDocumentContent()),
      }),
    );
    const store = new InMemoryDataPlaneStateStore();
    const deps: DriverDeps = {
      ssm: clients.ssm,
      s3: clients.s3,
      store,
      bucket,
      documentName,
      clusterName: cluster,
      inlineBudget: 0,
    };
    const r = await pushDataPlane(deps, clusterState());
    expect(r?.commandIds).toHaveLength(1);
    const listed = await clients.ssm.send(new ListCommandsCommand({ CommandId: r!.commandIds[0] }));
    const cmd = listed.Commands![0]!;
    expect(cmd.DocumentName).toBe(documentName);
    expect(cmd.Targets).toEqual([{ Key: `tag:kubernetes.io/cluster/${cluster}`, Values: ['owned', 'shared'] }]);
    expect(cmd.MaxConcurrency).toBe('50%');
    expect(cmd.MaxErrors).toBe('25%');
    expect(cmd.Parameters!.version).toEqual(['1']);
    // The presigned manifest URL really fetches the manifest whose sha256 is in the command, and its bundle URLs
    // fetch bundles with the listed sha256.
    const manifest = Buffer.from(await (await fetch(cmd.Parameters!.manifestUrl![0]!)).arrayBuffer());
    expect(createHash('sha256').update(manifest).digest('hex')).toBe(cmd.Parameters!.manifestSha256![0]);
    const [, sha, url] = manifest.toString().split('\n')[0]!.split('\t');
    const bundle = Buffer.from(await (await fetch(url!)).arrayBuffer());
    expect(createHash('sha256').update(bundle).digest('hex')).toBe(sha);
    // the second push carries a delta against the stored state of the first
    const next = clusterState();
    next.endpoints[0]!.endpoints.pop();
    const r2 = await pushDataPlane(deps, next);
    expect(r2?.version).toBe(2);
    const state = await clients.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `dataplane/${cluster}/state/v2.json.gz` }),
    );
    expect(
      JSON.parse(gunzipSync(Buffer.from(await state.Body!.transformToByteArray())).toString()).endpoints[0].endpoints,
    ).toHaveLength(2);
  });
});

describe('RecordStoreDataPlaneStateStore on the real store (DynamoDB in moto)', () => {
  it('keeps versions, command ids and one status item per node, each with a TTL', async () => {
    const { dynamodb } = motoClients();
    const table = uniqueName('h4-dp');
    await ensureTable(dynamodb, table);
    const s = new RecordStoreDataPlaneStateStore(new DynamoStore(dynamodb, table), 'demo');
    expect([await s.nextVersion(), await s.nextVersion()]).toEqual([1, 2]);
    await s.putCommand('c-1', { version: 2, digests: { '*': 'd2' } });
    expect(await s.getCommand('c-1')).toEqual({ version: 2, digests: { '*': 'd2' } });
    expect(await s.getCommand('c-x')).toBeUndefined();
    // Ten nodes reporting. Sequential on purpose: moto's conditional UpdateItem is not atomic under concurrent
    // requests (two writers with the same expected version can both succeed there, never on DynamoDB), so the
    // conflict-retry path is tested with a deterministic fake in ssm-driver.test.ts instead.
    for (let i = 0; i < 10; i++)
      await handleCommandStatusEvent(
        { detail: { 'command-id': 'c-1', 'instance-id': `i-${i}`, status: 'Success' } },
        { store: s },
      );
    const nodes = await s.listNodes();
    expect(nodes).toHaveLength(10);
    expect(nodes.every((n) => n.appliedVersion === 2 && n.appliedDigest === 'd2')).toBe(true);
    // one item per node, carrying the table's TTL attribute (epoch seconds) a week ahead
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'rec#dataplane-node' }, sk: { S: 'demo/i-3' } } }),
    );
    const ttl = Number(item.Item?.expiresAt?.N);
    expect(ttl - Date.now() / 1000).toBeGreaterThan(6 * 24 * 3600);
    // an expired status is ignored at once (DynamoDB deletes it later), a deleted one is gone
    expect(await s.listNodes(new Date(Date.now() + 8 * 24 * 3600 * 1000))).toEqual([]);
    await s.deleteNode('i-3');
    expect((await s.listNodes()).map((n) => n.instanceId)).not.toContain('i-3');
    expect(await new RecordStoreDataPlaneStateStore(new DynamoStore(dynamodb, table), 'other').listNodes()).toEqual([]);
  });
});
