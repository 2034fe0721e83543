import { beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Service } from '@kubernetes/client-node';
import { SOURCE_RV_ANNOTATION, SOURCE_UID_ANNOTATION } from '../../lib/controller/staleness.js';
import { InvalidError } from '../../lib/errors.js';
import { parseObjectEvent } from '../../lib/events/envelope.js';
import { handleObjectBatch, handleObjectEvent } from '../../lib/handlers/object-events.js';
import { ensureLocalClusterAws, launchLocalNode } from '../../lib/local/cluster-aws.js';
import { motoClients, uniqueName } from '../support/aws.js';
import {
  envelope,
  externalPod,
  externalService,
  failDynamoFor,
  makeTestRuntime,
  sqsRecord,
  type TestRuntime,
} from './support.js';

const svcOf = (t: TestRuntime, ns: string, name: string) => t.rt.api.getService(ns, name);
const maybeSvc = (t: TestRuntime, ns: string, name: string) =>
  t.rt.api.getService(ns, name).catch(() => undefined as V1Service | undefined);

describe('handleObjectBatch (SQS FIFO batch) against moto, control plane only', () => {
  let t: TestRuntime;
  const ns = uniqueName('ns');
  beforeAll(async () => {
    t = await makeTestRuntime();
  });

  it("ingests an external producer's Service through the API write path; a duplicate message changes nothing", async () => {
    const ev = envelope('Service', 'ADDED', externalService(ns, 'ext-web', { uid: 'remote-uid-1', rv: '7001' }));
    const rec = sqsRecord(ev, 'ext-web');
    expect(await handleObjectBatch(t.rt.controller, [rec])).toEqual({ batchItemFailures: [] });

    const stored = await svcOf(t, ns, 'ext-web');
    // Allocated by our API server (from the default 10.96.0.0/12 service range), under our own identity.
    expect(stored.spec?.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    expect(stored.spec?.clusterIPs).toEqual([stored.spec?.clusterIP]);
    expect(stored.metadata?.uid).not.toBe('remote-uid-1');
    expect(stored.metadata?.resourceVersion).toBe('1');
    expect(stored.metadata?.annotations).toEqual({
      [SOURCE_UID_ANNOTATION]: 'remote-uid-1',
      [SOURCE_RV_ANNOTATION]: '7001',
    });
    expect(t.pusher.reasons).toContain(`Service ${ns}/ext-web ADDED`);

    // The very same message again (SQS at-least-once), in a batch of its own and twice in one batch.
    const pushesBefore = t.pusher.reasons.length;
    expect(await handleObjectBatch(t.rt.controller, [sqsRecord(ev, 'ext-web')])).toEqual({ batchItemFailures: [] });
    expect(await handleObjectBatch(t.rt.controller, [sqsRecord(ev, 'ext-web'), sqsRecord(ev, 'ext-web')])).toEqual({
      batchItemFailures: [],
    });
    const again = await svcOf(t, ns, 'ext-web');
    expect(again).toEqual(stored);
    expect(t.log.decisions().filter((d) => d === `${ns}/ext-web:stale`)).toHaveLength(3);
    expect(t.pusher.reasons.length).toBe(pushesBefore); // stale events ask for no data-plane push
  });

  it('out of order: MODIFIED rv 2 then ADDED rv 1 of the same external object keeps rv 2', async () => {
    const v1 = externalService(ns, 'ooo', { uid: 'remote-ooo', rv: '1', port: 80 });
    const v2 = externalService(ns, 'ooo', { uid: 'remote-ooo', rv: '2', port: 8443 });
    const res = await handleObjectBatch(t.rt.controller, [
      sqsRecord(envelope('Service', 'MODIFIED', v2), 'ooo'),
      sqsRecord(envelope('Service', 'ADDED', v1), 'ooo'),
    ]);
    expect(res.batchItemFailures).toEqual([]);
    const stored = await svcOf(t, ns, 'ooo');
    expect(stored.spec?.ports?.map((p) => p.port)).toEqual([8443]);
    expect(stored.metadata?.annotations?.[SOURCE_RV_ANNOTATION]).toBe('2');
    expect(stored.metadata?.resourceVersion).toBe('1'); // one write only
    expect(t.log.decisions().filter((d) => d.startsWith(`${ns}/ooo:`))).toEqual([
      `${ns}/ooo:ingest`,
      `${ns}/ooo:stale`,
    ]);

    // A newer version after that is taken, and a late DELETED older than it deletes nothing.
    const v3 = externalService(ns, 'ooo', { uid: 'remote-ooo', rv: '3', port: 9000 });
    await handleObjectBatch(t.rt.controller, [
      sqsRecord(envelope('Service', 'MODIFIED', v3), 'ooo'),
      sqsRecord(envelope('Service', 'DELETED', { ...v2, metadata: { ...v2.metadata } }), 'ooo'),
    ]);
    const after = await svcOf(t, ns, 'ooo');
    expect(after.spec?.ports?.map((p) => p.port)).toEqual([9000]);
    expect(after.spec?.clusterIP).toBe(stored.spec?.clusterIP); // carried over, as kubectl apply does

    // The producer's own DELETED, newer than what we hold, deletes it.
    const del = externalService(ns, 'ooo', { uid: 'remote-ooo', rv: '4' });
    expect(await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Service', 'DELETED', del), 'ooo')])).toEqual({
      batchItemFailures: [],
    });
    expect(await maybeSvc(t, ns, 'ooo')).toBeUndefined();
  });

  it('our own (svcctl) writes: the event at the stored rv is current, an older one is stale and writes nothing', async () => {
    const applied = await t.rt.api.applyService(externalService(ns, 'own') as V1Service);
    expect(applied.action).toBe('created');
    const ev1 = applied.event!;
    const first = await t.rt.controller.handleObjectEvent(
      parseObjectEvent(envelope('Service', ev1.type, ev1.object as Record<string, unknown>)),
    );
    expect(first).toEqual({ decision: 'current', key: `${ns}/own` });

    const updated = await t.rt.api.applyService({
      ...(externalService(ns, 'own', { port: 81 }) as V1Service),
    });
    expect(updated.object.metadata?.resourceVersion).toBe('2');
    const before = await svcOf(t, ns, 'own');
    const pushes = t.pusher.reasons.length;
    // The ADDED at rv 1 arrives again (a redelivery) after the update at rv 2: stale.
    const res = await handleObjectBatch(t.rt.controller, [
      sqsRecord(envelope('Service', 'ADDED', ev1.object as Record<string, unknown>), 'own'),
    ]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.log.decisions().at(-1)).toBe(`${ns}/own:stale`);
    expect(await svcOf(t, ns, 'own')).toEqual(before);
    expect(t.pusher.reasons.length).toBe(pushes);

    // Our own DELETED event (svcctl deleted it, then published): the stored object is already gone.
    const gone = await t.rt.api.deleteService(ns, 'own');
    const out = await t.rt.controller.handleObjectEvent(
      parseObjectEvent(envelope('Service', 'DELETED', gone.object as Record<string, unknown>)),
    );
    expect(out.decision).toBe('current');

    // A re-created Service of the same name is not deleted by a late DELETED of the old incarnation.
    const again = await t.rt.api.applyService(externalService(ns, 'own') as V1Service);
    const late = await t.rt.controller.handleObjectEvent(
      parseObjectEvent(envelope('Service', 'DELETED', gone.object as Record<string, unknown>)),
    );
    expect(late.decision).toBe('stale');
    expect((await svcOf(t, ns, 'own')).metadata?.uid).toBe(again.object.metadata?.uid);
  });

  it('a DELETED delivered before the events it follows: the object is not re-created by them', async () => {
    const v1 = externalService(ns, 'gone', { uid: 'remote-gone', rv: '1' });
    const v2 = externalService(ns, 'gone', { uid: 'remote-gone', rv: '2', port: 81 });
    const del = externalService(ns, 'gone', { uid: 'remote-gone', rv: '3' });
    const res = await handleObjectBatch(t.rt.controller, [
      sqsRecord(envelope('Service', 'DELETED', del), 'gone'),
      sqsRecord(envelope('Service', 'ADDED', v1), 'gone'),
      sqsRecord(envelope('Service', 'MODIFIED', v2), 'gone'),
      sqsRecord(envelope('Service', 'DELETED', del), 'gone'),
    ]);
    expect(res.batchItemFailures).toEqual([]);
    expect(await maybeSvc(t, ns, 'gone')).toBeUndefined();
    expect(t.log.decisions().filter((d) => d.startsWith(`${ns}/gone:`))).toEqual([
      `${ns}/gone:current`,
      `${ns}/gone:stale`,
      `${ns}/gone:stale`,
      `${ns}/gone:current`,
    ]);
    // A new incarnation (new uid) of the name is created normally, and the old one's late events leave it alone.
    const fresh = externalService(ns, 'gone', { uid: 'remote-gone-2', rv: '4', port: 82 });
    await handleObjectBatch(t.rt.controller, [
      sqsRecord(envelope('Service', 'ADDED', fresh), 'gone'),
      sqsRecord(envelope('Service', 'MODIFIED', v2), 'gone'),
      sqsRecord(envelope('Service', 'DELETED', del), 'gone'),
    ]);
    const stored = await svcOf(t, ns, 'gone');
    expect(stored.spec?.ports?.map((p) => p.port)).toEqual([82]);
    expect(stored.metadata?.annotations?.[SOURCE_UID_ANNOTATION]).toBe('remote-gone-2');
  });

  it('our own object deleted by svcctl: its ADDED arriving after its DELETED does not re-create it', async () => {
    const created = await t.rt.api.applyService(externalService(ns, 'quick') as V1Service);
    const gone = await t.rt.api.deleteService(ns, 'quick');
    const res = await handleObjectBatch(t.rt.controller, [
      sqsRecord(envelope('Service', 'DELETED', gone.object as Record<string, unknown>), 'quick'),
      sqsRecord(envelope('Service', 'ADDED', created.object as Record<string, unknown>), 'quick'),
    ]);
    expect(res.batchItemFailures).toEqual([]);
    expect(await maybeSvc(t, ns, 'quick')).toBeUndefined();
  });

  it('Pods are ingested with their status (the producer is the kubelet here)', async () => {
    const pod = externalPod(ns, 'pod-a', { uid: 'remote-pod-a', rv: '10', ip: '10.244.2.9' });
    const res = await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Pod', 'ADDED', pod), 'pod-a')]);
    expect(res.batchItemFailures).toEqual([]);
    const stored = await t.rt.api.getPod(ns, 'pod-a');
    expect(stored.status?.podIP).toBe('10.244.2.9');
    expect(stored.metadata?.annotations?.[SOURCE_UID_ANNOTATION]).toBe('remote-pod-a');
  });

  it('bad input is acknowledged (permanent) and changes nothing', async () => {
    const invalid = externalService(ns, 'bad-svc');
    invalid.spec.ports = [{ name: 'http', port: 70000, protocol: 'TCP', targetPort: 8080 }];
    const res = await handleObjectBatch(t.rt.controller, [
      sqsRecord('{"not json', 'x1'),
      sqsRecord({ source: 'someone-else', 'detail-type': 'Service Change', detail: {} }, 'x2'),
      sqsRecord(envelope('Service', 'ADDED', invalid), 'bad-svc'),
      sqsRecord(envelope('Service', 'ADDED', { ...externalPod(ns, 'mismatch'), kind: 'Pod' }), 'mismatch'),
    ]);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(await maybeSvc(t, ns, 'bad-svc')).toBeUndefined();
    expect(await maybeSvc(t, ns, 'mismatch')).toBeUndefined();
  });

  it('handleObjectEvent: a direct EventBridge invocation ingests; a malformed event is an InvalidError', async () => {
    await handleObjectEvent(t.rt.controller, envelope('Service', 'ADDED', externalService(ns, 'direct')));
    expect((await svcOf(t, ns, 'direct')).spec?.clusterIP).toBeTruthy();
    await expect(
      handleObjectEvent(t.rt.controller, { ...envelope('Service', 'ADDED', externalService(ns, 'd2')), detail: 1 }),
    ).rejects.toThrow(InvalidError);
    await expect(
      handleObjectEvent(t.rt.controller, {
        ...envelope('Service', 'ADDED', externalService(ns, 'd3')),
        'detail-type': 'Deployment Change',
      }),
    ).rejects.toThrow(
      /invalid event: detail-type: unsupported "Deployment Change": supported values: "Service Change", "Pod Change", "Endpoints Change"/,
    );
    expect(await maybeSvc(t, ns, 'd2')).toBeUndefined();
  });
});

