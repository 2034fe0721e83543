/**
 * Two reconcilers racing the delete of one Service's load balancer, against moto: both observe the same stack, both
 * plan its deletion, both apply. Whatever the interleaving, the loser's deletes find resources already gone
 * (TargetGroupNotFound, ListenerNotFound, LoadBalancerNotFound, InvalidGroup.NotFound, ...) and that is success:
 * the race ends with nothing left and no PermanentError.
 */
import { describe, expect, it } from 'vitest';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { applyPlan } from '../../lib/lb/apply/index.js';
import { deleteServiceLoadBalancer, discoverNodes, reconcileService } from '../../lib/lb/index.js';
import { emptyStack, observe } from '../../lib/lb/observe.js';
import { planStack } from '../../lib/lb/plan/index.js';
import { ControllerError } from '../../lib/errors.js';
import { lbService, makeCluster, type Cluster } from './fixture.js';

async function createLb(c: Cluster, name: string): Promise<string> {
  const svc = lbService(name, {
    ports: [
      { name: 'a', port: 80, nodePort: 30080 },
      { name: 'b', port: 81, nodePort: 30081 },
    ],
  });
  const st = await reconcileService(c.ctx, svc, await discoverNodes(c.clients.ec2, c.clusterName));
  expect(st.error).toBeUndefined();
  return `default/${name}`;
}

async function expectGone(c: Cluster, key: string): Promise<void> {
  expect((await observe(c.ctx, { stack: key })).stacks.get(key)).toBeUndefined();
  const g = await c.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [c.nodeSgId] }));
  const pairs = (g.SecurityGroups![0]!.IpPermissions ?? []).flatMap((p) => p.UserIdGroupPairs ?? []);
  expect(pairs.filter((p) => p.Description?.endsWith(` ${key}`))).toEqual([]);
}

/** A delete retried as the event handler retries it: transient errors again, a permanent one is the failure. */
async function deleteUntilDone(c: Cluster, key: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await deleteServiceLoadBalancer(c.ctx, key);
      return;
    } catch (err) {
      if (!(err instanceof ControllerError) || err.permanent) throw err;
    }
  }
  throw new Error(`delete of ${key} did not finish in 10 attempts`);
}

describe('two reconcilers racing a delete', () => {
  it('the second applies a plan whose every resource the first already deleted: all NotFound, all success', async () => {
    const c = await makeCluster();
    await c.addNode({}, 0);
    const key = await createLb(c, 'race-a');
    // Both observe before either deletes.
    const seenByA = (await observe(c.ctx, { stack: key, shallow: true })).stacks.get(key)!;
    const seenByB = (await observe(c.ctx, { stack: key, shallow: true })).stacks.get(key)!;
    const planA = planStack(null, seenByA, c.vpcId);
    const planB = planStack(null, seenByB, c.vpcId);
    expect(planB.actions.map((a) => `${a.op} ${a.kind}`)).toEqual([
      'delete Listener',
      'delete Listener',
      'delete TargetGroup',
      'delete TargetGroup',
      'delete NodeRule',
      'delete LoadBalancer',
      'delete SecurityGroup',
    ]);
    expect((await applyPlan(c.ctx, planA)).done).toBe(planA.actions.length);
    // B's view is stale: every resource it deletes is gone. That is success, not a PermanentError.
    const gone: string[] = [];
    const logB = (_level: string, msg: string) => void (/ is already gone$/.test(msg) && gone.push(msg.split(' ')[0]!));
    expect((await applyPlan({ ...c.ctx, log: logB }, planB)).done).toBe(planB.actions.length);
    expect(gone).toEqual(expect.arrayContaining(['Listener', 'TargetGroup', 'SecurityGroup']));
    await expectGone(c, key);
    expect(planStack(null, emptyStack(key), c.vpcId).actions).toEqual([]);
  });

  it('concurrent deletes of the same stack both end without a permanent error', async () => {
    const c = await makeCluster();
    await c.addNode({}, 0);
    for (const name of ['race-b', 'race-c', 'race-d']) {
      const key = await createLb(c, name);
      const results = await Promise.allSettled([deleteUntilDone(c, key), deleteUntilDone(c, key)]);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok']);
      await expectGone(c, key);
    }
  });
});
