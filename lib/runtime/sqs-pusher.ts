/**
 * Enqueues push triggers; the push function coalesces bursts. A trigger that may need a new version carries the next
 * desired-state generation; a retry carries none (it is never a new version) and waits out its backoff on the queue
 * (DelaySeconds). Needs only SQS and the store's sequences, so the ssm-status function builds it without the rest of
 * the runtime.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DataPlanePusher } from '../controller/controller.js';
import type { PushTrigger } from '../dataplane/triggers.js';
import type { Store } from '../store/types.js';

/** SQS allows at most 900 s of DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

export interface SqsPusherDeps {
  sqs: SQSClient;
  sequences: Pick<Store, 'nextSequence'>;
  clusterName: string;
  /** Unset: the data plane is not configured, requests are dropped (control plane only). */
  queueUrl: string | undefined;
}

export class SqsPusher implements DataPlanePusher {
  constructor(private readonly deps: SqsPusherDeps) {}

  async request(t: PushTrigger): Promise<void> {
    const { sqs, queueUrl } = this.deps;
    if (!queueUrl) return;
    if (t.kind === 'retry') {
      const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(t.delaySeconds ?? 0)));
      const body = JSON.stringify({ kind: 'retry', instanceIds: t.instanceIds });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, DelaySeconds: delay }));
      return;
    }
    const generation = await this.deps.sequences.nextSequence(`dataplane-generation-${this.deps.clusterName}`);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ ...t, generation }) }));
  }
}