describe('partial batch failure keeps FIFO order per message group', () => {
  it('fails exactly the transient record and the later records of its group; other groups proceed', async () => {
    let faulty = true;
    const ns = uniqueName('ns');
    const t = await makeTestRuntime({
      middleware: [failDynamoFor({ kind: 'Service', key: `${ns}/victim` }, () => faulty)],
    });
    const recs = {
      before: sqsRecord(envelope('Pod', 'ADDED', externalPod(ns, 'victim', { uid: 'p1', rv: '1' })), 'victim'),
      a1: sqsRecord(envelope('Service', 'ADDED', externalService(ns, 'alpha', { uid: 'a', rv: '1' })), 'alpha'),
      junk: sqsRecord('not json at all', 'junk'),
      victim: sqsRecord(envelope('Service', 'ADDED', externalService(ns, 'victim', { uid: 'v', rv: '1' })), 'victim'),
      a2: sqsRecord(
        envelope('Service', 'MODIFIED', externalService(ns, 'alpha', { uid: 'a', rv: '2', port: 81 })),
        'alpha',
      ),
      victimPod: sqsRecord(
        envelope('Pod', 'MODIFIED', externalPod(ns, 'victim', { uid: 'p1', rv: '2', ip: '10.244.3.3' })),
        'victim',
      ),
      gamma: sqsRecord(envelope('Service', 'ADDED', externalService(ns, 'gamma', { uid: 'g', rv: '1' })), 'gamma'),
    };
    const batch = Object.values(recs);
    const res = await handleObjectBatch(t.rt.controller, batch);
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: recs.victim.messageId },
      { itemIdentifier: recs.victimPod.messageId },
    ]);
    // Other groups (and the victim group's record before the failure) were processed.
    expect((await svcOf(t, ns, 'alpha')).spec?.ports?.map((p) => p.port)).toEqual([81]);
    expect((await svcOf(t, ns, 'gamma')).spec?.clusterIP).toBeTruthy();
    expect((await t.rt.api.getPod(ns, 'victim')).status?.podIP).toBe('10.244.1.5');
    // The record after the failure in the same group was not applied (it waits for the redelivery).
    faulty = false;
    expect(await maybeSvc(t, ns, 'victim')).toBeUndefined();

    // SQS redelivers the failed records in order; now they go through.
    const retry = await handleObjectBatch(t.rt.controller, [recs.victim, recs.victimPod]);
    expect(retry.batchItemFailures).toEqual([]);
    expect((await svcOf(t, ns, 'victim')).spec?.clusterIP).toBeTruthy();
    expect((await t.rt.api.getPod(ns, 'victim')).status?.podIP).toBe('10.244.3.3');
  });

  it('records without a MessageGroupId block nothing else', async () => {
    let faulty = true;
    const ns = uniqueName('ns');
    const t = await makeTestRuntime({
      middleware: [failDynamoFor({ kind: 'Service', key: `${ns}/down` }, () => faulty)],
    });
    const noGroup = (body: unknown) => {
      const r = sqsRecord(body, 'x');
      delete (r.attributes as { MessageGroupId?: string }).MessageGroupId;
      return r;
    };
    const down = noGroup(envelope('Service', 'ADDED', externalService(ns, 'down')));
    const up = noGroup(envelope('Service', 'ADDED', externalService(ns, 'up')));
    const res = await handleObjectBatch(t.rt.controller, [down, up]);
    faulty = false;
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: down.messageId }]);
    expect((await svcOf(t, ns, 'up')).spec?.clusterIP).toBeTruthy();
  });
});

