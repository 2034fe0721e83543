/**
 * The change log's item shape (pk `log`, sk the zero-padded revision), shared by the writer (DynamoStore), the
 * readers (watches, the watch cache) and the stream consumer, which sees the same attributes in a DynamoDB stream
 * record's NewImage. No SDK here.
 */
import { createHash } from 'node:crypto';
import type { LogEntry, LogEventType } from './types.js';
import { keys, type ObjectKind } from './table.js';

/** SQS FIFO MessageGroupId: at most 128 characters, alphanumerics and ASCII punctuation only. */
const SQS_GROUP_MAX = 128;
const SQS_GROUP_CHARSET = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/;

/**
 * The FIFO message group of an object: `<kind>/<namespace>/<name>`, so one object's changes (across delete and
 * re-create of the same name) are consumed in order while different objects proceed in parallel. A key that does
 * not fit SQS's rules (a 253-character name) becomes a readable prefix plus its sha256, still unique per object.
 */
export function messageGroupFor(kind: ObjectKind, namespace: string, name: string): string {
  const key = `${kind}/${namespace}/${name}`;
  if (key.length <= SQS_GROUP_MAX && SQS_GROUP_CHARSET.test(key)) return key;
  const hash = createHash('sha256').update(key).digest('hex'); // 64 characters
  const prefix = key.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_');
  return `${prefix.slice(0, SQS_GROUP_MAX - hash.length - 1)}#${hash}`;
}

/** The stored log item (what a stream record's NewImage carries, unmarshalled). */
export interface LogItem {
  pk: string;
  sk: string;
  rev: number;
  type: LogEventType;
  kind: ObjectKind;
  namespace: string;
  name: string;
  uid: string;
  body: string;
  group: string;
  /** Commit time, epoch milliseconds (compaction's age test). */
  at: number;
  /** Epoch seconds: DynamoDB's TTL removes the item after this, as a backstop for compaction. */
  expiresAt: number;
  /** 'status' for a status-subresource write, '' otherwise (always present, so a Pipe's template can read it). */
  subresource: '' | 'status';
}

export function logItem(e: Omit<LogEntry, 'object'> & { body: string }, now: number, ttlSeconds: number): LogItem {
  return {
    ...keys.log(e.rev),
    rev: e.rev,
    type: e.type,
    kind: e.kind,
    namespace: e.namespace,
    name: e.name,
    uid: e.uid,
    body: e.body,
    group: messageGroupFor(e.kind, e.namespace, e.name),
    at: now,
    expiresAt: Math.ceil(now / 1000) + ttlSeconds,
    subresource: e.subresource ?? '',
  };
}

export function entryOf(it: Record<string, unknown>): LogEntry {
  return {
    rev: Number(it.rev),
    type: it.type as LogEventType,
    kind: String(it.kind),
    namespace: String(it.namespace ?? ''),
    name: String(it.name),
    uid: String(it.uid ?? ''),
    object: JSON.parse(String(it.body)) as LogEntry['object'],
    ...(it.subresource === 'status' ? { subresource: 'status' as const } : {}),
  };
}
