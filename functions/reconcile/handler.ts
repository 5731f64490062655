import { withAbort } from '../../lib/core/deadline.js';
import { deadlineSignal, reconcileTarget, type ReconcileDeps, type ReconcileOutcome, type ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { compose } from '../common/compose.js';
import { lambdaRuntime } from '../common/compose-lambda.js';

/** The parts of the Lambda context reconcile uses. */
export interface Context {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export type ReconcileHandler = (event: ReconcileRequest, context: Context) => Promise<ReconcileOutcome>;

/**
 * The reconcile handler over composed deps: one target per invocation (an async invoke from the webhook, the
 * sweeper or `driftless trigger`), under the invocation's deadline. `abort` ends every invocation early (serve's
 * shutdown).
 * @example const handler = createHandler(compose(runtime).reconcile);
 */
export const createHandler =
  (deps: Omit<ReconcileDeps, 'holder'>, o: { readonly abort?: AbortSignal } = {}): ReconcileHandler =>
  (event, context) => {
    const deadline = deadlineSignal(context.getRemainingTimeInMillis());
    return reconcileTarget(event, { ...deps, holder: context.awsRequestId }, o.abort ? withAbort(deadline, o.abort) : deadline);
  };

let deployed: ReconcileHandler | undefined;

/** The deployed function: composed from its environment on the first invocation of a cold start, then kept. */
export const handler: ReconcileHandler = (event, context) => (deployed ??= createHandler(compose(lambdaRuntime('reconcile')).reconcile))(event, context);
