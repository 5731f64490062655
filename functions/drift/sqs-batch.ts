import { ReconcilerError } from '../../lib/core/errors.js';
import type { DriftFailure, DriftMessage } from '../../lib/core/drift-queue.js';

/** The drift queue's Lambda event source: SQS records in, partial batch failures out. */

/** The part of an SQS event record the drift function reads. */
export interface SqsRecord {
  readonly messageId: string;
  readonly body: string;
}

/** A record's drift message; a body that is not one fails naming the record (it goes to the dead-letter queue). */
export const driftMessageOf = (record: SqsRecord): DriftMessage => {
  let m: Partial<DriftMessage>;
  try {
    m = JSON.parse(record.body) as Partial<DriftMessage>;
  } catch {
    throw new ReconcilerError(`drift message ${record.messageId}: body is not JSON`);
  }
  if (typeof m.run !== 'string' || typeof m.targetId !== 'string' || typeof m.group !== 'string') {
    throw new ReconcilerError(`drift message ${record.messageId}: expected run, targetId and group`);
  }
  return { run: m.run, targetId: m.targetId, group: m.group };
};

/**
 * The partial batch response for the event source (ReportBatchItemFailures): the records whose check failed, or
 * that are not drift messages, come back after the visibility timeout; the others are deleted. (Lambda's advice
 * to hold back the rest of a FIFO group is about order, which checks do not depend on.)
 */
export const batchItemFailures = (
  records: readonly SqsRecord[],
  messages: readonly (DriftMessage | undefined)[],
  failures: readonly DriftFailure[],
): { batchItemFailures: { itemIdentifier: string }[] } => {
  const failed = new Set(failures.map((f) => f.message));
  return {
    batchItemFailures: records
      .filter((_, i) => {
        const m = messages[i];
        return !m || failed.has(m);
      })
      .map((r) => ({ itemIdentifier: r.messageId })),
  };
};
