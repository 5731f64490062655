import type { BlobStore } from './blob-store.js';
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ReconcilerError } from '../core/errors.js';
import type { Lease } from './ledger.js';
import { LedgerConflictError, LedgerError } from './ledger.js';

/** Shards of the cross-target indexes, so that no one partition takes every write. */
export const SHARDS = 10;

export type Item = Record<string, unknown>;
export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;
/** An UpdateExpression with its values and names, as the record kinds build them. */
export type StateWrite = { UpdateExpression: string; ExpressionAttributeValues: Item; ExpressionAttributeNames: Record<string, string> };

export const shardOf = (s: string): number => createHash('sha256').update(s).digest().readUInt16BE(0) % SHARDS;
/** The partition of everything about one target. */
export const T = (targetId: string) => `T#${targetId}`;
/** The partition of a repository's branch heads, and its GSI2 key. */
export const R = (repository: string) => `R#${repository}`;
export const STATE = 'STATE';
/**
 * The repository index key (GSI2PK) of a target's items: sharded by the target id, so that a monorepo push's
 * hundreds of writes a second spread over SHARDS partitions. Readers fan out over `repositoryPartitions`.
 */
export const repositoryKey = (repository: string, targetId: string) => `${R(repository)}#${shardOf(targetId)}`;
/** Every GSI2 partition of a repository: its shards, and the unsharded key that items written before sharding carry. */
export const repositoryPartitions = (repository: string): string[] => [...Array.from({ length: SHARDS }, (_, s) => `${R(repository)}#${s}`), R(repository)];

/** An attribute map as a ConditionalCheckFailed error carries it (not unmarshalled). */
export type RawItem = Record<string, { S?: string; N?: string } | undefined>;

/**
 * The one ledger table, for the record kinds (states, leases, syncs, drift, deliveries and heads): the document
 * client with the call deadline, the key helpers, the lease fence, chunked attributes, and errors that name the
 * table and the operation.
 */
export class LedgerTable {
  readonly doc: DynamoDBDocumentClient;

  /** @param callTimeoutMs deadline of one call, the SDK's retries included (an AbortSignal on every send). */
  constructor(
    client: DynamoDBClient,
    readonly name: string,
    readonly now: () => number,
    callTimeoutMs: number,
    /** Where values too large for an item go (the artifact bucket); absent: chunk items, up to one transaction. */
    readonly blobs?: BlobStore,
  ) {
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    // Every send carries the call deadline.
    const send = doc.send.bind(doc) as (command: never, options?: object) => Promise<unknown>;
    doc.send = ((command: never) => send(command, { abortSignal: AbortSignal.timeout(callTimeoutMs) })) as typeof doc.send;
    this.doc = doc;
  }

  /** The key of a target's state item. */
  stateKey(targetId: string) {
    return { PK: T(targetId), SK: STATE };
  }

  /**
   * The fence of every write by a lease holder: the lease is still this holder's, with this token, and (unless
   * `unexpired` is false) not expired. `extra` is and-ed to it.
   */
  fence(lease: Lease, options: { unexpired?: boolean; extra?: string } = {}) {
    const unexpired = options.unexpired ?? true;
    return {
      ConditionExpression: `leaseToken = :fenceToken AND leaseHolder = :fenceHolder${unexpired ? ' AND leaseExpiresAt > :fenceNow' : ''}${options.extra ? ` AND ${options.extra}` : ''}`,
      ExpressionAttributeValues: { ':fenceToken': lease.token, ':fenceHolder': lease.holder, ...(unexpired ? { ':fenceNow': this.now() } : {}) } as Item,
    };
  }

  /** Whether the lease named in a refused write's old item is still this holder's and unexpired. */
  stillHeld(lease: Lease, old: RawItem): boolean {
    return Number(old.leaseToken?.N) === lease.token && old.leaseHolder?.S === lease.holder && Number(old.leaseExpiresAt?.N) > this.now();
  }

  lost(lease: Lease, operation: string, cause: unknown): LedgerConflictError {
    return new LedgerConflictError(`${lease.targetId}: lease ${lease.token} of ${lease.holder} is no longer held; ${operation} refused`, { cause });
  }

