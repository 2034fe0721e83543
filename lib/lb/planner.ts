/**
 * The planner: a pure diff from desired state (or null = the Service no longer wants a load balancer) to an ordered
 * list of actions. Order, and why:
 *  1. release: listeners and NLBs we will not keep (a duplicate left by a crashed create, or the old NLB of a
 *     scheme/name change). ELBv2 attaches a target group to ONE load balancer only, so these must let go of the
 *     target groups before anything is re-attached.
 *  2. creates (SG, its rules, NLB, TGs, targets, node rule, listeners) in dependency order;
 *  3. updates (attributes, health checks, targets, tags, listener moves to replacement TGs);
 *  4. deletes in dependency order: listeners, target groups, node SG rules, NLB, managed SGs (an SG cannot be
 *     deleted while the NLB's network interfaces or another SG's rule still use it).
 */
import type {
  Action,
  DesiredStack,
  IngressRule,
  NodePermission,
  ObservedLoadBalancer,
  ObservedStack,
  ObservedTargetGroup,
  Plan,
  Ref,
  SubnetMapping,
} from './model.js';
import { MANAGED, sortRules } from './builder.js';
import { RESOURCE_MANAGED_SG, RESOURCE_TAG, resourceForPort } from './tags.js';

/** ELBv2 accepts many targets per call, but big batches fail as a whole and hit the API harder: 200 per call. */
export const TARGET_BATCH = 200;

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Tag changes: desired tags are authoritative (as in the AWS LB controller) except AWS-reserved "aws:" keys. */
function tagDiff(have: Record<string, string>, want: Record<string, string>) {
  const add: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) add[k] = v;
  const remove = Object.keys(have)
    .filter((k) => !(k in want) && !k.startsWith('aws:'))
    .sort();
  return { add, remove, changed: Object.keys(add).length > 0 || remove.length > 0 };
}

/** The Tags update action for one resource, or none when its tags already match. */
function tagsUpdate(
  name: string,
  service: 'elbv2' | 'ec2',
  resource: string,
  have: Record<string, string>,
  want: Record<string, string>,
): Action[] {
  const t = tagDiff(have, want);
  return t.changed ? [{ op: 'update', kind: 'Tags', name, service, resource, add: t.add, remove: t.remove }] : [];
}

function attrDiff(have: Record<string, string>, want: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) if ((have[k] ?? '') !== v) out[k] = v;
  return out;
}

const ruleKey = (r: IngressRule) => `${r.protocol}:${r.fromPort}-${r.toPort}:${r.cidr}`;
const permKey = (p: NodePermission) => `${p.protocol}:${p.fromPort}-${p.toPort}`;

/** Oldest first, then by ARN: a deterministic choice among duplicates. */
function byAge<T extends { arn: string; createdTime?: string }>(a: T, b: T): number {
  return (a.createdTime ?? '').localeCompare(b.createdTime ?? '') || a.arn.localeCompare(b.arn);
}

function tgCompatible(o: ObservedTargetGroup, d: DesiredStack['targetGroups'][number]): boolean {
  return o.protocol === d.protocol && o.port === d.port && o.vpcId === d.vpcId && o.targetType === d.targetType;
}

function lbCompatible(o: ObservedLoadBalancer, d: DesiredStack['loadBalancer']): boolean {
  return o.name === d.name && o.scheme === d.scheme && o.type === 'network' && o.state !== 'failed';
}

