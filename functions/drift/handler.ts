import { checkTarget } from '../../lib/drift/check-target.js';
import { checkDriftMessages, enqueueDrift } from '../../lib/drift/run-drift.js';
import { batchItemFailures, driftMessageOf, type SqsRecord } from './sqs-batch.js';
import { sweep } from '../../lib/drift/sweep.js';
import { deadlineSignal } from '../../lib/reconcile/reconcile-target.js';
import { composeDrift } from '../common/compose.js';
import { log as info, logError, measureDriftChecks, observed } from '../common/observability.js';

const deps = composeDrift(); // cold start: config and clients, once

interface Context {
  getRemainingTimeInMillis(): number;
}

/** The EventBridge schedule's event (its `time` names the run), or a batch of the drift queue. */
type DriftEvent = { readonly time?: string } | { readonly Records: readonly SqsRecord[] };

const log = (level: 'INFO' | 'ERROR', message: string, fields: Record<string, unknown>) => (level === 'ERROR' ? logError : info)(message, fields);

/**
 * Schedule → the sweeper, then one message per target on the drift queue (targets that left driftless.yaml are
 * reported here). Queue batch → check each target (a cap per cluster), record drift, one Slack message for the
 * batch's changes; failed checks come back to the queue, then go to its dead-letter queue with the target named.
 */
const drift = async (event: DriftEvent, context: Context) => {
  if ('Records' in event) {
    const signal = deadlineSignal(context.getRemainingTimeInMillis());
    const messages = event.Records.map((r) => {
      try {
        return driftMessageOf(r);
      } catch (err) {
        return void log('ERROR', 'not a drift message', { messageId: r.messageId, error: (err as Error).message });
      }
    });
    const out = await checkDriftMessages(
      messages.filter((m) => m !== undefined),
      {
        ledger: deps.ledger,
        check: (id, labelled) => checkTarget(id, deps.check, signal, labelled),
        labelled: deps.labelled,
        ...(deps.perCluster ? { perCluster: deps.perCluster } : {}),
        ...(deps.notifier ? { notifier: deps.notifier } : {}),
      },
    );
    measureDriftChecks(out);
    for (const f of out.failures) log('ERROR', 'drift check failed; the queue retries it', { target: f.message.targetId, error: f.error });
    return batchItemFailures(event.Records, messages, out.failures);
  }
  const swept = await sweep(deps.sweep);
  const run = await enqueueDrift({ ledger: deps.ledger, queue: deps.queue, run: event.time ?? new Date().toISOString(), ...(deps.notifier ? { notifier: deps.notifier } : {}) });
  return { enqueued: run.enqueued, removed: run.changes.length, posted: run.posted, sweep: swept.handedOff.length };
};

export const handler = observed(() => ({}), drift);
