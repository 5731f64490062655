/**
 * Logs and metrics of the Lambda functions, with Powertools for AWS Lambda (the stack sets POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_LOG_LEVEL per function).
 *
 * - Logs: one JSON line per entry (Powertools Logger); every line of an invocation carries its delivery id, target
 *   and commit when the event names them (`observed` keeps them for the invocation, and only for it).
 * - Metrics: CloudWatch embedded metric format (EMF) lines on stdout, flushed at the end of each invocation:
 *   `Syncs` by `outcome` (a sync record's result, or `pending` when the lease was held), `SyncFailures`,
 *   `DriftChecks`, `DriftFound` (targets with drifted objects), `DriftCheckFailures`, `WebhookOutcomes` by `kind`,
 *   and `InvocationFailures` (the handler threw).
 * - Secret values: every value read through `hideSecret` (Secrets Manager reads call it) is replaced by
 *   `[redacted]` in messages and fields before a line is written.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { combineRedactors, createRedactor, NO_REDACTION, redactDeep, type Redactor } from '../../lib/core/redact.js';
import { targetId } from '../../lib/core/ownership.js';
import type { DriftChecks } from '../../lib/drift/run-drift.js';
import type { WebhookOutcome } from '../../lib/reconcile/handle-webhook.js';
import type { ReconcileOutcome, ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';

const SERVICE = 'driftless';
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || SERVICE, serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE });

// ---- secrets ------------------------------------------------------------------------------------------------

let redact: Redactor = NO_REDACTION;

/** A secret value this process read (and, for a JSON secret, its string fields): never written to a log line. */
export const hideSecret = (value: string): void => {
  const values = [value];
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object') for (const v of Object.values(parsed)) if (typeof v === 'string') values.push(v);
  } catch {
    // not JSON: the value as a whole
  }
  redact = combineRedactors(redact, createRedactor(values));
};

export type LogFields = Record<string, unknown>;

// ---- one invocation ----------------------------------------------------------------------------------------

/** A count of one invocation, by metric name and dimension set. */
interface Count {
  name: string;
  dimensions: Record<string, string>;
  value: number;
}

/**
 * What belongs to one invocation: its log keys and its counts. Kept per async context rather than on the Logger, so
 * that invocations that overlap in one process (`driftless serve` running the handlers) keep them apart; outside
 * `observed`, lines carry no keys and counts are published by the next `observed` flush.
 */
const invocation = new AsyncLocalStorage<{ keys: LogFields; counts: Map<string, Count> }>();
const outside = new Map<string, Count>();
const current = () => invocation.getStore() ?? { keys: {}, counts: outside };

// ---- logs ---------------------------------------------------------------------------------------------------

/** An INFO line: the message and the fields as keys (the `log` that use cases take). */
export const log = (message: string, fields?: LogFields): void => logger.info(redact(message), redactDeep({ ...current().keys, ...fields }, redact));

/** An ERROR line. */
export const logError = (message: string, fields?: LogFields): void => logger.error(redact(message), redactDeep({ ...current().keys, ...fields }, redact));

/** The keys every log line of one invocation carries. */
export interface InvocationKeys {
  readonly deliveryId?: string | undefined;
  readonly target?: string | undefined;
  readonly commit?: string | undefined;
}

/** The Lambda context, as far as the logs read it (function name, request id, cold start). */
interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName?: string;
}

const isLambdaContext = (c: unknown): c is LambdaContext => typeof c === 'object' && c !== null && typeof (c as LambdaContext).awsRequestId === 'string';

// ---- metrics ------------------------------------------------------------------------------------------------

const count = (name: string, value = 1, dimensions: Record<string, string> = {}): void => {
  if (value <= 0) return;
  const { counts } = current();
  const key = JSON.stringify([name, dimensions]);
  const c = counts.get(key);
  if (c) c.value += value;
  else counts.set(key, { name, dimensions, value });
};

/**
 * Publishes an invocation's counts: one EMF line per dimension set (EMF cannot mix dimension sets in one line).
 * Synchronous, so no other invocation's metrics join the shared Metrics store in between.
 */
const flush = (counts: Map<string, Count>): void => {
  for (const c of [...outside.values(), ...counts.values()]) {
    if (Object.keys(c.dimensions).length) {
      const single = metrics.singleMetric();
      single.addDimensions(c.dimensions);
      single.addMetric(c.name, MetricUnit.Count, c.value);
    } else metrics.addMetric(c.name, MetricUnit.Count, c.value);
  }
  outside.clear();
  counts.clear();
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
};

/** A reconcile invocation: its syncs by outcome and its failed syncs. */
export const measureReconcile = (outcome: ReconcileOutcome): void => {
  if (outcome.kind === 'pending') return count('Syncs', 1, { outcome: 'pending' });
  for (const r of outcome.records) {
    count('Syncs', 1, { outcome: r.result });
    if (r.result === 'failed' || r.result === 'timed-out') count('SyncFailures');
  }
};

/** A drift batch: targets checked, targets with drift, checks that failed (the queue retries them). */
export const measureDriftChecks = (out: DriftChecks): void => {
  count('DriftChecks', out.checks.length);
  count('DriftFound', out.checks.filter((c) => (c.report?.objects.length ?? 0) > 0).length);
  count('DriftCheckFailures', out.failures.length);
};

/** A webhook delivery: its outcome by kind, and one log line saying it. */
export const measureWebhook = (outcome: WebhookOutcome): void => {
  count('WebhookOutcomes', 1, { kind: outcome.kind });
  log('webhook delivery', { outcome: outcome.kind, ...('targets' in outcome ? { targets: outcome.targets } : {}), ...('reason' in outcome ? { reason: outcome.reason } : {}) });
};

// ---- the handler wrapper ------------------------------------------------------------------------------------

/** The invocation keys of a reconcile request. */
export const reconcileKeys = (r: ReconcileRequest): InvocationKeys => ({ deliveryId: r.deliveryId, target: targetId(r.repository, r.target), commit: r.commit });

/** The invocation keys of a Function URL delivery: GitHub's delivery id (not signed, a correlation id only). */
export const webhookKeys = (e: { readonly headers?: Record<string, string | undefined> }): InvocationKeys => ({
  deliveryId: Object.entries(e.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-github-delivery')?.[1],
});

/**
 * Wraps a handler: sets the invocation's log keys (and the Lambda context's), measures its result, counts and logs
 * a throw (then rethrows it: Lambda records the failure) and publishes the invocation's metrics.
 */
export const observed =
  <E, C, R>(keysOf: (event: E) => InvocationKeys, handler: (event: E, context: C) => Promise<R>, measure?: (result: R) => void) =>
  async (event: E, context: C): Promise<R> => {
    if (isLambdaContext(context)) logger.addContext(context);
    const keys = Object.fromEntries(Object.entries(keysOf(event)).filter(([, v]) => v !== undefined && v !== ''));
    const counts = new Map<string, Count>();
    return invocation.run({ keys, counts }, async () => {
      try {
        const result = await handler(event, context);
        measure?.(result);
        return result;
      } catch (err) {
        count('InvocationFailures');
        logError('invocation failed', { error: (err as Error).message || String(err) });
        throw err;
      } finally {
        flush(counts);
      }
    });
  };