export function planStack(desired: DesiredStack | null, observed: ObservedStack, vpcId = ''): Plan {
  const release: Action[] = [];
  const creates: Action[] = [];
  const updates: Action[] = [];
  const deletes: { listeners: Action[]; tgs: Action[]; rules: Action[]; lbs: Action[]; sgs: Action[] } = {
    listeners: [],
    tgs: [],
    rules: [],
    lbs: [],
    sgs: [],
  };
  const warnings = desired ? [...desired.warnings] : [];
  let hostname: string | undefined;

  if (!desired) {
    for (const lb of [...observed.loadBalancers].sort(byAge)) {
      for (const l of lb.listeners)
        deletes.listeners.push({ op: 'delete', kind: 'Listener', name: `${lb.name}:${l.port}`, arn: l.arn });
      deletes.lbs.push({
        op: 'delete',
        kind: 'LoadBalancer',
        name: lb.name,
        arn: lb.arn,
        reason: 'Service no longer needs it',
      });
    }
    for (const tg of observed.targetGroups)
      deletes.tgs.push({ op: 'delete', kind: 'TargetGroup', name: tg.name, arn: tg.arn });
    if (observed.nodePermissions.length) {
      deletes.rules.push({
        op: 'delete',
        kind: 'NodeRule',
        name: observed.nodePermissions[0]!.groupId,
        groupId: observed.nodePermissions[0]!.groupId,
        permissions: observed.nodePermissions,
      });
    }
    for (const sg of observed.securityGroups)
      deletes.sgs.push({ op: 'delete', kind: 'SecurityGroup', name: sg.groupName, groupId: sg.groupId });
    return finish();
  }

  // ---- Security group (managed) ----
  let sgRef: Ref | undefined;
  if (desired.securityGroup) {
    const dsg = desired.securityGroup;
    const mine = observed.securityGroups
      .filter((g) => g.tags[RESOURCE_TAG] === RESOURCE_MANAGED_SG)
      .sort(
        (a, b) =>
          Number(b.groupName === dsg.name) - Number(a.groupName === dsg.name) || a.groupId.localeCompare(b.groupId),
      );
    const keep = mine[0];
    for (const g of observed.securityGroups) {
      if (g !== keep) deletes.sgs.push({ op: 'delete', kind: 'SecurityGroup', name: g.groupName, groupId: g.groupId });
    }
    if (!keep) {
      sgRef = { ref: 'sg' };
      creates.push({ op: 'create', kind: 'SecurityGroup', name: dsg.name, desired: dsg, vpcId });
      creates.push({
        op: 'update',
        kind: 'SecurityGroupIngress',
        name: dsg.name,
        groupId: sgRef,
        authorize: dsg.ingress,
        revoke: [],
      });
    } else {
      sgRef = keep.groupId;
      const have = new Set(keep.ingress.map(ruleKey));
      const want = new Set(dsg.ingress.map(ruleKey));
      const authorize = dsg.ingress.filter((r) => !have.has(ruleKey(r)));
      const revoke = sortRules(keep.ingress.filter((r) => !want.has(ruleKey(r))));
      if (authorize.length || revoke.length) {
        updates.push({
          op: 'update',
          kind: 'SecurityGroupIngress',
          name: keep.groupName,
          groupId: keep.groupId,
          authorize,
          revoke,
        });
      }
      updates.push(...tagsUpdate(keep.groupName, 'ec2', keep.groupId, keep.tags, dsg.tags));
    }
  } else {
    for (const g of observed.securityGroups)
      deletes.sgs.push({ op: 'delete', kind: 'SecurityGroup', name: g.groupName, groupId: g.groupId });
  }
  const resolveSg = (s: string): Ref => (s === MANAGED ? (sgRef as Ref) : s);

  // ---- Load balancer ----
  const dlb = desired.loadBalancer;
  const lbs = [...observed.loadBalancers].sort(byAge);
  const keepLb = lbs.find((o) => lbCompatible(o, dlb));
  for (const o of lbs) {
    if (o === keepLb) continue;
    for (const l of o.listeners)
      release.push({ op: 'delete', kind: 'Listener', name: `${o.name}:${l.port}`, arn: l.arn });
    const reason =
      o.name === dlb.name && o.scheme === dlb.scheme ? 'duplicate' : `replaced by ${dlb.name} (${dlb.scheme})`;
    release.push({ op: 'delete', kind: 'LoadBalancer', name: o.name, arn: o.arn, reason });
  }
  let lbRef: Ref;
  if (!keepLb) {
    lbRef = { ref: 'lb' };
    creates.push({
      op: 'create',
      kind: 'LoadBalancer',
      name: dlb.name,
      desired: dlb,
      securityGroups: dlb.securityGroups.map(resolveSg),
    });
    creates.push({
      op: 'update',
      kind: 'LoadBalancerAttributes',
      name: dlb.name,
      arn: lbRef,
      attributes: dlb.attributes,
    });
  } else {
    lbRef = keepLb.arn;
    hostname = keepLb.dnsName;
    const attrs = attrDiff(keepLb.attributes, dlb.attributes);
    if (Object.keys(attrs).length)
      updates.push({
        op: 'update',
        kind: 'LoadBalancerAttributes',
        name: dlb.name,
        arn: keepLb.arn,
        attributes: attrs,
      });
    const haveMaps = keepLb.subnetMappings
      .map((m) => m.subnetId)
      .sort()
      .join(',');
    const wantMaps = dlb.subnetMappings
      .map((m) => m.subnetId)
      .sort()
      .join(',');
    // EIPs / private IPs of an existing mapping cannot change; only the subnet set can (SetSubnets).
    if (haveMaps !== wantMaps)
      updates.push({
        op: 'update',
        kind: 'LoadBalancerSubnets',
        name: dlb.name,
        arn: keepLb.arn,
        subnetMappings: dlb.subnetMappings,
      });
    const wantSgs = dlb.securityGroups.map(resolveSg);
    const sgsKnown = wantSgs.every((s) => typeof s === 'string');
    if (!sgsKnown || [...keepLb.securityGroups].sort().join(',') !== [...(wantSgs as string[])].sort().join(',')) {
      if (keepLb.securityGroups.length === 0) {
        // ELBv2: security groups can only be added to an NLB that was created with at least one.
        warnings.push(`load balancer ${dlb.name} was created without security groups; they cannot be added in place`);
      } else {
        updates.push({
          op: 'update',
          kind: 'LoadBalancerSecurityGroups',
          name: dlb.name,
          arn: keepLb.arn,
          securityGroups: wantSgs,
        });
      }
    }
    updates.push(...tagsUpdate(dlb.name, 'elbv2', keepLb.arn, keepLb.tags, dlb.tags));
  }

  // ---- Target groups ----
  const tgRefs = new Map<string, Ref>();
  const keptTgs = new Set<ObservedTargetGroup>();
  for (const d of desired.targetGroups) {
    const tag = resourceForPort('tg', d.key);
    const cands = observed.targetGroups
      .filter((o) => o.tags[RESOURCE_TAG] === tag && tgCompatible(o, d))
      .sort((a, b) => Number(b.name === d.name) - Number(a.name === d.name) || a.arn.localeCompare(b.arn));
    const keep = cands[0];
    if (!keep) {
      const ref: Ref = { ref: 'tg', key: d.key };
      tgRefs.set(d.key, ref);
      creates.push({ op: 'create', kind: 'TargetGroup', name: d.name, desired: d });
      creates.push({ op: 'update', kind: 'TargetGroupAttributes', name: d.name, arn: ref, attributes: d.attributes });
      for (const batch of chunks(d.targets, TARGET_BATCH)) {
        creates.push({
          op: 'update',
          kind: 'RegisterTargets',
          name: d.name,
          arn: ref,
          port: d.port,
          instanceIds: batch,
        });
      }
      continue;
    }
    keptTgs.add(keep);
    tgRefs.set(d.key, keep.arn);
    const changes: string[] = [];
    const h = keep.healthCheck;
    const w = d.healthCheck;
    for (const k of [
      'protocol',
      'port',
      'intervalSeconds',
      'timeoutSeconds',
      'healthyThreshold',
      'unhealthyThreshold',
    ] as const) {
      if (h[k] !== w[k]) changes.push(`healthCheck.${k}: ${h[k]} -> ${w[k]}`);
    }
    if (w.protocol !== 'TCP') {
      if ((h.path ?? '') !== (w.path ?? '')) changes.push(`healthCheck.path: ${h.path ?? ''} -> ${w.path ?? ''}`);
      if ((h.matcher ?? '') !== (w.matcher ?? ''))
        changes.push(`healthCheck.matcher: ${h.matcher ?? ''} -> ${w.matcher ?? ''}`);
    }
    if (changes.length)
      updates.push({
        op: 'update',
        kind: 'TargetGroupHealthCheck',
        name: keep.name,
        arn: keep.arn,
        healthCheck: w,
        changes,
      });
    const attrs = attrDiff(keep.attributes, d.attributes);
    if (Object.keys(attrs).length)
      updates.push({ op: 'update', kind: 'TargetGroupAttributes', name: keep.name, arn: keep.arn, attributes: attrs });
    const have = new Set(keep.targets);
    const want = new Set(d.targets);
    const add = d.targets.filter((t) => !have.has(t));
    const remove = keep.targets.filter((t) => !want.has(t));
    for (const batch of chunks(add, TARGET_BATCH))
      updates.push({
        op: 'update',
        kind: 'RegisterTargets',
        name: keep.name,
        arn: keep.arn,
        port: d.port,
        instanceIds: batch,
      });
    for (const batch of chunks(remove, TARGET_BATCH))
      updates.push({
        op: 'update',
        kind: 'DeregisterTargets',
        name: keep.name,
        arn: keep.arn,
        port: keep.port,
        instanceIds: batch,
      });
    updates.push(...tagsUpdate(keep.name, 'elbv2', keep.arn, keep.tags, d.tags));
  }
  for (const o of observed.targetGroups) {
    if (!keptTgs.has(o)) deletes.tgs.push({ op: 'delete', kind: 'TargetGroup', name: o.name, arn: o.arn });
  }

  // ---- Node security group rule ----
  const nr = desired.nodeRule;
  const srcRef = nr ? resolveSg(nr.sourceGroup) : undefined;
  const staleRules = observed.nodePermissions.filter((p) => {
    if (!nr || !srcRef) return true;
    if (p.groupId !== nr.groupId) return true;
    if (typeof srcRef === 'string' && p.sourceGroupId !== srcRef) return true;
    if (typeof srcRef !== 'string') return true; // a new SG: every old rule referenced some other group
    return !nr.permissions.some((w) => permKey(w) === permKey(p));
  });
  if (nr && srcRef) {
    const have = new Set(
      observed.nodePermissions
        .filter((p) => typeof srcRef === 'string' && p.groupId === nr.groupId && p.sourceGroupId === srcRef)
        .map(permKey),
    );
    const authorize = nr.permissions.filter((p) => !have.has(permKey(p)));
    if (authorize.length) {
      const a: Action = {
        op: 'update',
        kind: 'NodeRule',
        name: nr.groupId,
        groupId: nr.groupId,
        sourceGroup: srcRef,
        authorize,
        description: nr.description,
      };
      (typeof srcRef === 'string' ? updates : creates).push(a);
    }
  }
  if (staleRules.length) {
    deletes.rules.push({
      op: 'delete',
      kind: 'NodeRule',
      name: staleRules[0]!.groupId,
      groupId: staleRules[0]!.groupId,
      permissions: staleRules,
    });
  }

  // ---- Listeners ----
  const haveListeners = new Map((keepLb?.listeners ?? []).map((l) => [l.port, l]));
  for (const d of desired.listeners) {
    const tgRef = tgRefs.get(d.targetGroupKey)!;
    const o = haveListeners.get(d.port);
    if (!o) {
      creates.push({
        op: 'create',
        kind: 'Listener',
        name: `${dlb.name}:${d.port}`,
        loadBalancer: lbRef,
        desired: d,
        targetGroup: tgRef,
      });
      continue;
    }
    haveListeners.delete(d.port);
    const changes: string[] = [];
    if (o.protocol !== d.protocol) changes.push(`protocol: ${o.protocol} -> ${d.protocol}`);
    if (typeof tgRef !== 'string' || o.targetGroupArn !== tgRef) changes.push(`targetGroup -> ${d.targetGroupKey}`);
    if ((o.certificateArns[0] ?? '') !== (d.certificateArns?.[0] ?? '')) changes.push('certificates');
    else if (!sameCertificates(o.certificateArns, d.certificateArns ?? [])) changes.push(EXTRA_CERTIFICATES);
    if ((o.sslPolicy ?? '') !== (d.sslPolicy ?? '') && d.protocol === 'TLS')
      changes.push(`sslPolicy -> ${d.sslPolicy}`);
    if ((o.alpnPolicy ?? '') !== (d.alpnPolicy ?? '') && d.protocol === 'TLS')
      changes.push(`alpnPolicy -> ${d.alpnPolicy ?? 'None'}`);
    if (changes.length)
      updates.push({
        op: 'update',
        kind: 'Listener',
        name: `${dlb.name}:${d.port}`,
        arn: o.arn,
        desired: d,
        targetGroup: tgRef,
        changes,
      });
  }
  for (const o of haveListeners.values())
    deletes.listeners.push({ op: 'delete', kind: 'Listener', name: `${dlb.name}:${o.port}`, arn: o.arn });

  return finish();

  function finish(): Plan {
    return {
      stack: desired?.stack ?? observed.stack,
      actions: [
        ...release,
        ...creates,
        ...updates,
        ...deletes.listeners,
        ...deletes.tgs,
        ...deletes.rules,
        ...deletes.lbs,
        ...deletes.sgs,
      ],
      warnings,
      hostname,
    };
  }
}

