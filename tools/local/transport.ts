/**
 * Stands in for SSM Run Command in tests and the local mode: given the same document and parameters, it checks the
 * parameters against allowedPattern as SSM does, substitutes `{{ name }}` exactly as SSM does, and runs the SAME
 * runShellScript lines with `ip netns exec <node ns> bash -c <script>`, then emits EventBridge-shaped
 * "EC2 Command Invocation Status-change Notification" events, so handleCommandStatusEvent is exercised unchanged.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../netns/index.js';
import type { CommandStatusEvent } from '../../lib/dataplane/ssm-driver.js';
import {
  substituteParameters,
  validateParameters,
  type DataPlaneParameters,
  type SsmCommandDocument,
} from '../../lib/dataplane/ssm-document.js';

/**
 * A fresh SSC_ROOT for one agent (tests, local mode). World-readable like the real /var/lib/sscontroller: dnsmasq
 * drops to user nobody after start-up and reads its hosts and servers files as nobody on every SIGHUP.
 */
export function agentRoot(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export interface LocalTarget {
  instanceId: string;
  /** Network namespace of the node. */
  ns: string;
  /** Extra environment for the agent (SSC_ROOT, SSC_DNS_LISTEN, ...). SSC_INSTANCE_ID is set from instanceId. */
  env?: Record<string, string>;
}

export interface LocalInvocation {
  instanceId: string;
  status: 'Success' | 'Failed';
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The agent's one-line JSON summary, parsed. */
  summary?: Record<string, unknown>;
  event: CommandStatusEvent;
}

export async function sendLocalCommand(
  doc: SsmCommandDocument,
  params: DataPlaneParameters,
  targets: readonly LocalTarget[],
  opts: { documentName?: string; commandId?: string; onEvent?: (e: CommandStatusEvent) => void | Promise<void> } = {},
): Promise<{ commandId: string; invocations: LocalInvocation[] }> {
  validateParameters(params);
  const commandId = opts.commandId ?? randomUUID();
  const step = doc.mainSteps[0]!;
  const withDefaults: Record<string, string> = {};
  for (const [k, def] of Object.entries(doc.parameters)) withDefaults[k] = def.default ?? '';
  const script = substituteParameters(step.inputs.runCommand, { ...withDefaults, ...params }).join('\n');
  const invocations = await Promise.all(
    targets.map(async (t) => {
      const env = {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        ...t.env,
        SSC_INSTANCE_ID: t.instanceId,
      };
      const r = await sh('ip', ['netns', 'exec', t.ns, 'bash', '-c', script], {
        env,
        timeoutMs: Number(step.inputs.timeoutSeconds) * 1000,
      });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      let summary: Record<string, unknown> | undefined;
      try {
        summary = JSON.parse(last) as Record<string, unknown>;
      } catch {
        summary = undefined;
      }
      const status: 'Success' | 'Failed' = r.code === 0 ? 'Success' : 'Failed';
      const event: CommandStatusEvent = {
        source: 'aws.ssm',
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        detail: {
          'command-id': commandId,
          'document-name': opts.documentName ?? 'sscontroller-dataplane',
          'instance-id': t.instanceId,
          'requested-date-time': new Date().toISOString(),
          status,
        },
      };
      if (opts.onEvent) await opts.onEvent(event);
      return { instanceId: t.instanceId, status, exitCode: r.code, stdout: r.stdout, stderr: r.stderr, summary, event };
    }),
  );
  return { commandId, invocations };
}
