/** Terraform-like text of a plan, one line per action: `+ create`, `~ update`, `- delete`. Pure. */
import type { Action, IngressRule, Plan, Ref, SubnetMapping, WeightedRef } from '../model.js';
import { permKey } from './noderule.js';

export function formatPlan(plan: Plan): string {
  const sym = { create: '+', update: '~', delete: '-' } as const;
  const lines = plan.actions.map((a) => {
    const detail = detailOf(a);
    const label = a.kind === 'Tags' ? `Tags[${a.service}]` : a.kind;
    return `${sym[a.op]} ${a.op} ${label} ${a.name}${detail ? `: ${detail}` : ''}`;
  });
  const head = `Plan for ${plan.stack}: ${plan.actions.length === 0 ? 'no changes' : summary(plan)}`;
  return [head, ...lines, ...plan.warnings.map((w) => `! warning: ${w}`)].join('\n');
}

function detailOf(a: Action): string {
  switch (a.kind) {
    case 'SecurityGroup':
      return a.op === 'create' ? `${a.desired.ingress.length} ingress rules` : a.groupId;
    case 'SecurityGroupIngress':
      return [
        a.authorize.length ? `+${a.authorize.map(fmtRule).join(' +')}` : '',
        a.revoke.length ? `-${a.revoke.map(fmtRule).join(' -')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
    case 'LoadBalancer':
      return a.op === 'create'
        ? `${a.desired.scheme} ${a.desired.ipAddressType} subnets=${a.desired.subnetMappings.map(fmtMapping).join(',')}`
        : a.reason;
    case 'LoadBalancerAttributes':
    case 'TargetGroupAttributes':
    case 'ListenerAttributes':
      return Object.entries(a.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
    case 'LoadBalancerCapacity':
      return a.capacityUnits ? `CapacityUnits=${a.capacityUnits}` : 'reset';
    case 'LoadBalancerSubnets':
      return a.subnetMappings.map((m) => m.subnetId).join(',');
    case 'LoadBalancerSecurityGroups':
      return a.securityGroups.map(fmtRef).join(',');
    case 'TargetGroup':
      return a.op === 'create'
        ? `${a.desired.protocol}:${a.desired.port} ${a.desired.key} health=${fmtHc(a.desired.healthCheck)}`
        : '';
    case 'TargetGroupHealthCheck':
      return a.changes.join(', ');
    case 'RegisterTargets':
    case 'DeregisterTargets':
      return `${a.instanceIds.length} instance(s) port ${a.port}: ${a.instanceIds.slice(0, 5).join(',')}${a.instanceIds.length > 5 ? ',...' : ''}`;
    case 'Tags':
      return [...Object.entries(a.add).map(([k, v]) => `+${k}=${v}`), ...a.remove.map((k) => `-${k}`)].join(' ');
    case 'Listener':
      return a.op === 'delete'
        ? ''
        : `${a.desired.protocol}:${a.desired.port} -> ${forwardTo(a)}${a.op === 'update' ? ` (${a.changes.join(', ')})` : ''}`;
    case 'NodeRule':
      return a.op === 'update'
        ? `${a.sourceGroup ? `from ${fmtRef(a.sourceGroup)} ` : ''}${a.authorize.map(permKey).join(' ')}`
        : a.permissions.map((p) => (p.cidr ? permKey(p) : `${p.sourceGroupId} ${permKey(p)}`)).join(' ');
  }
}

function summary(plan: Plan): string {
  const n = (op: string) => plan.actions.filter((a) => a.op === op).length;
  return `${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete`;
}
function fmtRule(r: IngressRule): string {
  // ICMP rules carry type and code where other protocols carry ports.
  const ports = r.protocol.startsWith('icmp')
    ? `type=${r.fromPort},code=${r.toPort}`
    : r.fromPort === r.toPort
      ? r.fromPort
      : `${r.fromPort}-${r.toPort}`;
  return `${r.protocol}/${ports} from ${r.cidr ?? r.prefixListId}`;
}
function fmtMapping(m: SubnetMapping): string {
  const extra = m.allocationId ?? m.privateIPv4Address;
  return extra ? `${m.subnetId}(${extra})` : m.subnetId;
}
function fmtRef(r: Ref): string {
  if (typeof r === 'string') return r;
  return r.ref === 'tg' || r.ref === 'listener' ? `(new ${r.ref} ${r.key})` : `(new ${r.ref})`;
}
function fmtHc(h: { protocol: string; port: string; path?: string }): string {
  return `${h.protocol}:${h.port}${h.path ?? ''}`;
}

function forwardTo(a: { targetGroup: Ref; weighted?: WeightedRef[] }): string {
  return a.weighted ? a.weighted.map((w) => `${fmtRef(w.targetGroup)}*${w.weight}`).join(' + ') : fmtRef(a.targetGroup);
}
