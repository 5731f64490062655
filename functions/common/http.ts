/** Function URL event ⇄ webhook request/outcome mapping (shared with `driftless serve`). */
export { toHttpResponse, toWebhookRequest, type FunctionUrlEvent, type FunctionUrlResult } from '../../lib/reconcile/webhook-http.js';
