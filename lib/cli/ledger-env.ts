import { ENV } from '../core/env-names.js';
import { ReconcilerError } from '../core/errors.js';
import { dynamoDbClient } from '../ledger/client.js';
import { DynamoDbLedger } from '../ledger/dynamodb-ledger.js';
import { tableExists } from '../ledger/table.js';

/** The ledger named by DRIFTLESS_TABLE, at the endpoint the SDK takes from AWS_ENDPOINT_URL_DYNAMODB (or DYNAMODB_ENDPOINT). */
export const ledgerFromEnv = async (env: Record<string, string | undefined>) => {
  const table = env[ENV.table];
  if (!table) throw new ReconcilerError(`${ENV.table} is not set: name the ledger table (and ${ENV.dynamoDbEndpoint} for DynamoDB Local)`);
  const client = dynamoDbClient(env);
  const where = env[ENV.dynamoDbEndpoint] ?? env[ENV.dynamoDbEndpointAlias] ?? 'AWS';
  try {
    if (!(await tableExists(client, table))) throw new ReconcilerError(`ledger table ${table} does not exist (${where})`);
  } catch (err) {
    client.destroy();
    if (err instanceof ReconcilerError) throw err;
    throw new ReconcilerError(`ledger table ${table}: cannot reach DynamoDB (${where}): ${(err as Error).message}`, { cause: err });
  }
  return { ledger: new DynamoDbLedger(client, table), table, close: () => client.destroy() };
};
