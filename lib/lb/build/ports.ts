/** Service ports to NLB port groups: one listener + target group per Service port number. Pure. */
import type { V1Service } from '../../model/types.js';

export interface PortGroup {
  /** Stable identity inside the stack, e.g. "tcp-80" / "tcp_udp-53" (ownership.ts tags TGs and listeners with it). */
  key: string;
  port: number;
  nodePort: number;
  protocol: 'TCP' | 'UDP' | 'TCP_UDP';
  names: string[];
}

/** One group per Service port number; TCP+UDP on the same port (and NodePort) become one TCP_UDP listener. */
export function groupPorts(svc: V1Service, errors: string[]): PortGroup[] {
  const byPort = new Map<number, PortGroup>();
  for (const [i, p] of (svc.spec?.ports ?? []).entries()) {
    const proto = (p.protocol ?? 'TCP') as string;
    if (proto !== 'TCP' && proto !== 'UDP') {
      errors.push(
        `spec.ports[${i}].protocol: Unsupported value: "${proto}": a Network Load Balancer supports TCP and UDP`,
      );
      continue;
    }
    if (!p.nodePort) {
      errors.push(`spec.ports[${i}].nodePort: Required value: a LoadBalancer Service needs an allocated nodePort`);
      continue;
    }
    const cur = byPort.get(p.port);
    if (!cur) {
      byPort.set(p.port, { key: '', port: p.port, nodePort: p.nodePort, protocol: proto, names: [p.name ?? ''] });
      continue;
    }
    if (cur.protocol === proto || cur.protocol === 'TCP_UDP') {
      errors.push(`spec.ports[${i}]: Duplicate value: port ${p.port}/${proto}`);
    } else if (cur.nodePort !== p.nodePort) {
      // An NLB listener on one port carries both protocols only as TCP_UDP, which forwards to ONE target port.
      errors.push(
        `spec.ports[${i}].nodePort: Invalid value: ${p.nodePort}: TCP and UDP on port ${p.port} share one ` +
          `TCP_UDP listener, so they must use the same nodePort (${cur.nodePort})`,
      );
    } else {
      cur.protocol = 'TCP_UDP';
      cur.names.push(p.name ?? '');
    }
  }
  const groups = [...byPort.values()].sort((a, b) => a.port - b.port);
  for (const g of groups) g.key = `${g.protocol.toLowerCase()}-${g.port}`;
  return groups;
}
