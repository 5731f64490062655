import { randomBytes } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InventoryEntry } from '../core/inventory.js';
import { decodeChunks, encodeChunks } from './codec.js';
import { blobRefOf, loadBlobValue, storeValue, writingBlobs, type BlobRef, type StoredValue } from './dynamodb-large-values.js';
import { pick, repositoryKey, repositoryPartitions, SHARDS, shardOf, type Item, type LedgerTable, type StateWrite, type TransactItems } from './dynamodb-table.js';
import type { Lease, StateUpdate, TargetState } from './ledger.js';

/** Target state items (`T#id` / `STATE`): identity, inventory (inline or chunked), drift-check observations, suspension. */

/** The most gzipped bytes of drift-check observations kept in a state item (the inventory may fill most of it). */
const CHECKED_BYTES = 48_000;

/** The attributes that make a state item findable (its identity and index keys), for an UpdateExpression's SET. */
export const IDENTITY_SET = 'targetId = :id, repository = :repo, target = :name, GSI1PK = :g1pk, GSI1SK = :id, GSI2PK = :g2pk, GSI2SK = :g2sk';
export const identityValues = (targetId: string, meta: { repository: string; target: string }): Item => ({
  ':id': targetId,
  ':repo': meta.repository,
  ':name': meta.target,
  ':g1pk': `TARGETS#${shardOf(targetId)}`,
  ':g2pk': repositoryKey(meta.repository, targetId),
  ':g2sk': `T#${meta.target}`,
});

const LIGHT_ATTRIBUTES =
  'targetId, repository, #t, config, lastAttemptedCommit, lastAppliedCommit, lastResult, lastSyncAt, lastSyncId, suspended, pendingHead, drift, leaseHolder, leaseToken, leaseExpiresAt, runningSyncId, failedAttempts, removed';

export const getState = async (t: LedgerTable, targetId: string): Promise<TargetState | undefined> => {
  const out = await t.call('GetItem', () => t.doc.send(new GetCommand({ TableName: t.name, Key: t.stateKey(targetId), ConsistentRead: true })));
  return out.Item ? toState(t, out.Item) : undefined;
};

