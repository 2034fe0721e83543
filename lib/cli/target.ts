/**
 * Where svcctl sends its writes: the local embedded control plane (default: a moto server on loopback that svcctl
 * starts and reuses) or a deployed stack (table and bus named by flags or SVCCTL_TABLE / SVCCTL_EVENT_BUS, with the
 * standard AWS credential and endpoint configuration).
 */
import { CreateEventBusCommand, DescribeEventBusCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ApiServer } from '../api/server.js';
import type { WatchEvent } from '../api/events-types.js';
import { makeClients, type AwsClients } from '../aws/clients.js';
import { serializeRequests } from '../aws/serialize.js';
import { toPutEventsEntry, type ObjectKind } from '../events/envelope.js';
import { localAwsEnv } from '../local/moto.js';
import { ensureLocalClusterAws, launchLocalNode, listLocalNodes } from '../local/cluster-aws.js';
import { ensureLocalMoto, pidAlive, writeLocalState, type LocalState } from '../local/state.js';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../model/types.js';
import { ensureTable } from '../store/table.js';
import { readControllerEnv, type ControllerEnv } from '../config-env.js';
import { Store } from '../store/store.js';
import { CLUSTER_CONFIG_RECORD } from '../controller/controller.js';

export interface TargetFlags {
  table?: string;
  bus?: string;
  cluster?: string;
  region?: string;
}

export interface Target {
  mode: 'local' | 'deployed';
  clients: AwsClients;
  api: ApiServer;
  tableName: string;
  busName: string;
  cfg: ClusterConfig;
  local?: LocalState;
  /** True when no controller loop consumes the bus (local mode without `npm start`): svcctl reconciles itself. */
  reconcileInline: boolean;
  /** Local mode: this process started the moto server (rather than reusing a running one). */
  startedLocalAws?: boolean;
}

async function ensureBus(clients: AwsClients, name: string): Promise<void> {
  try {
    await clients.eventbridge.send(new DescribeEventBusCommand({ Name: name }));
  } catch {
    await clients.eventbridge.send(new CreateEventBusCommand({ Name: name }));
  }
}

export async function resolveTarget(flags: TargetFlags, progress: (m: string) => void): Promise<Target> {
  const table = flags.table ?? process.env.SVCCTL_TABLE;
  const bus = flags.bus ?? process.env.SVCCTL_EVENT_BUS;
  if (table || bus) {
    if (!table || !bus)
      throw new Error('error: deployed mode needs both --table and --bus (or SVCCTL_TABLE and SVCCTL_EVENT_BUS)');
    const clients = makeClients({ region: flags.region });
    // The deployed controller publishes its settings in the table (every resync); flags/env only fill in before that.
    const published = await new Store(clients.dynamodb, table).getRecord<ClusterConfig>(
      CLUSTER_CONFIG_RECORD.kind,
      CLUSTER_CONFIG_RECORD.id,
    );
    let cfg: ClusterConfig;
    if (published) cfg = published.data;
    else {
      const env = readControllerEnv({
        ...process.env,
        CLUSTER_NAME: flags.cluster ?? process.env.CLUSTER_NAME ?? 'demo',
      });
      cfg = env.cluster;
      progress(
        `warning: the controller has not published its cluster settings in ${table} yet (its first resync does); ` +
          `allocating from SERVICE_CIDR=${cfg.serviceCidr} NODE_PORT_RANGE=${cfg.nodePortRange.min}-${cfg.nodePortRange.max}: ` +
          `set them to the stack's values if they differ`,
      );
    }
    return {
      mode: 'deployed',
      clients,
      api: new ApiServer({ dynamodb: clients.dynamodb, tableName: table, cfg }),
      tableName: table,
      busName: bus,
      cfg,
      reconcileInline: false,
    };
  }
  const { state, started } = await ensureLocalMoto(progress);
  Object.assign(process.env, localAwsEnv(state.endpoint, state.region));
  const clients = makeClients({ region: state.region });
  // moto executes DynamoDB requests non-atomically under concurrency; one in flight at a time restores what
  // DynamoDB guarantees (the application's own races still interleave between requests).
  serializeRequests(clients.dynamodb);
  if (started || !state.vpcId) {
    progress('creating the local control plane: DynamoDB table and EventBridge bus');
    await ensureTable(clients.dynamodb, state.tableName);
    await ensureBus(clients, state.busName);
    progress('creating the local cluster in the local AWS: VPC, subnets, node security group, nodes');
    const aws = await ensureLocalClusterAws(clients.ec2, state.clusterName, state.region);
    const nodes = await listLocalNodes(clients.ec2, state.clusterName);
    const want = Number(process.env.SVCCTL_LOCAL_NODES ?? 3);
    for (let i = nodes.length; i < want; i++) await launchLocalNode(clients.ec2, state.clusterName, aws, i);
    Object.assign(state, aws);
    writeLocalState(state);
  }
  const cfg: ClusterConfig = { ...DEFAULT_CLUSTER_CONFIG, clusterName: state.clusterName };
  return {
    mode: 'local',
    clients,
    api: new ApiServer({ dynamodb: clients.dynamodb, tableName: state.tableName, cfg }),
    tableName: state.tableName,
    busName: state.busName,
    cfg,
    local: state,
    reconcileInline: !pidAlive(state.controllerPid),
    startedLocalAws: started,
  };
}

/** Publishes watch events on the bus (PutEvents takes at most 10 entries per call). */
export async function publish(target: Target, events: WatchEvent[]): Promise<void> {
  const entries = events.map((e) =>
    toPutEventsEntry((e.object as { kind?: ObjectKind }).kind ?? 'Service', e.type, e.object as never, target.busName),
  );
  for (let i = 0; i < entries.length; i += 10) {
    const res = await target.clients.eventbridge.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    if (res.FailedEntryCount) {
      const why = res.Entries?.find((x) => x.ErrorCode)?.ErrorMessage ?? 'unknown error';
      throw new Error(`error: the change was stored but publishing its event failed: ${why}`);
    }
  }
}

/**
 * The controller environment for a target (what the CDK construct sets for the Lambdas): the local cluster's names
 * and VPC in local mode, the process environment (VPC_ID, NODE_SECURITY_GROUP_ID, ...) against a deployed stack.
 */
export function controllerEnvFor(target: Target): ControllerEnv {
  const st = target.local;
  const base: NodeJS.ProcessEnv = st
    ? {
        VPC_ID: st.vpcId,
        SUBNET_IDS: (st.subnetIds ?? []).join(','),
        NODE_SECURITY_GROUP_ID: st.nodeSecurityGroupId,
      }
    : process.env;
  const env = readControllerEnv({
    ...base,
    CLUSTER_NAME: target.cfg.clusterName,
    TABLE_NAME: target.tableName,
    EVENT_BUS_NAME: target.busName,
  });
  return { ...env, cluster: target.cfg };
}
