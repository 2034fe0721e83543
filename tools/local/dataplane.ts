/**
 * The local data plane for `npm start`: every EC2 node of the local cluster is a network namespace holding the
 * instance's private address and running the real node agent; demo Pods are HTTP servers in Pod namespaces; SSM Run
 * Command is stood in for by the local transport, which runs the SAME document script with the same parameters in
 * each node namespace and feeds SSM-shaped status events back to the same handler code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../../lib/repo-path.js';
import { CreateDocumentCommand, SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../lib/aws/clients.js';
import { agentRoot, sendLocalCommand, type LocalTarget } from './transport.js';
import { ssmDocumentContent, type DataPlaneParameters } from '../../lib/dataplane/ssm-document.js';
import { clusterFirstDns, formatResolvConf } from '../../lib/dataplane/render/resolv.js';
import { handleSsmStatus } from '../../lib/handlers/dataplane.js';
import { handlePushBatch } from '../../lib/dataplane/ssm-driver.js';
import type { PushRequest, PushTrigger } from '../../lib/dataplane/triggers.js';
import type { DataPlanePusher } from '../../lib/controller/controller.js';
import type { Runtime } from '../../lib/runtime/runtime.js';
import { sh, Testbed, type NodeNs, type PodNs } from '../netns/index.js';
import { listLocalNodes, type LocalNode } from './cluster-aws.js';

/** Namespaces are `ssclocal<pid>-…`: one run's own, so concurrent runs (and test runs) never collide. */
export const LOCAL_NS_BASE = 'ssclocal';
export const LOCAL_POD_CIDR = '10.244.0.0/16';
export const VPC_RESOLVER = '172.31.0.1';

/** SSM Run Command, locally: registers the command in the local AWS (so `aws ssm list-commands` shows it), then
 * runs the document in every targeted node namespace and reports status events to the ssm-status handler code. */
class LocalSsm {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly dp: LocalDataPlane,
    private readonly clients: AwsClients,
    private readonly documentName: string,
  ) {}

  async send(cmd: unknown): Promise<unknown> {
    if (!(cmd instanceof SendCommandCommand)) throw new Error('the local SSM stand-in only sends commands');
    const out = await this.clients.ssm.send(cmd);
    const commandId = out.Command?.CommandId;
    const input = cmd.input;
    const params = Object.fromEntries(
      Object.entries(input.Parameters ?? {}).map(([k, v]) => [k, v[0] ?? '']),
    ) as DataPlaneParameters;
    const only = input.InstanceIds ? new Set(input.InstanceIds) : undefined;
    // After SendCommand returns, the driver records command -> version; status events must come after that.
    this.chain = this.chain.then(() =>
      new Promise((r) => setTimeout(r, 0)).then(async () => {
        const targets = this.dp.targets().filter((t) => !only || only.has(t.instanceId));
        await sendLocalCommand(ssmDocumentContent(), params, targets, {
          commandId,
          documentName: this.documentName,
          onEvent: async (e) => {
            await handleSsmStatus(this.dp.runtime, e);
          },
        });
      }),
    );
    return out;
  }

  idle(): Promise<void> {
    return this.chain;
  }
}

export class LocalDataPlane {
  tb!: Testbed;
  runtime!: Runtime;
  readonly nodesByInstance = new Map<string, { node: NodeNs; root: string; info: LocalNode }>();
  readonly pods: { pod: PodNs; labels: Record<string, string>; ports: { name: string; port: number }[] }[] = [];
  client!: { ns: string; ip: string };
  relaySocket = '';
  private ssm?: LocalSsm;
  private pushing: Promise<void> = Promise.resolve();
  private pendingTimer?: NodeJS.Timeout;
  private generationKey(): string {
    return `dataplane-generation-${this.runtime.env.cluster.clusterName}`;
  }

