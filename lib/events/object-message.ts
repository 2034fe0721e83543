/**
 * The controller's trigger: one message per committed write, made from the change log's entry as the table's
 * stream carries it (an INSERT of a `pk = log` item). The message names the object and the revision of the write,
 * nothing more: the controller always reads the latest stored object, so a late, repeated or reordered message can
 * only cause a redundant reconcile, never an old state. Deployed, an EventBridge Pipe makes the same message with
 * an input template (infra/); locally, the stream poller calls `logRecordToMessage`. No SDK here.
 *
 * SQS FIFO fields: MessageGroupId = the item's `group` (`<kind>/<namespace>/<name>`, so one object's messages are
 * consumed in order and different objects in parallel), MessageDeduplicationId = the revision (a stream record
 * delivered twice within SQS's five-minute window is dropped).
 */
import { InvalidError } from '../errors.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ObjectMessage {
  /** Storage kind key: `Service`, `EndpointSlice.discovery.k8s.io`. */
  kind: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid: string;
  /** The revision of the write. */
  rev: number;
  type: ChangeType;
  /** 'status' when the write changed only the status subresource. */
  subresource?: 'status';
}

export interface OutgoingMessage {
  body: ObjectMessage;
  groupId: string;
  deduplicationId: string;
}

/** A DynamoDB stream record as Lambda, Pipes and GetRecords deliver it (attribute values still marshalled). */
export interface StreamRecordLike {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, { S?: string; N?: string } | undefined> };
}

const TYPES: readonly ChangeType[] = ['ADDED', 'MODIFIED', 'DELETED'];

/**
 * The message for a stream INSERT of a change-log item; undefined for every other record (objects, counters, ...)
 * and for Events' log items.
 */
export function logRecordToMessage(record: StreamRecordLike): OutgoingMessage | undefined {
  const img = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !img || img.pk?.S !== 'log') return undefined;
  const s = (k: string) => img[k]?.S;
  // Events never trigger a reconcile (the Pipe's filter drops them too): the controller records them itself, and
  // an Event written about a reconcile must not cause another one.
  if (s('kind') === 'Event') return undefined;
  const rev = Number(img.rev?.N);
  const type = s('type') as ChangeType;
  const group = s('group');
  if (!Number.isSafeInteger(rev) || rev < 1 || !TYPES.includes(type) || !group || !s('kind') || !s('name')) {
    return undefined;
  }
  const body: ObjectMessage = {
    kind: s('kind')!,
    namespace: s('namespace') ?? '',
    name: s('name')!,
    uid: s('uid') ?? '',
    rev,
    type,
    ...(s('subresource') === 'status' ? { subresource: 'status' as const } : {}),
  };
  return { body, groupId: group, deduplicationId: String(rev) };
}

function fail(field: string, message: string): never {
  throw new InvalidError(`invalid object message: ${field}: ${message}`, [{ field, message }]);
}

const str = (v: unknown, field: string, required: boolean): string => {
  if (v === undefined || v === null) return required ? fail(field, 'Required value') : '';
  if (typeof v !== 'string') fail(field, `must be a string, got ${JSON.stringify(v)}`);
  if (required && v === '') fail(field, 'Required value');
  return v;
};

/**
 * Parses an SQS message body (strict: a malformed message is permanent, retrying the same bytes cannot help). The
 * revision may be a number or a decimal string (the Pipe's input template renders DynamoDB's N as a string).
 */
export function parseObjectMessage(raw: unknown): ObjectMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('message', 'must be a JSON object');
  const m = raw as Record<string, unknown>;
  const rev = typeof m.rev === 'string' && /^\d{1,15}$/.test(m.rev) ? Number(m.rev) : m.rev;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 1)
    fail('rev', `must be a positive integer, got ${JSON.stringify(m.rev)}`);
  if (!TYPES.includes(m.type as ChangeType)) {
    fail('type', `Unsupported value: ${JSON.stringify(m.type)}: supported values: "ADDED", "MODIFIED", "DELETED"`);
  }
  const subresource = str(m.subresource, 'subresource', false);
  if (subresource !== '' && subresource !== 'status')
    fail('subresource', `Unsupported value: ${JSON.stringify(subresource)}`);
  return {
    kind: str(m.kind, 'kind', true),
    namespace: str(m.namespace, 'namespace', false),
    name: str(m.name, 'name', true),
    uid: str(m.uid, 'uid', false),
    rev,
    type: m.type as ChangeType,
    ...(subresource === 'status' ? { subresource: 'status' as const } : {}),
  };
}
