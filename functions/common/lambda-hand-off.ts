import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ReconcilerError } from '../../lib/core/errors.js';
import type { ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import type { PreviewJob } from '../../lib/preview/run-preview.js';

/** Hands one target (or one pull-request preview) to the reconcile function with an asynchronous invoke (InvocationType Event). */
export const lambdaHandOff =
  (client: LambdaClient, functionName: string) =>
  async (request: ReconcileRequest | PreviewJob): Promise<void> => {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(request)) }));
    if (out.StatusCode !== 202) throw new ReconcilerError(`invoke of ${functionName} answered ${String(out.StatusCode)}`);
  };
