import { withAbort } from '../../lib/core/deadline.js';
import { isPreviewJob, runPreview, type PreviewJob, type PreviewOutcome } from '../../lib/preview/run-preview.js';
import { deadlineSignal, reconcileTarget, type ReconcileDeps, type ReconcileOutcome, type ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { compose, previewDepsOf } from '../common/compose.js';
import { lambdaRuntime } from '../common/compose-lambda.js';
import { measureReconcile, observed, reconcileKeys } from '../common/observability.js';

/** The parts of the Lambda context reconcile uses. */
export interface Context {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export type ReconcileHandler = (event: ReconcileRequest | PreviewJob, context: Context) => Promise<ReconcileOutcome | PreviewOutcome>;

/**
 * The reconcile handler over composed deps: one target per invocation (an async invoke from the webhook, the
 * sweeper or `driftless trigger`), or one pull-request preview (`{ kind: 'preview' }`), under the invocation's
 * deadline. `abort` ends every invocation early (serve's shutdown).
 * @example const handler = createHandler(compose(runtime).reconcile);
 */
export const createHandler =
  (deps: Omit<ReconcileDeps, 'holder'>, o: { readonly abort?: AbortSignal } = {}): ReconcileHandler =>
  (event, context) => {
    const deadline = deadlineSignal(context.getRemainingTimeInMillis());
    const run = o.abort ? withAbort(deadline, o.abort) : deadline;
    if (isPreviewJob(event)) return runPreview(event, previewDepsOf(deps, run));
    return reconcileTarget(event, { ...deps, holder: context.awsRequestId }, run);
  };

let deployed: ReconcileHandler | undefined;

/** The deployed function: composed from its environment on the first invocation of a cold start, then kept. */
export const handler: ReconcileHandler = observed(
  (event: ReconcileRequest | PreviewJob) => (isPreviewJob(event) ? { deliveryId: event.deliveryId, target: event.repository, commit: event.headSha } : reconcileKeys(event)),
  (event: ReconcileRequest | PreviewJob, context: Context) => (deployed ??= createHandler(compose(lambdaRuntime('reconcile')).reconcile))(event, context),
  (outcome) => {
    if (!('conclusion' in outcome) && outcome.kind !== 'ignored') measureReconcile(outcome);
  },
);