  static async create(base = LOCAL_NS_BASE): Promise<LocalDataPlane> {
    const dp = new LocalDataPlane();
    // Testbed.forRun first removes what crashed runs of `base` left behind (their process is gone).
    dp.tb = await Testbed.forRun(base);
    // The VPC's resolver: answers nothing by itself (no network here), so ExternalName answers are CNAMEs only.
    dp.tb.spawn(dp.tb.vpcNs, [
      'dnsmasq',
      '--keep-in-foreground',
      '--no-resolv',
      '--no-hosts',
      `--listen-address=${VPC_RESOLVER}`,
      '--bind-interfaces',
      '--pid-file=',
    ]);
    dp.client = await dp.tb.addClient('client');
    dp.relaySocket = join(mkdtempSync(join(tmpdir(), `${dp.tb.prefix}-relay-`)), 'relay.sock');
    const relay = dp.tb.spawn(dp.tb.vpcNs, [process.execPath, repoPath('tools/local/relay.mjs'), dp.relaySocket]);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('relay did not start within 30 s')), 30_000);
      relay.stdout?.once('data', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return dp;
  }

  /** Wires the runtime's data-plane driver to the local transport. */
  async attach(runtime: Runtime, clients: AwsClients): Promise<void> {
    this.runtime = runtime;
    const driver = runtime.driver;
    if (!driver) throw new Error('local data plane needs ARTIFACT_BUCKET and SSM_DOCUMENT_NAME');
    await clients.s3.send(new CreateBucketCommand({ Bucket: driver.bucket })).catch(() => undefined);
    await clients.ssm
      .send(
        new CreateDocumentCommand({
          Name: driver.documentName,
          DocumentType: 'Command',
          Content: JSON.stringify(ssmDocumentContent()),
        }),
      )
      .catch(() => undefined); // exists from an earlier run
    this.ssm = new LocalSsm(this, clients, driver.documentName);
    driver.ssm = this.ssm as unknown as SSMClient;
    // Node namespaces cannot reach the local AWS on the host's loopback: always inline (no SSM size limit here).
    driver.inlineBudget = Number.MAX_SAFE_INTEGER;
  }

  targets(): LocalTarget[] {
    return [...this.nodesByInstance.entries()].map(([instanceId, n]) => ({
      instanceId,
      ns: n.node.ns,
      env: { SSC_ROOT: n.root, SSC_DNS_LISTEN: n.node.ip, SSC_DNS_UPSTREAM: VPC_RESOLVER },
    }));
  }

  /** Makes the namespaces follow the EC2 instances: running ones get a node namespace, gone ones lose it. */
  async syncNodes(clients: AwsClients, clusterName: string): Promise<{ added: string[]; removed: string[] }> {
    const nodes = (await listLocalNodes(clients.ec2, clusterName)).filter(
      (n) => n.state === 'running' || n.state === 'pending',
    );
    const added: string[] = [];
    const removed: string[] = [];
    for (const info of nodes) {
      if (this.nodesByInstance.has(info.instanceId)) continue;
      const node = await this.tb.addNode(`n${info.privateIp.split('.').pop()}`, { ip: info.privateIp });
      const root = agentRoot(`${this.tb.prefix}-${node.name}`);
      this.tb.setResolver(node.ns, node.ip);
      this.nodesByInstance.set(info.instanceId, { node, root, info });
      // A fresh namespace holds nothing, whatever an earlier run of this instance applied: it is a new machine.
      await this.runtime.dataPlaneStore.deleteNode(info.instanceId);
      added.push(info.instanceId);
    }
    const live = new Set(nodes.map((n) => n.instanceId));
    for (const [id, n] of this.nodesByInstance) {
      if (live.has(id)) continue;
      await this.tb.removeNode(n.node);
      this.pods.splice(0, this.pods.length, ...this.pods.filter((p) => p.pod.node !== n.node));
      rmSync(n.root, { recursive: true, force: true });
      this.nodesByInstance.delete(id);
      removed.push(id);
    }
    return { added, removed };
  }

  /**
   * A demo Pod: a namespace behind its node running an HTTP server on `ports`, with the resolv.conf the kubelet gives
   * a ClusterFirst Pod (cluster search domains, ndots:5, the node's DNS as nameserver).
   */
  async addPod(
    instanceId: string,
    name: string,
    labels: Record<string, string>,
    ports: { name: string; port: number }[],
    namespace = 'default',
  ) {
    const n = this.nodesByInstance.get(instanceId);
    if (!n) throw new Error(`no node namespace for ${instanceId}`);
    const pod = await this.tb.addPod(n.node, name);
    const dns = clusterFirstDns({
      namespace,
      clusterDomain: this.runtime.env.cluster.clusterDomain,
      clusterDns: [n.node.ip],
    });
    this.tb.writeResolvConf(pod.ns, formatResolvConf(dns));
    const proc = this.tb.spawn(pod.ns, [
      'python3',
      repoPath('tools/local/demo-http.py'),
      name,
      n.info.name,
      ...ports.map((p) => String(p.port)),
    ]);
    await new Promise<void>((resolve, reject) => {
      // A Python start on a loaded 2-core machine can take several seconds; 30 s still bounds a server that never starts.
      const t = setTimeout(() => reject(new Error(`pod ${name} did not start within 30 s`)), 30_000);
      proc.stdout?.once('data', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.pods.push({ pod, labels, ports });
    return { pod, node: n };
  }

  /**
   * The local pusher: the same triggers as the deployed one, and bursts within 300 ms coalesce into one batch through
   * the same push-batch code. A retry waits out its backoff on a timer (the deployed pusher: SQS DelaySeconds).
   */
  readonly pusher: DataPlanePusher = {
    request: async (t: PushTrigger): Promise<void> => {
      if (t.kind === 'retry') {
        const timer = setTimeout(
          () => {
            this.retryTimers.delete(timer);
            this.enqueue({ kind: 'retry', instanceIds: t.instanceIds });
          },
          (t.delaySeconds ?? 0) * 1000,
        );
        this.retryTimers.add(timer);
        return;
      }
      // The generation comes from the store's counter, as the deployed pusher's does: a restarted process must
      // still count above what earlier runs pushed, or coalescing would drop its requests as already done.
      this.enqueue({ ...t, generation: await this.runtime.store.nextSequence(this.generationKey()) });
    },
  };

  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private queued: PushRequest[] = [];
  private enqueue(r: PushRequest): void {
    this.queued.push(r);
    if (this.pendingTimer) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      const batch = this.queued.splice(0);
      this.pushing = this.pushing.then(() =>
        handlePushBatch(batch, this.runtime.driver!)
          .then(() => undefined)
          .catch((err) => console.error(`data-plane push failed: ${(err as Error).message}`)),
      );
    }, 300);
  }

  /** Resolves when no push is queued or running and every node has run the last command (retry timers aside). */
  async settle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.pushing;
      await this.ssm?.idle();
      if (!this.pendingTimer) {
        await this.pushing;
        await this.ssm?.idle();
        if (!this.pendingTimer) return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops a demo Pod: its server and its namespace go (the Pod object is the API's business). */
  async removePod(name: string): Promise<void> {
    const i = this.pods.findIndex((p) => p.pod.name === name);
    if (i < 0) return;
    const [p] = this.pods.splice(i, 1);
    await this.tb.removePod(p!.pod);
  }

  /** Runs a command inside a namespace (argv, never a shell). */
  exec(ns: string, argv: string[], timeoutMs = 10_000) {
    return sh('ip', ['netns', 'exec', ns, ...argv], { timeoutMs });
  }

  async destroy(): Promise<void> {
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    await this.pushing.catch(() => undefined);
    await this.ssm?.idle().catch(() => undefined);
    await this.tb.destroy();
    for (const n of this.nodesByInstance.values()) rmSync(n.root, { recursive: true, force: true });
    if (this.relaySocket) rmSync(join(this.relaySocket, '..'), { recursive: true, force: true });
  }
}
