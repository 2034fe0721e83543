/**
 * The single DynamoDB table that plays etcd for the cluster: its key schema (shared with the CDK stack, which must
 * declare exactly the same keys) and the key layout of every item family. See docs/store.md for the full picture.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
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

/** Kinds of Kubernetes objects the store keeps. */
export type ObjectKind = 'Service' | 'Pod' | 'Endpoints';

/**
 * Key builders. Every family has its own partition-key prefix so one Query on `pk` returns exactly one family:
 * - objects:      pk `obj#<Kind>`,       sk `<namespace>/<name>` (namespace and name are DNS labels/subdomains,
 *                 which can never contain '/', so `begins_with(sk, "<ns>/")` selects exactly one namespace);
 * - allocations:  pk `alloc#<pool>`,     sk the allocated value (`10.96.0.10`, `30001`);
 * - records:      pk `rec#<kind>`,       sk the record id;
 * - sequences:    pk `seq`,              sk the counter name.
 */
export const keys = {
  object: (kind: ObjectKind, namespace: string, name: string) => ({ pk: `obj#${kind}`, sk: `${namespace}/${name}` }),
  objectPartition: (kind: ObjectKind) => `obj#${kind}`,
  namespacePrefix: (namespace: string) => `${namespace}/`,
  alloc: (pool: string, value: string) => ({ pk: `alloc#${pool}`, sk: value }),
  allocPartition: (pool: string) => `alloc#${pool}`,
  record: (kind: string, id: string) => ({ pk: `rec#${kind}`, sk: id }),
  recordPartition: (kind: string) => `rec#${kind}`,
  sequence: (name: string) => ({ pk: 'seq', sk: name }),
};

/**
 * Creates the table when it does not exist and waits until it is ACTIVE (local mode and tests; in AWS the CDK stack
 * owns it). Safe to call concurrently: a racing creator's ResourceInUseException just means "someone else made it".
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, maxWaitSeconds = 60): Promise<void> {
  try {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
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
        }),
      );
    } catch (createErr) {
      if (!(createErr instanceof ResourceInUseException)) throw createErr;
    }
  }
  await waitUntilTableExists(
    { client, maxWaitTime: maxWaitSeconds, minDelay: 1, maxDelay: 5 },
    { TableName: tableName },
  );
}
