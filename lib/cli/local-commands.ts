/** `svcctl local ...`: the local embedded control plane (moto server on loopback) and its simulated nodes. */
import { localAwsEnv, stopPid } from '../local/moto.js';
import { launchLocalNode, listLocalNodes, localNodeAddress, terminateLocalNode } from '../local/cluster-aws.js';
import { publishInstanceState } from '../local/wiring.js';
import { clearLocalState, pidAlive, readLocalState } from '../local/state.js';
import { tabulate } from './printers.js';
import { controllerFor } from './inline.js';
import { resolveTarget } from './target.js';
import type { Io } from './main.js';

export interface LocalFlags {
  nodes?: string;
  headless?: boolean;
  'exit-after-demo'?: boolean;
  'control-plane-only'?: boolean;
}

export async function localCommand(args: string[], flags: LocalFlags, io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const progress = (m: string) => io.stderr(`… ${m}\n`);
  switch (sub) {
    case 'status': {
      const st = readLocalState();
      if (!st || !pidAlive(st.motoPid)) {
        io.stdout('local control plane: not running (any svcctl command or `npm start` starts it)\n');
        return 0;
      }
      const env = localAwsEnv(st.endpoint, st.region);
      io.stdout(`# local control plane: moto server pid ${st.motoPid}; cluster "${st.clusterName}"\n`);
      io.stdout(
        `# controller loop: ${pidAlive(st.controllerPid) ? `running (pid ${st.controllerPid})` : 'not running (svcctl reconciles inline)'}\n`,
      );
      for (const [k, v] of Object.entries(env)) io.stdout(`export ${k}=${v}\n`);
      io.stdout(`# e.g.: aws --endpoint-url ${st.endpoint} elbv2 describe-load-balancers\n`);
      return 0;
    }
    case 'stop': {
      const st = readLocalState();
      if (st?.controllerPid && pidAlive(st.controllerPid)) await stopPid(st.controllerPid);
      if (st) await stopPid(st.motoPid);
      clearLocalState();
      io.stdout('local control plane stopped\n');
      return 0;
    }
    case 'node':
      return nodeCommand(rest, io, progress);
    case 'up': {
      const { localUp } = await import('../local/up.js');
      return localUp(
        {
          nodes: flags.nodes ? Number(flags.nodes) : undefined,
          exitAfterDemo: flags['exit-after-demo'],
          withDataPlane: flags['control-plane-only'] ? false : undefined,
        },
        io,
      );
    }
    default:
      io.stderr(`error: unknown local command "${sub ?? ''}": use status, stop, up or node add|remove|list\n`);
      return 2;
  }
}

async function nodeCommand(args: string[], io: Io, progress: (m: string) => void): Promise<number> {
  const [op, arg] = args;
  const target = await resolveTarget({}, progress);
  const st = target.local!;
  const ec2 = target.clients.ec2;
  const nodes = await listLocalNodes(ec2, st.clusterName);
  if (op === 'list') {
    io.stdout(
      tabulate([
        ['INSTANCE-ID', 'NAME', 'PRIVATE-IP', 'STATE'],
        ...nodes.map((n) => [n.instanceId, n.name, n.privateIp, n.state]),
      ]),
    );
    return 0;
  }
  const controller = controllerFor(target);
  if (op === 'add') {
    const used = new Set(nodes.map((n) => n.privateIp));
    let index = 0;
    while (used.has(localNodeAddress(index).ip)) index++;
    const node = await launchLocalNode(
      ec2,
      st.clusterName,
      { vpcId: st.vpcId!, subnetIds: st.subnetIds!, nodeSecurityGroupId: st.nodeSecurityGroupId! },
      index,
    );
    io.stdout(`node/${node.name} added (${node.instanceId}, ${node.privateIp})\n`);
    // In AWS, EC2 emits the state-change event; locally svcctl does, or reconciles itself when no loop runs.
    if (target.reconcileInline)
      await controller.handleNodeChange({
        reason: `node ${node.instanceId} running`,
        joinedInstanceId: node.instanceId,
      });
    else await publishInstanceState(target.clients, target.busName, node.instanceId, 'running');
    return 0;
  }
  if (op === 'remove') {
    const victim = arg ? nodes.find((n) => n.instanceId === arg || n.name === arg) : nodes[nodes.length - 1];
    if (!victim) {
      io.stderr(`Error from server (NotFound): nodes "${arg ?? ''}" not found\n`);
      return 1;
    }
    await terminateLocalNode(ec2, victim.instanceId);
    io.stdout(`node/${victim.name} removed (${victim.instanceId})\n`);
    if (target.reconcileInline)
      await controller.handleNodeChange({
        reason: `node ${victim.instanceId} terminated`,
        leavingInstanceId: victim.instanceId,
      });
    else await publishInstanceState(target.clients, target.busName, victim.instanceId, 'terminated');
    return 0;
  }
  io.stderr('error: usage: svcctl local node add|remove [INSTANCE-ID|NAME]|list\n');
  return 2;
}
