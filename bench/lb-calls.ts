/**
 * AWS API calls of the load-balancer controller, counted by operation against a private moto server, and the time
 * a node join takes under the client-side token buckets on a simulated clock.
 *
 *   npx tsx bench/lb-calls.ts            (prints a Markdown table; copy it into docs/benchmarks.md)
 *
 * Scenarios: create one LB Service (2 ports); 50 LB Services x 2 ports, then a node joins (targets pass); a
 * steady-state full resync of the 50 (must be reads only); delete one Service; sweep the rest.
 */
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ensureInternetGateway } from '../tools/local/cluster-aws.js';
import { makeClients, type ClientMiddleware } from '../lib/aws/clients.js';
import { SimulatedClock, Throttle } from '../lib/aws/throttle.js';
import type { LoadBalancerContext } from '../lib/lb/context.js';
import { deleteServiceLoadBalancer, discoverNodes, reconcileAll, reconcileService, sweep } from '../lib/lb/index.js';
import { localAwsEnv, startMoto } from '../tools/local/moto.js';
import type { V1Service } from '../lib/model/types.js';

const counts = new Map<string, number>();
const counter: ClientMiddleware = {
  name: 'bench-count',
  middleware: (next, context) => async (args: unknown) => {
    const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
    counts.set(op, (counts.get(op) ?? 0) + 1);
    return next(args);
  },
};
const READ = /^(Describe|List|Get)/;
function snapshot(): Map<string, number> {
  const m = new Map(counts);
  counts.clear();
  return m;
}
function summarize(m: Map<string, number>) {
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  const mutations = [...m.entries()].filter(([k]) => !READ.test(k)).reduce((a, [, v]) => a + v, 0);
  const ops = [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, v]) => `${k} ${v}`);
  return { total, mutations, ops: ops.join(', ') };
}

function svc(i: number): V1Service {
  return {
    metadata: { name: `svc${i}`, namespace: 'bench', uid: `uid-${i}` },
    spec: {
      type: 'LoadBalancer',
      ports: [
        { name: 'http', port: 80, nodePort: 30000 + i, protocol: 'TCP' },
        { name: 'https', port: 443, nodePort: 31000 + i, protocol: 'TCP' },
      ],
      externalTrafficPolicy: 'Cluster',
    },
  };
}

