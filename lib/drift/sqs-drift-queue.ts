import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { ReconcilerError } from '../core/errors.js';
import { driftMessageId, type DriftFailure, type DriftMessage, type DriftQueue } from './run-drift.js';

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;

/**
 * The drift queue on SQS (FIFO): one message per target, grouped by cluster (`MessageGroupId`), so that one
 * cluster's checks are handled by one consumer at a time; deduplicated per (run, target).
 */
export class SqsDriftQueue implements DriftQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly DriftMessage[]): Promise<void> {
    const failed: string[] = [];
    for (let i = 0; i < messages.length; i += BATCH) {
      let entries: SendMessageBatchRequestEntry[] = messages.slice(i, i + BATCH).map((m, j) => ({
        Id: String(j),
        MessageBody: JSON.stringify(m),
        MessageGroupId: m.group,
        MessageDeduplicationId: driftMessageId(m),
        MessageAttributes: { target: { DataType: 'String', StringValue: m.targetId } },
      }));
      // Entries the batch refused are sent once more (throttling); what fails twice is named in the error.
      for (let attempt = 0; attempt < 2 && entries.length; attempt++) {
        const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })).catch((err: unknown) => {
          throw new ReconcilerError(`drift queue: SendMessageBatch failed for ${entries.map(targetOf).join(', ')}: ${(err as Error).message}`, { cause: err });
        });
        const refused = new Set((out.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => refused.has(e.Id));
      }
      failed.push(...entries.map(targetOf));
    }
    if (failed.length) throw new ReconcilerError(`drift queue: ${failed.length} target(s) not enqueued: ${failed.slice(0, 20).join(', ')}${failed.length > 20 ? ', …' : ''}`);
  }
}

const targetOf = (e: SendMessageBatchRequestEntry): string => e.MessageAttributes?.target?.StringValue ?? e.Id ?? '?';

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
export const batchItemFailures = (records: readonly SqsRecord[], messages: readonly (DriftMessage | undefined)[], failures: readonly DriftFailure[]): { batchItemFailures: { itemIdentifier: string }[] } => {
  const failed = new Set(failures.map((f) => f.message));
  return { batchItemFailures: records.filter((_, i) => { const m = messages[i]; return !m || failed.has(m); }).map((r) => ({ itemIdentifier: r.messageId })) };
};
