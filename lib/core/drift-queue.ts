import { createHash } from 'node:crypto';

/** The drift queue port: one message per target of a drift run (SQS deployed, an array in process). */

/** One target to check in one drift run: the message the run enqueues (SQS when deployed, in process locally). */
export interface DriftMessage {
  /** The run's scheduled time (ISO): every check of a run records it as `checkedAt`. */
  readonly run: string;
  readonly targetId: string;
  /** What the check loads: `cluster:<name>` or `stack:<region>` (the per-cluster cap groups by it). */
  readonly group: string;
}

/** Where a drift run's messages go (port): SQS deployed, an array in process. */
export interface DriftQueue {
  /** Enqueues every message (in batches); rejects naming the targets that could not be enqueued. */
  send(messages: readonly DriftMessage[]): Promise<void>;
}

/** A message that could not be checked: retried by the queue, then dead-lettered with the target named. */
export interface DriftFailure {
  readonly message: DriftMessage;
  readonly error: string;
}

/** A message's deduplication id: the same run enqueued twice (a repeated schedule event) checks each target once. */
export const driftMessageId = (m: DriftMessage): string => createHash('sha256').update(`${m.run}\n${m.targetId}`).digest('hex');
