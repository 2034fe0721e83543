/**
 * Deploy -> LoadBalancer Service -> healthy targets -> traffic through the NLB -> delete -> nothing left.
 *
 * It costs money (a CloudFormation stack with Lambda, DynamoDB, SQS and S3, and an NLB for the duration of the
 * test) and exposes nothing publicly: the Service's NLB is either internal (SSC_E2E_SCHEME=internal, for a runner
 * inside the VPC) or internet-facing with its security group open only to SSC_E2E_SOURCE_CIDR (the runner's own
 * egress address as a /32). One of the two is required.
 *
 * Needs (see docs/deploy.md "End-to-end test"): credentials for a sandbox account, and
 *   SSC_E2E_CLUSTER       cluster name (default e2e-<random>)
 *   SSC_E2E_VPC_ID        VPC of the nodes (its subnets tagged as docs/deploy.md says: they are discovered)
 *   SSC_E2E_SOURCE_CIDR   the runner's egress address, e.g. 203.0.113.7/32 (loadBalancerSourceRanges), or
 *   SSC_E2E_SCHEME        `internal` (the runner reaches the VPC)
 *   SSC_E2E_NODE_SG       node security group
 *   SSC_E2E_BACKEND_PORT  port where every node already serves HTTP (the "Pod" of this test; default 8080)
 *   SSC_E2E_ADMIN_ARN     the IAM role (or user) ARN these credentials act as: mapped to the API's admin role
 *   AWS_REGION            the region to deploy to (the kubeconfig's token is for its STS endpoint)
 * and at least one running node tagged kubernetes.io/cluster/<cluster>=owned with the SSM agent and the instance
 * role from docs/deploy.md. SSC_E2E_KEEP_STACK=1 leaves the stack deployed afterwards.
 *
 * Traffic goes only to the NLB this test creates (its DNS name read back from ELBv2), in a bounded loop.
 * Cleanup does not depend on the test passing: the Service is deleted in a `finally` (so the controller removes the
 * NLB, target groups and the node security group rule), and before `cdk destroy` the versioned buckets are emptied
 * (every version and delete marker), which CloudFormation needs to delete them.
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
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client, type ObjectIdentifier } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cluster = process.env.SSC_E2E_CLUSTER ?? `e2e-${randomBytes(3).toString('hex')}`;
const clusterTag = `kubernetes.io/cluster/${cluster}`;
const stackName = `ServiceController-${cluster}`;
const backendPort = Number(process.env.SSC_E2E_BACKEND_PORT ?? 8080);
const work = mkdtempSync(join(tmpdir(), 'ssc-e2e-'));
const elb = new ElasticLoadBalancingV2Client({});
const ec2 = new EC2Client({});
const s3 = new S3Client({});
const outputs: Record<string, string> = {};

/** Nothing public: an internal NLB, or an internet-facing one open to the runner's address only. */
function exposure(): { annotations: Record<string, string>; sourceRanges?: string[] } {
  if (process.env.SSC_E2E_SCHEME === 'internal') {
    return { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' } };
  }
  const cidr = process.env.SSC_E2E_SOURCE_CIDR;
  if (!cidr || cidr.endsWith('/0')) {
    throw new Error(
      "e2e: set SSC_E2E_SOURCE_CIDR to the runner's egress address (a /32) or SSC_E2E_SCHEME=internal: the test " +
        'never opens an NLB to the internet (see docs/deploy.md "End-to-end test")',
    );
  }
  return { annotations: {}, sourceRanges: [cidr] };
}

/** Deletes every object version and delete marker (a versioned bucket must be empty for CloudFormation to delete it). */
async function emptyBucket(bucket: string): Promise<void> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    const objects: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    // DeleteObjects takes at most 1000 keys; a page lists at most 1000 versions plus markers.
    for (let i = 0; i < objects.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000) } }));
    }
    if (!page.IsTruncated) return;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

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

/** svcctl against the stack's API, through the EKS-style kubeconfig `svcctl kubeconfig --server` wrote. */
function svcctl(args: string[]): string {
  return run('node', ['bin/svcctl.mjs', '--kubeconfig', join(work, 'kubeconfig'), ...args]);
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
      `nodeSecurityGroupId=${need('SSC_E2E_NODE_SG')}`,
      '-c',
      'resyncIntervalMinutes=2',
      '-c',
      'removalPolicy=destroy',
      '-c',
      `adminPrincipalArns=${need('SSC_E2E_ADMIN_ARN')}`,
    ]);
    const all = JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, Record<string, string>>;
    // Output keys carry the construct path prefix (e.g. ControllerEventBusName…): match by suffix.
    for (const [k, v] of Object.entries(all[stackName] ?? {})) {
      for (const name of [
        'ApiUrl',
        'EventBusName',
        'TableName',
        'ArtifactBucketName',
        'AccessLogBucketName',
        'SsmDocumentName',
      ]) {
        if (k.includes(name)) outputs[name] = v;
      }
    }
    expect(outputs.ApiUrl && outputs.TableName).toBeTruthy();
    const region = process.env.AWS_REGION ?? need('AWS_DEFAULT_REGION');
    const kubeconfig = join(work, 'kubeconfig');
    run('node', [
      'bin/svcctl.mjs',
      'kubeconfig',
      '--server',
      outputs.ApiUrl!,
      '--cluster-name',
      cluster,
      '--region',
      region,
      '--write',
      kubeconfig,
    ]);
  });

  afterAll(async () => {
    if (process.env.SSC_E2E_KEEP_STACK === '1' || !outputs.TableName) return;
    // removalPolicy=destroy deletes the buckets only when they are empty, old versions included.
    for (const b of [outputs.ArtifactBucketName, outputs.AccessLogBucketName]) if (b) await emptyBucket(b);
    run('npx', [
      'cdk',
      'destroy',
      stackName,
      '--force',
      '-c',
      `clusterName=${cluster}`,
      '-c',
      `vpcId=${process.env.SSC_E2E_VPC_ID}`,
    ]);
  });

  it('serves a LoadBalancer Service through its NLB and cleans up after delete', async () => {
    const { annotations, sourceRanges } = exposure();
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
        `metadata: {name: e2e-web, namespace: default, annotations: ${JSON.stringify(annotations)}}`,
        `spec: {type: LoadBalancer, selector: {app: e2e}, ports: [{port: 80, targetPort: ${backendPort}, protocol: TCP}]` +
          (sourceRanges ? `, loadBalancerSourceRanges: ${JSON.stringify(sourceRanges)}}` : '}'),
        '',
      ].join('\n'),
    );
    let deleted = false;
    try {
      svcctl(['apply', '-f', manifest]);
      await servesThenDeletes(manifest);
      deleted = true;
    } finally {
      // Whatever failed above: delete the Service so the controller removes the NLB, its target groups and the node
      // security group rule, and wait for it, before afterAll destroys the controller that does the deleting.
      if (!deleted) {
        try {
          svcctl(['delete', '-f', manifest]);
        } catch (err) {
          // Not created, or already deleted: the wait below still checks that nothing is left.
          console.error(`e2e: cleanup: ${(err as Error).message}`);
        }
        await waitFor(
          'the NLB to be deleted (cleanup)',
          async () => ((await clusterLoadBalancers()).length === 0 ? true : undefined),
          60,
          15_000,
        ).catch((err: unknown) =>
          console.error(`e2e: cleanup failed; look for resources tagged ${clusterTag}: ${(err as Error).message}`),
        );
      }
    }
  });
});

async function servesThenDeletes(manifest: string): Promise<void> {
  {
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
  }
}
