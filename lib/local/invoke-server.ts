import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Lambda's limit for a synchronous invocation's payload (6 MB). */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** A function the local Invoke endpoint runs in-process: the same handler Lambda runs. */
export type LocalFunction = (event: unknown, context: { awsRequestId: string; getRemainingTimeInMillis(): number }) => Promise<unknown>;

/**
 * A small Lambda Invoke API endpoint (`POST /2015-03-31/functions/{name}/invocations`) so the real
 * LambdaClient (pointed at it with AWS_ENDPOINT_URL_LAMBDA) hands work to handlers running in this process.
 * `Event` invocations answer 202 and run in the background; `RequestResponse` waits for the result.
 */
export class LocalInvokeServer {
  private readonly server: Server;
  private readonly running = new Set<Promise<unknown>>();
  readonly invocations: { functionName: string; type: string; event: unknown }[] = [];
  /** Called when a background invocation fails (Lambda would retry it twice, then send it to the DLQ). */
  onError: (functionName: string, err: unknown) => void = () => undefined;
  /** Answer with this status instead of invoking (tests of a failed hand-off). */
  failNext: { status: number; times: number } | undefined;

  constructor(
    private readonly functions: Record<string, LocalFunction>,
    private readonly timeoutMs = 15 * 60_000,
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_PAYLOAD_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        if (size > MAX_PAYLOAD_BYTES) {
          res.writeHead(413, { 'content-type': 'application/json', 'x-amzn-errortype': 'RequestTooLargeException' });
          res.end(JSON.stringify({ message: `payload of ${size} bytes is over Lambda's ${MAX_PAYLOAD_BYTES}` }));
          return;
        }
        const m = req.url?.match(/^\/2015-03-31\/functions\/([^/]+)\/invocations/);
        let name = '';
        try {
          name = m
            ? (decodeURIComponent(m[1] as string)
                .split(':')
                .pop() ?? '')
            : '';
        } catch {
          // A malformed escape (`%E0`) names no function.
        }
        // Only the functions serve runs answer: an own property, so `constructor` or `__proto__` is a 404, not a crash.
        const fn = Object.hasOwn(this.functions, name) ? this.functions[name] : undefined;
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
          res.end(body === undefined ? '' : JSON.stringify(body));
        };
        if (typeof fn !== 'function') return send(404, { Type: 'User', message: `Function not found: ${name.slice(0, 140)}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        if (this.failNext && this.failNext.times > 0) {
          this.failNext.times--;
          return send(this.failNext.status, { message: 'injected failure' }, { 'x-amzn-errortype': 'ServiceException' });
        }
        const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
        let event: unknown;
        try {
          event = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          return send(400, { message: 'payload is not JSON' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
        }
        this.invocations.push({ functionName: name, type, event });
        const deadline = Date.now() + this.timeoutMs;
        const context = { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() };
        if (type === 'DryRun') return send(204, undefined);
        const run = fn(event, context);
        if (type === 'Event') {
          const tracked = run.catch((err: unknown) => this.onError(name, err)).finally(() => this.running.delete(tracked));
          this.running.add(tracked);
          return send(202, undefined);
        }
        run.then(
          (result) => send(200, result ?? null, { 'x-amz-executed-version': '$LATEST' }),
          (err: unknown) => send(200, { errorMessage: (err as Error).message, errorType: (err as Error).name }, { 'x-amz-function-error': 'Unhandled' }),
        );
        return undefined;
      });
    });
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when every background invocation (and any it started) has finished. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  async stop(): Promise<void> {
    await this.idle();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
