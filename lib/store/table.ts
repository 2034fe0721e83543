/**
 * The single DynamoDB table that plays etcd for the cluster: its key schema (shared with the CDK stack, which must
 * declare exactly the same keys), the key layout of every item family, and the table's change stream and TTL
 * attribute. See docs/store.md for the full picture.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/** Fixed key schema: partition key `pk` (S) + sort key `sk` (S), on-demand capacity, no secondary index. */
export const TABLE_KEY_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  attributeType: 'S',
  billingMode: 'PAY_PER_REQUEST',
} as const;

/**
 * The table's change stream: NEW_IMAGE is enough, because the only records consumed are INSERTs of log items
 * (which carry everything the consumer needs); old images would double the stream's size for nothing.
 */
export const TABLE_STREAM_VIEW = 'NEW_IMAGE' as const;

/** DynamoDB TTL attribute (epoch seconds): a backstop for log compaction, the expiry of Events and of records that age out (per-node data-plane statuses, command records). */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * Storage key of a kind: `<Kind>` for the core group (`Service`, so the items written before groups existed keep
 * their keys), `<Kind>.<group>` otherwise (`EndpointSlice.discovery.k8s.io`).
 */
export type ObjectKind = string;

/** Revisions are zero-padded in log sort keys so that string order is numeric order (2^63 has 19 digits). */
export const REVISION_DIGITS = 20;
export const padRevision = (rev: number): string => String(rev).padStart(REVISION_DIGITS, '0');

/**
 * Key builders. Every family has its own partition-key prefix so one Query on `pk` returns exactly one family:
 * - objects:      pk `obj#<kind>`,       sk `<namespace>/<name>` (namespace '' for cluster-scoped kinds; namespaces
 *                 and names are DNS labels/subdomains, which can never contain '/', so `begins_with(sk, "<ns>/")`
 *                 selects exactly one namespace);
 * - change log:   pk `log`,              sk the revision, zero-padded;
 * - revisions:    pk `rev`,              sk `current` (the global revision counter) and `compacted`;
 * - allocations:  pk `alloc#<pool>`,     sk the block of 64 values (`n:29984`, `10.96.0.0/26`), one attribute per
 *                 held value (`v:30001` = owner uid): see lib/store/alloc-blocks.ts;
 * - records:      pk `rec#<kind>`,       sk the record id;
 * - sequences:    pk `seq`,              sk the counter name.
 */
export const keys = {
  object: (kind: ObjectKind, namespace: string, name: string) => ({ pk: `obj#${kind}`, sk: `${namespace}/${name}` }),
  objectPartition: (kind: ObjectKind) => `obj#${kind}`,
  namespacePrefix: (namespace: string) => `${namespace}/`,
  LOG_PARTITION: 'log',
  log: (rev: number) => ({ pk: 'log', sk: padRevision(rev) }),
  REVISION_PARTITION: 'rev',
  revisionCounter: { pk: 'rev', sk: 'current' },
  compactRecord: { pk: 'rev', sk: 'compacted' },
  allocBlock: (pool: string, block: string) => ({ pk: `alloc#${pool}`, sk: block }),
  allocPartition: (pool: string) => `alloc#${pool}`,
  record: (kind: string, id: string) => ({ pk: `rec#${kind}`, sk: id }),
  recordPartition: (kind: string) => `rec#${kind}`,
  sequence: (name: string) => ({ pk: 'seq', sk: name }),
};

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: TABLE_KEY_SCHEMA.billingMode,
        AttributeDefinitions: [
          { AttributeName: TABLE_KEY_SCHEMA.partitionKey, AttributeType: TABLE_KEY_SCHEMA.attributeType },
          { AttributeName: TABLE_KEY_SCHEMA.sortKey, AttributeType: TABLE_KEY_SCHEMA.attributeType },
        ],
        KeySchema: [
          { AttributeName: TABLE_KEY_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEY_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_STREAM_VIEW },
      }),
    );
  } catch (createErr) {
    if (!(createErr instanceof ResourceInUseException)) throw createErr;
  }
}

/** Turns TTL on for `expiresAt` unless it already is (UpdateTimeToLive fails when the setting is unchanged). */
async function ensureTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  const d = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const ttl = d.TimeToLiveDescription;
  if (ttl?.AttributeName === TTL_ATTRIBUTE && /ENABL/.test(ttl.TimeToLiveStatus ?? '')) return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (err) {
    // A concurrent caller enabled it first: DynamoDB refuses to enable it twice.
    if (!/already enabled/i.test((err as Error).message)) throw err;
  }
}

/** A table made before the change log existed gets its stream (the controller's trigger) turned on. */
async function ensureStream(client: DynamoDBClient, tableName: string, enabled: boolean | undefined): Promise<void> {
  if (enabled) return;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_STREAM_VIEW },
      }),
    );
  } catch (err) {
    if (!/already has an enabled stream/i.test((err as Error).message)) throw err;
  }
}

/**
 * Creates the table (with its NEW_IMAGE stream and the `expiresAt` TTL) when it does not exist and waits until it is
 * ACTIVE (local mode and tests; in AWS the CDK stack owns it). Safe to call concurrently: a racing creator's
 * ResourceInUseException just means "someone else made it".
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, maxWaitSeconds = 60): Promise<void> {
  let active = false;
  try {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
    active = d.Table?.TableStatus === 'ACTIVE';
    await ensureStream(client, tableName, d.Table?.StreamSpecification?.StreamEnabled);
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await createTable(client, tableName);
  }
  if (!active) {
    await waitUntilTableExists(
      { client, maxWaitTime: maxWaitSeconds, minDelay: 1, maxDelay: 5 },
      { TableName: tableName },
    );
  }
  await ensureTtl(client, tableName);
}
