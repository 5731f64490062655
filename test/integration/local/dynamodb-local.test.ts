import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoDbClient } from '../../../lib/ledger/client.js';
import { startDynamoDbLocal } from '../../../lib/local/dynamodb-local.js';

/** An IPv4 address of this machine that is not loopback, if it has one. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host, port, timeout: 5000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const until = async (what: string, ok: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('DynamoDB Local as serve starts it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftless-ddb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!external)(
    "answers on 127.0.0.1 only, not on the machine's other addresses",
    async () => {
      const db = await startDynamoDbLocal();
      try {
        const port = Number(new URL(db.endpoint).port);
        expect(await accepts('127.0.0.1', port)).toBe(true);
        expect(await accepts(external as string, port)).toBe(false);
      } finally {
        await db.stop();
      }
    },
    90_000,
  );

  it('keeps tables on disk across a restart with the same dbPath', async () => {
    const dbPath = join(dir, 'ledger');
    const first = await startDynamoDbLocal({ dbPath });
    const c1 = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: first.endpoint });
    await c1.send(
      new CreateTableCommand({
        TableName: 'kept',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      }),
    );
    c1.destroy();
    await first.stop();
    const second = await startDynamoDbLocal({ dbPath });
    const c2 = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: second.endpoint });
    try {
      expect((await c2.send(new ListTablesCommand({}))).TableNames).toEqual(['kept']);
    } finally {
      c2.destroy();
      await second.stop();
    }
  }, 90_000);

  it('ends with its parent when the parent is killed (SIGKILL): the JVM is not orphaned', async () => {
    const script = join(dir, 'parent.mts');
    writeFileSync(
      script,
      `import { startDynamoDbLocal } from ${JSON.stringify(join(import.meta.dirname, '..', '..', '..', 'lib', 'local', 'dynamodb-local.ts'))};\n` +
        `const db = await startDynamoDbLocal();\nconsole.log('jvm ' + db.pid);\nsetInterval(() => undefined, 1000);\n`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: join(import.meta.dirname, '..', '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until('the parent reports its JVM', () => /jvm \d+/.test(out), 60_000);
    const jvm = Number(out.match(/jvm (\d+)/)?.[1]);
    expect(alive(jvm)).toBe(true);
    parent.kill('SIGKILL');
    await until('the JVM ends after its parent was killed', () => !alive(jvm));
    expect(alive(jvm)).toBe(false);
  }, 120_000);
});
