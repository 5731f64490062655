import { handleWebhook, type WebhookOutcome } from '../../lib/reconcile/handle-webhook.js';
import { compose, type ComposedWebhook } from '../common/compose.js';
import { webhookRuntime } from './compose-runtime.js';
import { logError, measureWebhook, observed, webhookKeys } from '../common/observability.js';
import { toHttpResponse, toWebhookRequest, type FunctionUrlEvent, type FunctionUrlResult } from '../common/http.js';

export type WebhookHandler = (event: FunctionUrlEvent, context?: unknown) => Promise<FunctionUrlResult>;

/**
 * The webhook handler over composed deps: Function URL → verify → hand off → 202 (`functions/common/http.ts` maps
 * outcomes to status codes). `onOutcome` sees each delivery's outcome and answer (serve prints them).
 * @example const handler = createHandler(compose(runtime).webhook);
 */
export const createHandler =
  (deps: ComposedWebhook, o: { readonly onOutcome?: (outcome: WebhookOutcome, response: FunctionUrlResult) => void } = {}): WebhookHandler =>
  async (event) => {
    let secrets: string[];
    try {
      secrets = await deps.secrets();
    } catch (err) {
      // Not the sender's fault: answer 502 so GitHub shows the delivery as failed and it can be redelivered.
      const reason = (err as Error).message;
      logError('webhook secret unavailable', { reason });
      const outcome: WebhookOutcome = { kind: 'failed', reason: 'webhook secret unavailable' };
      const response = toHttpResponse(outcome);
      o.onOutcome?.(outcome, response);
      return response;
    }
    const outcome = await handleWebhook(toWebhookRequest(event), { ...deps, secrets });
    const response = toHttpResponse(outcome);
    o.onOutcome?.(outcome, response);
    return response;
  };

let deployed: WebhookHandler | undefined;

/** The deployed function: composed from its environment on the first delivery of a cold start, then kept. */
export const handler: WebhookHandler = observed(webhookKeys, (event: FunctionUrlEvent) =>
  (deployed ??= createHandler(compose(webhookRuntime()).webhook, { onOutcome: (outcome) => measureWebhook(outcome) }))(event),
);
