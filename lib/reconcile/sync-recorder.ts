import { countActions, type ChangeSet } from '../core/change-set.js';
import { NO_REDACTION, redactDeep, type Redactor } from '../core/redact.js';
import { LedgerConflictError, type Lease, type Ledger, type StateUpdate, type SyncRecord, type TargetState } from '../ledger/ledger.js';
import { LeaseLostError } from './lease.js';
import { describeFailure, type SyncOutcome, type SyncRecorder } from './sync-target.js';

/** A failure notice (Slack), sent once per failing commit. */
export interface FailureNotice {
  readonly error: string;
  readonly failures?: readonly string[];
}

/** Where a ledger recorder writes, and what else reports on the sync. */
export interface LedgerRecorderOptions {
  readonly ledger: Ledger;
  readonly lease: Lease;
  /** The sync's `running` record (startSync). */
  readonly running: SyncRecord;
  /** The target's state before this sync. */
  readonly state?: TargetState;
  /** The commit being synced. */
  readonly commit: string;
  /** Why the lease was lost, once it was (the heartbeat's answer). */
  readonly lost?: () => string | undefined;
  /** Reports a commit status (GitHub); failures to report are the reporter's to log. */
  readonly report?: (state: 'pending' | 'success' | 'failure', description: string) => Promise<void>;
  /** Sends a failure notice (Slack). */
  readonly notify?: (notice: FailureNotice) => Promise<void>;
  /** GitHub calls made so far, for the record. */
  readonly githubCalls?: () => number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /** The description of the pending status a sync reports as it starts to apply. */
  readonly pendingDescription?: string;
}

/** A ledger recorder; `records` holds what it wrote. */
export interface LedgerRecorder extends SyncRecorder {
  readonly records: readonly SyncRecord[];
}

/**
 * The one recorder that writes a sync to the ledger (reconcile and the CLI): the result and the new state in one
 * fenced write; a failure as one `failed` record (closed even without the lease), one failure status and one
 * notice; a lost lease is never the commit's failure.
 */
