import { QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decodeChunks } from './codec.js';
import { blobRefOf, loadBlobValue, storeValue, writingBlobs } from './dynamodb-large-values.js';
import { T, type LedgerTable } from './dynamodb-table.js';
import type { DriftRecord, DriftStatus } from './ledger.js';

/** Drift reports (`T#id` / `DR#<checkedAt>`) and the drift summary on the state item. */

export const putDrift = async (t: LedgerTable, record: DriftRecord): Promise<void> => {
  // A report too large for the item goes to the blob store; without one, one over a transaction is left out (the
  // summary and fingerprint stay, and the notice carries the changes).
  const report =
    record.report === undefined
      ? undefined
      : await storeValue(t, record.targetId, 'drift-report', record.report).catch((err: unknown) => {
          if (t.blobs) throw err;
          return undefined;
        });
  await writingBlobs(t, [report], undefined, () =>
    t.call('TransactWriteItems (drift)', () =>
      t.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: t.name,
                Item: {
                  PK: T(record.targetId),
                  SK: `DR#${record.checkedAt}`,
                  targetId: record.targetId,
                  checkedAt: record.checkedAt,
                  status: record.status,
                  fingerprint: record.fingerprint,
                  ...(report?.kind === 'inline' ? { report: report.bytes } : report?.kind === 'blob' ? { reportBlob: report.ref } : {}),
                },
              },
            },
            {
              Update: {
                TableName: t.name,
                Key: t.stateKey(record.targetId),
                UpdateExpression: 'SET drift = :d',
                ExpressionAttributeValues: { ':d': { status: record.status === 'drifted' ? 'drifted' : 'none', fingerprint: record.fingerprint, checkedAt: record.checkedAt } },
              },
            },
          ],
        }),
      ),
    ),
  );
};

export const markDriftChecked = async (t: LedgerTable, targetId: string, summary: { status: DriftStatus; fingerprint?: string; checkedAt: string }): Promise<void> => {
  await t.conditional(
    'UpdateItem (drift checked)',
    () =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: t.stateKey(targetId),
          UpdateExpression: 'SET drift = :d',
          // Only a target that exists: a check must not resurrect a state item.
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':d': { status: summary.status, checkedAt: summary.checkedAt, ...(summary.fingerprint ? { fingerprint: summary.fingerprint } : {}) } },
        }),
      ),
    () => undefined,
  );
};

export const latestDrift = async (t: LedgerTable, targetId: string): Promise<DriftRecord | undefined> => {
  const out = await t.call('Query (drift)', () =>
    t.doc.send(
      new QueryCommand({
        TableName: t.name,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :d)',
        ExpressionAttributeValues: { ':pk': T(targetId), ':d': 'DR#' },
        ScanIndexForward: false,
        Limit: 1,
      }),
    ),
  );
  const i = out.Items?.[0];
  if (!i) return undefined;
  return {
    targetId,
    checkedAt: String(i.checkedAt),
    status: i.status as DriftRecord['status'],
    ...(typeof i.fingerprint === 'string' ? { fingerprint: i.fingerprint } : {}),
    ...(i.report ? { report: decodeChunks([i.report as Uint8Array]) } : {}),
    ...(blobRefOf(i.reportBlob) ? { report: await loadBlobValue(t, targetId, 'drift-report', blobRefOf(i.reportBlob)!) } : {}),
  };
};
