import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { R, type LedgerTable } from './dynamodb-table.js';

/** Webhook deliveries (`D#<id>` / `D`, with a TTL) and branch heads of the sweeper (`R#repo` / `H#<branch>`). */

/** How long a delivery id is remembered (GitHub redelivers for up to three days; a week to be safe). */
export const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Records a delivery id (or a claim: the commit reporter claims its writes this way) once. Each call writes a
 * token of its own: when the SDK retries a put whose first attempt was written but answered too late, the retry's
 * condition fails on our own item, and the token tells that it is ours ('recorded'), not someone else's.
 */
export const recordDelivery = async (
  t: LedgerTable,
  id: string,
  info: { event: string; repository: string },
  ttlSeconds = DELIVERY_TTL_SECONDS,
): Promise<'recorded' | 'duplicate'> => {
  const token = randomUUID();
  const key = { PK: `D#${id}`, SK: 'D' };
  const first = await t.conditional(
    'PutItem (delivery)',
    async () => {
      await t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { ...key, deliveryId: id, ...info, token, receivedAt: new Date(t.now()).toISOString(), expiresAt: Math.floor(t.now() / 1000) + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return 'recorded' as const;
    },
    () => 'exists' as const,
  );
  if (first === 'recorded') return first;
  const out = await t.call('GetItem (delivery claim)', () =>
    t.doc.send(new GetCommand({ TableName: t.name, Key: key, ConsistentRead: true, ProjectionExpression: '#t', ExpressionAttributeNames: { '#t': 'token' } })),
  );
  return out.Item?.token === token ? 'recorded' : 'duplicate';
};

export const hasDelivery = async (t: LedgerTable, id: string): Promise<boolean> => {
  const out = await t.call('GetItem (delivery)', () => t.doc.send(new GetCommand({ TableName: t.name, Key: { PK: `D#${id}`, SK: 'D' }, ConsistentRead: true })));
  const expires = Number(out.Item?.expiresAt ?? 0);
  // TTL deletes lazily: an expired item may still be there.
  return Boolean(out.Item) && expires * 1000 > t.now();
};

export const getHead = async (t: LedgerTable, repository: string, branch: string): Promise<{ head?: string; etag?: string; checkedAt?: string } | undefined> => {
  const out = await t.call('GetItem (head)', () => t.doc.send(new GetCommand({ TableName: t.name, Key: { PK: R(repository), SK: `H#${branch}` }, ConsistentRead: true })));
  if (!out.Item) return undefined;
  return {
    ...(typeof out.Item.head === 'string' ? { head: out.Item.head } : {}),
    ...(typeof out.Item.etag === 'string' ? { etag: out.Item.etag } : {}),
    ...(typeof out.Item.checkedAt === 'string' ? { checkedAt: out.Item.checkedAt } : {}),
  };
};

export const putHead = async (t: LedgerTable, repository: string, branch: string, value: { head?: string; etag?: string }): Promise<void> => {
  await t.call('PutItem (head)', () =>
    t.doc.send(new PutCommand({ TableName: t.name, Item: { PK: R(repository), SK: `H#${branch}`, repository, branch, ...value, checkedAt: new Date(t.now()).toISOString() } })),
  );
};
