import { ENV } from '../core/env-names.js';
import { ReconcilerError } from '../core/errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A running `driftless serve` in this directory (its `.driftless/serve.json`), if any. */
export const localServe = (cwd: string): { url: string; invokeUrl: string; dynamoDbEndpoint: string; table: string; blobDir?: string } | undefined => {
  const file = join(cwd, '.driftless', 'serve.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof localServe>) : undefined;
};

/** The environment, with a local serve's ledger filled in when DRIFTLESS_TABLE is not set. */
export const withServeDefaults = (env: Record<string, string | undefined>, cwd: string): Record<string, string | undefined> => {
  if (env[ENV.table]) return env;
  const serve = localServe(cwd);
  return serve ? { ...env, [ENV.table]: serve.table, [ENV.dynamoDbEndpoint]: serve.dynamoDbEndpoint, ...(serve.blobDir ? { [ENV.ledgerBlobDir]: serve.blobDir } : {}) } : env;
};

/** The ledger named by DRIFTLESS_TABLE, at the endpoint the SDK takes from AWS_ENDPOINT_URL_DYNAMODB (or DYNAMODB_ENDPOINT). */
export const ledgerFromEnv = async (given: Record<string, string | undefined>, cwd = process.cwd()) => {
  const env = withServeDefaults(given, cwd);
  const table = env[ENV.table];
  if (!table) throw new ReconcilerError(`${ENV.table} is not set: name the ledger table (and ${ENV.dynamoDbEndpoint} for DynamoDB Local)`);
  // The AWS SDK loads only when a ledger is named: a CLI run without one starts without it.
  const [{ dynamoDbClient }, { openBlobStore }, { DynamoDbLedger }, { tableExists }] = await Promise.all([
    import('../ledger/client.js'),
    import('../ledger/open-blob-store.js'),
    import('../ledger/dynamodb-ledger.js'),
    import('../ledger/table.js'),
  ]);
  const client = dynamoDbClient(env);
  const where = env[ENV.dynamoDbEndpoint] ?? env[ENV.dynamoDbEndpointAlias] ?? 'AWS';
  try {
    if (!(await tableExists(client, table))) throw new ReconcilerError(`ledger table ${table} does not exist (${where})`);
  } catch (err) {
    client.destroy();
    if (err instanceof ReconcilerError) throw err;
    throw new ReconcilerError(`ledger table ${table}: cannot reach DynamoDB (${where}): ${(err as Error).message}`, { cause: err });
  }
  const blobs = openBlobStore(env);
  return { ledger: new DynamoDbLedger(client, table, Date.now, blobs ? { blobs } : {}), table, close: () => client.destroy() };
};
