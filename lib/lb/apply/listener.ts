/**
 * Listeners: create (or converge the one a crashed run created), modify, extra (SNI) certificates, attributes, delete
 * (ELBv2).
 */
import {
  AddListenerCertificatesCommand,
  CreateListenerCommand,
  DeleteListenerCommand,
  DescribeListenersCommand,
  ModifyListenerAttributesCommand,
  ModifyListenerCommand,
  RemoveListenerCertificatesCommand,
  type Action as ElbAction,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCode, elb } from '../calls.js';
import type { LoadBalancerContext } from '../context.js';
import type { Action, DesiredListener } from '../model.js';
import { listenerCertificates } from '../observe.js';
import { EXTRA_CERTIFICATES } from '../plan/listener.js';
import type { ApplyState } from './state.js';
import { toTags } from './tags.js';

type ListenerAction = Extract<Action, { kind: 'Listener' }>;

export async function applyListener(ctx: LoadBalancerContext, st: ApplyState, a: ListenerAction): Promise<void> {
  if (a.op === 'create') return createListener(ctx, st, a);
  if (a.op === 'update') {
    // Only the SNI certificates changed: Add/RemoveListenerCertificates alone, no ModifyListener.
    if (a.changes.some((c) => c !== EXTRA_CERTIFICATES))
      await elb(ctx, new ModifyListenerCommand({ ListenerArn: a.arn, ...listenerInput(a, st) }));
    await syncExtraCertificates(ctx, a.arn, a.desired);
    return;
  }
  await elb(ctx, new DeleteListenerCommand({ ListenerArn: a.arn }));
}

async function createListener(
  ctx: LoadBalancerContext,
  st: ApplyState,
  a: Extract<ListenerAction, { op: 'create' }>,
): Promise<void> {
  const lbArn = st.resolve(a.loadBalancer);
  try {
    const created = await elb(
      ctx,
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        ...listenerInput(a, st),
        Tags: toTags(a.desired.tags),
      }),
    );
    const arn = created.Listeners?.[0]?.ListenerArn;
    if (arn) {
      st.listener.set(a.desired.key, arn);
      await syncExtraCertificates(ctx, arn, a.desired);
    }
  } catch (err) {
    if (awsCode(err) !== 'DuplicateListener' && awsCode(err) !== 'DuplicateListenerException') throw err;
    // A listener on this port already exists on OUR load balancer (created by a crashed run): converge it. The NLB
    // is ours (proven when it was observed or adopted), so its listener needs no proof of its own.
    const r = await elb(ctx, new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
    const l = r.Listeners?.find((x) => x.Port === a.desired.port);
    if (!l?.ListenerArn) throw err;
    st.listener.set(a.desired.key, l.ListenerArn);
    await elb(ctx, new ModifyListenerCommand({ ListenerArn: l.ListenerArn, ...listenerInput(a, st) }));
    await syncExtraCertificates(ctx, l.ListenerArn, a.desired);
  }
}

/** ModifyListenerAttributes with the attributes that differ (keys sorted), on a listener known or just created. */
export async function applyListenerAttributes(
  ctx: LoadBalancerContext,
  st: ApplyState,
  a: Extract<Action, { kind: 'ListenerAttributes' }>,
): Promise<void> {
  const Attributes = Object.keys(a.attributes)
    .sort()
    .map((Key) => ({ Key, Value: a.attributes[Key] }));
  await elb(ctx, new ModifyListenerAttributesCommand({ ListenerArn: st.resolve(a.arn), Attributes }));
}

/**
 * The listener's payload. A weighted forward is ONE forward action with a ForwardConfig (ELBv2 refuses
 * TargetGroupArn and ForwardConfig with different groups in the same action); a plain one names its group.
 */
function listenerInput(a: Extract<ListenerAction, { op: 'create' | 'update' }>, st: ApplyState) {
  const d = a.desired;
  const actions: ElbAction[] = a.weighted
    ? [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: a.weighted.map((w) => ({ TargetGroupArn: st.resolve(w.targetGroup), Weight: w.weight })),
          },
        },
      ]
    : [{ Type: 'forward', TargetGroupArn: st.resolve(a.targetGroup) }];
  return {
    Protocol: d.protocol,
    Port: d.port,
    DefaultActions: actions,
    // The listener's default certificate; ELBv2 takes exactly one here (more need AddListenerCertificates).
    Certificates: d.certificateArns?.slice(0, 1).map((CertificateArn) => ({ CertificateArn })),
    SslPolicy: d.protocol === 'TLS' ? d.sslPolicy : undefined,
    AlpnPolicy: d.protocol === 'TLS' && d.alpnPolicy ? [d.alpnPolicy] : undefined,
  };
}

/**
 * Extra (SNI) certificates of a TLS listener: CreateListener/ModifyListener take exactly one (the default), the rest
 * go through Add/RemoveListenerCertificates. Reads the current list first, so a rerun after a crash converges.
 */
async function syncExtraCertificates(ctx: LoadBalancerContext, listenerArn: string, d: DesiredListener): Promise<void> {
  if (d.protocol !== 'TLS') return;
  const wanted = (d.certificateArns ?? []).slice(1).filter((c) => c !== d.certificateArns?.[0]);
  const have = (await listenerCertificates(ctx, listenerArn)).slice(1);
  const add = wanted.filter((c) => !have.includes(c));
  const remove = have.filter((c) => !wanted.includes(c));
  const certs = (arns: string[]) => arns.map((CertificateArn) => ({ CertificateArn }));
  if (add.length)
    await elb(ctx, new AddListenerCertificatesCommand({ ListenerArn: listenerArn, Certificates: certs(add) }));
  if (remove.length)
    await elb(ctx, new RemoveListenerCertificatesCommand({ ListenerArn: listenerArn, Certificates: certs(remove) }));
}
