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
  /** The registry as JSON (deployed: from CDK context). */
  registryJson: 'DRIFTLESS_REGISTRY_JSON',
  /** A local registry file (CLI, serve). */
  registry: 'DRIFTLESS_REGISTRY',
  /** The drift function's name or ARN (the schedule's run invokes it once per target). */
  driftFunction: 'DRIFTLESS_DRIFT_FUNCTION',
  /** The drift queue (SQS FIFO): the scheduled run enqueues one message per target, the drift function consumes them. */
  driftQueueUrl: 'DRIFTLESS_DRIFT_QUEUE_URL',
  /** Checks in flight at once per cluster in one batch of the drift queue. */
  driftPerCluster: 'DRIFTLESS_DRIFT_PER_CLUSTER',
  /** `true`: a `driftless/<target>` status per target as well as the commit's one report (two writes per target). */
  perTargetStatuses: 'DRIFTLESS_PER_TARGET_STATUSES',
  /** The reconcile function's name or ARN (the webhook hands work to it). */
  reconcileFunction: 'DRIFTLESS_RECONCILE_FUNCTION',
  /** Secrets Manager ids (deployed). */
  webhookSecretId: 'DRIFTLESS_WEBHOOK_SECRET_ID',
  webhookSecretPreviousId: 'DRIFTLESS_WEBHOOK_SECRET_PREVIOUS_ID',
  githubSecretId: 'DRIFTLESS_GITHUB_SECRET_ID',
  slackSecretId: 'DRIFTLESS_SLACK_SECRET_ID',
  /** Secret values given directly (local: serve, tests). */
  webhookSecret: 'DRIFTLESS_WEBHOOK_SECRET',
  webhookSecretPrevious: 'DRIFTLESS_WEBHOOK_SECRET_PREVIOUS',
  githubToken: 'GITHUB_TOKEN',
  slackWebhookUrl: 'SLACK_WEBHOOK_URL',
  /** GitHub API base URL (GitHub Enterprise, or a local test endpoint). */
  githubApiUrl: 'DRIFTLESS_GITHUB_API_URL',
  /** The artifact bucket for templates over 51,200 bytes. */
  artifactBucket: 'DRIFTLESS_ARTIFACT_BUCKET',
  /** A local serve's directory for ledger values over an item (the artifact bucket's `ledger/` when deployed). */
  ledgerBlobDir: 'DRIFTLESS_LEDGER_BLOB_DIR',
  /** The CloudFormation service role stack targets are applied with. */
  cloudFormationRole: 'DRIFTLESS_CLOUDFORMATION_ROLE',
  /** Helm chart repository credentials: JSON given directly (local), or a Secrets Manager id (deployed). */
  helmCredentials: 'DRIFTLESS_HELM_CREDENTIALS',
  helmCredentialsSecretId: 'DRIFTLESS_HELM_CREDENTIALS_SECRET_ID',
  /** Where pulled charts are cached locally (default .driftless/cache; /tmp/driftless-cache in Lambda). */
  cacheDir: 'DRIFTLESS_CACHE_DIR',
  /** Largest webhook body accepted, in bytes. */
  maxBodyBytes: 'DRIFTLESS_MAX_BODY_BYTES',
} as const;

/**
 * Ledger values over a DynamoDB item live in the artifact bucket under `prefix`; a blob the ledger retired is tagged
 * `retiredTag` and expires after `graceDays` (the stack's lifecycle rule), long after any reader of the old item.
 */
export const LEDGER_BLOBS = { prefix: 'ledger/', retiredTag: { key: 'driftless-ledger', value: 'retired' }, graceDays: 2 } as const;
