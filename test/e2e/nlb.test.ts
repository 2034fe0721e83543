/**
 * Deploy -> LoadBalancer Service -> healthy targets -> traffic through the NLB -> delete -> nothing left.
 *
 * Needs (see docs/deploy.md "End-to-end test"): credentials for a sandbox account, and
 *   SSC_E2E_CLUSTER       cluster name (default e2e-<random>)
 *   SSC_E2E_VPC_ID        VPC of the nodes
 *   SSC_E2E_SUBNET_IDS    comma list of public subnets for the NLB
 *   SSC_E2E_NODE_SG       node security group
 *   SSC_E2E_BACKEND_PORT  port where every node already serves HTTP (the "Pod" of this test; default 8080)
 * and at least one running node tagged kubernetes.io/cluster/<cluster>=owned with the SSM agent and the instance
 * role from docs/deploy.md. SSC_E2E_KEEP_STACK=1 leaves the stack deployed afterwards.
 *
 * Traffic goes only to the NLB this test creates (its DNS name read back from ELBv2), in a bounded loop.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cluster = process.env.SSC_E2E_CLUSTER ?? `e2e-${randomBytes(3).toString('hex')}`;
const clusterTag = `kubernetes.io/cluster/${cluster}`;
const stackName = `ServiceController-${cluster}`;
const backendPort = Number(process.env.SSC_E2E_BACKEND_PORT ?? 8080);
const work = mkdtempSync(join(tmpdir(), 'ssc-e2e-'));
const elb = new ElasticLoadBalancingV2Client({});
const ec2 = new EC2Client({});
const outputs: Record<string, string> = {};

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`e2e: ${name} must be set (see docs/deploy.md "End-to-end test")`);
  return v;
}

/** Runs a command without a shell: arguments are passed as an array, never interpolated into a command line. */
function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 40 * 60_000,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function svcctl(args: string[]): string {
  return run('node', ['bin/svcctl.mjs', ...args, '--table', outputs.TableName!, '--bus', outputs.EventBusName!], {
    CLUSTER_NAME: cluster,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value, at most `maxTries` times. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  maxTries: number,
  everyMs: number,
): Promise<T> {
  for (let i = 0; i < maxTries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  throw new Error(`e2e: timed out waiting for ${what}`);
}

async function clusterLoadBalancers(): Promise<LoadBalancer[]> {
  const all: LoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const page = await elb.send(new DescribeLoadBalancersCommand({ Marker: marker }));
    all.push(...(page.LoadBalancers ?? []));
    marker = page.NextMarker;
  } while (marker);
  const ours: LoadBalancer[] = [];
  // DescribeTags takes at most 20 ARNs per call.
  for (let i = 0; i < all.length; i += 20) {
    const chunk = all.slice(i, i + 20);
    const tags = await elb.send(new DescribeTagsCommand({ ResourceArns: chunk.map((l) => l.LoadBalancerArn!) }));
    for (const d of tags.TagDescriptions ?? []) {
      if (d.Tags?.some((t) => t.Key === clusterTag)) ours.push(chunk.find((l) => l.LoadBalancerArn === d.ResourceArn)!);
    }
  }
  return ours;
}

/** One HTTP/1.0 GET over TCP; resolves with the status line or undefined on any failure. */
function httpGet(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: 5000 });
    let data = '';
    sock.on('connect', () => sock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    sock.on('data', (b) => (data += b.toString('latin1')));
    sock.on('end', () => resolve(data.split('\r\n')[0] || undefined));
    sock.on('timeout', () => {
      sock.destroy();
      resolve(undefined);
    });
    sock.on('error', () => resolve(undefined));
  });
}