  /** A transaction whose state update (or bare condition check) is fenced by the lease. */
  async transact(operation: string, lease: Lease, items: TransactItems, stateUpdate?: StateWrite): Promise<void> {
    const fence = this.fence(lease);
    const key = this.stateKey(lease.targetId);
    const stateItem =
      stateUpdate && stateUpdate.UpdateExpression !== ''
        ? {
            Update: {
              TableName: this.name,
              Key: key,
              UpdateExpression: stateUpdate.UpdateExpression,
              ...(Object.keys(stateUpdate.ExpressionAttributeNames).length ? { ExpressionAttributeNames: stateUpdate.ExpressionAttributeNames } : {}),
              ConditionExpression: fence.ConditionExpression,
              ExpressionAttributeValues: { ...stateUpdate.ExpressionAttributeValues, ...fence.ExpressionAttributeValues },
            },
          }
        : { ConditionCheck: { TableName: this.name, Key: key, ...fence } };
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [stateItem, ...items] }));
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') throw this.lost(lease, operation, err);
      throw this.wrap(operation, err);
    }
  }

  /** An update of the state item fenced by the lease; returns the attributes asked for. */
  async fenced(operation: string, lease: Lease, update: { UpdateExpression: string; ExpressionAttributeValues?: Item; ReturnValues?: 'UPDATED_OLD' }) {
    const fence = this.fence(lease);
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.name,
          Key: this.stateKey(lease.targetId),
          UpdateExpression: update.UpdateExpression,
          ConditionExpression: fence.ConditionExpression,
          ExpressionAttributeValues: { ...(update.ExpressionAttributeValues ?? {}), ...fence.ExpressionAttributeValues },
          ...(update.ReturnValues ? { ReturnValues: update.ReturnValues } : {}),
        }),
      );
      return out.Attributes;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw this.lost(lease, operation, err);
      throw this.wrap(operation, err);
    }
  }

  /** The puts of a chunked attribute's items (`<prefix>#<n>` in the target's partition), when it needs more than one. */
  chunkPuts(targetId: string, prefix: string, chunks: readonly Uint8Array[]): TransactItems {
    if (chunks.length <= 1) return [];
    return chunks.map((data, n) => ({ Put: { TableName: this.name, Item: { PK: T(targetId), SK: `${prefix}#${n}`, data } } }));
  }

  /** The deletes of a chunked attribute's items `<prefix>#0..n-1`. */
  chunkDeletes(targetId: string, prefix: string, n: number): TransactItems {
    return Array.from({ length: n }, (_, k) => ({ Delete: { TableName: this.name, Key: { PK: T(targetId), SK: `${prefix}#${k}` } } }));
  }

  /** The chunks `<prefix>#0..n-1` of a target, in order; a missing one is an error naming it. */
  async chunks(targetId: string, prefix: string, n: number): Promise<Uint8Array[]> {
    const keys = Array.from({ length: n }, (_, k) => ({ PK: T(targetId), SK: `${prefix}#${k}` }));
    const found = new Map<string, Uint8Array>();
    for (let i = 0; i < keys.length; i += 100) {
      let request: Record<string, { Keys: Item[] }> | undefined = { [this.name]: { Keys: keys.slice(i, i + 100) } };
      while (request && Object.keys(request).length) {
        const out = await this.call('BatchGetItem (chunks)', () => this.doc.send(new BatchGetCommand({ RequestItems: request })));
        for (const item of out.Responses?.[this.name] ?? []) found.set(String(item.SK), item.data as Uint8Array);
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return keys.map((k) => {
      const c = found.get(k.SK);
      if (!c) throw new ReconcilerError(`ledger table ${this.name}: chunk ${k.SK} of ${targetId} is missing`);
      return c;
    });
  }

  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.call('Query', () => this.doc.send(new QueryCommand({ TableName: this.name, ...input, ...(start ? { ExclusiveStartKey: start } : {}) })));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Runs a call; an error becomes a LedgerError naming the table and operation. */
  async call<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw this.wrap(operation, err);
    }
  }

  /** Runs a conditional write; a failed condition is `onConditionFailed`'s answer, other errors name the operation. */
  async conditional<R, F>(operation: string, fn: () => Promise<R>, onConditionFailed: (err: ConditionalCheckFailedException) => F): Promise<R | F> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return onConditionFailed(err);
      throw this.wrap(operation, err);
    }
  }

  wrap(operation: string, err: unknown): Error {
    if (err instanceof ReconcilerError) return err;
    const name = (err as Error)?.name ?? 'Error';
    const hint = name === 'ResourceNotFoundException' ? ' (does the table exist?)' : '';
    return new LedgerError(this.name, operation, `${name}: ${(err as Error)?.message ?? String(err)}${hint}`, { cause: err });
  }
}

export const pick = (i: Item, keys: string[]): Item => Object.fromEntries(keys.filter((k) => i[k] !== undefined).map((k) => [k, i[k]]));
