import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { countActions, type ChangeSetEntry } from '../core/change-set.js';
import { ReconcilerError } from '../core/errors.js';
import { decodeChunks } from './codec.js';
import { blobRefOf, loadBlobValue, storeValue, writingBlobs, type StoredValue } from './dynamodb-large-values.js';
import { replacedInventory, stateWrite } from './dynamodb-states.js';
import { repositoryKey, repositoryPartitions, SHARDS, shardOf, T, type Item, type LedgerTable } from './dynamodb-table.js';
import type { Lease, Page, StateUpdate, SyncRecord } from './ledger.js';
import { SyncResult } from './ledger.js';

/** Sync records (`T#id` / `S#<startedAt>#<rand>`, change sets inline, chunked or in a blob) and the state's running marker. */

/** How many of a target's newest sync records a new lease holder checks for `running` ones. */
const RECENT_SYNCS = 25;

const syncItem = (r: SyncRecord, cs?: StoredValue): Item => {
  const { changeSet: _cs, ...rest } = r;
  const day = r.startedAt.slice(0, 10);
  return {
    ...rest,
    PK: T(r.targetId),
    SK: `S#${r.syncId}`,
    GSI1PK: `RECENT#${day}#${shardOf(r.targetId)}`,
    GSI1SK: `${r.startedAt}#${r.targetId}`,
    GSI2PK: repositoryKey(r.repository, r.targetId),
    GSI2SK: `S#${r.startedAt}#${r.target}`,
    ...(cs?.kind === 'inline' ? { cs: cs.bytes } : cs?.kind === 'chunks' ? { csChunks: cs.chunks.length } : cs?.kind === 'blob' ? { csBlob: cs.ref } : {}),
    ...(r.changeSet ? { counts: r.counts ?? countActions(r.changeSet) } : {}),
  };
};

const toSync = async (t: LedgerTable, i: Item): Promise<SyncRecord> => {
  let changeSet: ChangeSetEntry[] | undefined;
  const blob = blobRefOf(i.csBlob);
  if (i.cs) changeSet = decodeChunks<ChangeSetEntry[]>([i.cs as Uint8Array]);
  else if (blob) changeSet = await loadBlobValue<ChangeSetEntry[]>(t, String(i.targetId), 'change-set', blob);
  else if (i.csChunks) changeSet = decodeChunks<ChangeSetEntry[]>(await t.chunks(String(i.targetId), `CS#${String(i.syncId)}`, Number(i.csChunks)));
  const { PK: _p, SK: _s, GSI1PK: _a, GSI1SK: _b, GSI2PK: _c, GSI2SK: _d, cs: _cs, csChunks: _n, csBlob: _cb, ...rest } = i;
  return { ...(rest as unknown as SyncRecord), ...(changeSet ? { changeSet } : {}) };
};

export const startSync = async (t: LedgerTable, lease: Lease, record: Omit<SyncRecord, 'syncId' | 'result' | 'targetId'> & { targetId?: string }): Promise<SyncRecord> => {
  const syncId = `${record.startedAt}#${randomBytes(4).toString('hex')}`;
  const full: SyncRecord = { ...record, targetId: lease.targetId, syncId, result: SyncResult.Running };
  await t.transact('TransactWriteItems (start sync)', lease, [{ Put: { TableName: t.name, Item: syncItem(full), ConditionExpression: 'attribute_not_exists(PK)' } }], {
    UpdateExpression: 'SET runningSyncId = :rs',
    ExpressionAttributeValues: { ':rs': syncId },
    ExpressionAttributeNames: {},
  });
  return full;
};

