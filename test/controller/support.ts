/**
 * Drives a controller from the store's change log the way the deployed Pipe (and the local stream poller) does:
 * each log entry after a revision becomes the stream record of its INSERT, `logRecordToMessage` turns it into an
 * object message (dropping Events, as the Pipe's filter does), and the messages go through the SQS handler in
 * revision order. Rounds repeat while the controller's own writes add entries, up to a bound.
 */
import type { Controller } from '../../lib/controller/controller.js';
import { logRecordToMessage, type ObjectMessage, type StreamRecordLike } from '../../lib/events/object-message.js';
import { handleObjectBatch } from '../../lib/handlers/object-events.js';
import { messageGroupFor } from '../../lib/store/log.js';
import type { LogEntry, Store } from '../../lib/store/types.js';
import { messageRecord } from '../handlers/support.js';

/** The stream record the table's stream carries for the INSERT of this entry's log item. */
export function streamRecordOf(e: LogEntry): StreamRecordLike {
  const S = (v: string) => ({ S: v });
  return {
    eventName: 'INSERT',
    dynamodb: {
      NewImage: {
        pk: S('log'),
        rev: { N: String(e.rev) },
        type: S(e.type),
        kind: S(e.kind),
        namespace: S(e.namespace),
        name: S(e.name),
        uid: S(e.uid),
        group: S(messageGroupFor(e.kind, e.namespace, e.name)),
        subresource: S(e.subresource ?? ''),
      },
    },
  };
}

export interface Drained {
  /** The revision processed up to. */
  rev: number;
  messages: ObjectMessage[];
}

/** Delivers every change after `afterRev` (and the changes that causes) to the controller; throws if one fails. */
export async function drainLog(store: Store, controller: Controller, afterRev: number, rounds = 10): Promise<Drained> {
  let rev = afterRev;
  const messages: ObjectMessage[] = [];
  for (let round = 0; round < rounds; round++) {
    const entries = await store.readLog(rev, 1000);
    if (entries.length === 0) return { rev, messages };
    const batch = entries.flatMap((e) => {
      const m = logRecordToMessage(streamRecordOf(e));
      return m ? [m.body] : [];
    });
    const res = await handleObjectBatch(controller, batch.map(messageRecord));
    if (res.batchItemFailures.length) throw new Error(`messages failed: ${JSON.stringify(res.batchItemFailures)}`);
    messages.push(...batch);
    rev = entries.at(-1)!.rev;
  }
  throw new Error(`the controller kept writing after ${rounds} rounds`);
}

/**
 * The Pipe's stand-in: delivers the log to the controller every 100 ms, one pass at a time, until stopped;
 * `settle()` runs one more pass and waits for it.
 */
export function pipeLoop(store: Store, controller: Controller): { stop(): Promise<void>; settle(): Promise<void> } {
  let rev = 0;
  let pass: Promise<void> = Promise.resolve();
  const once = () =>
    (pass = pass.then(async () => {
      rev = (await drainLog(store, controller, rev)).rev;
    }));
  const timer = setInterval(() => void once().catch(() => undefined), 100);
  return {
    settle: () => once(),
    stop: async () => {
      clearInterval(timer);
      await pass.catch(() => undefined);
    },
  };
}
