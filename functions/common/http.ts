/** Function URL event ⇄ webhook request/outcome mapping (shared with `driftless serve`). */
import type { WebhookOutcome, WebhookRequest } from '../../lib/reconcile/handle-webhook.js';

/** The parts of a Lambda Function URL (payload v2) event the webhook reads. */
export interface FunctionUrlEvent {
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Keeps the raw body (decoding base64) and lower-cases header names; nothing is parsed here. */
export const toWebhookRequest = (event: FunctionUrlEvent): WebhookRequest => ({
  body: event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
  headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
});

/** The only place that knows HTTP status codes. */
export const toHttpResponse = (outcome: WebhookOutcome): FunctionUrlResult => {
  const status = outcome.kind === 'accepted' ? 202 : outcome.kind === 'rejected' ? outcome.status : outcome.kind === 'failed' ? 502 : 200;
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      outcome.kind === 'accepted'
        ? { status: 'accepted', targets: outcome.targets, ...(outcome.preview ? { preview: outcome.preview } : {}) }
        : outcome.kind === 'invalid'
          ? { status: 'invalid', reason: outcome.reason, targets: outcome.targets }
          : { status: outcome.kind, reason: outcome.reason },
    ),
  };
};
