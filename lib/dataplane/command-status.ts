/**
 * What a node applied, from the SSM status-change events. Its own module, free of the SSM and S3 SDKs, because the
 * ssm-status function needs only this, the state store and the push queue (lib/handlers/ssm-status.ts).
 */
import { applyResult, finalStatus, type NodeStatus, type RetryPolicy } from './node-status.js';
import { digestFor, type DataPlaneStateStore } from './state-store.js';

/** EventBridge "EC2 Command Invocation Status-change Notification" (source aws.ssm). */
export interface CommandStatusEvent {
  source?: string;
  'detail-type'?: string;
  detail: {
    'command-id': string;
    'instance-id': string;
    status: string;
    'document-name'?: string;
    'requested-date-time'?: string;
  };
}

/**
 * Records a node's final result (lib/dataplane/node-status.ts applyResult). Events for commands we did not send and
 * non-final statuses change nothing (undefined).
 */
export async function handleCommandStatusEvent(
  event: CommandStatusEvent,
  deps: { store: DataPlaneStateStore; now?: () => Date; retryPolicy?: RetryPolicy },
): Promise<NodeStatus | undefined> {
  const d = event.detail;
  if (!d || !d['command-id'] || !d['instance-id'] || typeof d.status !== 'string') return undefined;
  const final = finalStatus(d.status);
  if (!final) return undefined; // Pending/InProgress/Delayed
  const cmd = await deps.store.getCommand(d['command-id']);
  if (!cmd) return undefined;
  const ev = {
    instanceId: d['instance-id'],
    commandId: d['command-id'],
    ssmStatus: d.status,
    version: cmd.version,
    digest: digestFor(cmd.digests, d['instance-id']),
    now: deps.now?.() ?? new Date(),
  };
  // EventBridge delivers at least once: the same result twice must not count as two failures.
  const seen = (cur: NodeStatus | undefined) =>
    cur?.lastCommandId === ev.commandId && cur.lastStatus === ev.ssmStatus.replace(/\s+/g, '');
  return deps.store.updateNode(ev.instanceId, (cur) =>
    seen(cur) ? undefined : applyResult(cur, ev, final, deps.retryPolicy),
  );
}
