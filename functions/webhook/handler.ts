import { handleWebhook } from '../../lib/reconcile/handle-webhook.js';
import { composeWebhook } from './compose.js';
import { toHttpResponse, toWebhookRequest, type FunctionUrlEvent, type FunctionUrlResult } from '../shared/http.js';

const deps = composeWebhook(); // cold start: config and clients, once

/** Lambda Function URL → verify → hand off → 202 (`functions/shared/http.ts` maps outcomes to status codes). */
export const handler = async (event: FunctionUrlEvent): Promise<FunctionUrlResult> =>
  toHttpResponse(await handleWebhook(toWebhookRequest(event), { ...deps, secrets: await deps.secrets() }));
