import { InvokeCommand } from '@aws-sdk/client-lambda';
import { checkTarget, type TargetCheck } from '../../lib/drift/check-target.js';
import { runDrift, type DriftRun } from '../../lib/drift/run-drift.js';
import { sweep } from '../../lib/drift/sweep.js';
import { deadlineSignal } from '../../lib/reconcile/reconcile-target.js';
import { composeDrift } from '../shared/compose.js';
import type { ObjectRef } from '../../lib/core/object-ref.js';
import { labelledByTarget } from '../../lib/targets/kubernetes/labelled-objects.js';

const deps = composeDrift(); // cold start: config and clients, once

interface Context {
  readonly invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

/**
 * EventBridge schedule → the sweeper, then a drift run that checks each target in an invocation of its own
 * (`{ "check": "owner/repo/target" }`) and posts one Slack message when drift is new, changed or resolved.
 */
export const handler = async (event: { check?: string; labelled?: ObjectRef[] }, context: Context): Promise<TargetCheck | (DriftRun & { sweep: number })> => {
  if (event.check) return checkTarget(event.check, deps.check, deadlineSignal(context.getRemainingTimeInMillis()), event.labelled);
  const swept = await sweep(deps.sweep);
  const self = deps.driftFunction ?? context.invokedFunctionArn;
  const run = await runDrift({
    ledger: deps.ledger,
    check: async (targetId, labelled) => {
      const payload = { check: targetId, ...(labelled ? { labelled } : {}) };
      const out = await deps.lambda.send(new InvokeCommand({ FunctionName: self, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) }));
      const body = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8') || '{}') as TargetCheck & { errorMessage?: string };
      return out.FunctionError ? { targetId, suspended: false, healed: false, error: body.errorMessage ?? 'check failed' } : body;
    },
    // One LIST per kind per cluster finds labelled objects for all of its targets; each check gets its share.
    labelled: async (cluster) => labelledByTarget(await deps.check.cluster(cluster)),
    ...(deps.post ? { post: deps.post } : {}),
  });
  return { ...run, sweep: swept.handedOff.length };
};
