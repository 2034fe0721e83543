/**
 * Data for the node's healthCheckNodePort server (agent/healthcheck.py): for each LoadBalancer Service with
 * externalTrafficPolicy Local on this node, the port and the number of local ready endpoints. The server answers
 * 200 with kube-proxy's JSON body when the count is > 0, 503 otherwise, which is what the NLB health check reads.
 * Pure: no AWS SDK, no fs.
 */
import { checkState, type CheckedState, type DataPlaneState } from './state.js';

export interface HealthEntry {
  namespace: string;
  name: string;
  port: number;
  localEndpoints: number;
}

export function healthEntries(input: DataPlaneState | CheckedState, nodeName: string): HealthEntry[] {
  const out: HealthEntry[] = [];
  for (const v of checkState(input).proxied) {
    if (v.healthCheckNodePort === undefined) continue;
    const local = v.readyIps.filter((ip) =>
      v.ports.some((p) => p.ready.some((b) => b.ip === ip && nodeName !== '' && b.nodeName === nodeName)),
    );
    out.push({ namespace: v.namespace, name: v.name, port: v.healthCheckNodePort, localEndpoints: local.length });
  }
  return out.sort((a, b) => a.port - b.port);
}

/** Tab-separated lines `<port> <namespace> <name> <localEndpoints>`: trivially parsed by the agent and the server. */
export function renderHealthData(input: DataPlaneState | CheckedState, nodeName: string): string {
  return healthEntries(input, nodeName)
    .map((e) => `${e.port}\t${e.namespace}\t${e.name}\t${e.localEndpoints}\n`)
    .join('');
}
