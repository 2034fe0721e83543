/**
 * The local stand-in for the Lambda event source mappings and schedules: pollers that take batches from the local
 * queues and invoke the same handler code the Lambdas run, the periodic resync (EventBridge Scheduler in AWS), and
 * the pod GC's timer. Counts handlers in flight, so callers can tell when everything queued has been processed.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { LocalClients } from './clients.js';
import { handleNodeEvent, type NodeEvent } from '../../lib/handlers/node-events.js';
import { handleObjectBatch } from '../../lib/handlers/object-events.js';
import type { Runtime } from '../../lib/runtime/runtime.js';
import { makeStreamsClient } from './clients.js';
import { StreamPoller } from './stream-poller.js';
import { pollOnce, type LocalQueues } from './wiring.js';

/** Pause between stream reads when the last one found nothing (the local stand-in for the Pipe's polling). */
const STREAM_IDLE_MS = 150;

export interface LoopOptions {
  resyncSeconds: number;
  /** Replaces the Auto Scaling client of the node-event handler (tests: moto has no CompleteLifecycleAction). */
  autoscaling?: AutoScalingClient;
  log: (line: string) => void;
}

export class LocalLoops {
  private running = true;
  private busy = 0;
  private readonly pollers: Promise<void>[];
  private readonly timers: NodeJS.Timeout[];
  private readonly stream: StreamPoller;

  constructor(
    private readonly clients: LocalClients,
    private readonly queues: LocalQueues,
    private readonly runtime: Runtime,
    private readonly opts: LoopOptions,
  ) {
    this.stream = new StreamPoller({
      dynamodb: clients.dynamodb,
      streams: makeStreamsClient(),
      sqs: clients.sqs,
      records: runtime.store,
      tableName: runtime.env.tableName,
      queueUrl: queues.objectsUrl,
    });
    this.pollers = [
      this.followStream(),
      this.poll('objects', queues.objectsUrl, queues.objectsArn, (records) =>
        handleObjectBatch(runtime.controller, records),
      ),
      this.poll('nodes', queues.nodesUrl, queues.nodesArn, (records) => this.nodeBatch(records)),
    ];
    const every = (ms: number, what: string, fn: () => Promise<unknown>) =>
      setInterval(() => void fn().catch((e) => opts.log(`${what}: ${(e as Error).message}`)), ms);
    this.timers = [
      every(opts.resyncSeconds * 1000, 'resync', () => runtime.controller.resync()),
      // podgc's loop (upstream: every 20 s): Pods of nodes gone longer than the grace are deleted between resyncs.
      every(2000, 'pod gc', async () => {
        const gc = await runtime.controller.lifecycle.collectOrphans();
        if (gc.deleted.length) await runtime.pusher.request({ kind: 'objects' });
      }),
    ];
    // A first resync at once, as a deployed stack's first scheduled run: Node objects, slices and LB status exist
    // from the start instead of after the first interval.
    void runtime.controller.resync().catch((e) => opts.log(`resync: ${(e as Error).message}`));
  }

  /** The Pipe's stand-in: committed writes (their change-log entries) become object messages. */
  private async followStream(): Promise<void> {
    while (this.running) {
      try {
        const r = await this.stream.pollOnce();
        if (r.read === 0) await new Promise((res) => setTimeout(res, STREAM_IDLE_MS));
      } catch (err) {
        this.opts.log(`controller stream: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async poll(name: string, url: string, arn: string, handle: Parameters<typeof pollOnce>[3]): Promise<void> {
    const counted: typeof handle = async (records) => {
      this.busy++;
      try {
        return await handle(records);
      } finally {
        this.busy--;
      }
    };
    while (this.running) {
      try {
        await pollOnce(this.clients, url, arn, counted);
      } catch (err) {
        this.opts.log(`controller ${name}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async nodeBatch(records: { messageId: string; body: string }[]) {
    const failures: { itemIdentifier: string }[] = [];
    const deps = {
      controller: this.runtime.controller,
      autoscaling: this.opts.autoscaling ?? this.clients.autoscaling,
      drained: this.runtime.drained,
    };
    for (const r of records) {
      try {
        const done = await handleNodeEvent(deps, JSON.parse(r.body) as NodeEvent);
        // Locally only node events of our own making arrive: one that changes nothing is worth a line (a dropped
        // join is otherwise silent).
        if (done.kind === 'ignored') this.opts.log(`controller nodes: ${done.reason}`);
      } catch (err) {
        this.opts.log(`controller nodes: ${(err as Error).message}`);
        failures.push({ itemIdentifier: r.messageId }); // redelivered after the visibility timeout, like SQS
      }
    }
    return { batchItemFailures: failures };
  }

  /** Nothing committed but unforwarded, nothing queued, nothing in flight. */
  async idle(): Promise<boolean> {
    await this.stream.drain();
    let pending = 0;
    for (const url of [this.queues.objectsUrl, this.queues.nodesUrl]) {
      const a = await this.clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      pending +=
        Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    return pending === 0 && this.busy === 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.pollers);
  }
}
