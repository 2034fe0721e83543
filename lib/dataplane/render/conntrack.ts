/**
 * What the node agent needs to clear stale UDP conntrack entries, as kube-proxy does after each sync: UDP has no
 * connection end, so an entry DNATed to an endpoint that is gone keeps sending a client's datagrams into the void
 * (the classic "DNS stops working after a CoreDNS pod restart"), and an entry created while a Service had no endpoint
 * keeps being rejected after endpoints appear. Pure: the agent diffs two of these files and runs `conntrack -D`.
 *
 * Lines (tab-separated, sorted):
 *   endpoint <ip>           an address some UDP Service port sends traffic to
 *   service  <ip> <port>    a UDP ClusterIP/externalIP port that has endpoints
 *   nodeport <port>         a UDP NodePort (or hidden backend node port) that has endpoints
 */
import { checkState, nodePortsOf, type CheckedState, type DataPlaneState } from './state.js';

export function renderUdpConntrack(input: DataPlaneState | CheckedState): string {
  const lines = new Set<string>();
  for (const v of checkState(input).proxied) {
    for (const p of v.ports) {
      if (p.protocol !== 'UDP' || p.ready.length === 0) continue;
      for (const b of p.ready) lines.add(`endpoint\t${b.ip}`);
      for (const ip of [v.clusterIP!, ...v.externalIPs]) lines.add(`service\t${ip}\t${p.port}`);
      for (const np of nodePortsOf(p)) lines.add(`nodeport\t${np}`);
    }
  }
  return [...lines]
    .sort()
    .map((l) => `${l}\n`)
    .join('');
}
