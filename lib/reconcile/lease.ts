import { ReconcilerError } from '../core/errors.js';
import { LedgerConflictError } from '../ledger/ledger.js';
import type { Lease, Ledger } from '../ledger/ledger.js';

/** How long a target's lease lasts without a heartbeat: a crashed holder's target is free again after this. */
export const LEASE_TTL_MS = 60_000;

/** The error of a `running` record that a later holder finds: its holder's lease ended first. */
export const TIMED_OUT_REASON = 'the holder stopped (crashed or timed out) before it recorded a result; its lease expired';

/** The holder no longer holds its lease (taken over, or expired unconfirmed): it must stop writing. */
export class LeaseLostError extends ReconcilerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LeaseLostError';
  }
}

/** A lease kept alive by a heartbeat while its holder works. */
export interface HeldLease {
  readonly lease: Lease;
  /** Aborted when the lease is lost: in-flight calls of the holder stop. */
  readonly signal: AbortSignal;
  /** Why the lease was lost, once it was. */
  readonly lost: string | undefined;
  /**
   * Confirms the lease in the ledger (a renewal) before a stage that writes; throws LeaseLostError when it is
   * gone. When the ledger cannot be reached, the holder goes on only while more than half the TTL is left.
   */
  check(stage: string): Promise<void>;
  /** Stops the heartbeat. */
  stop(): void;
}

/**
 * Renews `lease` every `heartbeatMs` (default a third of the TTL) until `stop()`. A renewal refused by the
 * ledger (the fence) marks the lease lost and aborts `signal`; a failed renewal (ledger unreachable) is retried
 * at the next beat, and the lease counts as lost once its last confirmed expiry has passed.
 */
export const holdLease = (
  ledger: Pick<Ledger, 'renewLease'>,
  lease: Lease,
  ttlMs: number,
  options: { heartbeatMs?: number; log?: (message: string, fields?: Record<string, unknown>) => void; now?: () => number } = {},
): HeldLease => {
  const now = options.now ?? Date.now;
  const controller = new AbortController();
  let expiresAt = lease.expiresAt;
  let lost: string | undefined;
  const lose = (reason: string, cause?: unknown) => {
    if (lost) return;
    lost = reason;
    options.log?.('lease lost', { target: lease.targetId, reason });
    controller.abort(new LeaseLostError(`lease lost: ${reason}`, { cause }));
  };
  const renew = async (): Promise<'held' | 'unreachable'> => {
    if (lost) return 'held';
    try {
      expiresAt = (await ledger.renewLease(lease, ttlMs)).expiresAt;
      return 'held';
    } catch (err) {
      if (err instanceof LedgerConflictError) {
        lose(`lease ${lease.token} of ${lease.holder} on ${lease.targetId} was taken over or expired`, err);
        return 'held';
      }
      if (now() >= expiresAt) lose(`lease ${lease.token} of ${lease.holder} on ${lease.targetId} expired unconfirmed: ${(err as Error).message}`, err);
      return 'unreachable';
    }
  };
  let beating: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      beating = beating.then(renew);
    },
    options.heartbeatMs ?? Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref?.();
  return {
    lease,
    signal: controller.signal,
    get lost() {
      return lost;
    },
    async check(stage: string) {
      const r = await renew();
      if (!lost && r === 'unreachable' && expiresAt - now() < ttlMs / 2) {
        lose(`cannot confirm lease ${lease.token} of ${lease.holder} on ${lease.targetId} before ${stage}: the ledger is unreachable`);
      }
      if (lost) throw new LeaseLostError(`lease lost before ${stage}: ${lost}`);
    },
    stop() {
      clearInterval(timer);
    },
  };
};
