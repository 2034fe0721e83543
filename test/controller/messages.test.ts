/**
 * The controller on object messages, against moto (DynamoDB, EC2, ELBv2), without ever running a resync:
 * - a lagging consumer (messages late, repeated, reordered) never rolls a Service or its NLB back and never
 *   resurrects a deleted Service (fast-check over delivery orders, then an NLB scenario);
 * - a crash after any AWS call of the controller, or between the store commit and the first reconcile, loses
 *   nothing and leaks nothing: redelivering the message converges (SQS redelivers what a crashed batch did not
 *   acknowledge).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import type { V1Service } from '@kubernetes/client-node';
import type { ClientMiddleware } from '../../lib/aws/clients.js';
import { Controller } from '../../lib/controller/controller.js';
import { handleObjectBatch } from '../../lib/handlers/object-events.js';
import { logger } from '../../lib/handlers/observability.js';
import { pool } from '../../lib/lb/context.js';
import { observe } from '../../lib/lb/observe.js';
import type { ObjectMessage } from '../../lib/events/object-message.js';
import { makeCluster, type Cluster } from '../lb/fixture.js';
import { makeTestRuntime, messageFor, messageRecord, type TestRuntime } from '../handlers/support.js';
import { uniqueName } from '../support/aws.js';

const lbSvc = (name: string, ns: string, ports: number[]): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: ports.map((port) => ({ name: `p${port}`, port })) },
});

class Crash extends Error {}

// Every injected crash is logged as a transient failure by the handler: expected here, and noise.
logger.setLogLevel('CRITICAL');

/**
 * Once armed, lets calls 1..crashAt-1 through; call `crashAt` reaches AWS, then the controller "dies" (0: it dies
 * before its first call, i.e. between the store commit and the first reconcile).
 */
function crashAfter(crashAt: number): { mw: ClientMiddleware; calls: () => number; arm: () => void } {
  let n = 0;
  let armed = false;
  return {
    calls: () => n,
    arm: () => void (armed = true),
    mw: {
      name: 'crash-after-nth-call',
      middleware: (next) => async (args: unknown) => {
        if (!armed) return next(args);
        if (crashAt === 0) throw new Crash('crash before the first call');
        const out = await next(args);
        n++;
        if (n === crashAt) throw new Crash(`crash after call ${n}`);
        return out;
      },
    },
  };
}

/** The NLB stack of `key` is complete and matches the stored Service (one NLB, a TG and listener per port). */
async function expectConverged(c: Cluster, t: TestRuntime, ns: string, name: string): Promise<void> {
  const svc = await t.rt.api.getService(ns, name);
  const key = `${ns}/${name}`;
  const stack = (await observe(c.ctx, { stack: key })).stacks.get(key);
  expect(stack?.loadBalancers).toHaveLength(1);
  const ports = (svc.spec?.ports ?? []).map((p) => p.port).sort();
  expect(stack!.loadBalancers[0]!.listeners.map((l) => l.port).sort()).toEqual(ports);
  expect(stack!.targetGroups.map((g) => g.port).sort()).toEqual((svc.spec?.ports ?? []).map((p) => p.nodePort).sort());
  expect(stack!.securityGroups).toHaveLength(1);
  // The status in the message: a missing hostname says why (a failed sync's condition and error).
  expect(svc.status?.loadBalancer?.ingress?.[0]?.hostname, JSON.stringify(svc.status)).toBe(
    stack!.loadBalancers[0]!.dnsName,
  );
}

async function expectNoStack(c: Cluster, key: string): Promise<void> {
  expect((await observe(c.ctx, { stack: key })).stacks.get(key)).toBeUndefined();
  const g = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
  const pairs = (g.SecurityGroups![0]!.IpPermissions ?? []).flatMap((p) => p.UserIdGroupPairs ?? []);
  expect(pairs.filter((p) => p.Description?.endsWith(` ${key}`))).toEqual([]);
}

