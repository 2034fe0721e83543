/** SSM driver against moto: real S3 objects, presigned URLs that really fetch, a real SendCommand record. */
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { CreateDocumentCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { clusterTagKey, pushDataPlane, type DriverDeps } from '../../lib/dataplane/ssm-driver.js';
import { ssmDocumentContent } from '../../lib/dataplane/ssm-document.js';
import { InMemoryDataPlaneStateStore } from '../../lib/dataplane/state-store.js';
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
    const listed = await clients.ssm.send(new ListCommandsCommand({ CommandId: r.commandId }));
    const cmd = listed.Commands![0]!;
    expect(cmd.DocumentName).toBe(documentName);
    expect(cmd.Targets).toEqual([{ Key: clusterTagKey(cluster), Values: ['owned', 'shared'] }]);
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
    expect(r2.version).toBe(2);
    const state = await clients.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `dataplane/${cluster}/state/v2.json.gz` }),
    );
    expect(
      JSON.parse(gunzipSync(Buffer.from(await state.Body!.transformToByteArray())).toString()).endpoints[0].endpoints,
    ).toHaveLength(2);
  });
});