export const finishSync = async (t: LedgerTable, lease: Lease, record: SyncRecord, state: StateUpdate): Promise<void> => {
  const replaced = await replacedInventory(t, lease.targetId, state);
  const cs = record.changeSet ? await storeValue(t, record.targetId, 'change-set', record.changeSet) : undefined;
  const { update, puts, inventory } = await stateWrite(t, lease.targetId, state, ['runningSyncId'], replaced);
  await writingBlobs(t, [cs, inventory], replaced.blob, () =>
    t.transact(
      'TransactWriteItems (finish sync)',
      lease,
      [
        { Put: { TableName: t.name, Item: syncItem(record, cs), ConditionExpression: 'attribute_exists(PK)' } },
        ...(cs?.kind === 'chunks' ? t.chunkPuts(record.targetId, `CS#${record.syncId}`, cs.chunks) : []),
        ...puts,
      ],
      update,
    ),
  );
};

/** Clears the state's running marker if it still names this sync, or any (not fenced: the sync is over either way). */
const clearRunning = async (t: LedgerTable, targetId: string, syncId?: string): Promise<void> => {
  await t.conditional(
    'UpdateItem (clear running)',
    () =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: t.stateKey(targetId),
          UpdateExpression: 'REMOVE runningSyncId',
          ...(syncId ? { ConditionExpression: 'runningSyncId = :s', ExpressionAttributeValues: { ':s': syncId } } : { ConditionExpression: 'attribute_exists(runningSyncId)' }),
        }),
      ),
    () => undefined,
  );
};

export const markTimedOut = async (t: LedgerTable, targetId: string, olderThanMs: number, reason?: string): Promise<number> => {
  const cutoff = olderThanMs > 0 ? new Date(t.now() - olderThanMs).toISOString() : '\uffff';
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
      ? await t.queryAll(query)
      : ((await t.call('Query (running syncs)', () => t.doc.send(new QueryCommand({ TableName: t.name, ...query, ScanIndexForward: false, Limit: RECENT_SYNCS })))).Items ?? []);
  let n = 0;
  for (const item of running) {
    const marked = await t.conditional(
      'UpdateItem (mark timed out)',
      async () => {
        await t.doc.send(
          new UpdateCommand({
            TableName: t.name,
            Key: { PK: item.PK as string, SK: item.SK as string },
            UpdateExpression: 'SET #r = :timedOut, endedAt = :now, #e = :err',
            ConditionExpression: '#r = :running',
            ExpressionAttributeNames: { '#r': 'result', '#e': 'error' },
            ExpressionAttributeValues: {
              ':timedOut': SyncResult.TimedOut,
              ':running': SyncResult.Running,
              ':now': new Date(t.now()).toISOString(),
              ':err': { message: reason ?? `still running after ${Math.round(olderThanMs / 1000)} s: the invocation ended without recording a result` },
            },
          }),
        );
        return true;
      },
      () => false,
    );
    if (marked) n++;
    await clearRunning(t, targetId, String(item.syncId));
  }
  // Called by a new holder before it starts anything: a marker left now is stale, whatever it names.
  if (olderThanMs <= 0) await clearRunning(t, targetId);
  return n;
};

export const abandonSync = async (t: LedgerTable, record: SyncRecord): Promise<boolean> => {
  const put = await t.conditional(
    'PutItem (abandon sync)',
    async () => {
      await t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: syncItem(record),
          ConditionExpression: '#r = :running',
          ExpressionAttributeNames: { '#r': 'result' },
          ExpressionAttributeValues: { ':running': SyncResult.Running },
        }),
      );
      return true;
    },
    () => false,
  );
  if (!put) return false;
  await clearRunning(t, record.targetId, record.syncId);
  return true;
};

