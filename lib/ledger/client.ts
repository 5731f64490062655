import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../core/env-names.js';

/**
 * A DynamoDB client for the ledger: adaptive retries (throttling is retried by the SDK), a deadline per HTTP
 * attempt (a paused DynamoDB fails the attempt instead of hanging it), and the endpoint from
 * AWS_ENDPOINT_URL_DYNAMODB (or its alias DYNAMODB_ENDPOINT) for DynamoDB Local.
 * @param options.requestTimeoutMs deadline of one attempt @default 3000
 * @param options.maxAttempts @default 8
 */
export const dynamoDbClient = (env: Record<string, string | undefined>, options: { requestTimeoutMs?: number; maxAttempts?: number } = {}): DynamoDBClient => {
  const endpoint = env[ENV.dynamoDbEndpoint] ?? env[ENV.dynamoDbEndpointAlias];
  const local = endpoint !== undefined && /^https?:\/\/(localhost|127\.|\[::1\])/.test(endpoint);
  return new DynamoDBClient({
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 3000, connectionTimeout: Math.min(1000, options.requestTimeoutMs ?? 3000), throwOnRequestTimeout: true },
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (local ? 'local' : 'us-east-1'),
    // DynamoDB Local accepts any credentials; do not go looking for real ones.
    ...(local && !env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
};
