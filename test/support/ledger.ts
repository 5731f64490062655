import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import type { BlobStore } from '../../lib/ledger/blob-store.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import { ensureTable } from '../../lib/ledger/table.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../lib/local/dynamodb-local.js';

/** DynamoDB Local for one test file; each `ledger()` gets a fresh table. */
export const startLedgerDb = async () => {
  const db: DynamoDbLocal = await startDynamoDbLocal();
  const client: DynamoDBClient = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: db.endpoint });
  return {
    endpoint: db.endpoint,
    client,
    async ledger(now?: () => number, options: { blobs?: BlobStore } = {}) {
      const table = `ledger-${randomBytes(4).toString('hex')}`;
      await ensureTable(client, table);
      return { table, ledger: new DynamoDbLedger(client, table, now, options) };
    },
    async stop() {
      client.destroy();
      await db.stop();
    },
  };
};
