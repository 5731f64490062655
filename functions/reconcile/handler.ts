import { deadlineSignal, reconcileTarget, type ReconcileOutcome, type ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { composeReconcile } from '../common/compose.js';
import { measureReconcile, observed, reconcileKeys } from '../common/observability.js';

const deps = composeReconcile(); // cold start: config and clients, once

/** The parts of the Lambda context reconcile uses. */
interface Context {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** One target per invocation (an async invoke from the webhook, the sweeper or `driftless trigger`). */
export const handler = observed(
  reconcileKeys,
  async (event: ReconcileRequest, context: Context): Promise<ReconcileOutcome> =>
    reconcileTarget(event, { ...deps, holder: context.awsRequestId }, deadlineSignal(context.getRemainingTimeInMillis())),
  measureReconcile,
);
