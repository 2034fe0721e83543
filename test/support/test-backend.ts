/**
 * The API backend the REST-layer tests run on: the real StoreBackend over a table of its own in the test run's moto
 * server, so kubectl and client-node exercise the same write path, change log and watch cache as the product.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { StoreBackend } from '../../lib/api/store-backend.js';
import { DEFAULT_CLUSTER_CONFIG } from '../../lib/model/types.js';
import { DynamoStore } from '../../lib/store/store.js';
import { ensureTable, keys } from '../../lib/store/table.js';
import { motoClients, uniqueName } from './aws.js';

export interface TestBackend {
  backend: StoreBackend;
  /**
   * Moves the compaction horizon to `rev`, as a compaction that reached it records (the watch from an older
   * revision then gets 410 Expired). The entries stay: the horizon record is what the store checks first.
   */
  compact(rev: number): Promise<void>;
  /** Stops the backend's log tailer. */
  closeBackend(): void;
}

export async function createTestBackend(
  opts: { bookmarkIntervalMs?: number; tailerPollMs?: number } = {},
): Promise<TestBackend> {
  const { dynamodb } = motoClients();
  const tableName = uniqueName('api');
  await ensureTable(dynamodb, tableName);
  const backend = new StoreBackend({
    store: new DynamoStore(dynamodb, tableName),
    cfg: DEFAULT_CLUSTER_CONFIG,
    tailer: { pollIntervalMs: opts.tailerPollMs ?? 30 },
    ...(opts.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: opts.bookmarkIntervalMs }),
  });
  const compact = async (rev: number) => {
    const { pk, sk } = keys.compactRecord;
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: pk }, sk: { S: sk }, rev: { N: String(rev) }, updatedAt: { S: new Date().toISOString() } },
      }),
    );
  };
  return { backend, compact, closeBackend: () => backend.close() };
}
