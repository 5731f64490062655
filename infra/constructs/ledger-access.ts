import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';

/**
 * What one function may do on the ledger table: the DynamoDB actions it calls (lib/ledger/dynamodb-*.ts),
 * limited to items whose partition key starts with one of `leadingKeys` (`dynamodb:LeadingKeys`), and the
 * indexes it queries. Transactions need no action of their own: their Put, Update and ConditionCheck parts are
 * authorised as PutItem, UpdateItem and ConditionCheckItem.
 */
export interface LedgerAccess {
  readonly actions: readonly string[];
  /** Partition key patterns (lib/ledger/README.md): `T#*` targets, `R#*` repositories, `D#*` deliveries. */
  readonly leadingKeys: readonly string[];
  /** Queried without a key condition: IAM does not document LeadingKeys for an index's own partition key. */
  readonly indexes: readonly ('GSI1' | 'GSI2')[];
}

/**
 * Each function's ledger access, from the ledger calls its code makes:
 * - webhook: hasDelivery (GetItem), recordDelivery (PutItem) on `D#`; listTargets of one repository (Query GSI2).
 * - reconcile: getState and getSync (GetItem, BatchGetItem of chunks), the lease and pending head (UpdateItem),
 *   startSync, finishSync and writeState (transactions: PutItem, UpdateItem, ConditionCheckItem), markTimedOut
 *   (Query, UpdateItem), all on `T#`; the commit report's claims (PutItem on `D#commit-report/…`) and the
 *   repository's targets (Query GSI2).
 * - drift: checkTarget's getState (GetItem, BatchGetItem), latestDrift (Query) and putDrift (PutItem, UpdateItem)
 *   on `T#`; the sweeper's getHead and putHead (GetItem, PutItem) on `R#`; listTargets (Query GSI1 and GSI2).
 * None of them scans, deletes or batch-writes.
 */
export const LEDGER_ACCESS = {
  webhook: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['D#*'], indexes: ['GSI2'] },
  reconcile: {
    actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
    leadingKeys: ['T#*', 'D#commit-report/*'],
    indexes: ['GSI2'],
  },
  drift: {
    actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    leadingKeys: ['T#*', 'R#*'],
    indexes: ['GSI1', 'GSI2'],
  },
} as const satisfies Record<'webhook' | 'reconcile' | 'drift', LedgerAccess>;

/** Grants exactly `access` on the table (and its named indexes) to the grantee. */
export const grantLedgerAccess = (table: ITable, grantee: IGrantable, access: LedgerAccess): void => {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...access.actions],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...access.leadingKeys] } },
    }),
  );
  if (access.indexes.length) {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: access.indexes.map((ix) => `${table.tableArn}/index/${ix}`) }));
  }
};
