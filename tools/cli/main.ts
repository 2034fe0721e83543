/**
 * The svcctl command line: a client of the Kubernetes API (kubectl's commands and output where kubectl has them),
 * plus `plan`, `token`, `kubeconfig` and `local`. Each command's module is loaded with import() when it runs, so
 * `svcctl get` loads neither the AWS SDK nor the local-system code.
 */
import { parseArgs } from 'node:util';
import { connect, selectedKubeconfig, type ConnectFlags } from './connect.js';
import { KubeconfigError } from './kube/kubeconfig.js';
import { formatErrors } from './kube/errors.js';
import { UnknownResourceError } from './kube/resources.js';
import { progressTo, UsageError, type Io } from './io.js';
import type { KubeClient } from './kube/client.js';

export type { Io } from './io.js';

export const USAGE = `svcctl controls Kubernetes Services implemented serverlessly on AWS, through the cluster's Kubernetes API.

Usage (kubectl's commands and output):
  svcctl apply -f FILE|DIR|- [-f ...]       create or update objects (kubectl's client-side apply); all or nothing:
                                            every object is dry-run first and nothing is written unless all pass
  svcctl get TYPE [NAME...] [-n NS | -A] [-l SELECTOR] [--field-selector SEL] [-o wide|yaml|json|name] [--show-labels]
                                            TYPE: services (svc), pods, endpoints, endpointslices, nodes, events, namespaces
  svcctl get nodes                          also shows each node's DATAPLANE state (its DataPlaneReady condition)
  svcctl describe service [NAME] [-n NS]
  svcctl delete -f FILE|DIR|-               delete the objects a manifest names (then wait until they are gone)
  svcctl delete TYPE NAME... [-n NS]

What kubectl does not have:
  svcctl plan -f FILE                       what applying these Services would change in AWS (dry run through the
                                            API, then AWS read only)
  svcctl token --cluster-name NAME [--region R]
                                            kubectl exec credential plugin: an EKS-format token from your AWS credentials
  svcctl kubeconfig [--write FILE]          the local API's kubeconfig
  svcctl kubeconfig --server URL --cluster-name NAME --region R [--certificate-authority FILE] [--write FILE]
                                            a kubeconfig for a deployed stack's API (the ApiUrl output), using \`svcctl token\`
  svcctl local up [--nodes N] [--exit-after-demo] [--control-plane-only]
                                            run the whole system in the foreground (what \`npm start\` runs)
  svcctl local status|stop                  the local system (stop: what svcctl started, by PID)
  svcctl local node add|remove [INSTANCE-ID|NAME]|list

Which API:
  --kubeconfig FILE, else $KUBECONFIG, else the local system's (~/.svcctl/kubeconfig, or $SVCCTL_HOME): the first
  command starts the local system in the background (moto, the API and the controller) and later ones reuse it.
  --context NAME picks a context of the kubeconfig.
`;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      selector: { type: 'string', short: 'l' },
      'field-selector': { type: 'string' },
      'show-labels': { type: 'boolean' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      wait: { type: 'string' },
      timeout: { type: 'string' },
      'cluster-name': { type: 'string' },
      cluster: { type: 'string' },
      region: { type: 'string' },
      server: { type: 'string' },
      'certificate-authority': { type: 'string' },
      write: { type: 'string' },
      nodes: { type: 'string' },
      'exit-after-demo': { type: 'boolean' },
      'control-plane-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export type Flags = ReturnType<typeof parse>['values'];

function usageHint(message: string): string {
  // The direct-table mode is gone: say where its flags went instead of only "unknown option".
  if (/'--(table|bus)'/.test(message))
    return `${message}: svcctl no longer writes the table; it talks to the API (see \`svcctl kubeconfig --server\`)`;
  return message;
}

/** kubectl's `--timeout=30s` / `2m` / `0` (0: wait as long as it takes). */
function durationMs(v: string | undefined): number {
  if (!v || v === '0' || v === '0s') return 7 * 24 * 3600 * 1000;
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v);
  if (!m) throw new UsageError(`invalid argument "${v}" for "--timeout" flag`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

type Objects = { object: Record<string, unknown>; source: string }[];
type Command = (client: KubeClient, rest: string[], flags: Flags, io: Io, objects: Objects) => Promise<number>;

const API_COMMANDS: Record<string, Command> = {
  get: async (client, rest, flags, io) => (await import('./commands/get.js')).get(client, rest, flags, io),
  apply: async (client, _rest, flags, io, objects) => {
    const items = (await import('./manifests.js')).settle(objects, flags.namespace, client.namespace);
    return (await import('./commands/apply.js')).applyItems(client, items, io);
  },
  describe: async (client, rest, flags, io) => {
    io.stdout(
      await (await import('./commands/describe.js')).describe(client, rest, flags.namespace ?? client.namespace),
    );
    return 0;
  },
  delete: async (client, rest, flags, io, objects) => {
    const d = await import('./commands/delete.js');
    const targets = flags.filename?.length
      ? (await import('./manifests.js')).settle(objects, flags.namespace, client.namespace)
      : d.namedTargets(rest, flags.namespace ?? client.namespace);
    return d.deleteTargets(client, targets, { wait: flags.wait !== 'false', timeoutMs: durationMs(flags.timeout) }, io);
  },
  plan: async (client, _rest, flags, io, objects) => {
    const items = (await import('./manifests.js')).settle(objects, flags.namespace, client.namespace);
    const local = selectedKubeconfig(flags).local;
    return (await import('./plan.js')).planCommand(
      client,
      items,
      { local, cluster: flags.cluster },
      io,
      progressTo(io),
    );
  },
};

/**
 * `-f` files are read before anything is contacted (kubectl's client-side checks; for apply and plan also the
 * server's decoding step): input refused here never starts the local system or reaches an API.
 */
async function readFiles(cmd: string, flags: Flags, io: Io): Promise<Objects | undefined> {
  const reads = cmd === 'apply' || cmd === 'plan' || (cmd === 'delete' && flags.filename?.length);
  if (!reads) return [];
  if (!flags.filename?.length) throw new UsageError('must specify one of -f and -k');
  const m = await import('./manifests.js');
  const objects = m.readManifestFiles(flags.filename, io);
  if (cmd === 'delete') return objects;
  const errors = m.decodeErrors(objects);
  if (errors.length === 0) return objects;
  io.stderr(formatErrors(errors));
  return undefined;
}

async function run(cmd: string, rest: string[], flags: Flags, io: Io): Promise<number> {
  const progress = progressTo(io);
  if (cmd === 'local') return (await import('./local-commands.js')).localCommand(rest, flags, io);
  if (cmd === 'token') return (await import('./commands/token.js')).token(flags, io);
  if (cmd === 'kubeconfig') return (await import('./commands/kubeconfig.js')).kubeconfig(flags, io, progress);
  const command = API_COMMANDS[cmd];
  if (!command) throw new UsageError(`unknown command "${cmd}" for "svcctl"`);
  const objects = await readFiles(cmd, flags, io);
  if (!objects) return 1;
  const client = await connect(flags as ConnectFlags, progress);
  try {
    return await command(client, rest, flags, io, objects);
  } finally {
    client.close();
  }
}

function report(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.stderr(`error: ${err.message}\nSee 'svcctl help'.\n`);
    return 2;
  }
  if (err instanceof UnknownResourceError || err instanceof KubeconfigError) {
    io.stderr(err.message.startsWith('error: ') ? `${err.message}\n` : `error: ${err.message}\n`);
    return 1;
  }
  // Client-side manifest errors carry kubectl's wording and, for a too-large object, the server's reason.
  const reason = (err as { reason?: string })?.reason;
  if (reason === 'RequestEntityTooLarge') {
    io.stderr(`Error from server (${reason}): ${(err as Error).message}\n`);
    return 1;
  }
  io.stderr(formatErrors([err]));
  return 1;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`error: ${usageHint((err as Error).message)}\nSee 'svcctl help'.\n`);
    return 2;
  }
  const [cmd, ...rest] = parsed.positionals;
  if (!cmd || cmd === 'help' || parsed.values.help) {
    io.stdout(USAGE);
    return cmd || parsed.values.help ? 0 : 2;
  }
  try {
    return await run(cmd, rest, parsed.values, io);
  } catch (err) {
    return report(err, io);
  }
}
