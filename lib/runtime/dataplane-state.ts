/**
 * Builds the data plane's input from the store and EC2: every stored Service, its endpoints (computed from Pods for
 * selector Services, taken from manual Endpoints otherwise), the cluster's running nodes, and the node ports of the
 * data plane's own that Gateway backends got (lib/gateway/backend-ports.ts).
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ApiServer } from '../api/server.js';
import type { DataPlaneState } from '../dataplane/render/state.js';
import { endpointsForServices } from '../model/endpoints.js';
import type { ClusterConfig, NodeInfo } from '../model/types.js';
import { discoverNodes } from '../nodes/discover.js';
import { loadBackendNodePorts } from '../gateway/backend-ports.js';
import type { NodeSelector } from '../nodes/selector.js';

export async function loadDataPlaneState(
  api: ApiServer,
  cfg: ClusterConfig,
  nodes: NodeInfo[] | (() => Promise<NodeInfo[]>),
  podCidr?: string,
): Promise<DataPlaneState> {
  const [services, pods, manual, nodeList, backendNodePorts] = await Promise.all([
    api.listServices(),
    api.listPods(),
    api.listEndpoints(),
    typeof nodes === 'function' ? nodes() : Promise.resolve(nodes),
    loadBackendNodePorts(api.store),
  ]);
  const endpoints = endpointsForServices(services, pods, manual, cfg.serviceCidr).map((e) => e.endpoints);
  return {
    services,
    endpoints,
    nodes: nodeList.filter((n) => n.state === 'running'),
    cfg,
    ...(podCidr ? { podCidr } : {}),
    ...(backendNodePorts.length > 0 ? { backendNodePorts } : {}),
  };
}

export function ec2Nodes(ec2: EC2Client, selector: NodeSelector): () => Promise<NodeInfo[]> {
  return () => discoverNodes(ec2, selector);
}
