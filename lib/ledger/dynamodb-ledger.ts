import type { BlobStore } from './blob-store.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { InventoryEntry } from '../core/inventory.js';
import * as deliveries from './dynamodb-deliveries.js';
import * as drift from './dynamodb-drift.js';
import * as leases from './dynamodb-leases.js';
import * as states from './dynamodb-states.js';
import * as syncs from './dynamodb-syncs.js';
import { LedgerTable } from './dynamodb-table.js';
import type { DriftRecord, DriftStatus, Lease, Ledger, Page, StateUpdate, SyncRecord, TargetState } from './ledger.js';

/** Port-level errors, kept importable from here. */
export { LedgerConflictError, LedgerError } from './ledger.js';

/**
 * The ledger on one DynamoDB table (single-table design; see `lib/ledger/README.md`), one module per record kind
 * (states, leases, syncs, drift, deliveries and heads) over one table helper (`dynamodb-table.ts`).
 * Every write of a target's state is conditional on the writer's lease and fencing token.
 */
export class DynamoDbLedger implements Ledger {
  private readonly t: LedgerTable;

  /**
   * @param options.callTimeoutMs deadline of one ledger call, the SDK's retries included (an AbortSignal on every
   * send): the webhook answers within GitHub's 10 s, a paused DynamoDB fails a sync instead of hanging it.
   * @default 10000
   */
  constructor(client: DynamoDBClient, table: string, now: () => number = Date.now, options: { callTimeoutMs?: number; blobs?: BlobStore } = {}) {
    this.t = new LedgerTable(client, table, now, options.callTimeoutMs ?? 10_000, options.blobs);
  }

  // ---- target state ----
  getState(targetId: string): Promise<TargetState | undefined> {
    return states.getState(this.t, targetId);
  }
  listTargets(options: { repository?: string; withInventory?: boolean } = {}): Promise<TargetState[]> {
    return states.listTargets(this.t, options);
  }
  writeState(lease: Lease, state: StateUpdate): Promise<void> {
    return states.writeState(this.t, lease, state);
  }
  setSuspended(targetId: string, suspended: boolean, by: string, meta: { repository: string; target: string }): Promise<void> {
    return states.setSuspended(this.t, targetId, suspended, by, meta);
  }
  recordChecked(targetId: string, observations: readonly InventoryEntry[]): Promise<void> {
    return states.recordChecked(this.t, targetId, observations);
  }

  // ---- leases ----
  acquireLease(targetId: string, holder: string, ttlMs: number, meta: { repository: string; target: string }): Promise<{ lease: Lease } | { heldBy: string; expiresAt: number }> {
    return leases.acquireLease(this.t, targetId, holder, ttlMs, meta);
  }
  renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    return leases.renewLease(this.t, lease, ttlMs);
  }
  recordPendingHead(targetId: string, commit: string): Promise<'recorded' | 'lease-free'> {
    return leases.recordPendingHead(this.t, targetId, commit);
  }
  takePendingHead(lease: Lease): Promise<string | undefined> {
    return leases.takePendingHead(this.t, lease);
  }
  releaseLease(lease: Lease, options: { leavePending?: boolean } = {}): Promise<{ released: true } | { released: false; pendingHead: string }> {
    return leases.releaseLease(this.t, lease, options);
  }

  // ---- syncs ----
  startSync(lease: Lease, record: Omit<SyncRecord, 'syncId' | 'result' | 'targetId'> & { targetId?: string }): Promise<SyncRecord> {
    return syncs.startSync(this.t, lease, record);
  }
  finishSync(lease: Lease, record: SyncRecord, state: StateUpdate): Promise<void> {
    return syncs.finishSync(this.t, lease, record, state);
  }
  markTimedOut(targetId: string, olderThanMs: number, reason?: string): Promise<number> {
    return syncs.markTimedOut(this.t, targetId, olderThanMs, reason);
  }
  abandonSync(record: SyncRecord): Promise<boolean> {
    return syncs.abandonSync(this.t, record);
  }
  history(options: { targetId?: string; repository?: string; limit?: number; cursor?: string }): Promise<Page<SyncRecord>> {
    return syncs.history(this.t, options);
  }
  recentSyncs(options: { limit?: number; days?: number } = {}): Promise<SyncRecord[]> {
    return syncs.recentSyncs(this.t, options);
  }
  getSync(targetId: string, syncId: string): Promise<SyncRecord | undefined> {
    return syncs.getSync(this.t, targetId, syncId);
  }

  // ---- deliveries, heads ----
  recordDelivery(id: string, info: { event: string; repository: string }, ttlSeconds?: number): Promise<'recorded' | 'duplicate'> {
    return deliveries.recordDelivery(this.t, id, info, ttlSeconds);
  }
  hasDelivery(id: string): Promise<boolean> {
    return deliveries.hasDelivery(this.t, id);
  }
  getHead(repository: string, branch: string): Promise<{ head?: string; etag?: string; checkedAt?: string } | undefined> {
    return deliveries.getHead(this.t, repository, branch);
  }
  putHead(repository: string, branch: string, value: { head?: string; etag?: string }): Promise<void> {
    return deliveries.putHead(this.t, repository, branch, value);
  }

  // ---- drift ----
  putDrift(record: DriftRecord): Promise<void> {
    return drift.putDrift(this.t, record);
  }
  markDriftChecked(targetId: string, summary: { status: DriftStatus; fingerprint?: string; checkedAt: string }): Promise<void> {
    return drift.markDriftChecked(this.t, targetId, summary);
  }
  latestDrift(targetId: string): Promise<DriftRecord | undefined> {
    return drift.latestDrift(this.t, targetId);
  }
}
