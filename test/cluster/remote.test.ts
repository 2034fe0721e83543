/**
 * The cluster adapter over client-node against a real API server: a 401 tells the credential source (the next call
 * uses fresh credentials), lists see every namespace, and a watch from a compacted version is Gone (relist).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { SERVICES } from '../../lib/api/resources.js';
import { ClientNodeCluster } from '../../lib/cluster/remote.js';
import { GoneError } from '../../lib/errors.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { uniqueName } from '../support/aws.js';
import { kubeConfigFor } from './support.js';

describe('ClientNodeCluster', () => {
  let cluster: TestApi;
  const ns = uniqueName('rm');
  beforeAll(async () => {
    cluster = await startTestApi();
    expect((await cluster.kubectl().run(['create', 'namespace', ns])).stderr).toBe('');
  });
  afterAll(async () => cluster?.close());

  it('a refused token (401) makes the credential source rebuild; the next call succeeds', async () => {
    let fresh = false;
    let invalidated = 0;
    const remote = new ClientNodeCluster(
      async () => (fresh ? kubeConfigFor(cluster) : kubeConfigFor(cluster, 'expired-token')),
      () => {
        invalidated++;
        fresh = true;
      },
    );
    await expect(remote.list('services')).rejects.toMatchObject({ code: 401 });
    expect(invalidated).toBe(1);
    const ok = await remote.list('services');
    expect(Number(ok.resourceVersion)).toBeGreaterThan(0);
  });

  it('lists across namespaces; a watch from a compacted version is Gone', async () => {
    for (let i = 0; i < 3; i++) {
      const obj = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `s${i}`, namespace: ns },
        spec: { ports: [{ port: 80 + i, protocol: 'TCP' }] },
      } as ApiObject;
      await cluster.backend.create(SERVICES, ns, obj, {});
    }
    const remote = new ClientNodeCluster(async () => kubeConfigFor(cluster));
    const listed = await remote.list('services');
    expect(
      listed.items
        .filter((s) => s.metadata?.namespace === ns)
        .map((s) => s.metadata?.name)
        .sort(),
    ).toEqual(['s0', 's1', 's2']);
    const old = listed.resourceVersion;
    await cluster.backend.create(
      SERVICES,
      ns,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's3', namespace: ns },
        spec: { ports: [{ port: 90, protocol: 'TCP' }] },
      } as ApiObject,
      {},
    );
    await cluster.compact(Number(await cluster.backend.currentRevision()));
    const stop = new AbortController();
    await expect(remote.watch('services', old, async () => undefined, stop.signal)).rejects.toBeInstanceOf(GoneError);
  });
});
