import type { ChangeAction, ChangeSetEntry } from '../core/change-set.js';
import type { InventoryEntry } from '../core/inventory.js';
import { ReconcilerError } from '../core/errors.js';

/** How a sync ended (or that it has not yet). */
export const SyncResult = {
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Superseded: 'superseded',
  Skipped: 'skipped',
  TimedOut: 'timed-out',
  InProgress: 'in-progress',
} as const;
export type SyncResult = (typeof SyncResult)[keyof typeof SyncResult];

/** One sync of one target: the audit record. */
export interface SyncRecord {
  readonly targetId: string;
  readonly repository: string;
  readonly target: string;
  /** Unique per target; sorts by start time. */
  readonly syncId: string;
  readonly commit: string;
  readonly branch: string;
  /** Who pushed or merged. */
  readonly author?: string;
  readonly deliveryId?: string;
  /** What started it: webhook, sweeper, cli, trigger, self-heal. */
  readonly trigger?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly result: SyncResult;
  readonly counts?: Partial<Record<ChangeAction, number>>;
  readonly changeSet?: readonly ChangeSetEntry[];
  readonly error?: { readonly message: string; readonly cause?: string };
  /** GitHub API read calls this sync spent. */
  readonly githubCalls?: number;
  readonly durationMs?: number;
  /** Who ran it (the lease holder); names the crashed holder when a later one closes the record as timed out. */
  readonly holder?: string;
}

/** A target's lease, held by one invocation at a time; `token` is the fencing token. */
export interface Lease {
  readonly targetId: string;
  readonly holder: string;
  readonly token: number;
  readonly expiresAt: number;
}

/** The current state of one target. */
export interface TargetState {
  readonly targetId: string;
  readonly repository: string;
  readonly target: string;
  readonly lastAttemptedCommit?: string;
  readonly lastAppliedCommit?: string;
  readonly lastResult?: SyncResult;
  readonly lastSyncAt?: string;
  readonly lastSyncId?: string;
  readonly pendingHead?: string;
  readonly suspended: boolean;
  readonly suspendedBy?: string;
  /** The target's objects; Kubernetes entries say how each came in (`origin`, absent in items written before it existed). */
  readonly inventory: readonly InventoryEntry[];
  /** Files the last render read (a push touching one of them touches the target). */
  readonly dependencies: readonly string[];
  /** The target's effective config at its last sync (handles a target removed from driftless.yaml). */
  readonly config?: unknown;
  readonly lease?: { readonly holder: string; readonly token: number; readonly expiresAt: number };
  /** The sync id of a `running` record (set by startSync, cleared when it ends): with a free lease, a crashed holder. */
  readonly runningSyncId?: string;
  /** Consecutive failed syncs at `lastAttemptedCommit` (the sweeper's retry backoff counts them). */
  readonly failedAttempts?: number;
  /** The target left driftless.yaml (its objects were left in place); the drift run reports it once, then skips it. */
  readonly removed?: boolean;
  readonly drift?: { readonly status: DriftStatus; readonly fingerprint?: string; readonly checkedAt: string };
  /**
   * Observations of the last drift check: objects its dry run found unchanged at a resourceVersion that moved
   * since the sync recorded it (digest, resourceVersion, generation, as in `inventory`). Each one is a fact about
   * one object state, true whenever it was written, so the next check skips those dry runs too.
   */
  readonly checked?: readonly InventoryEntry[];
}

/** A target's drift as `status` shows it: none (clean at the last check), drifted, healed (re-applied), removed (no longer checked). */
export type DriftStatus = 'none' | 'drifted' | 'healed' | 'removed';

/** What a sync's holder writes into the target's state. */
export type StateUpdate = Partial<
  Pick<
    TargetState,
    'lastAttemptedCommit' | 'lastAppliedCommit' | 'lastResult' | 'lastSyncAt' | 'lastSyncId' | 'inventory' | 'dependencies' | 'config' | 'failedAttempts' | 'removed'
  >
>;

/** A drift check's report for one target. */
export interface DriftRecord {
  readonly targetId: string;
  readonly checkedAt: string;
  readonly status: 'none' | 'drifted' | 'resolved';
  readonly fingerprint?: string;
  readonly report?: unknown;
}

/** A page of results and the cursor for the next one. */
export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

/** The sync ledger: the audit trail and the state that keeps syncs safe. */
export interface Ledger {
  getState(targetId: string): Promise<TargetState | undefined>;
  /** Targets, from the cross-target index; `withInventory: false` leaves inventories out (cheaper). */
  listTargets(options?: { repository?: string; withInventory?: boolean }): Promise<TargetState[]>;

