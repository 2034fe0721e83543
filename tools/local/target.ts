/**
 * The local AWS (a moto server on loopback that svcctl or `npm start` starts and reuses) with the cluster's AWS side
 * created in it: the table, the bus, a VPC with subnets, the node security group and the EC2 nodes. What the local
 * system (tools/local/up.ts) runs the controller and the API against, and what `svcctl local node ...` changes.
 */
import { CreateEventBusCommand, DescribeEventBusCommand } from '@aws-sdk/client-eventbridge';
import { ApiServer } from '../../lib/api/server.js';
import { makeLocalClients, type LocalClients } from './clients.js';
import { serializeRequests } from '../../lib/aws/serialize.js';
import { readControllerEnv, type ControllerEnv } from '../../lib/config-env.js';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from '../../lib/model/types.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable } from '../../lib/store/table.js';
import type { Store } from '../../lib/store/types.js';
import { ensureLocalClusterAws, launchLocalNode, listLocalNodes } from './cluster-aws.js';
import { localAwsEnv } from './moto.js';
import { ensureLocalMoto, writeLocalState, type LocalState } from './state.js';

export interface LocalTarget {
  clients: LocalClients;
  store: Store;
  /** The write path's convenience API (the controller's and the demo's reads and status writes). */
  api: ApiServer;
  tableName: string;
  busName: string;
  cfg: ClusterConfig;
  local: LocalState;
  /** This process started the moto server (rather than reusing a running one). */
  startedLocalAws: boolean;
}

async function ensureBus(clients: LocalClients, name: string): Promise<void> {
  try {
    await clients.eventbridge.send(new DescribeEventBusCommand({ Name: name }));
  } catch {
    await clients.eventbridge.send(new CreateEventBusCommand({ Name: name }));
  }
}

/** Creates what a fresh local AWS lacks: table, bus, the cluster's VPC side and its nodes. */
async function bootstrap(clients: LocalClients, state: LocalState, progress: (m: string) => void): Promise<void> {
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

/** The running local AWS (started when none runs), bootstrapped, with clients pointed at it. */
export async function openLocalTarget(progress: (m: string) => void): Promise<LocalTarget> {
  const { state, started } = await ensureLocalMoto(progress);
  Object.assign(process.env, localAwsEnv(state.endpoint, state.region));
  const clients = makeLocalClients({ region: state.region });
  // moto executes DynamoDB requests non-atomically under concurrency; one in flight at a time restores what
  // DynamoDB guarantees (the application's own races still interleave between requests).
  serializeRequests(clients.dynamodb);
  if (started || !state.vpcId) await bootstrap(clients, state, progress);
  const cfg: ClusterConfig = { ...DEFAULT_CLUSTER_CONFIG, clusterName: state.clusterName };
  const store = new DynamoStore(clients.dynamodb, state.tableName);
  return {
    clients,
    store,
    api: new ApiServer({ store, cfg }),
    tableName: state.tableName,
    busName: state.busName,
    cfg,
    local: state,
    startedLocalAws: started,
  };
}

/** The controller environment of the local cluster: what the CDK construct sets for the Lambdas, locally. */
export function controllerEnvFor(target: LocalTarget): ControllerEnv {
  const st = target.local;
  const env = readControllerEnv({
    VPC_ID: st.vpcId,
    SUBNET_IDS: (st.subnetIds ?? []).join(','),
    NODE_SECURITY_GROUP_ID: st.nodeSecurityGroupId,
    CLUSTER_NAME: target.cfg.clusterName,
    TABLE_NAME: target.tableName,
    EVENT_BUS_NAME: target.busName,
  });
  return { ...env, cluster: target.cfg };
}