describe('a lagging consumer (control plane): any delivery order, with repeats', () => {
  it('never changes a stored object, reconciles only the latest revision, deletes only what is gone', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('lag');
    // A history: create, two updates, a status write, a delete, a re-create (new uid), an update.
    const msgs: ObjectMessage[] = [];
    const write = async (o: { event?: { type: ObjectMessage['type']; object: V1Service } }, status = false) => {
      if (o.event) msgs.push(messageFor(o.event.object, o.event.type, status ? { subresource: 'status' } : {}));
    };
    const svc = (port: number) => ({ metadata: { name: 'web', namespace: ns }, spec: { ports: [{ port }] } });
    await write(await t.rt.api.applyService(svc(80)));
    await write(await t.rt.api.applyService(svc(81)));
    await write(await t.rt.api.updateServiceStatus(ns, 'web', (s) => ({ ...s, conditions: [] })), true);
    await write(await t.rt.api.applyService(svc(82)));
    await write(await t.rt.api.deleteService(ns, 'web').then((e) => ({ event: e })));
    await write(await t.rt.api.applyService(svc(90)));
    await write(await t.rt.api.applyService(svc(91)));
    const final = await t.rt.api.getService(ns, 'web');
    const latest = msgs.at(-1)!;

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: msgs.length - 1 }), { minLength: 1, maxLength: 14 }),
        async (order) => {
          t.log.lines = [];
          for (const i of order) {
            const res = await handleObjectBatch(t.rt.controller, [messageRecord(msgs[i]!)]);
            expect(res.batchItemFailures).toEqual([]);
            // The stored Service is never touched by a message: neither rolled back nor resurrected nor deleted.
            expect(await t.rt.api.getService(ns, 'web')).toEqual(final);
          }
          const decisions = t.log.lines.map((l) => String(l.data?.decision));
          order.forEach((i, k) => expect(decisions[k]).toBe(msgs[i] === latest ? 'reconciled' : 'stale'));
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('the controller on object messages with load balancers (moto EC2 + ELBv2)', () => {
  let c: Cluster;
  let table: string;
  let healthy: TestRuntime;
  const env = () => ({ VPC_ID: c.vpcId, SUBNET_IDS: c.subnetIds.join(','), NODE_SECURITY_GROUP_ID: c.nodeSgId });
  beforeAll(async () => {
    c = await makeCluster();
    await c.addNode({}, 0);
    await c.addNode({}, 1);
    table = uniqueName('ctl');
    healthy = await makeTestRuntime({ clusterName: c.clusterName, tableName: table, env: env() });
  });

  it('late, repeated and reordered messages never roll the NLB back nor bring back a deleted Service', async () => {
    const ns = uniqueName('lagns');
    const key = `${ns}/shop`;
    const api = healthy.rt.api;
    const m1 = messageFor((await api.applyService(lbSvc('shop', ns, [80]))).object, 'ADDED');
    const m2 = messageFor((await api.applyService(lbSvc('shop', ns, [8080]))).object, 'MODIFIED');
    // The consumer lags: the newest message first, then the older ones, then the first again.
    const batch = (ms: ObjectMessage[]) => handleObjectBatch(healthy.rt.controller, ms.map(messageRecord));
    expect((await batch([m2, m1, m1])).batchItemFailures).toEqual([]);
    await expectConverged(c, healthy, ns, 'shop');
    const stack = (await observe(c.ctx, { stack: key })).stacks.get(key)!;
    expect(stack.loadBalancers[0]!.listeners.map((l) => l.port)).toEqual([8080]);

    const m3 = messageFor((await api.deleteService(ns, 'shop')).object, 'DELETED');
    expect((await batch([m1, m2])).batchItemFailures).toEqual([]); // late: the DELETED message is still to come
    expect((await batch([m3, m2, m1, m3])).batchItemFailures).toEqual([]);
    await expectNoStack(c, key);
    await expect(api.getService(ns, 'shop')).rejects.toThrow(`services "shop" not found`);
  });

  it('a crash after any AWS call of a create or a delete, or before the first one, is healed by redelivery alone', async () => {
    const ns = uniqueName('crash');
    // Probe: the calls one message takes without a crash (create: state reads, EC2 + ELBv2, the status write).
    const probeMw = crashAfter(Number.MAX_SAFE_INTEGER);
    const probe = await makeTestRuntime({
      clusterName: c.clusterName,
      tableName: table,
      env: env(),
      middleware: [probeMw.mw],
    });
    probeMw.arm();
    const created = await healthy.rt.api.applyService(lbSvc('probe', ns, [80, 81]));
    await handleObjectBatch(probe.rt.controller, [messageRecord(messageFor(created.object, 'ADDED'))]);
    const createCalls = probeMw.calls();
    const gone = await healthy.rt.api.deleteService(ns, 'probe');
    await handleObjectBatch(probe.rt.controller, [messageRecord(messageFor(gone.object, 'DELETED'))]);
    const deleteCalls = probeMw.calls() - createCalls;
    await expectNoStack(c, `${ns}/probe`);
    expect(createCalls).toBeGreaterThan(10);
    expect(deleteCalls).toBeGreaterThan(5);

    const runs = [
      ...Array.from({ length: createCalls + 1 }, (_, n) => ({ phase: 'create' as const, n })),
      ...Array.from({ length: deleteCalls + 1 }, (_, n) => ({ phase: 'delete' as const, n })),
    ];
    const crashed: string[] = [];
    const eventsDropped: string[] = [];
    await pool(runs, 4, async ({ phase, n }) => {
      const name = `${phase}-${n}`;
      // A table per run: moto copies the whole table on every transaction, so one table shared by every run made
      // each write slower than the last (the runs share the cluster, its nodes and node security group all the same).
      const runTable = uniqueName('crun');
      const healthy = await makeTestRuntime({ clusterName: c.clusterName, tableName: runTable, env: env() });
      const crashing = async () => {
        const { mw, arm } = crashAfter(n);
        const t = await makeTestRuntime({
          clusterName: c.clusterName,
          tableName: runTable,
          env: env(),
          middleware: [mw],
        });
        arm();
        return t;
      };
      // One message through a controller that dies after call n, then SQS's redelivery to a healthy one.
      const deliver = async (msg: ObjectMessage) => {
        const rec = messageRecord(msg);
        const dying = await crashing();
        const first = await handleObjectBatch(dying.rt.controller, [rec]);
        if (first.batchItemFailures.length > 0) crashed.push(name);
        // A crash inside the recording of an Event is not a failed reconcile: Events are best-effort, as
        // client-go's recorder makes them, so that message went on and was done.
        else if (dying.log.lines.some((l) => l.msg === 'event not recorded' && /crash/.test(String(l.data?.error))))
          eventsDropped.push(name);
        expect((await handleObjectBatch(healthy.rt.controller, [rec])).batchItemFailures).toEqual([]);
      };
      const made = await healthy.rt.api.applyService(lbSvc(name, ns, [80, 81]));
      if (phase === 'create') await deliver(messageFor(made.object, 'ADDED'));
      else await handleObjectBatch(healthy.rt.controller, [messageRecord(messageFor(made.object, 'ADDED'))]);
      await expectConverged(c, healthy, ns, name);
      const del = await healthy.rt.api.deleteService(ns, name);
      if (phase === 'delete') await deliver(messageFor(del.object, 'DELETED'));
      else await handleObjectBatch(healthy.rt.controller, [messageRecord(messageFor(del.object, 'DELETED'))]);
      await expectNoStack(c, `${ns}/${name}`);
    });
    // Every crash point really crashed (the last call of a create is the status write, after which the message
    // is already done: its crash is reported too, and redelivery finds it stale), except those inside an Event's
    // recording, which only lose that Event.
    expect(crashed.length + eventsDropped.length).toBe(runs.length);
    expect(crashed.length).toBeGreaterThan(eventsDropped.length);
  }, 300_000);
});

describe('resync compacts the change log', () => {
  it('entries older than the retention go (never the newest); a watch from before them is then Gone', async () => {
    const t = await makeTestRuntime();
    const ns = uniqueName('compact');
    for (const port of [80, 81, 82]) {
      await t.rt.api.applyService({ metadata: { name: 'c', namespace: ns }, spec: { ports: [{ port }] } });
    }
    // Retention 0: everything but the newest entry is old enough.
    const controller = new Controller({
      api: t.rt.api,
      records: t.rt.store,
      changeLog: t.rt.store,
      logRetentionSeconds: 0,
      ec2: t.clients.ec2,
      clusterName: t.clusterName,
    });
    await controller.resync();
    const { current, compacted } = await t.rt.store.revisions();
    expect(compacted).toBe(current - 1);
    expect((await t.rt.store.readLog(compacted, 10)).map((e) => e.rev)).toEqual([current]);
    await expect(t.rt.store.assertWatchable(1)).rejects.toThrow(`too old resource version: 1 (${compacted})`);
  });
});
