/**
 * Watches through real clients: `kubectl get svc -w` sees a LoadBalancer Service turn from <pending> to its NLB
 * hostname; a @kubernetes/client-node informer (list + watch) sees creates, updates and deletes in order, survives
 * a watch ended by the server and a dropped connection, and relists after 410 Expired.
 */
import { CoreV1Api, KubeConfig, makeInformer, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { resourceOf } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

/** For the informers: watches end after 1.5-3 s (the server's maximum, randomised), so re-watching is constant. */
let api: TestApi;
/** For kubectl get -w, which exits when the server ends its watch: the default maximum (30-60 min). */
let kubectlApi: TestApi;
const services = resourceOf('services');

beforeAll(async () => {
  api = await startTestApi({ maxWatchMs: 1500 });
  kubectlApi = await startTestApi();
});
afterAll(async () => {
  await api?.close();
  await kubectlApi?.close();
});

const svc = (name: string, type = 'ClusterIP'): ApiObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type, ports: [{ port: 80 }] },
  }) as ApiObject;

describe('kubectl get -w', () => {
  it('shows a LoadBalancer Service turn from <pending> to the NLB hostname', async () => {
    await kubectlApi.backend.create(services, 'default', svc('web', 'LoadBalancer'), {});
    const w = kubectlApi.kubectl().spawn(['get', 'svc', 'web', '-w']);
    try {
      await waitFor(() => /web\s+LoadBalancer\s+\S+\s+<pending>/.test(w.output()), 'the initial row');
      // The load-balancer controller's write, as a client would make it: a merge patch of the status subresource.
      const status = '{"status":{"loadBalancer":{"ingress":[{"hostname":"web-1234.elb.us-east-1.amazonaws.com"}]}}}';
      const patched = await kubectlApi
        .kubectl()
        .run(['patch', 'svc', 'web', '--subresource=status', '--type=merge', '-p', status]);
      expect(patched.stdout).toBe('service/web patched\n');
      await waitFor(() => w.output().includes('web-1234.elb.us-east-1.amazonaws.com'), 'the updated row');
      const lines = w.output().trim().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
      expect(lines.at(-1)).toMatch(
        /^web\s+LoadBalancer\s+10\.\S+\s+web-1234\.elb\.us-east-1\.amazonaws\.com\s+80:\d+\/TCP/,
      );
    } finally {
      await w.stop();
    }
  });
});

describe('client-node informer', () => {
  function informer() {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: api.url, caData: Buffer.from(api.caCert).toString('base64') }],
      users: [{ name: 'admin', token: api.tokens.admin }],
      contexts: [{ name: 'local', cluster: 'local', user: 'admin' }],
      currentContext: 'local',
    });
    const core = kc.makeApiClient(CoreV1Api);
    const lists = { count: 0 };
    const inf = makeInformer(kc, '/api/v1/namespaces/informed/services', () => {
      lists.count++;
      return core.listNamespacedService({ namespace: 'informed' });
    });
    const events: string[] = [];
    const errors: unknown[] = [];
    inf.on('add', (o: V1Service) => events.push(`add ${o.metadata?.name} ${o.spec?.type}`));
    inf.on('update', (o: V1Service) => events.push(`update ${o.metadata?.name} ${o.spec?.type}`));
    inf.on('delete', (o: V1Service) => events.push(`delete ${o.metadata?.name}`));
    // The documented client-node pattern: an informer stops on a connection error; restart it.
    const state = { running: false, restartPending: false };
    inf.on('error', (err: unknown) => {
      errors.push(err);
      if (!state.running || state.restartPending) return;
      state.restartPending = true;
      setTimeout(() => {
        state.restartPending = false;
        if (state.running) void inf.start();
      }, 50);
    });
    const control = {
      start: () => {
        state.running = true;
        return inf.start();
      },
      stop: () => {
        state.running = false;
        return inf.stop();
      },
    };
    return { inf: control, events, errors, lists };
  }

  it('sees creates, updates and deletes in order, across server-ended watches and a dropped connection', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'informed' } } as ApiObject;
    await api.backend.create(resourceOf('namespaces'), undefined, ns, {});
    const create = (name: string) =>
      api.backend.create(services, 'informed', { ...svc(name), metadata: { name, namespace: 'informed' } }, {});
    await create('before');
    const { inf, events } = informer();
    await inf.start();
    try {
      await waitFor(() => events.includes('add before ClusterIP'), 'the listed object');
      await create('a');
      const a = await api.backend.get(services, 'informed', 'a');
      await api.backend.update(
        services,
        'informed',
        'a',
        { ...a, spec: { ...(a.spec as object), type: 'NodePort' } },
        {},
      );
      await api.backend.delete(services, 'informed', 'a', {});
      await waitFor(() => events.includes('delete a'), 'the delete');
      expect(events).toEqual(['add before ClusterIP', 'add a ClusterIP', 'update a NodePort', 'delete a']);

      // Several server-side watch ends (maxWatchMs) pass while nothing changes; then the connection drops.
      await new Promise((r) => setTimeout(r, 3500));
      // client-node sees a dropped stream either as its end (it re-watches) or as an error (the handler restarts it).
      api.dropConnections();
      await create('after-drop');
      await waitFor(() => events.includes('add after-drop ClusterIP'), 'an event after the reconnect');
      expect(events.filter((e) => e.startsWith('add before'))).toHaveLength(1);
    } finally {
      await inf.stop();
    }
  });

  it('relists after 410 Expired when its resourceVersion was compacted away', async () => {
    const { inf, events, errors, lists } = informer();
    await inf.start();
    try {
      await waitFor(() => events.includes('add before ClusterIP'), 'the initial list');
      expect(lists.count).toBe(1);
      const before = errors.length;
      await inf.stop();
      // Stopping aborts the open watch; let that abort's error arrive before starting again.
      await waitFor(() => errors.length > before, 'the aborted watch to report');
      // While the informer is away: a change, then the log is compacted past its resourceVersion.
      await api.backend.create(
        services,
        'informed',
        { ...svc('while-away'), metadata: { name: 'while-away', namespace: 'informed' } },
        {},
      );
      await api.compact(Number(await api.backend.currentRevision()));
      await inf.start();
      await waitFor(() => events.includes('add while-away ClusterIP'), 'the relisted object');
      // The watch from the compacted revision ended with an ERROR 410 event, so the object came from a second list.
      expect(lists.count).toBe(2);
    } finally {
      await inf.stop();
    }
  });
});
