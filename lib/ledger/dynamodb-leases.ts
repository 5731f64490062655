import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IDENTITY_SET, identityValues } from './dynamodb-states.js';
import type { LedgerTable, RawItem } from './dynamodb-table.js';
import type { Lease } from './ledger.js';
import { LedgerConflictError } from './ledger.js';

/** Leases on a target's state item: acquire, renew, the pending head, release (see `lib/ledger/README.md`). */

export const acquireLease = async (
  t: LedgerTable,
  targetId: string,
  holder: string,
  ttlMs: number,
  meta: { repository: string; target: string },
): Promise<{ lease: Lease } | { heldBy: string; expiresAt: number }> => {
  const now = t.now();
  return t.conditional(
    'UpdateItem (acquire lease)',
    async () => {
      const out = await t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: t.stateKey(targetId),
          UpdateExpression: `SET leaseHolder = :h, leaseExpiresAt = :exp, leaseToken = if_not_exists(leaseToken, :zero) + :one, ${IDENTITY_SET}`,
          ConditionExpression: 'attribute_not_exists(leaseHolder) OR leaseExpiresAt < :now',
          ExpressionAttributeValues: { ':h': holder, ':exp': now + ttlMs, ':zero': 0, ':one': 1, ':now': now, ...identityValues(targetId, meta) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const a = out.Attributes ?? {};
      return { lease: { targetId, holder, token: Number(a.leaseToken), expiresAt: Number(a.leaseExpiresAt) } };
    },
    (err) => {
      const old = (err.Item ?? {}) as RawItem;
      // A retry of an attempt whose answer was lost finds the lease it took (holder ids are unique per invocation).
      if (old.leaseHolder?.S === holder) return { lease: { targetId, holder, token: Number(old.leaseToken?.N), expiresAt: Number(old.leaseExpiresAt?.N) } };
      return { heldBy: old.leaseHolder?.S ?? 'unknown', expiresAt: Number(old.leaseExpiresAt?.N ?? 0) };
    },
  );
};

export const renewLease = async (t: LedgerTable, lease: Lease, ttlMs: number): Promise<Lease> => {
  const now = t.now();
  await t.fenced('UpdateItem (renew lease)', lease, { UpdateExpression: 'SET leaseExpiresAt = :exp', ExpressionAttributeValues: { ':exp': now + ttlMs } });
  return { ...lease, expiresAt: now + ttlMs };
};

export const recordPendingHead = (t: LedgerTable, targetId: string, commit: string): Promise<'recorded' | 'lease-free'> =>
  t.conditional(
    'UpdateItem (record pending head)',
    async () => {
      await t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: t.stateKey(targetId),
          UpdateExpression: 'SET pendingHead = :c, pendingAt = :at',
          ConditionExpression: 'attribute_exists(leaseHolder) AND leaseExpiresAt >= :now',
          ExpressionAttributeValues: { ':c': commit, ':at': new Date(t.now()).toISOString(), ':now': t.now() },
        }),
      );
      return 'recorded' as const;
    },
    () => 'lease-free' as const,
  );

export const takePendingHead = async (t: LedgerTable, lease: Lease): Promise<string | undefined> => {
  const operation = 'UpdateItem (take pending head)';
  // Read, then remove what was read: a retried removal whose first answer was lost must not lose the head.
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await t.call('GetItem (pending head)', () =>
      t.doc.send(new GetCommand({ TableName: t.name, Key: t.stateKey(lease.targetId), ConsistentRead: true, ProjectionExpression: 'pendingHead' })),
    );
    const seen = typeof read.Item?.pendingHead === 'string' ? read.Item.pendingHead : undefined;
    if (seen === undefined) {
      await t.fenced(operation, lease, { UpdateExpression: 'REMOVE pendingAt' });
      return undefined;
    }
    const fence = t.fence(lease, { extra: 'pendingHead = :seen' });
    const taken = await t.conditional(
      operation,
      async () => {
        await t.doc.send(
          new UpdateCommand({
            TableName: t.name,
            Key: t.stateKey(lease.targetId),
            UpdateExpression: 'REMOVE pendingHead, pendingAt',
            ConditionExpression: fence.ConditionExpression,
            ExpressionAttributeValues: { ...fence.ExpressionAttributeValues, ':seen': seen },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return true;
      },
      (err) => {
        const old = (err.Item ?? {}) as RawItem;
        if (!t.stillHeld(lease, old)) throw t.lost(lease, operation, err);
        // Gone: an earlier attempt of this call took it. Changed: a newer head arrived meanwhile; read again.
        return old.pendingHead?.S === undefined;
      },
    );
    if (taken) return seen;
  }
  throw new LedgerConflictError(`${lease.targetId}: the pending head kept changing; ${operation} gave up`);
};

export const releaseLease = (t: LedgerTable, lease: Lease, options: { leavePending?: boolean } = {}): Promise<{ released: true } | { released: false; pendingHead: string }> => {
  // Not conditional on expiry: a holder whose lease ran out but was not taken over may still release it.
  const fence = t.fence(lease, { unexpired: false, ...(options.leavePending ? {} : { extra: 'attribute_not_exists(pendingHead)' }) });
  return t.conditional(
    'UpdateItem (release lease)',
    async () => {
      await t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: t.stateKey(lease.targetId),
          UpdateExpression: 'REMOVE leaseHolder, leaseExpiresAt',
          ...fence,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { released: true as const };
    },
    (err) => {
      const old = (err.Item ?? {}) as RawItem;
      if (old.pendingHead?.S && Number(old.leaseToken?.N) === lease.token) return { released: false as const, pendingHead: old.pendingHead.S };
      throw new LedgerConflictError(`${lease.targetId}: lease ${lease.token} of ${lease.holder} was lost before release`, { cause: err });
    },
  );
};
