import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { ReconcilerError } from '../core/errors.js';
import { driftMessageId, type DriftMessage, type DriftQueue } from '../core/drift-queue.js';

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
