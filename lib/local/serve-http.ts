import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionUrlEvent, FunctionUrlResult } from '../../functions/common/http.js';
import { toHttpResponse } from '../../functions/common/http.js';
import { bodyTooLarge, type WebhookOutcome } from '../reconcile/handle-webhook.js';

/** How `driftless serve`'s HTTP server answers: the webhook handler for POST /webhook, a health check, 404 otherwise. */
export interface ServeHttpOptions {
  /** @default 8787 */
  readonly port?: number;
  /**
   * The deployed webhook handler (functions/webhook/handler.ts) over serve's composition; `onOutcome` is told each
   * delivery's outcome and answer.
   */
  readonly webhook: (onOutcome: (outcome: WebhookOutcome, response: FunctionUrlResult) => void) => (event: FunctionUrlEvent) => Promise<FunctionUrlResult>;
  readonly print: (line: string) => void;
}

/** A listening server on 127.0.0.1 and how to close it. */
export interface ServeHttp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The webhook endpoint of `driftless serve` on 127.0.0.1: each request becomes a Function URL event for the real
 * webhook handler, as Lambda would deliver it. A body over the limit is answered 413 as it streams, never kept.
 * One line per delivery is printed.
 */
export const startServeHttp = async (o: ServeHttpOptions): Promise<ServeHttp> => {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (!bodyTooLarge(size)) chunks.push(c); // past the limit the body is counted, not kept
    });
    req.on('end', () => {
      void (async () => {
        if (req.url === '/healthz') {
          res.writeHead(200).end('ok\n');
          return;
        }
        if (req.method !== 'POST' || !req.url?.startsWith('/webhook')) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
          return;
        }
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
        try {
          const printed = (outcome: WebhookOutcome, http: FunctionUrlResult) =>
            o.print(
              `webhook ${headers['x-github-event'] ?? '?'} ${headers['x-github-delivery'] ?? ''} → ${http.statusCode} ${outcome.kind}${'reason' in outcome ? `: ${outcome.reason}` : ` (${outcome.targets.join(', ')})`}`,
            );
          const tooLarge = bodyTooLarge(size);
          const http = tooLarge ? toHttpResponse(tooLarge) : await o.webhook(printed)({ headers, body: Buffer.concat(chunks).toString('utf8') });
          if (tooLarge) printed(tooLarge, http);
          res.writeHead(http.statusCode, http.headers).end(http.body);
        } catch (err) {
          o.print(`webhook error: ${(err as Error).message}`);
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', reason: (err as Error).message }));
        }
      })();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8787, '127.0.0.1', resolveListen);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};
