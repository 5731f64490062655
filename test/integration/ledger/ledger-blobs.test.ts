import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectRef } from '../../../lib/core/object-ref.js';
import { DirectoryBlobStore } from '../../../lib/ledger/directory-blob-store.js';
import { LedgerConflictError } from '../../../lib/ledger/dynamodb-ledger.js';
import type { Lease, Ledger } from '../../../lib/ledger/ledger.js';
import { startLedgerDb } from '../../support/ledger.js';

const META = { repository: 'acme/shop', target: 'web' };
const ID = 'acme/shop/web';
const TTL = 20 * 60_000;

/** Random names barely compress: n objects of ~60 bytes of noise each. */
const bigInventory = (n: number): ObjectRef[] =>
  Array.from({ length: n }, (_, i) => ({
    group: '',
    kind: 'ConfigMap',
    namespace: `team-${i % 7}`,
    name: `${i}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
  }));

/** Every file under a directory, relative to it. */
const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    : [];

describe('ledger values over an item, in the blob store', () => {
  let db: Awaited<ReturnType<typeof startLedgerDb>>;
  let dir: string;
  beforeAll(async () => {
    db = await startLedgerDb();
  }, 90_000);
  afterAll(() => db?.stop());

  const withBlobs = async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-blobs-'));
    return { ...(await db.ledger(undefined, { blobs: new DirectoryBlobStore(dir) })), dir };
  };
  const acquire = async (ledger: Ledger, holder = 'inv-1'): Promise<Lease> => {
    const r = await ledger.acquireLease(ID, holder, TTL, META);
    if (!('lease' in r)) throw new Error('lease not acquired');
    return r.lease;
  };
  const stateItem = async (table: string) =>
    unmarshall((await db.client.send(new GetItemCommand({ TableName: table, Key: { PK: { S: `T#${ID}` }, SK: { S: 'STATE' } } }))).Item ?? {});

  it('keeps a 130,000-object inventory (several MB gzipped) as one blob the item names by key and digest, and retires it when replaced', async () => {
    const { ledger, table, dir } = await withBlobs();
    const lease = await acquire(ledger);
    const inventory = bigInventory(130_000);
    // WHEN an inventory over what a transaction carries is written
    await ledger.writeState(lease, { inventory });
    // THEN the item holds a reference, no chunk items, and the inventory reads back whole
    const item = await stateItem(table);
    expect(item.invBlob).toMatchObject({
      key: expect.stringMatching(/^ledger\/[0-9a-f]{32}\/inventory\/[0-9a-z]+-[0-9a-f]{16}\.json\.gz$/),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(item.invBlob.bytes).toBeGreaterThan(3_000_000);
    expect(item.inv).toBeUndefined();
    expect(item.invGen).toBeUndefined();
    const scan = await db.client.send(new ScanCommand({ TableName: table }));
    expect(scan.Items?.filter((i) => i.SK?.S?.startsWith('INV#'))).toEqual([]);
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory);
    const first = item.invBlob.key as string;
    expect(filesUnder(dir)).toEqual([first]);
    // WHEN a small inventory replaces it
    await ledger.writeState(lease, { inventory: inventory.slice(0, 3) });
    // THEN it is inline again, and the old blob is retired (kept for the grace period, then removed)
    const after = await stateItem(table);
    expect(after.invBlob).toBeUndefined();
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory.slice(0, 3));
    expect(filesUnder(dir).sort()).toEqual([first, `${first}.retired`].sort());
  });

  it('refuses a blob whose bytes do not match the recorded digest, and a missing blob, naming the target and the key', async () => {
    const { ledger, table, dir } = await withBlobs();
    const lease = await acquire(ledger);
    await ledger.writeState(lease, { inventory: bigInventory(20_000) });
    const { key } = (await stateItem(table)).invBlob as { key: string };
    const file = join(dir, key);
    const bytes = readFileSync(file);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    await expect(ledger.getState(ID)).rejects.toThrow(
      new RegExp(`inventory of ${ID} at .*${key.replace(/[.]/g, '\\.')} has digest sha256:[0-9a-f]{64}, not the recorded sha256:[0-9a-f]{64}; not used`),
    );
    rmSync(file);
    await expect(ledger.getState(ID)).rejects.toThrow(`the inventory of ${ID} is missing from ${dir}/${key}`);
  });

  it('keeps a large change set of a sync record as a blob, read back by history', async () => {
    const { ledger, table } = await withBlobs();
    const lease = await acquire(ledger);
    const running = await ledger.startSync(lease, { repository: 'acme/shop', target: 'web', commit: 'c1', branch: 'main', startedAt: new Date().toISOString() });
    const refs = bigInventory(20_000);
    const changeSet = refs.map((ref) => ({ ref, action: 'created' as const }));
    await ledger.finishSync(lease, { ...running, result: 'succeeded', changeSet }, { lastResult: 'succeeded', inventory: refs });
    const [record] = (await ledger.history({ targetId: ID })).items;
    expect(record?.changeSet).toEqual(changeSet);
    const scan = await db.client.send(new ScanCommand({ TableName: table }));
    const sync = scan.Items?.map((i) => unmarshall(i)).find((i) => String(i.SK).startsWith('S#'));
    expect(sync?.csBlob).toMatchObject({ key: expect.stringContaining('/change-set/') });
  });

  it('retires the blobs of a write the lease fence refused, and leaves the state as it was', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    dir = mkdtempSync(join(tmpdir(), 'driftless-blobs-'));
    const { ledger } = await db.ledger(() => now, { blobs: new DirectoryBlobStore(dir) });
    const old = await acquire(ledger, 'old');
    await ledger.writeState(old, { inventory: [{ group: '', kind: 'ConfigMap', namespace: 'n', name: 'kept' }] });
    now += TTL + 1;
    await acquire(ledger, 'new');
    await expect(ledger.writeState(old, { inventory: bigInventory(20_000) })).rejects.toBeInstanceOf(LedgerConflictError);
    const files = filesUnder(dir);
    expect(files.filter((f) => f.endsWith('.json.gz'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.retired'))).toHaveLength(1);
    expect((await ledger.getState(ID))?.inventory).toEqual([{ group: '', kind: 'ConfigMap', namespace: 'n', name: 'kept' }]);
  });

  it('without a blob store: chunks up to one transaction, refuses more with an error that names the target and the fix, and writes nothing', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    await ledger.writeState(lease, { inventory: [{ group: '', kind: 'ConfigMap', namespace: 'n', name: 'kept' }] });
    await expect(ledger.writeState(lease, { inventory: bigInventory(130_000) })).rejects.toThrow(
      new RegExp(`the inventory of ${ID} is \\d+ bytes gzipped, over the 3000000 a DynamoDB transaction holds; configure the artifact bucket \\(DRIFTLESS_ARTIFACT_BUCKET\\)`),
    );
    expect((await ledger.getState(ID))?.inventory).toEqual([{ group: '', kind: 'ConfigMap', namespace: 'n', name: 'kept' }]);
  });

  it('still reads an inventory chunked over items before the blob store was configured', async () => {
    const { ledger: chunked, table } = await db.ledger();
    const lease = await acquire(chunked);
    const inventory = bigInventory(20_000);
    await chunked.writeState(lease, { inventory });
    expect((await stateItem(table)).invChunks).toBeGreaterThan(1);
    // The same table, read by a ledger that has a blob store
    dir = mkdtempSync(join(tmpdir(), 'driftless-blobs-'));
    const { DynamoDbLedger } = await import('../../../lib/ledger/dynamodb-ledger.js');
    const withStore = new DynamoDbLedger(db.client, table, Date.now, { blobs: new DirectoryBlobStore(dir) });
    expect((await withStore.getState(ID))?.inventory).toEqual(inventory);
  });
});