/** Terraform-like, one line per action: `+ create`, `~ update`, `- delete`. */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const sym = { create: '+', update: '~', delete: '-' } as const;
  for (const a of plan.actions) {
    let detail = '';
    switch (a.kind) {
      case 'SecurityGroup':
        detail = a.op === 'create' ? `${a.desired.ingress.length} ingress rules` : a.groupId;
        break;
      case 'SecurityGroupIngress':
        detail = [
          a.authorize.length ? `+${a.authorize.map(fmtRule).join(' +')}` : '',
          a.revoke.length ? `-${a.revoke.map(fmtRule).join(' -')}` : '',
        ]
          .filter(Boolean)
          .join(' ');
        break;
      case 'LoadBalancer':
        detail =
          a.op === 'create'
            ? `${a.desired.scheme} ${a.desired.ipAddressType} subnets=${a.desired.subnetMappings.map(fmtMapping).join(',')}`
            : a.reason;
        break;
      case 'LoadBalancerAttributes':
      case 'TargetGroupAttributes':
        detail = Object.entries(a.attributes)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        break;
      case 'LoadBalancerSubnets':
        detail = a.subnetMappings.map((m) => m.subnetId).join(',');
        break;
      case 'LoadBalancerSecurityGroups':
        detail = a.securityGroups.map(fmtRef).join(',');
        break;
      case 'TargetGroup':
        detail =
          a.op === 'create'
            ? `${a.desired.protocol}:${a.desired.port} ${a.desired.key} health=${fmtHc(a.desired.healthCheck)}`
            : '';
        break;
      case 'TargetGroupHealthCheck':
        detail = a.changes.join(', ');
        break;
      case 'RegisterTargets':
      case 'DeregisterTargets':
        detail = `${a.instanceIds.length} instance(s) port ${a.port}: ${a.instanceIds.slice(0, 5).join(',')}${a.instanceIds.length > 5 ? ',...' : ''}`;
        break;
      case 'Tags':
        detail = [...Object.entries(a.add).map(([k, v]) => `+${k}=${v}`), ...a.remove.map((k) => `-${k}`)].join(' ');
        break;
      case 'Listener':
        detail =
          a.op === 'delete'
            ? ''
            : `${a.desired.protocol}:${a.desired.port} -> ${fmtRef(a.targetGroup)}${a.op === 'update' ? ` (${a.changes.join(', ')})` : ''}`;
        break;
      case 'NodeRule':
        detail =
          a.op === 'update'
            ? `from ${fmtRef(a.sourceGroup)} ${a.authorize.map(permKey).join(' ')}`
            : a.permissions.map((p) => `${p.sourceGroupId} ${permKey(p)}`).join(' ');
        break;
    }
    const label = a.kind === 'Tags' ? `Tags[${a.service}]` : a.kind;
    lines.push(`${sym[a.op]} ${a.op} ${label} ${a.name}${detail ? `: ${detail}` : ''}`);
  }
  const head = `Plan for ${plan.stack}: ${plan.actions.length === 0 ? 'no changes' : summary(plan)}`;
  return [head, ...lines, ...plan.warnings.map((w) => `! warning: ${w}`)].join('\n');
}