export const history = async (t: LedgerTable, options: { targetId?: string; repository?: string; limit?: number; cursor?: string }): Promise<Page<SyncRecord>> => {
  const limit = Math.max(1, Math.min(options.limit ?? 20, 1000));
  const start = options.cursor ? (JSON.parse(Buffer.from(options.cursor, 'base64url').toString()) as Item) : undefined;
  if (options.repository && !options.targetId) return repositoryHistory(t, options.repository, limit, start as Record<string, Item | null> | undefined);
  if (!options.targetId) throw new ReconcilerError('history needs a target or a repository (use recentSyncs for all targets)');
  const targetId = options.targetId;
  const out = await t.call('Query (history)', () =>
    t.doc.send(
      new QueryCommand({
        TableName: t.name,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :s)',
        ExpressionAttributeValues: { ':pk': T(targetId), ':s': 'S#' },
        ScanIndexForward: false,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    ),
  );
  const items = await Promise.all((out.Items ?? []).map((i) => toSync(t, i)));
  return { items, ...(out.LastEvaluatedKey ? { cursor: encodeCursor(out.LastEvaluatedKey) } : {}) };
};

const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A repository's history over its GSI2 partitions, merged newest first. The cursor holds, per partition, the key of
 * the last record handed out (`null`: that partition is done), so a page never skips or repeats a record.
 */
const repositoryHistory = async (t: LedgerTable, repository: string, limit: number, cursor: Record<string, Item | null> | undefined): Promise<Page<SyncRecord>> => {
  const partitions = repositoryPartitions(repository).filter((pk) => cursor?.[pk] !== null);
  const pages = await Promise.all(
    partitions.map(async (pk) => {
      const from = cursor?.[pk] ?? undefined;
      const out = await t.call('Query (history)', () =>
        t.doc.send(
          new QueryCommand({
            TableName: t.name,
            IndexName: 'GSI2',
            KeyConditionExpression: 'GSI2PK = :pk AND begins_with(GSI2SK, :s)',
            ExpressionAttributeValues: { ':pk': pk, ':s': 'S#' },
            ScanIndexForward: false,
            Limit: limit,
            ...(from ? { ExclusiveStartKey: from } : {}),
          }),
        ),
      );
      return { pk, items: out.Items ?? [], more: out.LastEvaluatedKey !== undefined };
    }),
  );
  const merged = pages.flatMap((p) => p.items.map((item) => ({ pk: p.pk, item }))).sort((a, b) => String(b.item.GSI2SK).localeCompare(String(a.item.GSI2SK)));
  const taken = merged.slice(0, limit);
  const next: Record<string, Item | null> = { ...(cursor ?? {}) };
  for (const p of pages) {
    const mine = taken.filter((x) => x.pk === p.pk);
    const last = mine[mine.length - 1]?.item;
    if (last) next[p.pk] = { PK: last.PK, SK: last.SK, GSI2PK: last.GSI2PK, GSI2SK: last.GSI2SK };
    if (mine.length === p.items.length && !p.more) next[p.pk] = null;
  }
  const open = repositoryPartitions(repository).some((pk) => next[pk] !== null);
  const items = await Promise.all(taken.map((x) => toSync(t, x.item)));
  return { items, ...(open ? { cursor: encodeCursor(next) } : {}) };
};

export const recentSyncs = async (t: LedgerTable, options: { limit?: number; days?: number } = {}): Promise<SyncRecord[]> => {
  const limit = options.limit ?? 20;
  const out: Item[] = [];
  for (let d = 0; d < (options.days ?? 7) && out.length < limit; d++) {
    const day = new Date(t.now() - d * 86_400_000).toISOString().slice(0, 10);
    const pages = await Promise.all(
      Array.from({ length: SHARDS }, (_, s) =>
        t.call('Query (recent syncs)', () =>
          t.doc.send(
            new QueryCommand({
              TableName: t.name,
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
  return Promise.all(out.slice(0, limit).map((i) => toSync(t, i)));
};

export const getSync = async (t: LedgerTable, targetId: string, syncId: string): Promise<SyncRecord | undefined> => {
  const out = await t.call('GetItem (sync)', () => t.doc.send(new GetCommand({ TableName: t.name, Key: { PK: T(targetId), SK: `S#${syncId}` } })));
  return out.Item ? toSync(t, out.Item) : undefined;
};
