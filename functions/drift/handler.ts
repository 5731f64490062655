import { withAbort } from '../../lib/core/deadline.js';
import { ReconcilerError } from '../../lib/core/errors.js';
import { checkTarget } from '../../lib/drift/check-target.js';
import { checkDriftMessages, enqueueDrift } from '../../lib/drift/run-drift.js';
import { sweep } from '../../lib/drift/sweep.js';
import { deadlineSignal } from '../../lib/reconcile/reconcile-target.js';
import { compose, type ComposedDrift } from '../common/compose.js';
import { lambdaRuntime } from '../common/compose-lambda.js';
import { log as info, logError, measureDriftChecks, observed } from '../common/observability.js';
import { batchItemFailures, driftMessageOf, type SqsRecord } from './sqs-batch.js';
import type { DriftMessage } from '../../lib/core/drift-queue.js';

export interface Context {
  getRemainingTimeInMillis(): number;
}

/** The EventBridge schedule's event (its `time` names the run), or a batch of the drift queue. */
export type DriftEvent = { readonly time?: string } | { readonly Records: readonly SqsRecord[] };

export type DriftHandler = (event: DriftEvent, context: Context) => Promise<unknown>;

const log = (level: 'INFO' | 'ERROR', message: string, fields: Record<string, unknown>) => (level === 'ERROR' ? logError : info)(message, fields);

/**
 * The drift handler over composed deps. Schedule → the sweeper, then one message per target on the drift queue
 * (targets that left driftless.yaml are reported here). Queue batch → check each target (a cap per cluster), record
 * drift, one Slack message for the batch's changes; failed checks come back to the queue, then go to its
 * dead-letter queue with the target named.
 */
export const createHandler = (deps: ComposedDrift, o: { readonly abort?: AbortSignal; readonly discoveryTtlMs?: number } = {}): DriftHandler => {
  const discovered = discoveryOfRun(deps, o);
  return async (event, context) => {
    if ('Records' in event) {
      const deadline = deadlineSignal(context.getRemainingTimeInMillis());
      const signal = o.abort ? withAbort(deadline, o.abort) : deadline;
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
          ...(discovered ? { labelled: (cluster: string) => discovered(runOf(messages), cluster) } : {}),
          ...(deps.perCluster ? { perCluster: deps.perCluster } : {}),
          ...(deps.notifier ? { notifier: deps.notifier } : {}),
        },
      );
      measureDriftChecks(out);
      for (const f of out.failures) log('ERROR', 'drift check failed; the queue retries it', { target: f.message.targetId, error: f.error });
      return batchItemFailures(event.Records, messages, out.failures);
    }
    if (!deps.queue) throw new ReconcilerError('the drift schedule needs a drift queue (DRIFTLESS_DRIFT_QUEUE_URL)');
    const swept = await sweep(deps.sweep);
    const run = await enqueueDrift({ ledger: deps.ledger, queue: deps.queue, run: event.time ?? new Date().toISOString(), ...(deps.notifier ? { notifier: deps.notifier } : {}) });
    return { enqueued: run.enqueued, removed: run.changes.length, posted: run.posted, sweep: swept.handedOff.length };
  };
};

/** The run a batch's messages belong to, when they all belong to one. */
const runOf = (messages: readonly (DriftMessage | undefined)[]): string | undefined => {
  const runs = new Set(messages.flatMap((m) => (m ? [m.run] : [])));
  return runs.size === 1 ? [...runs][0] : undefined;
};

/** How long one discovery of a cluster's labelled objects serves the later batches of the same run. @default 5 min */
const DISCOVERY_TTL_MS = 5 * 60_000;

/**
 * One discovery of each cluster's labelled objects per drift run, not per batch: the queue delivers a cluster's
 * targets in batches of 10, and each discovery is a LIST per served kind. A warm function keeps the last run's
 * result per cluster for a few minutes; another run, a failed discovery or an older result lists again. What it
 * can miss: an object labelled for a target after the discovery shows up as unmanaged on the next run, and one
 * deleted after it was already drift when listed.
 */
const discoveryOfRun = (deps: ComposedDrift, o: { readonly abort?: AbortSignal; readonly discoveryTtlMs?: number }) => {
  const list = deps.labelled;
  if (!list) return undefined;
  const ttl = o.discoveryTtlMs ?? DISCOVERY_TTL_MS;
  const kept = new Map<string, { run: string; at: number; value: ReturnType<typeof list> }>();
  return (run: string | undefined, cluster: string): ReturnType<typeof list> => {
    const hit = kept.get(cluster);
    if (run !== undefined && hit && hit.run === run && Date.now() - hit.at < ttl) return hit.value;
    const value = list(cluster, o.abort);
    if (run !== undefined) {
      const entry = { run, at: Date.now(), value };
      kept.set(cluster, entry);
      value.catch(() => {
        if (kept.get(cluster) === entry) kept.delete(cluster);
      });
    }
    return value;
  };
};

let deployed: DriftHandler | undefined;

/** The deployed function: composed from its environment on the first invocation of a cold start, then kept. */
export const handler: DriftHandler = observed(
  () => ({}),
  (event: DriftEvent, context: Context) => (deployed ??= createHandler(compose(lambdaRuntime('drift')).drift))(event, context),
);
