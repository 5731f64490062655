import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../core/env-names.js';

/**
 * A DynamoDB client for the ledger: adaptive retries (throttling is retried by the SDK), and the endpoint from
 * AWS_ENDPOINT_URL_DYNAMODB (or its alias DYNAMODB_ENDPOINT) for DynamoDB Local.
 */
export const dynamoDbClient = (env: Record<string, string | undefined>): DynamoDBClient => {
  const endpoint = env[ENV.dynamoDbEndpoint] ?? env[ENV.dynamoDbEndpointAlias];
  const local = endpoint !== undefined && /^https?:\/\/(localhost|127\.|\[::1\])/.test(endpoint);
  return new DynamoDBClient({
    retryMode: 'adaptive',
    maxAttempts: 8,
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (local ? 'local' : 'us-east-1'),
    // DynamoDB Local accepts any credentials; do not go looking for real ones.
    ...(local && !env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
};