  /** Takes the lease if it is free or expired; otherwise says who holds it. */
  acquireLease(targetId: string, holder: string, ttlMs: number, meta: { repository: string; target: string }): Promise<{ lease: Lease } | { heldBy: string; expiresAt: number }>;
  /** Extends a lease still held; throws LedgerConflictError when it was lost. */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Records a commit for the holder to pick up; 'lease-free' when the lease was released meanwhile (acquire again). */
  recordPendingHead(targetId: string, commit: string): Promise<'recorded' | 'lease-free'>;
  /** Takes (and clears) the pending head, if any, for the holder. */
  takePendingHead(lease: Lease): Promise<string | undefined>;
  /**
   * Releases the lease unless work is pending; then it stays held and the pending head is returned.
   * `leavePending` releases anyway and leaves the pending head for the sweeper (a CLI sync cannot build it).
   */
  releaseLease(lease: Lease, options?: { leavePending?: boolean }): Promise<{ released: true } | { released: false; pendingHead: string }>;

  /** Writes the `running` record of a sync (fenced by the lease). */
  startSync(lease: Lease, record: Omit<SyncRecord, 'syncId' | 'result' | 'targetId'> & { targetId?: string }): Promise<SyncRecord>;
  /** Writes a sync's outcome and the target's new state in one fenced transaction. */
  finishSync(lease: Lease, record: SyncRecord, state: StateUpdate): Promise<void>;
  /** Writes state alone (fenced). */
  writeState(lease: Lease, state: StateUpdate): Promise<void>;
  /**
   * Marks `running` syncs older than `olderThanMs` as timed out (0: every one, which the new holder of a lease
   * does: a running record it finds belongs to a holder whose lease ended); `reason` is the record's error.
   */
  markTimedOut(targetId: string, olderThanMs: number, reason?: string): Promise<number>;
  /**
   * Ends a sync whose holder can no longer write under its lease (lease lost): writes the final record only if
   * it is still `running`, touches no state but the running marker. Returns whether it was written.
   */
  abandonSync(record: SyncRecord): Promise<boolean>;
  /** Suspends or resumes a target (an operator's decision, not fenced by the lease). */
  setSuspended(targetId: string, suspended: boolean, by: string, meta: { repository: string; target: string }): Promise<void>;

  /** Sync history, newest first. */
  history(options: { targetId?: string; repository?: string; limit?: number; cursor?: string }): Promise<Page<SyncRecord>>;
  /** Recent syncs across all targets, newest first. */
  recentSyncs(options?: { limit?: number; days?: number }): Promise<SyncRecord[]>;
  getSync(targetId: string, syncId: string): Promise<SyncRecord | undefined>;

  /** Records a webhook delivery id; 'duplicate' when it was recorded before. Never throws for duplicates. */
  recordDelivery(id: string, info: { event: string; repository: string }, ttlSeconds?: number): Promise<'recorded' | 'duplicate'>;
  hasDelivery(id: string): Promise<boolean>;

  /** The sweeper's memory of a branch: the last processed head and the ETag of its last head request. */
  getHead(repository: string, branch: string): Promise<{ head?: string; etag?: string; checkedAt?: string } | undefined>;
  putHead(repository: string, branch: string, value: { head?: string; etag?: string }): Promise<void>;

  putDrift(record: DriftRecord): Promise<void>;
  /** Records a check that changed nothing worth a report: only the state's drift summary (no drift record). */
  markDriftChecked(targetId: string, summary: { status: DriftStatus; fingerprint?: string; checkedAt: string }): Promise<void>;
  latestDrift(targetId: string): Promise<DriftRecord | undefined>;
  /**
   * Replaces the state's `checked` observations (not fenced: each is true of the object state it names, so a
   * stale write costs a dry run, never a missed edit). Optional: a ledger without it keeps only the sync's.
   */
  recordChecked?(targetId: string, observations: readonly InventoryEntry[]): Promise<void>;
}

/** A ledger write refused because a condition no longer holds (a lost lease, a stale writer). */
export class LedgerConflictError extends ReconcilerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LedgerConflictError';
  }
}

/** A DynamoDB call that failed after the SDK's own retries; names the table and the operation. */
export class LedgerError extends ReconcilerError {
  constructor(
    readonly table: string,
    readonly operation: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`ledger table ${table}: ${operation} failed: ${detail}`, options);
    this.name = 'LedgerError';
  }
}
