/** Environment variable names shared by infra/, functions/ and the CLI (strings only). */
export const ENV = {
  /** The ledger table. */
  table: 'DRIFTLESS_TABLE',
  /** The SDK's own DynamoDB endpoint override (DynamoDB Local). */
  dynamoDbEndpoint: 'AWS_ENDPOINT_URL_DYNAMODB',
  /** Accepted alias of the above. */
  dynamoDbEndpointAlias: 'DYNAMODB_ENDPOINT',
  /** The SDK's own Lambda endpoint override (the local Invoke endpoint). */
  lambdaEndpoint: 'AWS_ENDPOINT_URL_LAMBDA',
  /** A local registry file (CLI, serve). */
  registry: 'DRIFTLESS_REGISTRY',
} as const;
