import { deadlineSignal, reconcileTarget, type ReconcileOutcome, type ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { isPreviewJob, runPreview, type PreviewJob, type PreviewOutcome } from '../../lib/preview/run-preview.js';
import { composeReconcile, previewDepsOf } from '../common/compose.js';
import { measureReconcile, observed, reconcileKeys } from '../common/observability.js';

const deps = composeReconcile(); // cold start: config and clients, once

/** The parts of the Lambda context reconcile uses. */
interface Context {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** One target per invocation (an async invoke from the webhook, the sweeper or `driftless trigger`), or one pull-request preview. */
export const handler = observed(
  (event: ReconcileRequest | PreviewJob) => (isPreviewJob(event) ? { deliveryId: event.deliveryId, target: event.repository, commit: event.headSha } : reconcileKeys(event)),
  async (event: ReconcileRequest | PreviewJob, context: Context): Promise<ReconcileOutcome | PreviewOutcome> =>
    isPreviewJob(event)
      ? runPreview(event, previewDepsOf(deps, deadlineSignal(context.getRemainingTimeInMillis())))
      : reconcileTarget(event, { ...deps, holder: context.awsRequestId }, deadlineSignal(context.getRemainingTimeInMillis())),
  (outcome) => {
    if (!('conclusion' in outcome) && outcome.kind !== 'ignored') measureReconcile(outcome);
  },
);