function summary(plan: Plan): string {
  const n = (op: string) => plan.actions.filter((a) => a.op === op).length;
  return `${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete`;
}
function fmtRule(r: IngressRule): string {
  return `${r.protocol}/${r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`} from ${r.cidr}`;
}
function fmtMapping(m: SubnetMapping): string {
  const extra = m.allocationId ?? m.privateIPv4Address;
  return extra ? `${m.subnetId}(${extra})` : m.subnetId;
}
function fmtRef(r: Ref): string {
  if (typeof r === 'string') return r;
  return r.ref === 'tg' ? `(new tg ${r.key})` : `(new ${r.ref})`;
}
function fmtHc(h: { protocol: string; port: string; path?: string }): string {
  return `${h.protocol}:${h.port}${h.path ?? ''}`;
}

/** Listener change that needs no ModifyListener: only the extra (SNI) certificates differ. */
export const EXTRA_CERTIFICATES = 'extra certificates';

/** Same default certificate (the first) and the same set of extra (SNI) certificates. */
export function sameCertificates(observed: readonly string[], desired: readonly string[]): boolean {
  if ((observed[0] ?? '') !== (desired[0] ?? '')) return false;
  const a = [...new Set(observed.slice(1))].filter((x) => x !== observed[0]).sort();
  const b = [...new Set(desired.slice(1))].filter((x) => x !== desired[0]).sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