/** A VPC with two public subnets, a node security group and a way to launch nodes of the cluster. */
async function makeCluster(clients: ReturnType<typeof makeClients>, cluster: string) {
  const vpcId = (await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
  await ensureInternetGateway(clients.ec2, vpcId); // public subnets for internet-facing NLBs
  const subnets: string[] = [];
  for (const [i, az] of ['us-east-1a', 'us-east-1b'].entries()) {
    const s = await clients.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.50.${i}.0/24`,
        AvailabilityZone: az,
        TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'kubernetes.io/role/elb', Value: '1' }] }],
      }),
    );
    subnets.push(s.Subnet!.SubnetId!);
  }
  const nodeSg = (
    await clients.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'nodes', Description: 'nodes', VpcId: vpcId }))
  ).GroupId!;
  const ami = (await clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
  const addNode = async (az: number) =>
    clients.ec2.send(
      new RunInstancesCommand({
        ImageId: ami,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnets[az],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: `kubernetes.io/cluster/${cluster}`, Value: 'owned' }] },
        ],
      }),
    );
  return { vpcId, nodeSg, addNode };
}

/** A node joins, on a simulated clock with the production token buckets: calls made, time taken, time allowed. */
async function measureJoin(ctx: LoadBalancerContext, services: V1Service[], cluster: string) {
  const clock = new SimulatedClock();
  const joinCtx = { ...ctx, throttle: new Throttle({ clock }) };
  const nodes = await discoverNodes(ctx.clients.ec2, cluster);
  const join = await reconcileAll(joinCtx, services, nodes, { scope: 'targets' });
  if (join.requeue.size) throw new Error(`join requeued: ${[...join.requeue.values()].join('; ')}`);
  const counts = snapshot();
  const regs = (counts.get('RegisterTargets') ?? 0) + (counts.get('DeregisterTargets') ?? 0);
  const untimed = [
    'RegisterTargets',
    'DeregisterTargets',
    'DescribeInstances',
    'DescribeSubnets',
    'DescribeSecurityGroups',
  ];
  const other = [...counts.entries()].filter(([k]) => !untimed.includes(k)).reduce((a, [, v]) => a + v, 0);
  // What the buckets allow: each bucket needs (calls - burst) / rate seconds at least; they run in parallel.
  const boundMs = Math.max(0, ((regs - 20) / 4) * 1000, ((other - 40) / 10) * 1000);
  return { counts, simulatedMs: clock.now(), regs, other, boundMs };
}

async function main() {
  const moto = await startMoto();
  Object.assign(process.env, localAwsEnv(moto.endpoint));
  try {
    const clients = makeClients({ middleware: [counter] });
    const cluster = 'bench';
    const { vpcId, nodeSg, addNode } = await makeCluster(clients, cluster);
    await addNode(0);
    await addNode(1);
    snapshot();

    const fast = new Throttle({ targetsRate: 1e6, targetsBurst: 1e6, elbv2Rate: 1e6, elbv2Burst: 1e6 });
    const ctx: LoadBalancerContext = {
      clients: { ec2: clients.ec2, elbv2: clients.elbv2 },
      clusterName: cluster,
      vpcId,
      nodeSecurityGroupId: nodeSg,
      nlbQuota: 1000,
      throttle: fast,
    };
    const rows: [string, ReturnType<typeof summarize>][] = [];

    let nodes = await discoverNodes(clients.ec2, cluster);
    snapshot();
    await reconcileService(ctx, svc(0), nodes);
    rows.push(['Create one LB Service (2 ports, 2 nodes)', summarize(snapshot())]);

    const services = Array.from({ length: 50 }, (_, i) => svc(i));
    await reconcileAll(ctx, services, nodes);
    rows.push(['Create the other 49 (reconcileAll, full)', summarize(snapshot())]);

    await addNode(0);
    snapshot();
    const join = await measureJoin(ctx, services, cluster);
    rows.push(['Node joins, 50 Services x 2 ports (reconcileAll, targets)', summarize(join.counts)]);

    nodes = await discoverNodes(clients.ec2, cluster);
    snapshot();
    const resync = await reconcileAll(ctx, services, nodes);
    if (resync.requeue.size) throw new Error('resync requeued');
    rows.push(['Steady-state resync of 50 Services (reconcileAll, full)', summarize(snapshot())]);

    await deleteServiceLoadBalancer(ctx, 'bench/svc0');
    rows.push(['Delete one LB Service', summarize(snapshot())]);
    const sw = await sweep(ctx, []);
    rows.push([`Sweep the remaining ${sw.deleted.length}`, summarize(snapshot())]);
    console.log(report(rows, join));
  } finally {
    await moto.stop();
  }
}

function report(
  rows: [string, ReturnType<typeof summarize>][],
  join: { simulatedMs: number; regs: number; other: number; boundMs: number },
): string {
  const out: string[] = [];
  out.push('| Scenario | AWS calls | Mutations | By operation |');
  out.push('|---|---:|---:|---|');
  for (const [name, s] of rows) out.push(`| ${name} | ${s.total} | ${s.mutations} | ${s.ops} |`);
  out.push('');
  out.push(
    `Node join under the token buckets (simulated clock): ${(join.simulatedMs / 1000).toFixed(2)} s for ${join.regs} ` +
      `RegisterTargets + ${join.other} other ELBv2 calls; the buckets allow ${(join.boundMs / 1000).toFixed(2)} s at best ` +
      `(ratio ${(join.simulatedMs / join.boundMs).toFixed(3)}, target <= 1.25).`,
  );
  return out.join('\n');
}

await main();
