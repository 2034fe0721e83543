/**
 * A reusable network-namespace testbed: a flat "VPC" (a bridge in its own namespace), nodes as namespaces on it,
 * pods as namespaces behind their node (veth + /32 routes, the routed model of the AWS VPC CNI), and outside clients.
 * Everything created is named with the testbed's prefix and removed by `destroy()` (processes first), and
 * `sweepNamespaces(prefix)` removes leftovers of a crashed run. Requires root, `ip` and a kernel with netns.
 *
 * Several test runs (other worktrees, `npm start`) share this kernel, so a run never uses a fixed prefix:
 * `Testbed.forRun(base)` names everything `<base><pid>-…` and first removes only the namespaces of runs of `base`
 * whose process is gone (a crashed run), never those of a run that is still alive.
 *
 * Addressing: VPC 172.31.0.0/24 (bridge .1, node i at .(10+i), clients from .200), pods of node i in
 * 10.244.i.0/24 (node-side gateway 10.244.i.1 on every pod veth). Nodes route each other's pod ranges.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export async function sh(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? -1 });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the command may exit without reading its input
      child.stdin.end(opts.input);
    }
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export interface NodeNs {
  name: string;
  ns: string;
  ip: string;
  index: number;
  podCidr: string;
}

export interface PodNs {
  name: string;
  ns: string;
  ip: string;
  node: NodeNs;
}

export interface ClientNs {
  ns: string;
  ip: string;
}

/** Kill every process in a namespace, then delete it (and its /etc/netns directory). */
async function removeNs(ns: string): Promise<void> {
  const pids = (await sh('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await sh('ip', ['netns', 'del', ns]);
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

/** Remove every namespace whose name starts with `prefix-` (leftovers of a crashed run). */
export async function sweepNamespaces(prefix: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns').filter((n) => n.startsWith(`${prefix}-`));
  } catch {
    return [];
  }
  for (const n of names) await removeNs(n);
  return names;
}

/**
 * The namespace prefix of this process's run of `base`: `<base><pid>`. Bases are letters only and the pid is decimal,
 * so a base that is a prefix of another (`ssc`, `sscup`) can never claim the other's namespaces.
 */
export function runPrefix(base: string, pid = process.pid): string {
  if (!/^[a-z]{2,8}$/.test(base)) throw new Error('namespace base must be 2-8 lower-case letters');
  return `${base}${pid}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/** Removes the namespaces of earlier runs of `base` whose process has exited (crashed runs); returns their names. */
export async function sweepDeadRuns(base: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const re = new RegExp(`^${base}(\\d+)-`);
  const dead = names.filter((n) => {
    const m = re.exec(n);
    return m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
  });
  for (const n of dead) await removeNs(n);
  return dead;
}

export class Testbed {
  readonly prefix: string;
  readonly vpcNs: string;
  readonly nodes: NodeNs[] = [];
  readonly pods: PodNs[] = [];
  readonly clients: ClientNs[] = [];
  private readonly procs: ChildProcess[] = [];
  private created: string[] = [];
  private nodeSeq = 0;

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.vpcNs = `${prefix}-vpc`;
  }

  /** A testbed named for this process's run of `base` (see runPrefix), after sweeping crashed runs of `base`. */
  static async forRun(base: string): Promise<Testbed> {
    await sweepDeadRuns(base);
    return Testbed.create(runPrefix(base));
  }

  /** `prefix`: unique to this run (namespace names are `<prefix>-...`); prefer `forRun`. */
  static async create(prefix: string): Promise<Testbed> {
    if (!/^[a-z0-9]{2,16}$/.test(prefix)) throw new Error('prefix must be 2-16 lower-case letters/digits');
    await sweepNamespaces(prefix);
    const tb = new Testbed(prefix);
    await tb.addNs(tb.vpcNs);
    await tb.ipIn(tb.vpcNs, ['link', 'add', 'br0', 'type', 'bridge']);
    await tb.ipIn(tb.vpcNs, ['addr', 'add', '172.31.0.1/24', 'dev', 'br0']);
    await tb.ipIn(tb.vpcNs, ['link', 'set', 'br0', 'up']);
    return tb;
  }

  private async addNs(ns: string): Promise<void> {
    await must('ip', ['netns', 'add', ns]);
    this.created.push(ns);
    await this.ipIn(ns, ['link', 'set', 'lo', 'up']);
  }

  private ipIn(ns: string, args: string[]): Promise<string> {
    return must('ip', ['-n', ns, ...args]);
  }

  private async sysctl(ns: string, kv: string): Promise<void> {
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', kv]);
  }

  /** Attach a namespace to the VPC bridge with `ip`/24. */
  private async attach(ns: string, ip: string, tag: string): Promise<void> {
    await this.ipIn(this.vpcNs, ['link', 'add', tag, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await this.ipIn(this.vpcNs, ['link', 'set', tag, 'master', 'br0', 'up']);
    await this.ipIn(ns, ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await this.ipIn(ns, ['link', 'set', 'eth0', 'up']);
  }

  /**
   * A node on the VPC bridge. `opts.ip` pins its address (the local mode mirrors EC2 instances' private IPs; it must
   * be in 172.31.0.0/24); node indexes (and so pod CIDRs 10.244.<index>.0/24) are never reused within a testbed.
   */
  async addNode(name: string, opts: { ip?: string } = {}): Promise<NodeNs> {
    const index = ++this.nodeSeq;
    const ip = opts.ip ?? `172.31.0.${10 + index}`;
    if (!/^172\.31\.0\.\d{1,3}$/.test(ip))
      throw new Error(`node address ${ip} is not on the testbed VPC 172.31.0.0/24`);
    const node: NodeNs = {
      name,
      ns: `${this.prefix}-${name}`,
      ip,
      index,
      podCidr: `10.244.${index}.0/24`,
    };
    await this.addNs(node.ns);
    await this.attach(node.ns, node.ip, `n${index}`);
    // Like an EC2 node: a default route to the VPC router (needed for ClusterIPs, which no interface owns, to pass
    // the routing decision and reach the forward/output hooks where the Service rules act).
    await this.ipIn(node.ns, ['route', 'add', 'default', 'via', '172.31.0.1']);
    await this.sysctl(node.ns, 'net.ipv4.ip_forward=1');
    await this.sysctl(node.ns, 'net.ipv4.conf.all.rp_filter=0');
    await this.sysctl(node.ns, 'net.ipv4.conf.default.rp_filter=0');
    for (const other of this.nodes) {
      await this.ipIn(node.ns, ['route', 'add', other.podCidr, 'via', other.ip]);
      await this.ipIn(other.ns, ['route', 'add', node.podCidr, 'via', node.ip]);
    }
    this.nodes.push(node);
    return node;
  }

  /** Removes a node, its pods and the routes other nodes had to its pod range. */
  async removeNode(node: NodeNs): Promise<void> {
    const i = this.nodes.indexOf(node);
    if (i < 0) return;
    this.nodes.splice(i, 1);
    for (const other of this.nodes) await sh('ip', ['-n', other.ns, 'route', 'del', node.podCidr]);
    for (const pod of this.pods.filter((p) => p.node === node)) {
      await removeNs(pod.ns);
      this.created = this.created.filter((n) => n !== pod.ns);
    }
    this.pods.splice(0, this.pods.length, ...this.pods.filter((p) => p.node !== node));
    await removeNs(node.ns);
    this.created = this.created.filter((n) => n !== node.ns);
  }

  async addPod(node: NodeNs, name: string): Promise<PodNs> {
    const k = this.pods.filter((p) => p.node === node).length + 2;
    const pod: PodNs = { name, ns: `${this.prefix}-${name}`, ip: `10.244.${node.index}.${k}`, node };
    const gw = `10.244.${node.index}.1`;
    await this.addNs(pod.ns);
    const hostIf = `p${k}`;
    await this.ipIn(node.ns, ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.ns]);
    await this.ipIn(node.ns, ['addr', 'add', `${gw}/32`, 'dev', hostIf]);
    await this.ipIn(node.ns, ['link', 'set', hostIf, 'up']);
    await this.ipIn(node.ns, ['route', 'add', `${pod.ip}/32`, 'dev', hostIf]);
    await this.ipIn(pod.ns, ['addr', 'add', `${pod.ip}/32`, 'dev', 'eth0']);
    await this.ipIn(pod.ns, ['link', 'set', 'eth0', 'up']);
    await this.ipIn(pod.ns, ['route', 'add', gw, 'dev', 'eth0']);
    await this.ipIn(pod.ns, ['route', 'add', 'default', 'via', gw]);
    this.pods.push(pod);
    return pod;
  }

  /** Removes a Pod: its processes are killed and its namespace deleted (its veth and route on the node go with it). */
  async removePod(pod: PodNs): Promise<void> {
    const i = this.pods.indexOf(pod);
    if (i < 0) return;
    this.pods.splice(i, 1);
    await removeNs(pod.ns);
    this.created = this.created.filter((n) => n !== pod.ns);
  }

  /** A machine outside the cluster on the VPC (an NLB or a client reaching NodePorts). */
  async addClient(name: string): Promise<ClientNs> {
    const c: ClientNs = { ns: `${this.prefix}-${name}`, ip: `172.31.0.${200 + this.clients.length}` };
    await this.addNs(c.ns);
    await this.attach(c.ns, c.ip, `c${this.clients.length}`);
    this.clients.push(c);
    return c;
  }

  /** Give a namespace its own /etc/resolv.conf (ip netns exec bind-mounts /etc/netns/<ns>/ files over /etc). */
  setResolver(ns: string, nameserver: string): void {
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${nameserver}\noptions timeout:1 attempts:2\n`);
  }

  /** Give a namespace exactly this /etc/resolv.conf (a Pod's, as the kubelet composes it). */
  writeResolvConf(ns: string, content: string): void {
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, content);
  }

  /** Run a command (argv, no shell) in a namespace. */
  exec(
    ns: string,
    argv: string[],
    opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return sh('ip', ['netns', 'exec', ns, ...argv], { timeoutMs: 60_000, ...opts });
  }

  /** Start a long-running process in a namespace; it is killed by destroy(). */
  spawn(ns: string, argv: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(child);
    return child;
  }

  /** Kill every process we or the agents started in our namespaces, then delete the namespaces. */
  async destroy(): Promise<void> {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const ns of [...this.created].reverse()) await removeNs(ns);
    this.created = [];
    await sweepNamespaces(this.prefix);
  }
}

export { run as execFileAsync };