describe('LoadBalancer Services through the event handler (moto EC2 + ELBv2)', () => {
  const clusterName = uniqueName('hlb');
  const clients = motoClients();
  let t: TestRuntime;
  beforeAll(async () => {
    const aws = await ensureLocalClusterAws(clients.ec2, clusterName, 'us-east-1');
    for (const i of [0, 1]) await launchLocalNode(clients.ec2, clusterName, aws, i);
    t = await makeTestRuntime({
      clusterName,
      env: {
        VPC_ID: aws.vpcId,
        SUBNET_IDS: aws.subnetIds.join(','),
        NODE_SECURITY_GROUP_ID: aws.nodeSecurityGroupId,
      },
    });
  });

  /** NLBs in the account tagged for this cluster and the Service (the moto server is shared with other files). */
  async function nlbsOf(key: string): Promise<{ arn: string; dns: string; tgArns: string[] }[]> {
    const all = (await clients.elbv2.send(new DescribeLoadBalancersCommand({ PageSize: 400 }))).LoadBalancers ?? [];
    const out: { arn: string; dns: string; tgArns: string[] }[] = [];
    for (let i = 0; i < all.length; i += 20) {
      const chunk = all.slice(i, i + 20);
      const tags = await clients.elbv2.send(
        new DescribeTagsCommand({ ResourceArns: chunk.map((l) => l.LoadBalancerArn!) }),
      );
      for (const d of tags.TagDescriptions ?? []) {
        const m = Object.fromEntries((d.Tags ?? []).map((x) => [x.Key, x.Value]));
        if (m['kubernetes.io/service-name'] !== key || m[`kubernetes.io/cluster/${clusterName}`] !== 'owned') continue;
        const tgs = await clients.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: d.ResourceArn }));
        out.push({
          arn: d.ResourceArn!,
          dns: chunk.find((l) => l.LoadBalancerArn === d.ResourceArn)!.DNSName!,
          tgArns: (tgs.TargetGroups ?? []).map((g) => g.TargetGroupArn!),
        });
      }
    }
    return out;
  }

  async function expectGone(nlb: { arn: string; tgArns: string[] }) {
    const left = (await clients.elbv2.send(new DescribeLoadBalancersCommand({ PageSize: 400 }))).LoadBalancers ?? [];
    expect(left.some((l) => l.LoadBalancerArn === nlb.arn)).toBe(false);
    for (const arn of nlb.tgArns) {
      await expect(
        clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })),
      ).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    }
  }

  it('a Service event creates a tagged NLB and writes the hostname; a DELETED event removes the NLB and its target groups', async () => {
    const ns = uniqueName('lbns');
    const svc = externalService(ns, 'shop', { uid: 'remote-shop', rv: '100', type: 'LoadBalancer' });
    const res = await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Service', 'ADDED', svc), 'shop')]);
    expect(res.batchItemFailures).toEqual([]);

    const stored = await svcOf(t, ns, 'shop');
    const hostname = stored.status?.loadBalancer?.ingress?.[0]?.hostname;
    expect(hostname).toBeTruthy();
    expect(stored.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(stored.status?.conditions?.find((c) => c.type === 'LoadBalancerReady')).toMatchObject({
      status: 'True',
      reason: 'EnsuredLoadBalancer',
    });

    // Exactly one NLB in the account carries this Service's name tag (and this cluster's tag).
    const mine = await nlbsOf(`${ns}/shop`);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.dns).toBe(hostname);
    const tgs = await clients.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: mine[0]!.arn }));
    expect(tgs.TargetGroups?.map((g) => g.Port)).toEqual([stored.spec?.ports?.[0]?.nodePort]);

    // A duplicate of the same event changes nothing: no second NLB, same status.
    await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Service', 'ADDED', svc), 'shop')]);
    expect(await svcOf(t, ns, 'shop')).toEqual(stored);
    expect(await nlbsOf(`${ns}/shop`)).toHaveLength(1);

    // The producer deletes it.
    const del = externalService(ns, 'shop', { uid: 'remote-shop', rv: '101', type: 'LoadBalancer' });
    const res2 = await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Service', 'DELETED', del), 'shop')]);
    expect(res2.batchItemFailures).toEqual([]);
    expect(await maybeSvc(t, ns, 'shop')).toBeUndefined();
    await expectGone(mine[0]!);
  });

  it('a Service changed from LoadBalancer to ClusterIP loses its NLB at once (not only at the next resync)', async () => {
    const ns = uniqueName('lbns');
    const lb = externalService(ns, 'api', { uid: 'remote-api', rv: '1', type: 'LoadBalancer' });
    await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Service', 'ADDED', lb), 'api')]);
    const [nlb] = await nlbsOf(`${ns}/api`);
    expect(nlb).toBeDefined();

    const cip = externalService(ns, 'api', { uid: 'remote-api', rv: '2', type: 'ClusterIP' });
    const res = await handleObjectBatch(t.rt.controller, [sqsRecord(envelope('Service', 'MODIFIED', cip), 'api')]);
    expect(res.batchItemFailures).toEqual([]);
    await expectGone(nlb!);
    const stored = await svcOf(t, ns, 'api');
    expect(stored.spec?.type).toBe('ClusterIP');
    expect(stored.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(stored.status?.conditions?.some((c) => c.type.startsWith('LoadBalancer'))).toBeFalsy();
  });
});
