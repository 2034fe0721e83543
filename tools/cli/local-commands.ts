/**
 * `svcctl local ...`: the local system (moto on loopback, plus one process serving the API and running the
 * controller loops, with the data plane as root) and its simulated EC2 nodes.
 */
import { rmSync } from 'node:fs';
import { runningSystem, ensureLocalSystem } from '../local/autostart.js';
import { localAwsEnv, stopPid } from '../local/moto.js';
import { clearLocalState, localKubeconfigPath, pidAlive, readLocalState } from '../local/state.js';
import { tabulate } from './tabwriter.js';
import { progressTo, UsageError, type Io } from './io.js';

export interface LocalFlags {
  nodes?: string;
  'exit-after-demo'?: boolean;
  'control-plane-only'?: boolean;
}

function status(io: Io): number {
  const st = readLocalState();
  if (!st || !pidAlive(st.motoPid)) {
    io.stdout('local system: not running (any svcctl command or `npm start` starts it)\n');
    return 0;
  }
  const pid = runningSystem();
  io.stdout(`# local AWS: moto server pid ${st.motoPid} at ${st.endpoint}; cluster "${st.clusterName}"\n`);
  io.stdout(
    pid
      ? `# API and controller: pid ${pid} (${st.systemMode === 'foreground' ? 'npm start' : 'background, started by svcctl'}) at ${st.apiUrl}\n`
      : '# API and controller: not running (the next svcctl command starts them)\n',
  );
  for (const [k, v] of Object.entries(localAwsEnv(st.endpoint, st.region))) io.stdout(`export ${k}=${v}\n`);
  if (pid) io.stdout(`export KUBECONFIG=${localKubeconfigPath()}\n`);
  io.stdout(`# e.g.: aws --endpoint-url ${st.endpoint} elbv2 describe-load-balancers\n`);
  return 0;
}

/** Stops what svcctl started, by PID: the API/controller process, then moto when svcctl started it. */
async function stop(io: Io): Promise<number> {
  const st = readLocalState();
  if (st?.systemPid && pidAlive(st.systemPid)) {
    await stopPid(st.systemPid);
    io.stdout(`stopped the API and controller (pid ${st.systemPid})\n`);
  }
  if (st?.ownsMoto && pidAlive(st.motoPid)) {
    await stopPid(st.motoPid);
    io.stdout(`stopped the local AWS (moto server pid ${st.motoPid})\n`);
  }
  clearLocalState();
  rmSync(localKubeconfigPath(), { force: true });
  io.stdout('local system stopped\n');
  return 0;
}

async function nodeCommand(args: string[], io: Io): Promise<number> {
  const [op, arg] = args;
  if (op !== 'add' && op !== 'remove' && op !== 'list')
    throw new UsageError('usage: svcctl local node add|remove [INSTANCE-ID|NAME]|list');
  const progress = progressTo(io);
  await ensureLocalSystem(progress);
  const { openLocalTarget } = await import('../local/target.js');
  const nodes = await import('../local/nodes.js');
  const target = await openLocalTarget(progress);
  if (op === 'list') {
    const rows = await nodes.listNodes(target);
    io.stdout(
      tabulate([
        ['INSTANCE-ID', 'NAME', 'PRIVATE-IP', 'STATE'],
        ...rows.map((n) => [n.instanceId, n.name, n.privateIp, n.state]),
      ]),
    );
    return 0;
  }
  if (op === 'add') {
    const node = await nodes.addNode(target);
    io.stdout(`node/${node.name} added (${node.instanceId}, ${node.privateIp})\n`);
    return 0;
  }
  const victim = await nodes.removeNode(target, arg);
  if (!victim) {
    io.stderr(`Error from server (NotFound): nodes "${arg ?? ''}" not found\n`);
    return 1;
  }
  io.stdout(`node/${victim.name} removed (${victim.instanceId})\n`);
  return 0;
}

export async function localCommand(args: string[], flags: LocalFlags, io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'status':
      return status(io);
    case 'stop':
      return stop(io);
    case 'node':
      return nodeCommand(rest, io);
    case 'up': {
      const { localUp } = await import('../local/up.js');
      const nodes = flags.nodes ? Number(flags.nodes) : undefined;
      return localUp(
        {
          nodes,
          exitAfterDemo: flags['exit-after-demo'],
          withDataPlane: flags['control-plane-only'] ? false : undefined,
        },
        io,
      );
    }
    case 'serve': {
      const { serveBackground } = await import('../local/up.js');
      return serveBackground(io);
    }
    default:
      throw new UsageError(`unknown local command "${sub ?? ''}": use up, status, stop or node add|remove|list`);
  }
}