export const listTargets = async (t: LedgerTable, options: { repository?: string; withInventory?: boolean } = {}): Promise<TargetState[]> => {
  const light = options.withInventory === false ? { ProjectionExpression: LIGHT_ATTRIBUTES, ExpressionAttributeNames: { '#t': 'target' } } : {};
  const items = options.repository
    ? (
        await Promise.all(
          repositoryPartitions(options.repository).map((pk) =>
            t.queryAll({ IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :pk AND begins_with(GSI2SK, :t)', ExpressionAttributeValues: { ':pk': pk, ':t': 'T#' }, ...light }),
          ),
        )
      ).flat()
    : (
        await Promise.all(
          Array.from({ length: SHARDS }, (_, s) =>
            t.queryAll({ IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': `TARGETS#${s}` }, ...light }),
          ),
        )
      ).flat();
  const states = await Promise.all(items.map((i) => toState(t, i)));
  return states.sort((a, b) => a.targetId.localeCompare(b.targetId));
};

/** Written without the lease: an operator's decision that touches no lease field. */
export const setSuspended = async (t: LedgerTable, targetId: string, suspended: boolean, by: string, meta: { repository: string; target: string }): Promise<void> => {
  await t.call('UpdateItem (suspend)', () =>
    t.doc.send(
      new UpdateCommand({
        TableName: t.name,
        Key: t.stateKey(targetId),
        UpdateExpression: `SET suspended = :s, suspendedBy = :by, suspendedAt = :at, ${IDENTITY_SET}`,
        ExpressionAttributeValues: { ':s': suspended, ':by': by, ':at': new Date(t.now()).toISOString(), ...identityValues(targetId, meta) },
      }),
    ),
  );
};

/** A generation of inventory chunk items (`INV#<gen>#0..n-1`). */
interface ChunkGeneration {
  readonly gen: string;
  readonly n: number;
}

/** The inventory a state write replaces: its blob or its chunk generation, and the generation replaced before that. */
export interface ReplacedInventory {
  readonly blob?: BlobRef;
  readonly chunks?: ChunkGeneration;
  readonly previous?: ChunkGeneration;
}

const generationOf = (gen: unknown, n: unknown): ChunkGeneration | undefined =>
  typeof gen === 'string' && typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 100 ? { gen, n } : undefined;

/**
 * Where the state's inventory is now, read before a write that replaces it, so the write can retire its blob and
 * delete old chunk items. The lease fences every other writer of the inventory in between.
 */
export const replacedInventory = async (t: LedgerTable, targetId: string, state: StateUpdate): Promise<ReplacedInventory> => {
  if (!state.inventory) return {};
  const out = await t.call('GetItem (replaced inventory)', () =>
    t.doc.send(
      new GetCommand({ TableName: t.name, Key: t.stateKey(targetId), ProjectionExpression: 'invBlob, invGen, invChunks, invPrevGen, invPrevChunks', ConsistentRead: true }),
    ),
  );
  const i = out.Item ?? {};
  const blob = blobRefOf(i.invBlob);
  const chunks = generationOf(i.invGen, i.invChunks);
  const previous = generationOf(i.invPrevGen, i.invPrevChunks);
  return { ...(blob ? { blob } : {}), ...(chunks ? { chunks } : {}), ...(previous ? { previous } : {}) };
};

/**
 * A state update as one fenced write: the state item's SET/REMOVE, and the puts of the inventory's chunk items
 * when it does not fit the item (written in the same transaction as the state that points at them), or the
 * reference to its blob (written before; see dynamodb-large-values.ts). The chunk items it replaces stay for one
 * more write (`invPrevGen`), so a reader that read the state just before still finds them; the generation
 * replaced before those is deleted in the same transaction.
 */
export const stateWrite = async (
  t: LedgerTable,
  targetId: string,
  s: StateUpdate,
  alsoRemove: string[] = [],
  replaced: ReplacedInventory = {},
): Promise<{ update: StateWrite; puts: TransactItems; inventory?: StoredValue }> => {
  const inv = s.inventory ? await storeValue(t, targetId, 'inventory', s.inventory) : undefined;
  const invGen = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
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
  if (inv?.kind === 'inline') {
    set('inv', inv.bytes);
    removes.push('invGen', 'invChunks', 'invBlob');
  } else if (inv?.kind === 'blob') {
    set('invBlob', inv.ref);
    removes.push('inv', 'invGen', 'invChunks');
  } else if (inv?.kind === 'chunks') {
    set('invGen', invGen);
    set('invChunks', inv.chunks.length);
    removes.push('inv', 'invBlob');
  }
  const deletes: TransactItems = [];
  if (inv) {
    const retired = replaced.previous;
    if (retired && retired.gen !== replaced.chunks?.gen) deletes.push(...t.chunkDeletes(targetId, `INV#${retired.gen}`, retired.n));
    if (replaced.chunks) {
      set('invPrevGen', replaced.chunks.gen);
      set('invPrevChunks', replaced.chunks.n);
    } else if (retired) removes.push('invPrevGen', 'invPrevChunks');
  }
  return {
    update: {
      UpdateExpression: `${sets.length ? `SET ${sets.join(', ')}` : ''}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`.trim(),
      ExpressionAttributeValues: values,
      ExpressionAttributeNames: names,
    },
    puts: [...(inv?.kind === 'chunks' ? t.chunkPuts(targetId, `INV#${invGen}`, inv.chunks) : []), ...deletes],
    ...(inv ? { inventory: inv } : {}),
  };
};

export const writeState = async (t: LedgerTable, lease: Lease, state: StateUpdate): Promise<void> => {
  const replaced = await replacedInventory(t, lease.targetId, state);
  const { update, puts, inventory } = await stateWrite(t, lease.targetId, state, [], replaced);
  await writingBlobs(t, [inventory], replaced.blob, () => t.transact('TransactWriteItems (write state)', lease, puts, update));
};

export const recordChecked = async (t: LedgerTable, targetId: string, observations: readonly InventoryEntry[]): Promise<void> => {
  const [chunk, ...more] = encodeChunks(observations);
  // Too large to sit next to the inventory in the state item: none are kept (each check then dry-runs them).
  const fits = chunk !== undefined && more.length === 0 && chunk.length <= CHECKED_BYTES;
  await t.conditional(
    'UpdateItem (checked observations)',
    () =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: t.stateKey(targetId),
          UpdateExpression: fits && observations.length ? 'SET checkedObs = :c' : 'REMOVE checkedObs',
          ConditionExpression: 'attribute_exists(PK)',
          ...(fits && observations.length ? { ExpressionAttributeValues: { ':c': chunk } } : {}),
        }),
      ),
    () => undefined,
  );
};

export const toState = async (t: LedgerTable, i: Item): Promise<TargetState> => {
  let inventory: InventoryEntry[] = [];
  const blob = blobRefOf(i.invBlob);
  if (i.inv) inventory = decodeChunks<InventoryEntry[]>([i.inv as Uint8Array]);
  else if (blob) inventory = await loadBlobValue<InventoryEntry[]>(t, String(i.targetId), 'inventory', blob);
  else if (i.invGen) inventory = decodeChunks<InventoryEntry[]>(await t.chunks(String(i.targetId), `INV#${String(i.invGen)}`, Number(i.invChunks)));
  const lease = i.leaseHolder ? { holder: String(i.leaseHolder), token: Number(i.leaseToken), expiresAt: Number(i.leaseExpiresAt) } : undefined;
  return {
    targetId: String(i.targetId),
    repository: String(i.repository),
    target: String(i.target),
    ...pick(i, ['lastAttemptedCommit', 'lastAppliedCommit', 'lastResult', 'lastSyncAt', 'lastSyncId', 'pendingHead', 'suspendedBy', 'config', 'drift', 'runningSyncId', 'removed']),
    ...(i.failedAttempts !== undefined ? { failedAttempts: Number(i.failedAttempts) } : {}),
    suspended: i.suspended === true,
    inventory,
    ...(i.checkedObs ? { checked: decodeChunks<InventoryEntry[]>([i.checkedObs as Uint8Array]) } : {}),
    dependencies: Array.isArray(i.dependencies) ? (i.dependencies as string[]) : [],
    ...(lease ? { lease } : {}),
  };
};
