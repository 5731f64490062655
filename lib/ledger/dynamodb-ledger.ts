import { createHash, randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { countActions, type ChangeSetEntry } from '../core/change-set.js';
import { ReconcilerError } from '../core/errors.js';
import type { InventoryEntry } from '../core/inventory.js';
import { decodeChunks, encodeChunks } from './codec.js';
import type { DriftRecord, DriftStatus, Lease, Ledger, Page, StateUpdate, SyncRecord, TargetState } from './ledger.js';
import { LedgerConflictError, LedgerError, SyncResult } from './ledger.js';

/** Port-level errors, kept importable from here. */
export { LedgerConflictError, LedgerError } from './ledger.js';

/** Shards of the cross-target indexes, so that no one partition takes every write. */
export const SHARDS = 10;
/** How many of a target's newest sync records a new lease holder checks for `running` ones. */
const RECENT_SYNCS = 25;
/** How long a delivery id is remembered (GitHub redelivers for up to three days; a week to be safe). */
export const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;

type Item = Record<string, unknown>;

/** The attributes that make a state item findable (its identity and index keys), for an UpdateExpression's SET. */
const IDENTITY_SET = 'targetId = :id, repository = :repo, target = :name, GSI1PK = :g1pk, GSI1SK = :id, GSI2PK = :g2pk, GSI2SK = :g2sk';
const identityValues = (targetId: string, meta: { repository: string; target: string }): Item => ({
  ':id': targetId,
  ':repo': meta.repository,
  ':name': meta.target,
  ':g1pk': `TARGETS#${shardOf(targetId)}`,
  ':g2pk': R(meta.repository),
  ':g2sk': `T#${meta.target}`,
});

const shardOf = (s: string): number => createHash('sha256').update(s).digest().readUInt16BE(0) % SHARDS;
const T = (targetId: string) => `T#${targetId}`;
const R = (repository: string) => `R#${repository}`;
const STATE = 'STATE';

/**
 * The ledger on one DynamoDB table (single-table design; see `lib/ledger/README.md`).
 * Every write of a target's state is conditional on the writer's lease and fencing token.
 */
/** The most gzipped bytes of drift-check observations kept in a state item (the inventory may fill most of it). */
const CHECKED_BYTES = 48_000;

export class DynamoDbLedger implements Ledger {
  private readonly doc: DynamoDBDocumentClient;

  /**
   * @param options.callTimeoutMs deadline of one ledger call, the SDK's retries included (an AbortSignal on every
   * send): the webhook answers within GitHub's 10 s, a paused DynamoDB fails a sync instead of hanging it.
   * @default 10000
   */
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
    options: { callTimeoutMs?: number } = {},
  ) {
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const callTimeoutMs = options.callTimeoutMs ?? 10_000;
    // Every send carries the call deadline.
    const send = doc.send.bind(doc) as (command: never, options?: object) => Promise<unknown>;
    doc.send = ((command: never) => send(command, { abortSignal: AbortSignal.timeout(callTimeoutMs) })) as typeof doc.send;
    this.doc = doc;
  }

  // ---- target state ----

  async getState(targetId: string): Promise<TargetState | undefined> {
    const out = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { PK: T(targetId), SK: STATE }, ConsistentRead: true })));
    return out.Item ? this.toState(out.Item) : undefined;
  }

  async listTargets(options: { repository?: string; withInventory?: boolean } = {}): Promise<TargetState[]> {
    const light =
      options.withInventory === false
        ? {
            ProjectionExpression:
              'targetId, repository, #t, config, lastAttemptedCommit, lastAppliedCommit, lastResult, lastSyncAt, lastSyncId, suspended, pendingHead, drift, leaseHolder, leaseToken, leaseExpiresAt, runningSyncId, failedAttempts, removed',
            ExpressionAttributeNames: { '#t': 'target' },
          }
        : {};
    const items = options.repository
      ? await this.queryAll({
          IndexName: 'GSI2',
          KeyConditionExpression: 'GSI2PK = :pk AND begins_with(GSI2SK, :t)',
          ExpressionAttributeValues: { ':pk': R(options.repository), ':t': 'T#' },
          ...light,
        })
      : (
          await Promise.all(
            Array.from({ length: SHARDS }, (_, s) =>
              this.queryAll({ IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': `TARGETS#${s}` }, ...light }),
            ),
          )
        ).flat();
    const states = await Promise.all(items.map((i) => this.toState(i)));
    return states.sort((a, b) => a.targetId.localeCompare(b.targetId));
  }

  // ---- leases ----

  async acquireLease(
    targetId: string,
    holder: string,
    ttlMs: number,
    meta: { repository: string; target: string },
  ): Promise<{ lease: Lease } | { heldBy: string; expiresAt: number }> {
    const now = this.now();
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(targetId), SK: STATE },
          UpdateExpression: `SET leaseHolder = :h, leaseExpiresAt = :exp, leaseToken = if_not_exists(leaseToken, :zero) + :one, ${IDENTITY_SET}`,
          ConditionExpression: 'attribute_not_exists(leaseHolder) OR leaseExpiresAt < :now',
          ExpressionAttributeValues: {
            ':h': holder,
            ':exp': now + ttlMs,
            ':zero': 0,
            ':one': 1,
            ':now': now,
            ...identityValues(targetId, meta),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const a = out.Attributes ?? {};
      return { lease: { targetId, holder, token: Number(a.leaseToken), expiresAt: Number(a.leaseExpiresAt) } };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const old = (err.Item ?? {}) as Record<string, { S?: string; N?: string } | undefined>;
        // A retry of an attempt whose answer was lost finds the lease it took (holder ids are unique per invocation).
        if (old.leaseHolder?.S === holder) return { lease: { targetId, holder, token: Number(old.leaseToken?.N), expiresAt: Number(old.leaseExpiresAt?.N) } };
        return { heldBy: old.leaseHolder?.S ?? 'unknown', expiresAt: Number(old.leaseExpiresAt?.N ?? 0) };
      }
      throw this.wrap('UpdateItem (acquire lease)', err);
    }
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    const now = this.now();
    await this.fenced('UpdateItem (renew lease)', lease, {
      UpdateExpression: 'SET leaseExpiresAt = :exp',
      ExpressionAttributeValues: { ':exp': now + ttlMs },
    });
    return { ...lease, expiresAt: now + ttlMs };
  }

  async recordPendingHead(targetId: string, commit: string): Promise<'recorded' | 'lease-free'> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(targetId), SK: STATE },
          UpdateExpression: 'SET pendingHead = :c, pendingAt = :at',
          ConditionExpression: 'attribute_exists(leaseHolder) AND leaseExpiresAt >= :now',
          ExpressionAttributeValues: { ':c': commit, ':at': new Date(this.now()).toISOString(), ':now': this.now() },
        }),
      );
      return 'recorded';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'lease-free';
      throw this.wrap('UpdateItem (record pending head)', err);
    }
  }

  async takePendingHead(lease: Lease): Promise<string | undefined> {
    // Read, then remove what was read: a retried removal whose first answer was lost must not lose the head.
    for (let attempt = 0; attempt < 5; attempt++) {
      const read = await this.call('GetItem (pending head)', () =>
        this.doc.send(new GetCommand({ TableName: this.table, Key: { PK: T(lease.targetId), SK: STATE }, ConsistentRead: true, ProjectionExpression: 'pendingHead' })),
      );
      const seen = typeof read.Item?.pendingHead === 'string' ? read.Item.pendingHead : undefined;
      if (seen === undefined) {
        await this.fenced('UpdateItem (take pending head)', lease, { UpdateExpression: 'REMOVE pendingAt' });
        return undefined;
      }
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { PK: T(lease.targetId), SK: STATE },
            UpdateExpression: 'REMOVE pendingHead, pendingAt',
            ConditionExpression: 'leaseToken = :t AND leaseHolder = :h AND leaseExpiresAt > :now AND pendingHead = :seen',
            ExpressionAttributeValues: { ':t': lease.token, ':h': lease.holder, ':now': this.now(), ':seen': seen },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return seen;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw this.wrap('UpdateItem (take pending head)', err);
        const old = (err.Item ?? {}) as Record<string, { S?: string; N?: string } | undefined>;
        const mine = Number(old.leaseToken?.N) === lease.token && old.leaseHolder?.S === lease.holder && Number(old.leaseExpiresAt?.N) > this.now();
        if (!mine)
          throw new LedgerConflictError(`${lease.targetId}: lease ${lease.token} of ${lease.holder} is no longer held; UpdateItem (take pending head) refused`, { cause: err });
        // Gone: an earlier attempt of this call took it. Changed: a newer head arrived meanwhile; read again.
        if (old.pendingHead?.S === undefined) return seen;
      }
    }
    throw new LedgerConflictError(`${lease.targetId}: the pending head kept changing; UpdateItem (take pending head) gave up`);
  }

  async releaseLease(lease: Lease, options: { leavePending?: boolean } = {}): Promise<{ released: true } | { released: false; pendingHead: string }> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(lease.targetId), SK: STATE },
          UpdateExpression: 'REMOVE leaseHolder, leaseExpiresAt',
          ConditionExpression: `leaseToken = :t AND leaseHolder = :h${options.leavePending ? '' : ' AND attribute_not_exists(pendingHead)'}`,
          ExpressionAttributeValues: { ':t': lease.token, ':h': lease.holder },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { released: true };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const old = (err.Item ?? {}) as Record<string, { S?: string; N?: string }>;
        if (old.pendingHead?.S && Number(old.leaseToken?.N) === lease.token) return { released: false, pendingHead: old.pendingHead.S };
        throw new LedgerConflictError(`${lease.targetId}: lease ${lease.token} of ${lease.holder} was lost before release`, { cause: err });
      }
      throw this.wrap('UpdateItem (release lease)', err);
    }
  }

  // ---- syncs ----

  async startSync(lease: Lease, record: Omit<SyncRecord, 'syncId' | 'result' | 'targetId'> & { targetId?: string }): Promise<SyncRecord> {
    const syncId = `${record.startedAt}#${randomBytes(4).toString('hex')}`;
    const full: SyncRecord = { ...record, targetId: lease.targetId, syncId, result: SyncResult.Running };
    await this.transact(
      'TransactWriteItems (start sync)',
      lease,
      [{ Put: { TableName: this.table, Item: this.syncItem(full, []), ConditionExpression: 'attribute_not_exists(PK)' } }],
      { UpdateExpression: 'SET runningSyncId = :rs', ExpressionAttributeValues: { ':rs': syncId }, ExpressionAttributeNames: {} },
    );
    return full;
  }

  async finishSync(lease: Lease, record: SyncRecord, state: StateUpdate): Promise<void> {
    const csChunks = record.changeSet ? encodeChunks(record.changeSet) : [];
    const invChunks = state.inventory ? encodeChunks(state.inventory) : [];
    const extra: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    if (csChunks.length > 1) {
      csChunks.forEach((data, n) => extra.push({ Put: { TableName: this.table, Item: { PK: T(record.targetId), SK: `CS#${record.syncId}#${n}`, data } } }));
    }
    const invGen = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    if (invChunks.length > 1) {
      invChunks.forEach((data, n) => extra.push({ Put: { TableName: this.table, Item: { PK: T(record.targetId), SK: `INV#${invGen}#${n}`, data } } }));
    }
    const syncItem = this.syncItem(record, csChunks);
    await this.transact(
      'TransactWriteItems (finish sync)',
      lease,
      [{ Put: { TableName: this.table, Item: syncItem, ConditionExpression: 'attribute_exists(PK)' } }, ...extra],
      this.stateUpdate(state, invChunks, invGen, ['runningSyncId']),
    );
  }

  async writeState(lease: Lease, state: StateUpdate): Promise<void> {
    const invChunks = state.inventory ? encodeChunks(state.inventory) : [];
    const invGen = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const extra: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    if (invChunks.length > 1) {
      invChunks.forEach((data, n) => extra.push({ Put: { TableName: this.table, Item: { PK: T(lease.targetId), SK: `INV#${invGen}#${n}`, data } } }));
    }
    await this.transact('TransactWriteItems (write state)', lease, extra, this.stateUpdate(state, invChunks, invGen));
  }

  async markTimedOut(targetId: string, olderThanMs: number, reason?: string): Promise<number> {
    const cutoff = olderThanMs > 0 ? new Date(this.now() - olderThanMs).toISOString() : '\uffff';
    const query = {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      FilterExpression: '#r = :running',
      ProjectionExpression: 'PK, SK, syncId, #r',
      ExpressionAttributeNames: { '#r': 'result' },
      ExpressionAttributeValues: { ':pk': T(targetId), ':from': 'S#', ':to': `S#${cutoff}`, ':running': SyncResult.Running },
    };
    // The new holder of a lease looks at the newest records only: one holder at a time, each closes what it finds.
    const running =
      olderThanMs > 0
        ? await this.queryAll(query)
        : ((await this.call('Query (running syncs)', () => this.doc.send(new QueryCommand({ TableName: this.table, ...query, ScanIndexForward: false, Limit: RECENT_SYNCS }))))
            .Items ?? []);
    let n = 0;
    for (const item of running) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { PK: item.PK as string, SK: item.SK as string },
            UpdateExpression: 'SET #r = :timedOut, endedAt = :now, #e = :err',
            ConditionExpression: '#r = :running',
            ExpressionAttributeNames: { '#r': 'result', '#e': 'error' },
            ExpressionAttributeValues: {
              ':timedOut': SyncResult.TimedOut,
              ':running': SyncResult.Running,
              ':now': new Date(this.now()).toISOString(),
              ':err': { message: reason ?? `still running after ${Math.round(olderThanMs / 1000)} s: the invocation ended without recording a result` },
            },
          }),
        );
        n++;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw this.wrap('UpdateItem (mark timed out)', err);
      }
      await this.clearRunning(targetId, String(item.syncId));
    }
    // Called by a new holder before it starts anything: a marker left now is stale, whatever it names.
    if (olderThanMs <= 0) await this.clearRunning(targetId);
    return n;
  }

  async abandonSync(record: SyncRecord): Promise<boolean> {
    const item = this.syncItem(record, []);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: '#r = :running',
          ExpressionAttributeNames: { '#r': 'result' },
          ExpressionAttributeValues: { ':running': SyncResult.Running },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw this.wrap('PutItem (abandon sync)', err);
    }
    await this.clearRunning(record.targetId, record.syncId);
    return true;
  }

  /** Clears the state's running marker if it still names this sync, or any (not fenced: the sync is over either way). */
  private async clearRunning(targetId: string, syncId?: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(targetId), SK: STATE },
          UpdateExpression: 'REMOVE runningSyncId',
          ...(syncId ? { ConditionExpression: 'runningSyncId = :s', ExpressionAttributeValues: { ':s': syncId } } : { ConditionExpression: 'attribute_exists(runningSyncId)' }),
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw this.wrap('UpdateItem (clear running)', err);
    }
  }

  async setSuspended(targetId: string, suspended: boolean, by: string, meta: { repository: string; target: string }): Promise<void> {
    await this.call('UpdateItem (suspend)', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(targetId), SK: STATE },
          UpdateExpression: `SET suspended = :s, suspendedBy = :by, suspendedAt = :at, ${IDENTITY_SET}`,
          ExpressionAttributeValues: { ':s': suspended, ':by': by, ':at': new Date(this.now()).toISOString(), ...identityValues(targetId, meta) },
        }),
      ),
    );
  }

  // ---- history ----

  async history(options: { targetId?: string; repository?: string; limit?: number; cursor?: string }): Promise<Page<SyncRecord>> {
    const limit = Math.max(1, Math.min(options.limit ?? 20, 1000));
    const start = options.cursor ? (JSON.parse(Buffer.from(options.cursor, 'base64url').toString()) as Item) : undefined;
    const input: Omit<QueryCommandInput, 'TableName'> = options.targetId
      ? { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :s)', ExpressionAttributeValues: { ':pk': T(options.targetId), ':s': 'S#' } }
      : options.repository
        ? { IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :pk AND begins_with(GSI2SK, :s)', ExpressionAttributeValues: { ':pk': R(options.repository), ':s': 'S#' } }
        : (() => {
            throw new ReconcilerError('history needs a target or a repository (use recentSyncs for all targets)');
          })();
    const out = await this.call('Query (history)', () =>
      this.doc.send(new QueryCommand({ TableName: this.table, ...input, ScanIndexForward: false, Limit: limit, ...(start ? { ExclusiveStartKey: start } : {}) })),
    );
    const items = await Promise.all((out.Items ?? []).map((i) => this.toSync(i)));
    return {
      items,
      ...(out.LastEvaluatedKey ? { cursor: Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') } : {}),
    };
  }

  async recentSyncs(options: { limit?: number; days?: number } = {}): Promise<SyncRecord[]> {
    const limit = options.limit ?? 20;
    const out: Item[] = [];
    for (let d = 0; d < (options.days ?? 7) && out.length < limit; d++) {
      const day = new Date(this.now() - d * 86_400_000).toISOString().slice(0, 10);
      const pages = await Promise.all(
        Array.from({ length: SHARDS }, (_, s) =>
          this.call('Query (recent syncs)', () =>
            this.doc.send(
              new QueryCommand({
                TableName: this.table,
                IndexName: 'GSI1',
                KeyConditionExpression: 'GSI1PK = :pk',
                ExpressionAttributeValues: { ':pk': `RECENT#${day}#${s}` },
                ScanIndexForward: false,
                Limit: limit,
              }),
            ),
          ),
        ),
      );
      out.push(...pages.flatMap((p) => p.Items ?? []));
    }
    out.sort((a, b) => String(b.GSI1SK).localeCompare(String(a.GSI1SK)));
    return Promise.all(out.slice(0, limit).map((i) => this.toSync(i)));
  }

  async getSync(targetId: string, syncId: string): Promise<SyncRecord | undefined> {
    const out = await this.call('GetItem (sync)', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { PK: T(targetId), SK: `S#${syncId}` } })));
    return out.Item ? this.toSync(out.Item) : undefined;
  }

  // ---- deliveries, heads, drift ----

  async recordDelivery(id: string, info: { event: string; repository: string }, ttlSeconds = DELIVERY_TTL_SECONDS): Promise<'recorded' | 'duplicate'> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { PK: `D#${id}`, SK: 'D', deliveryId: id, ...info, receivedAt: new Date(this.now()).toISOString(), expiresAt: Math.floor(this.now() / 1000) + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return 'recorded';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'duplicate';
      throw this.wrap('PutItem (delivery)', err);
    }
  }

  async hasDelivery(id: string): Promise<boolean> {
    const out = await this.call('GetItem (delivery)', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { PK: `D#${id}`, SK: 'D' }, ConsistentRead: true })));
    const expires = Number(out.Item?.expiresAt ?? 0);
    // TTL deletes lazily: an expired item may still be there.
    return Boolean(out.Item) && expires * 1000 > this.now();
  }

  async getHead(repository: string, branch: string) {
    const out = await this.call('GetItem (head)', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { PK: R(repository), SK: `H#${branch}` }, ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    return {
      ...(typeof out.Item.head === 'string' ? { head: out.Item.head } : {}),
      ...(typeof out.Item.etag === 'string' ? { etag: out.Item.etag } : {}),
      ...(typeof out.Item.checkedAt === 'string' ? { checkedAt: out.Item.checkedAt } : {}),
    };
  }

  async putHead(repository: string, branch: string, value: { head?: string; etag?: string }): Promise<void> {
    await this.call('PutItem (head)', () =>
      this.doc.send(
        new PutCommand({ TableName: this.table, Item: { PK: R(repository), SK: `H#${branch}`, repository, branch, ...value, checkedAt: new Date(this.now()).toISOString() } }),
      ),
    );
  }

  async putDrift(record: DriftRecord): Promise<void> {
    const chunks = record.report === undefined ? [] : encodeChunks(record.report);
    await this.call('TransactWriteItems (drift)', () =>
      this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  PK: T(record.targetId),
                  SK: `DR#${record.checkedAt}`,
                  targetId: record.targetId,
                  checkedAt: record.checkedAt,
                  status: record.status,
                  fingerprint: record.fingerprint,
                  ...(chunks.length === 1 ? { report: chunks[0] } : {}),
                },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: { PK: T(record.targetId), SK: STATE },
                UpdateExpression: 'SET drift = :d',
                ExpressionAttributeValues: { ':d': { status: record.status === 'drifted' ? 'drifted' : 'none', fingerprint: record.fingerprint, checkedAt: record.checkedAt } },
              },
            },
          ],
        }),
      ),
    );
  }

  async markDriftChecked(targetId: string, summary: { status: DriftStatus; fingerprint?: string; checkedAt: string }): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(targetId), SK: STATE },
          UpdateExpression: 'SET drift = :d',
          // Only a target that exists: a check must not resurrect a state item.
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':d': { status: summary.status, checkedAt: summary.checkedAt, ...(summary.fingerprint ? { fingerprint: summary.fingerprint } : {}) } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw this.wrap('UpdateItem (drift checked)', err);
    }
  }

  async recordChecked(targetId: string, observations: readonly InventoryEntry[]): Promise<void> {
    const [chunk, ...more] = encodeChunks(observations);
    // Too large to sit next to the inventory in the state item: none are kept (each check then dry-runs them).
    const fits = chunk !== undefined && more.length === 0 && chunk.length <= CHECKED_BYTES;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(targetId), SK: STATE },
          UpdateExpression: fits && observations.length ? 'SET checkedObs = :c' : 'REMOVE checkedObs',
          ConditionExpression: 'attribute_exists(PK)',
          ...(fits && observations.length ? { ExpressionAttributeValues: { ':c': chunk } } : {}),
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw this.wrap('UpdateItem (checked observations)', err);
    }
  }

  async latestDrift(targetId: string): Promise<DriftRecord | undefined> {
    const out = await this.call('Query (drift)', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
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
    };
  }

  // ---- helpers ----

  private syncItem(r: SyncRecord, csChunks: Uint8Array[]): Item {
    const { changeSet: _cs, ...rest } = r;
    const day = r.startedAt.slice(0, 10);
    return {
      ...rest,
      PK: T(r.targetId),
      SK: `S#${r.syncId}`,
      GSI1PK: `RECENT#${day}#${shardOf(r.targetId)}`,
      GSI1SK: `${r.startedAt}#${r.targetId}`,
      GSI2PK: R(r.repository),
      GSI2SK: `S#${r.startedAt}#${r.target}`,
      ...(csChunks.length === 1 ? { cs: csChunks[0] } : csChunks.length > 1 ? { csChunks: csChunks.length } : {}),
      ...(r.changeSet ? { counts: r.counts ?? countActions(r.changeSet) } : {}),
    };
  }

  private stateUpdate(s: StateUpdate, invChunks: Uint8Array[], invGen: string, alsoRemove: string[] = []) {
    const sets: string[] = [];
    const removes: string[] = [...alsoRemove];
    const values: Item = {};
    const names: Record<string, string> = {};
    let i = 0;
    const set = (attr: string, value: unknown) => {
      const k = `:v${i++}`;
      names[`#${attr}`] = attr;
      sets.push(`#${attr} = ${k}`);
      values[k] = value;
    };
    for (const [k, v] of Object.entries(s)) {
      if (k === 'inventory' || v === undefined) continue;
      set(k, v);
    }
    if (s.inventory) {
      if (invChunks.length === 1) {
        set('inv', invChunks[0]);
        removes.push('invGen', 'invChunks');
      } else {
        set('invGen', invGen);
        set('invChunks', invChunks.length);
        removes.push('inv');
      }
    }
    return {
      UpdateExpression: `${sets.length ? `SET ${sets.join(', ')}` : ''}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`.trim(),
      ExpressionAttributeValues: values,
      ExpressionAttributeNames: names,
    };
  }

  /** A transaction whose state update (or bare condition check) is fenced by the lease. */
  private async transact(
    operation: string,
    lease: Lease,
    items: NonNullable<TransactWriteCommandInput['TransactItems']>,
    stateUpdate?: { UpdateExpression: string; ExpressionAttributeValues: Item; ExpressionAttributeNames: Record<string, string> },
  ): Promise<void> {
    const fence = {
      ConditionExpression: 'leaseToken = :fenceToken AND leaseHolder = :fenceHolder AND leaseExpiresAt > :fenceNow',
      ExpressionAttributeValues: { ':fenceToken': lease.token, ':fenceHolder': lease.holder, ':fenceNow': this.now() },
    };
    const stateItem =
      stateUpdate && stateUpdate.UpdateExpression !== ''
        ? {
            Update: {
              TableName: this.table,
              Key: { PK: T(lease.targetId), SK: STATE },
              UpdateExpression: stateUpdate.UpdateExpression,
              ...(Object.keys(stateUpdate.ExpressionAttributeNames).length ? { ExpressionAttributeNames: stateUpdate.ExpressionAttributeNames } : {}),
              ConditionExpression: fence.ConditionExpression,
              ExpressionAttributeValues: { ...stateUpdate.ExpressionAttributeValues, ...fence.ExpressionAttributeValues },
            },
          }
        : { ConditionCheck: { TableName: this.table, Key: { PK: T(lease.targetId), SK: STATE }, ...fence } };
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [stateItem, ...items] }));
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw new LedgerConflictError(`${lease.targetId}: lease ${lease.token} of ${lease.holder} is no longer held; ${operation} refused`, { cause: err });
      }
      throw this.wrap(operation, err);
    }
  }

  /** An update of the state item fenced by the lease; returns the attributes asked for. */
  private async fenced(operation: string, lease: Lease, update: { UpdateExpression: string; ExpressionAttributeValues?: Item; ReturnValues?: 'UPDATED_OLD' }) {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: T(lease.targetId), SK: STATE },
          UpdateExpression: update.UpdateExpression,
          ConditionExpression: 'leaseToken = :fenceToken AND leaseHolder = :fenceHolder AND leaseExpiresAt > :fenceNow',
          ExpressionAttributeValues: { ...(update.ExpressionAttributeValues ?? {}), ':fenceToken': lease.token, ':fenceHolder': lease.holder, ':fenceNow': this.now() },
          ...(update.ReturnValues ? { ReturnValues: update.ReturnValues } : {}),
        }),
      );
      return out.Attributes;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new LedgerConflictError(`${lease.targetId}: lease ${lease.token} of ${lease.holder} is no longer held; ${operation} refused`, { cause: err });
      }
      throw this.wrap(operation, err);
    }
  }

  private async toState(i: Item): Promise<TargetState> {
    let inventory: InventoryEntry[] = [];
    if (i.inv) inventory = decodeChunks<InventoryEntry[]>([i.inv as Uint8Array]);
    else if (i.invGen) inventory = decodeChunks<InventoryEntry[]>(await this.chunks(String(i.targetId), `INV#${String(i.invGen)}`, Number(i.invChunks)));
    const lease = i.leaseHolder ? { holder: String(i.leaseHolder), token: Number(i.leaseToken), expiresAt: Number(i.leaseExpiresAt) } : undefined;
    return {
      targetId: String(i.targetId),
      repository: String(i.repository),
      target: String(i.target),
      ...pick(i, [
        'lastAttemptedCommit',
        'lastAppliedCommit',
        'lastResult',
        'lastSyncAt',
        'lastSyncId',
        'pendingHead',
        'suspendedBy',
        'config',
        'drift',
        'runningSyncId',
        'removed',
      ]),
      ...(i.failedAttempts !== undefined ? { failedAttempts: Number(i.failedAttempts) } : {}),
      suspended: i.suspended === true,
      inventory,
      ...(i.checkedObs ? { checked: decodeChunks<InventoryEntry[]>([i.checkedObs as Uint8Array]) } : {}),
      dependencies: Array.isArray(i.dependencies) ? (i.dependencies as string[]) : [],
      ...(lease ? { lease } : {}),
    };
  }

  private async toSync(i: Item): Promise<SyncRecord> {
    let changeSet: ChangeSetEntry[] | undefined;
    if (i.cs) changeSet = decodeChunks<ChangeSetEntry[]>([i.cs as Uint8Array]);
    else if (i.csChunks) changeSet = decodeChunks<ChangeSetEntry[]>(await this.chunks(String(i.targetId), `CS#${String(i.syncId)}`, Number(i.csChunks)));
    const { PK: _p, SK: _s, GSI1PK: _a, GSI1SK: _b, GSI2PK: _c, GSI2SK: _d, cs: _cs, csChunks: _n, ...rest } = i;
    return { ...(rest as unknown as SyncRecord), ...(changeSet ? { changeSet } : {}) };
  }

  private async chunks(targetId: string, prefix: string, n: number): Promise<Uint8Array[]> {
    const keys = Array.from({ length: n }, (_, k) => ({ PK: T(targetId), SK: `${prefix}#${k}` }));
    const found = new Map<string, Uint8Array>();
    for (let i = 0; i < keys.length; i += 100) {
      let request: Record<string, { Keys: Item[] }> | undefined = { [this.table]: { Keys: keys.slice(i, i + 100) } };
      while (request && Object.keys(request).length) {
        const out = await this.call('BatchGetItem (chunks)', () => this.doc.send(new BatchGetCommand({ RequestItems: request })));
        for (const item of out.Responses?.[this.table] ?? []) found.set(String(item.SK), item.data as Uint8Array);
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return keys.map((k) => {
      const c = found.get(k.SK);
      if (!c) throw new ReconcilerError(`ledger table ${this.table}: chunk ${k.SK} of ${targetId} is missing`);
      return c;
    });
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.call('Query', () => this.doc.send(new QueryCommand({ TableName: this.table, ...input, ...(start ? { ExclusiveStartKey: start } : {}) })));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private async call<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw this.wrap(operation, err);
    }
  }

  private wrap(operation: string, err: unknown): Error {
    if (err instanceof ReconcilerError) return err;
    const name = (err as Error)?.name ?? 'Error';
    const hint = name === 'ResourceNotFoundException' ? ' (does the table exist?)' : '';
    return new LedgerError(this.table, operation, `${name}: ${(err as Error)?.message ?? String(err)}${hint}`, { cause: err });
  }
}

const pick = (i: Item, keys: string[]): Item => Object.fromEntries(keys.filter((k) => i[k] !== undefined).map((k) => [k, i[k]]));
