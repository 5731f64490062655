import { handleWebhook } from '../../lib/reconcile/handle-webhook.js';
import { composeWebhook } from './compose.js';
import { logError, measureWebhook, observed, webhookKeys } from '../common/observability.js';
import { toHttpResponse, toWebhookRequest, type FunctionUrlEvent, type FunctionUrlResult } from '../common/http.js';

const deps = composeWebhook(); // cold start: config and clients, once

/** Lambda Function URL → verify → hand off → 202 (`functions/common/http.ts` maps outcomes to status codes). */
const webhook = async (event: FunctionUrlEvent): Promise<FunctionUrlResult> => {
  let secrets: string[];
  try {
    secrets = await deps.secrets();
  } catch (err) {
    // Not the sender's fault: answer 502 so GitHub shows the delivery as failed and it can be redelivered.
    const reason = (err as Error).message;
    logError('webhook secret unavailable', { reason });
    measureWebhook({ kind: 'failed', reason: 'webhook secret unavailable' });
    return toHttpResponse({ kind: 'failed', reason: 'webhook secret unavailable' });
  }
  const outcome = await handleWebhook(toWebhookRequest(event), { ...deps, secrets });
  measureWebhook(outcome);
  return toHttpResponse(outcome);
};

export const handler = observed(webhookKeys, webhook);
