/**
 * The object-message handler (SQS FIFO batches of one message per committed write) against moto: the controller
 * reads the stored object and reconciles it, skips what a later message covers, keeps FIFO order per object under
 * partial failure (Powertools' SqsFifoPartialProcessorAsync), and drives LoadBalancer Services' NLBs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { InvalidError } from '../../lib/errors.js';
import { logRecordToMessage, parseObjectMessage } from '../../lib/events/object-message.js';
import { handleObjectBatch } from '../../lib/handlers/object-events.js';
import { ensureLocalClusterAws, launchLocalNode } from '../../tools/local/cluster-aws.js';
import { messageGroupFor } from '../../lib/store/log.js';
import { motoClients, uniqueName } from '../support/aws.js';
import {
  externalPod,
  externalService,
  failDynamoFor,
  makeTestRuntime,
  messageFor,
  messageRecord,
  sqsRecord,
  type TestRuntime,
} from './support.js';

const svcOf = (t: TestRuntime, ns: string, name: string) => t.rt.api.getService(ns, name);
const maybeSvc = (t: TestRuntime, ns: string, name: string) =>
  t.rt.api.getService(ns, name).catch(() => undefined as V1Service | undefined);
const apply = async (t: TestRuntime, obj: unknown) => (await t.rt.api.applyService(obj as V1Service)).object;

describe('object messages, control plane only', () => {
  let t: TestRuntime;
  const ns = uniqueName('ns');
  beforeAll(async () => {
    t = await makeTestRuntime();
  });

  it('a message at the stored revision reconciles the stored object and asks for a push; a duplicate is harmless', async () => {
    const web = await apply(t, externalService(ns, 'web'));
    const rec = messageRecord(messageFor(web, 'ADDED'));
    expect(await handleObjectBatch(t.rt.controller, [rec])).toEqual({ batchItemFailures: [] });
    expect(t.log.decisions().at(-1)).toBe(`${ns}/web:reconciled`);
    expect(t.pusher.reasons.at(-1)).toBe('objects'); // a typed trigger, not text
    // SQS delivers at least once: the same message again reconciles the same state, and changes no object.
    expect(await handleObjectBatch(t.rt.controller, [rec, rec])).toEqual({ batchItemFailures: [] });
    expect(await svcOf(t, ns, 'web')).toEqual(web);
  });

  it('a message older than the stored revision is skipped: the later message does the work', async () => {
    const v1 = await apply(t, externalService(ns, 'lag'));
    const v2 = await apply(t, externalService(ns, 'lag', { port: 81 }));
    const pushes = t.pusher.reasons.length;
    await handleObjectBatch(t.rt.controller, [messageRecord(messageFor(v1, 'ADDED'))]);
    expect(t.log.decisions().at(-1)).toBe(`${ns}/lag:stale`);
    expect(t.pusher.reasons.length).toBe(pushes);
    await handleObjectBatch(t.rt.controller, [messageRecord(messageFor(v2, 'MODIFIED'))]);
    expect(t.log.decisions().at(-1)).toBe(`${ns}/lag:reconciled`);
    expect((await svcOf(t, ns, 'lag')).spec?.ports?.map((p) => p.port)).toEqual([81]);
  });

  it('a deleted object: late ADDED/MODIFIED messages are skipped, its DELETED reconciles the deletion', async () => {
    const v1 = await apply(t, externalService(ns, 'gone'));
    const gone = (await t.rt.api.deleteService(ns, 'gone')).object;
    await handleObjectBatch(t.rt.controller, [
      messageRecord(messageFor(v1, 'ADDED')),
      messageRecord(messageFor(gone, 'DELETED')),
      messageRecord(messageFor(v1, 'ADDED')),
    ]);
    expect(t.log.decisions().slice(-3)).toEqual([`${ns}/gone:stale`, `${ns}/gone:deleted`, `${ns}/gone:stale`]);
    expect(t.pusher.reasons.at(-1)).toBe('objects');
    expect(await maybeSvc(t, ns, 'gone')).toBeUndefined();
  });

  it('Service status writes need nothing; a Pod status write asks for a push (readiness changes endpoints)', async () => {
    await apply(t, externalService(ns, 'st'));
    const st = await t.rt.api.updateServiceStatus(ns, 'st', (s) => ({ ...s, conditions: [] }));
    const stMsg = messageFor(st.object, 'MODIFIED', { subresource: 'status' });
    const pushes = t.pusher.reasons.length;
    await handleObjectBatch(t.rt.controller, [messageRecord(stMsg)]);
    expect(t.log.decisions().at(-1)).toBe(`${ns}/st:status`);
    expect(t.pusher.reasons.length).toBe(pushes);

    await t.rt.api.applyPod(externalPod(ns, 'p') as V1Pod);
    const ready = await t.rt.api.updatePodStatus(ns, 'p', (s) => ({ ...s, podIP: '10.244.9.9' }));
    await handleObjectBatch(t.rt.controller, [
      messageRecord(messageFor(ready.object, 'MODIFIED', { subresource: 'status' })),
    ]);
    expect(t.log.decisions().at(-1)).toBe(`${ns}/p:reconciled`);
    expect(t.pusher.reasons.at(-1)).toBe('objects');
  });

  it('kinds the controller does not act on are ignored; malformed messages are acknowledged and change nothing', async () => {
    // Namespaces are acted on (the namespace controller); the kinds the controllers write themselves are not.
    const sliceMsg = {
      kind: 'EndpointSlice.discovery.k8s.io',
      namespace: ns,
      name: 'web-abcde',
      uid: 'u',
      rev: 1,
      type: 'ADDED' as const,
    };
    const res = await handleObjectBatch(t.rt.controller, [
      messageRecord(sliceMsg),
      sqsRecord('{"not json', 'x1'),
      sqsRecord({ kind: 'Service', name: 'x', rev: -1, type: 'ADDED' }, 'x2'),
      sqsRecord({ kind: 'Service', name: 'x', rev: 3, type: 'UPSERTED' }, 'x3'),
    ]);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(t.log.decisions().at(-1)).toBe(`${ns}/web-abcde:ignored`);
  });
});

describe('partial batch failure keeps FIFO order per message group', () => {
  it('fails exactly the transient record and the later records of its group; other groups proceed', async () => {
    let faulty = true;
    const ns = uniqueName('ns');
    const t = await makeTestRuntime({
      middleware: [failDynamoFor({ kind: 'Service', key: `${ns}/victim` }, () => faulty)],
    });
    faulty = false;
    const alpha = await apply(t, externalService(ns, 'alpha'));
    const victim = await apply(t, externalService(ns, 'victim'));
    const gamma = await apply(t, externalService(ns, 'gamma'));
    const victim2 = await apply(t, externalService(ns, 'victim', { port: 81 }));
    faulty = true;
    const recs = {
      a: messageRecord(messageFor(alpha, 'ADDED')),
      junk: sqsRecord('not json at all', 'junk'),
      v1: messageRecord(messageFor(victim, 'ADDED')),
      g: messageRecord(messageFor(gamma, 'ADDED')),
      v2: messageRecord(messageFor(victim2, 'MODIFIED')),
    };
    const res = await handleObjectBatch(t.rt.controller, Object.values(recs));
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: recs.v1.messageId },
      { itemIdentifier: recs.v2.messageId },
    ]);
    expect(t.log.decisions()).toEqual([`${ns}/alpha:reconciled`, `${ns}/gamma:reconciled`]);
    // SQS redelivers the failed records in order; now they go through (the first is stale by then).
    faulty = false;
    expect((await handleObjectBatch(t.rt.controller, [recs.v1, recs.v2])).batchItemFailures).toEqual([]);
    expect(t.log.decisions().slice(-2)).toEqual([`${ns}/victim:stale`, `${ns}/victim:reconciled`]);
  });
});

describe('change-log stream records and message bodies', () => {
  const image = (over: Record<string, { S?: string; N?: string }> = {}) => ({
    pk: { S: 'log' },
    sk: { S: '00000000000000000042' },
    rev: { N: '42' },
    type: { S: 'MODIFIED' },
    kind: { S: 'Service' },
    namespace: { S: 'default' },
    name: { S: 'web' },
    uid: { S: 'u-1' },
    body: { S: '{}' },
    group: { S: 'Service/default/web' },
    subresource: { S: '' },
    ...over,
  });

  it('an INSERT of a log item becomes a message grouped by object, deduplicated by revision', () => {
    expect(logRecordToMessage({ eventName: 'INSERT', dynamodb: { NewImage: image() } })).toEqual({
      body: { kind: 'Service', namespace: 'default', name: 'web', uid: 'u-1', rev: 42, type: 'MODIFIED' },
      groupId: 'Service/default/web',
      deduplicationId: '42',
    });
    const status = logRecordToMessage({
      eventName: 'INSERT',
      dynamodb: { NewImage: image({ subresource: { S: 'status' } }) },
    });
    expect(status?.body.subresource).toBe('status');
  });

  it("Events' log items are no messages (the Pipe's filter drops them too): recording one never reconciles", () => {
    const ev = image({ kind: { S: 'Event' }, name: { S: 'web.0123456789abcdef' }, group: { S: 'Event/default/x' } });
    expect(logRecordToMessage({ eventName: 'INSERT', dynamodb: { NewImage: ev } })).toBeUndefined();
    const node = image({ kind: { S: 'Node' }, namespace: { S: '' }, group: { S: 'Node//n' } });
    expect(logRecordToMessage({ eventName: 'INSERT', dynamodb: { NewImage: node } })?.body.kind).toBe('Node');
  });

  it('anything else is ignored: object items, the counter, MODIFY/REMOVE records, broken images', () => {
    expect(logRecordToMessage({ eventName: 'MODIFY', dynamodb: { NewImage: image() } })).toBeUndefined();
    expect(logRecordToMessage({ eventName: 'REMOVE', dynamodb: {} })).toBeUndefined();
    expect(
      logRecordToMessage({ eventName: 'INSERT', dynamodb: { NewImage: image({ pk: { S: 'obj#Service' } }) } }),
    ).toBeUndefined();
    expect(
      logRecordToMessage({ eventName: 'INSERT', dynamodb: { NewImage: { pk: { S: 'rev' }, rev: { N: '3' } } } }),
    ).toBeUndefined();
    expect(
      logRecordToMessage({ eventName: 'INSERT', dynamodb: { NewImage: image({ type: { S: 'BOOKMARK' } }) } }),
    ).toBeUndefined();
  });

  it("message groups fit SQS's 128 characters and charset; long keys keep a readable prefix and a hash", () => {
    expect(messageGroupFor('EndpointSlice.discovery.k8s.io', 'default', 'web-x1')).toBe(
      'EndpointSlice.discovery.k8s.io/default/web-x1',
    );
    const long = messageGroupFor('Service', 'default', 'a'.repeat(200));
    expect(long).toHaveLength(128);
    expect(long).toMatch(/^Service\/default\/a+#[0-9a-f]{64}$/);
    expect(messageGroupFor('Service', 'default', 'b'.repeat(200))).not.toBe(long);
  });

  it('parseObjectMessage accepts the Pipe template (revision as a string) and refuses malformed bodies', () => {
    expect(
      parseObjectMessage({
        kind: 'Pod',
        namespace: 'x',
        name: 'p',
        uid: '',
        rev: '7',
        type: 'DELETED',
        subresource: '',
      }),
    ).toEqual({ kind: 'Pod', namespace: 'x', name: 'p', uid: '', rev: 7, type: 'DELETED' });
    expect(() => parseObjectMessage({ kind: 'Pod', name: 'p', rev: 'x', type: 'ADDED' })).toThrow(InvalidError);
    expect(() => parseObjectMessage({ kind: 'Pod', rev: 1, type: 'ADDED' })).toThrow(
      'invalid object message: name: Required value',
    );
    expect(() => parseObjectMessage([1])).toThrow('invalid object message: message: must be a JSON object');
  });
});

describe('LoadBalancer Services through object messages (moto EC2 + ELBv2)', () => {
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

  it('a Service message creates a tagged NLB and writes the hostname; the DELETED message removes the NLB and its target groups', async () => {
    const ns = uniqueName('lbns');
    const shop = await apply(t, externalService(ns, 'shop', { type: 'LoadBalancer' }));
    const res = await handleObjectBatch(t.rt.controller, [messageRecord(messageFor(shop, 'ADDED'))]);
    expect(res.batchItemFailures).toEqual([]);

    const stored = await svcOf(t, ns, 'shop');
    const hostname = stored.status?.loadBalancer?.ingress?.[0]?.hostname;
    expect(hostname).toBeTruthy();
    expect(Number(stored.metadata?.resourceVersion)).toBeGreaterThan(Number(shop.metadata?.resourceVersion));
    expect(stored.status?.conditions?.find((c) => c.type === 'LoadBalancerReady')).toMatchObject({
      status: 'True',
      reason: 'EnsuredLoadBalancer',
    });
    const mine = await nlbsOf(`${ns}/shop`);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.dns).toBe(hostname);
    const tgs = await clients.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: mine[0]!.arn }));
    expect(tgs.TargetGroups?.map((g) => g.Port)).toEqual([stored.spec?.ports?.[0]?.nodePort]);

    // The status write's own message needs nothing; the first message again is stale. No second NLB either way.
    await handleObjectBatch(t.rt.controller, [
      messageRecord(messageFor(stored, 'MODIFIED', { subresource: 'status' })),
      messageRecord(messageFor(shop, 'ADDED')),
    ]);
    expect(t.log.decisions().slice(-2)).toEqual([`${ns}/shop:status`, `${ns}/shop:stale`]);
    expect(await svcOf(t, ns, 'shop')).toEqual(stored);
    expect(await nlbsOf(`${ns}/shop`)).toHaveLength(1);

    const gone = (await t.rt.api.deleteService(ns, 'shop')).object;
    const res2 = await handleObjectBatch(t.rt.controller, [messageRecord(messageFor(gone, 'DELETED'))]);
    expect(res2.batchItemFailures).toEqual([]);
    await expectGone(mine[0]!);
  });

  it('a Service changed from LoadBalancer to ClusterIP loses its NLB at once (not only at the next resync)', async () => {
    const ns = uniqueName('lbns');
    const lb = await apply(t, externalService(ns, 'api', { type: 'LoadBalancer' }));
    await handleObjectBatch(t.rt.controller, [messageRecord(messageFor(lb, 'ADDED'))]);
    const [nlb] = await nlbsOf(`${ns}/api`);
    expect(nlb).toBeDefined();

    const cip = await apply(t, externalService(ns, 'api', { type: 'ClusterIP' }));
    const res = await handleObjectBatch(t.rt.controller, [messageRecord(messageFor(cip, 'MODIFIED'))]);
    expect(res.batchItemFailures).toEqual([]);
    await expectGone(nlb!);
    const stored = await svcOf(t, ns, 'api');
    expect(stored.spec?.type).toBe('ClusterIP');
    expect(stored.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(stored.status?.conditions?.some((c) => c.type.startsWith('LoadBalancer'))).toBeFalsy();
  });
});