export const createLedgerRecorder = (o: LedgerRecorderOptions): LedgerRecorder => {
  const { ledger, lease, running, state, commit } = o;
  const id = lease.targetId;
  const started = Date.parse(running.startedAt);
  const records: SyncRecord[] = [];
  const repeatFailure = state?.lastResult === 'failed' && state.lastAttemptedCommit === commit;
  let redact: Redactor = NO_REDACTION;
  let pendingStatus: Promise<void> = Promise.resolve();
  let failedOnce = false;
  const log = (message: string, fields?: Record<string, unknown>) => o.log?.(redact(message), fields && redactDeep(fields, redact));
  const status = async (s: 'pending' | 'success' | 'failure', description: string) => o.report?.(s, redact(description).slice(0, 140));

  const build = (result: SyncRecord['result'], extra: Partial<SyncRecord>): SyncRecord => ({
    ...running,
    ...redactDeep(extra, redact),
    result,
    endedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    ...(o.githubCalls ? { githubCalls: o.githubCalls() } : {}),
  });
  const finish = async (result: SyncRecord['result'], extra: Partial<SyncRecord>, update: StateUpdate): Promise<void> => {
    const rec = build(result, extra);
    await ledger.finishSync(lease, rec, {
      lastAttemptedCommit: commit,
      lastResult: result,
      lastSyncAt: running.startedAt,
      lastSyncId: running.syncId,
      failedAttempts: result === 'failed' ? (repeatFailure ? (state?.failedAttempts ?? 1) : 0) + 1 : 0,
      ...(state?.removed ? { removed: false } : {}),
      ...update,
    });
    records.push(rec);
  };

  const fail = async (message: string, cause: unknown, extra: Partial<SyncRecord>, update: StateUpdate, failures?: readonly string[]): Promise<void> => {
    if (failedOnce) return;
    failedOnce = true;
    await pendingStatus;
    message = redact(message);
    const listed = failures?.map(redact);
    const lost = o.lost?.() !== undefined || cause instanceof LeaseLostError || cause instanceof LedgerConflictError;
    const text = lost && !message.startsWith('lease lost') ? `lease lost: ${message}` : message;
    const error = { message: text, ...(cause instanceof Error && redact(cause.message) !== text ? { cause: redact(cause.message) } : {}) };
    let closed = false;
    // The failure carries what was applied (the inventory): worth a few tries while the lease holds. The call that
    // failed first may be the one that throttled the client, whose next sends then wait out their own deadlines.
    for (let attempt = 0; !lost && !closed && attempt < FAILURE_WRITES && o.lost?.() === undefined; attempt++) {
      if (attempt) await sleep(1000 * attempt);
      try {
        await finish('failed', { error, ...extra }, update);
        closed = true;
      } catch (err) {
        const last = attempt === FAILURE_WRITES - 1 || err instanceof LedgerConflictError || err instanceof LeaseLostError;
        log(last ? 'failure not recorded with the state; closing the record alone' : 'failure not recorded with the state; trying again', {
          target: id,
          error: (err as Error).message,
        });
        if (last) break;
      }
    }
    if (!closed) {
      // Without the lease (or when the state write failed) the record is closed on its own, so it does not stay running.
      const rec = build('failed', { error, ...extra });
      for (let attempt = 0; attempt < 3 && !closed; attempt++) {
        if (attempt) await sleep(1000 * attempt);
        closed = await ledger.abandonSync(rec).then(
          () => true,
          (err: unknown) => (log('sync record not closed', { target: id, error: (err as Error).message }), false),
        );
      }
      records.push(rec);
    }
    // A lost lease is not the commit's failure: the new holder reports on the commit.
    if (lost) return;
    await status('failure', text);
    // One notice per failure: a retry of the same commit that fails again stays quiet.
    if (o.notify && !repeatFailure && notifyOn.includes('failure')) {
      await o
        .notify({ error: text, ...(listed ? { failures: listed } : {}) })
        .catch((err: unknown) => log('failure notice not sent', { target: id, error: (err as Error).message }));
    }
  };
  let notifyOn: readonly string[] = ['failure'];

  /** An execution an earlier sync left in progress has now ended: that record says how, too. */
  const closeEarlier = async (outcome: SyncOutcome): Promise<void> => {
    const applied = outcome.applied;
    if (!applied || applied.result === 'in-progress' || state?.lastResult !== 'in-progress' || !state.lastSyncId) return;
    const earlier = await ledger.getSync(id, state.lastSyncId);
    if (earlier?.result !== 'in-progress') return;
    await ledger.finishSync(
      lease,
      {
        ...earlier,
        result: applied.result === 'failed' ? 'failed' : 'succeeded',
        endedAt: new Date().toISOString(),
        error: { message: applied.result === 'failed' ? (applied.error ?? 'failed') : `the stack settled; finished by sync ${running.syncId}` },
      },
      {},
    );
  };

  return {
    records,
    starting() {
      // Not awaited: GitHub spaces writes a second apart (Octokit's throttling), and the apply need not wait for it.
      pendingStatus = status('pending', o.pendingDescription ?? `syncing ${commit.slice(0, 7)}`);
    },
    async record(outcome) {
      redact = outcome.redact;
      notifyOn = outcome.notifyOn;
      if (outcome.result === 'planned') return;
      const extra: Partial<SyncRecord> = {
        ...changeSetExtra(outcome.changeSet),
        ...(outcome.result !== 'failed' && outcome.message ? { error: { message: outcome.message } } : {}),
      };
      try {
        await closeEarlier(outcome);
      } catch (err) {
        return fail(describeFailure('ledger', err), err, extra, outcome.update);
      }
      if (outcome.result === 'failed') return fail(outcome.message ?? 'sync failed', outcome.cause, extra, outcome.update, outcome.failures);
      const lost = outcome.applied ? o.lost?.() : undefined;
      if (lost !== undefined) return fail(`lease lost: ${lost}`, undefined, extra, outcome.update);
      try {
        await finish(outcome.result, extra, outcome.update);
      } catch (err) {
        return fail(describeFailure('ledger', err), err, extra, outcome.update);
      }
      await pendingStatus;
      if (outcome.status) await status(outcome.status.state, outcome.status.description);
    },
  };
};

/** Tries at the fenced failure write (record, state and inventory) before the record is closed alone. */
const FAILURE_WRITES = 3;

const changeSetExtra = (cs: ChangeSet | undefined): Partial<SyncRecord> => (cs ? { changeSet: cs.entries, counts: countActions(cs.entries) } : {});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