describe(`e2e on a real account (cluster ${cluster})`, () => {
  beforeAll(() => {
    const outFile = join(work, 'outputs.json');
    run('npx', [
      'cdk',
      'deploy',
      stackName,
      '--require-approval',
      'never',
      '--outputs-file',
      outFile,
      '-c',
      `clusterName=${cluster}`,
      '-c',
      `vpcId=${need('SSC_E2E_VPC_ID')}`,
      '-c',
      `subnetIds=${need('SSC_E2E_SUBNET_IDS')}`,
      '-c',
      `nodeSecurityGroupId=${need('SSC_E2E_NODE_SG')}`,
      '-c',
      'resyncIntervalMinutes=2',
      '-c',
      'removalPolicy=destroy',
    ]);
    const all = JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, Record<string, string>>;
    // Output keys carry the construct path prefix (e.g. ControllerEventBusName…): match by suffix.
    for (const [k, v] of Object.entries(all[stackName] ?? {})) {
      for (const name of ['EventBusName', 'TableName', 'ArtifactBucketName', 'SsmDocumentName']) {
        if (k.includes(name)) outputs[name] = v;
      }
    }
    expect(outputs.TableName && outputs.EventBusName).toBeTruthy();
  });

  afterAll(() => {
    if (process.env.SSC_E2E_KEEP_STACK === '1' || !outputs.TableName) return;
    run('npx', [
      'cdk',
      'destroy',
      stackName,
      '--force',
      '-c',
      `clusterName=${cluster}`,
      '-c',
      `vpcId=${process.env.SSC_E2E_VPC_ID}`,
      '-c',
      `subnetIds=${process.env.SSC_E2E_SUBNET_IDS}`,
    ]);
  });

  it('serves a LoadBalancer Service through its NLB and cleans up after delete', async () => {
    // The "Pod" is the backend every node already serves on backendPort, at the node's own address.
    const nodes = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${clusterTag}`, Values: ['owned'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    const node = nodes.Reservations?.flatMap((r) => r.Instances ?? [])[0];
    expect(node?.PrivateIpAddress, `no running node tagged ${clusterTag}=owned`).toBeTruthy();
    const manifest = join(work, 'svc.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: e2e-backend, namespace: default, labels: {app: e2e}}',
        `spec: {nodeName: ${node!.PrivateDnsName}, containers: [{name: web, image: none, ports: [{containerPort: ${backendPort}}]}]}`,
        `status: {phase: Running, podIP: ${node!.PrivateIpAddress}, conditions: [{type: Ready, status: "True"}]}`,
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: e2e-web, namespace: default}',
        `spec: {type: LoadBalancer, selector: {app: e2e}, ports: [{port: 80, targetPort: ${backendPort}, protocol: TCP}]}`,
        '',
      ].join('\n'),
    );
    svcctl(['apply', '-f', manifest]);

    const lb = await waitFor(
      'an active NLB for the Service',
      async () => (await clusterLoadBalancers()).find((l) => l.State?.Code === 'active'),
      60,
      15_000,
    );
    expect(lb.LoadBalancerName).toMatch(/^k8s-/);

    await waitFor(
      'healthy targets',
      async () => {
        const tgs = await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
        if (!tgs.TargetGroups?.length) return undefined;
        for (const tg of tgs.TargetGroups) {
          const h = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
          const states = (h.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State);
          if (states.length === 0 || states.some((s) => s !== 'healthy')) return undefined;
        }
        return true;
      },
      60,
      15_000,
    );

    // NLB DNS can take a few minutes to resolve after the load balancer turns active.
    const status = await waitFor('an HTTP answer through the NLB', () => httpGet(lb.DNSName!, 80), 40, 15_000);
    expect(status).toMatch(/^HTTP\/1\.[01] \d{3}/);

    svcctl(['delete', '-f', manifest]);
    await waitFor(
      'the NLB to be deleted',
      async () => ((await clusterLoadBalancers()).length === 0 ? true : undefined),
      60,
      15_000,
    );
    const tgsLeft = await elb.send(new DescribeTargetGroupsCommand({}));
    const tgArns = (tgsLeft.TargetGroups ?? []).map((t) => t.TargetGroupArn!);
    for (let i = 0; i < tgArns.length; i += 20) {
      const tags = await elb.send(new DescribeTagsCommand({ ResourceArns: tgArns.slice(i, i + 20) }));
      const leaked = (tags.TagDescriptions ?? []).filter((d) => d.Tags?.some((t) => t.Key === clusterTag));
      expect(leaked.map((d) => d.ResourceArn)).toEqual([]);
    }
    const sgs = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: `tag:${clusterTag}`, Values: ['owned'] }] }),
    );
    expect((sgs.SecurityGroups ?? []).map((g) => g.GroupId)).toEqual([]);
  });
});
