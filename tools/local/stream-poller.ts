/**
 * The local stand-in for the deployed Pipe (table stream -> events FIFO queue): reads the table's DynamoDB stream
 * (moto serves DescribeStream / GetShardIterator / GetRecords; transaction writes appear as INSERT records), turns
 * each INSERT of a change-log item into an object message (logRecordToMessage) and sends it to the local FIFO queue
 * the controller loop consumes, with the object's message group and the revision as deduplication id.
 *
 * It checkpoints the last forwarded sequence number per shard in a store record, so a restart resumes where it
 * stopped (a record forwarded twice is deduplicated by SQS within five minutes, and is harmless after: the
 * controller skips a message whose object has moved on).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { logRecordToMessage, type OutgoingMessage } from '../../lib/events/object-message.js';
import type { RecordStore } from '../../lib/store/types.js';

export const STREAM_CHECKPOINT_RECORD = 'stream-checkpoint';

export interface StreamPollerDeps {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  sqs: SQSClient;
  records: RecordStore;
  tableName: string;
  queueUrl: string;
}

export class StreamPoller {
  private iterators = new Map<string, string | undefined>();
  private streamArn?: string;
  /** One poll at a time: two would read the same iterator and forward records twice. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: StreamPollerDeps) {}

  /** Reads every shard once and forwards what it found: stream records read, messages sent. */
  pollOnce(): Promise<{ read: number; sent: number }> {
    const run = this.tail.then(
      () => this.poll(),
      () => this.poll(),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Polls until the stream has nothing more (what `settle` waits for after a write). */
  async drain(): Promise<void> {
    while ((await this.pollOnce()).read > 0);
  }

  private async poll(): Promise<{ read: number; sent: number }> {
    const arn = await this.arn();
    const d = await this.deps.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    const total = { read: 0, sent: 0 };
    for (const shard of d.StreamDescription?.Shards ?? []) {
      if (!shard.ShardId) continue;
      const r = await this.pollShard(arn, shard.ShardId);
      total.read += r.read;
      total.sent += r.sent;
    }
    return total;
  }

  private async arn(): Promise<string> {
    if (this.streamArn) return this.streamArn;
    const t = await this.deps.dynamodb.send(new DescribeTableCommand({ TableName: this.deps.tableName }));
    if (!t.Table?.LatestStreamArn) throw new Error(`table ${this.deps.tableName} has no stream`);
    this.streamArn = t.Table.LatestStreamArn;
    return this.streamArn;
  }

  private async pollShard(arn: string, shardId: string): Promise<{ read: number; sent: number }> {
    let iterator = this.iterators.has(shardId) ? this.iterators.get(shardId) : await this.startIterator(arn, shardId);
    let sent = 0;
    let read = 0;
    for (let page = 0; iterator && page < 10; page++) {
      let r;
      try {
        r = await this.deps.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
      } catch (err) {
        // An expired or invalid iterator: the next poll starts again from the checkpoint.
        this.iterators.delete(shardId);
        throw err;
      }
      const records = r.Records ?? [];
      read += records.length;
      const forwarded = await this.forward(records);
      sent += forwarded;
      // The checkpoint lives in the same table, so writing it adds a stream record: write it only when messages
      // went out, or every poll would read its own checkpoint and write another.
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last && forwarded > 0) await this.deps.records.putRecord(STREAM_CHECKPOINT_RECORD, shardId, last);
      iterator = r.NextShardIterator;
      if (records.length === 0) break;
    }
    this.iterators.set(shardId, iterator);
    return { read, sent };
  }

  /** After the checkpoint when there is one, else from the oldest record the stream still holds. */
  private async startIterator(arn: string, shardId: string): Promise<string | undefined> {
    const checkpoint = (await this.deps.records.getRecord<string>(STREAM_CHECKPOINT_RECORD, shardId))?.data;
    const r = await this.deps.streams.send(
      new GetShardIteratorCommand({
        StreamArn: arn,
        ShardId: shardId,
        ...(checkpoint
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return r.ShardIterator;
  }

  /** SendMessageBatch takes at most 10 entries. */
  private async forward(records: _Record[]): Promise<number> {
    const messages = records.flatMap((r) => {
      const m = logRecordToMessage(r as never);
      return m ? [m] : [];
    });
    for (let i = 0; i < messages.length; i += 10) await this.send(messages.slice(i, i + 10));
    return messages.length;
  }

  private async send(batch: OutgoingMessage[]): Promise<void> {
    const r = await this.deps.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.deps.queueUrl,
        Entries: batch.map((m, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(m.body),
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.deduplicationId,
        })),
      }),
    );
    if (r.Failed?.length) throw new Error(`sending object messages failed: ${r.Failed[0]?.Message ?? 'unknown'}`);
  }
}
