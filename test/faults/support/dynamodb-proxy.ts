import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with a request: pass it on, hold it until resumed, answer throttling, or drop the connection. */
export type ProxyMode = 'pass' | 'pause' | 'throttle' | 'drop';

/**
 * An HTTP proxy in front of DynamoDB Local that injects faults: a paused DynamoDB (requests wait), throttling
 * (400 ProvisionedThroughputExceededException, as DynamoDB answers it), dropped connections.
 */
export class DynamoDbFaultProxy {
  mode: ProxyMode = 'pass';
  /** With mode 'throttle': how many requests to throttle before passing again (Infinity: all). */
  throttleLeft = Infinity;
  /**
   * Throttles the `times` requests of operation `op` that follow the first `skip` of them (any mode); with
   * `bodyIncludes`, only the requests whose body holds that text count (one call's every attempt, however many
   * its deadline leaves time for).
   */
  rule: { op: string; skip: number; times: number; bodyIncludes?: string } | undefined;
  /** Passes the next `times` requests of operation `op` on, then drops the connection instead of answering: the write happened, its answer is lost (the SDK retries it). */
  loseAnswer: { op: string; times: number } | undefined;
  /** Requests seen, by DynamoDB operation (X-Amz-Target). */
  readonly operations: string[] = [];
  private readonly held: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(private readonly target: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Back to normal: held requests go on. */
  resume(): void {
    this.mode = 'pass';
    for (const go of this.held.splice(0)) go();
  }

  async stop(): Promise<void> {
    this.resume();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    this.operations.push(op);
    let throttle = this.mode === 'throttle' && this.throttleLeft > 0;
    if (this.rule && op === this.rule.op && (this.rule.bodyIncludes === undefined || Buffer.concat(chunks).includes(this.rule.bodyIncludes))) {
      if (this.rule.skip > 0) this.rule.skip--;
      else if (this.rule.times > 0) {
        this.rule.times--;
        throttle = true;
      }
    }
    if (this.mode === 'pause') await new Promise<void>((r) => this.held.push(r));
    if (this.mode === 'drop') {
      req.socket.destroy();
      return;
    }
    if (throttle) {
      if (this.mode === 'throttle' && --this.throttleLeft <= 0) this.mode = 'pass';
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'ProvisionedThroughputExceededException' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
        }),
      );
      return;
    }
    const url = new URL(req.url ?? '/', this.target);
    const lose = this.loseAnswer && op === this.loseAnswer.op && this.loseAnswer.times > 0 ? (this.loseAnswer.times--, true) : false;
    const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
      if (lose) {
        up.resume();
        up.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(up.statusCode ?? 500, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(Buffer.concat(chunks));
  }
}
