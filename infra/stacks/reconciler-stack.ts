import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { KubectlV31Layer } from '@aws-cdk/lambda-layer-kubectl-v31';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, LEDGER_BLOBS } from '../../lib/core/env-names.js';
import { parseRegistry } from '../../lib/config/load-config.js';
import { overlapMessage, overlappingStackPrefixes } from '../../lib/config/stack-grants.js';
import { ReconcilerError } from '../../lib/core/errors.js';
import { LEDGER_ACCESS } from '../constructs/ledger-access.js';
import { ReconcilerFunction } from '../constructs/reconciler-function.js';

/** The registry, as the stack reads it (DESIGN.md, "Trust"); validated like the functions validate it. */
export interface RegistryJson {
  repositories: Record<
    string,
    {
      clusters?: string[];
      namespaces?: string[];
      stackPrefix?: string;
      regions?: string[];
      adopt?: boolean;
      cloudformation?: { roleArns?: string[]; capabilities?: string[] };
      [field: string]: unknown;
    }
  >;
  clusters: Record<string, { eks?: { name: string; region: string }; kubeconfigSecret?: string; [field: string]: unknown }>;
}

/** Reserved concurrency per function. */
export interface ReservedConcurrency {
  /** GitHub does not retry a throttled delivery (the sweeper catches up). @default 20 */
  readonly webhook?: number;
  /** One target per invocation; throttled async invocations are retried for up to an hour. @default 20 */
  readonly reconcile?: number;
  /** The schedule's run plus the drift queue's consumers (`drift.maxConcurrency`, which must leave it one). @default 10 */
  readonly drift?: number;
}

/** How the drift run fans out: one message per target on an SQS FIFO queue, grouped by cluster. */
export interface DriftFanOut {
  /**
   * Drift function invocations consuming the queue at once (SQS event source maximum concurrency, 2 to 1,000).
   * @default 8, or `reservedConcurrency.drift` − 1 when that is less
   */
  readonly maxConcurrency?: number;
  /** Checks in flight at once per cluster (or stack region): one batch of a cluster's messages is handled at a time. @default 4 */
  readonly perCluster?: number;
  /** Messages per invocation (targets checked by one invocation). @default 10 */
  readonly batchSize?: number;
  /** Receives of a message whose check fails before it goes to the drift dead-letter queue. @default 3 */
  readonly maxReceiveCount?: number;
}

/** Defaults of `drift`. */
export const DEFAULT_DRIFT_FAN_OUT = { maxConcurrency: 8, perCluster: 4, batchSize: 10, maxReceiveCount: 3 } as const satisfies Required<DriftFanOut>;

/** Defaults of `reservedConcurrency`: 50 in all, so the account keeps its 100 unreserved on a 1,000 quota. */
export const DEFAULT_RESERVED_CONCURRENCY = { webhook: 20, reconcile: 20, drift: 10 } as const satisfies Required<ReservedConcurrency>;

export interface ReconcilerStackProps extends StackProps {
  /** Which repositories may write where; decides which clusters, stacks and secrets the functions reach. */
  readonly registry: RegistryJson;
  /** Minutes between drift runs. @default 15 */
  readonly driftRateMinutes?: number;
  /**
   * Reserved concurrency per function: bounds what a flood of webhooks can cost and keeps one function from
   * starving the others. `false` reserves none (accounts whose quota cannot spare 100 unreserved).
   * @default DEFAULT_RESERVED_CONCURRENCY (webhook 20, reconcile 20, drift 10)
   */
  readonly reservedConcurrency?: ReservedConcurrency | false;
  /** The drift run's fan-out on its queue. @default DEFAULT_DRIFT_FAN_OUT (8 consumers, 4 checks per cluster, batches of 10, 3 receives) */
  readonly drift?: DriftFanOut;
  /** @deprecated use `reservedConcurrency.reconcile` */
  readonly reconcileReservedConcurrency?: number;
  /** Secret names. @default driftless/webhook-secret, driftless/webhook-secret-previous, driftless/github, driftless/slack-webhook */
  readonly secretNames?: { webhook?: string; webhookPrevious?: string; github?: string; slack?: string; helmCredentials?: string };
  /** Optional VPC placement for private EKS endpoints (no lookups: synth stays offline). @default no VPC */
  readonly vpc?: { vpcId: string; availabilityZones: string[]; subnetIds: string[]; securityGroupId: string };
}

/**
 * The reconciler's own stack: webhook (Function URL, HMAC checked in code), reconcile and drift functions, the
 * ledger table, an artifact bucket, a CloudFormation service role, the drift schedule and queue, dead-letter queues and alarms.
 * @example
 * new ReconcilerStack(app, 'Driftless', { registry });
 */
export class ReconcilerStack extends Stack {
  constructor(scope: Construct, id: string, props: ReconcilerStackProps) {
    super(scope, id, props);
    // The registry is checked here as the functions check it at cold start: a bad one fails the synth, not a deploy.
    const overlaps = overlappingStackPrefixes(props.registry.repositories);
    if (overlaps.length) throw new ReconcilerError(`registry: ${overlaps.map((pair) => overlapMessage(props.registry.repositories, pair)).join('; ')}`);
    const registry = parseRegistry(JSON.stringify(props.registry), 'registry');
    const reserved =
      props.reservedConcurrency === false
        ? undefined
        : {
            ...DEFAULT_RESERVED_CONCURRENCY,
            ...(props.reconcileReservedConcurrency !== undefined ? { reconcile: props.reconcileReservedConcurrency } : {}),
            ...props.reservedConcurrency,
          };
    // Without an explicit maximum, the consumers take what the reserved drift invocations leave the scheduled run.
    const fanOut = { ...DEFAULT_DRIFT_FAN_OUT, ...(reserved ? { maxConcurrency: Math.min(DEFAULT_DRIFT_FAN_OUT.maxConcurrency, reserved.drift - 1) } : {}), ...props.drift };
    const whole = (name: string, v: number, min: number, max: number) => {
      if (!Number.isInteger(v) || v < min || v > max) throw new ReconcilerError(`drift.${name}: expected a whole number from ${min} to ${max}, not ${v}`);
    };
    whole('maxConcurrency', fanOut.maxConcurrency, 2, 1000);
    whole('perCluster', fanOut.perCluster, 1, 100);
    whole('batchSize', fanOut.batchSize, 1, 10);
    whole('maxReceiveCount', fanOut.maxReceiveCount, 1, 1000);
    if (reserved && fanOut.maxConcurrency >= reserved.drift) {
      throw new ReconcilerError(
        `drift.maxConcurrency ${fanOut.maxConcurrency} must be below reservedConcurrency.drift ${reserved.drift}: the scheduled run needs an invocation of its own`,
      );
    }
    const names = {
      webhook: 'driftless/webhook-secret',
      webhookPrevious: 'driftless/webhook-secret-previous',
      github: 'driftless/github',
      slack: 'driftless/slack-webhook',
      helmCredentials: 'driftless/helm-repositories',
      ...props.secretNames,
    };

    const table = new Table(this, 'SyncLedger', {
      partitionKey: { name: 'PK', type: AttributeType.STRING },
      sortKey: { name: 'SK', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const ix of ['GSI1', 'GSI2']) {
      table.addGlobalSecondaryIndex({ indexName: ix, partitionKey: { name: `${ix}PK`, type: AttributeType.STRING }, sortKey: { name: `${ix}SK`, type: AttributeType.STRING } });
    }

    const artifacts = new Bucket(this, 'Artifacts', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      // Staged templates and cached Helm charts are temporary; ledger blobs live as long as the item that names them
      // (a retired one, tagged by the ledger when a later write replaced it, goes after the grace period).
      lifecycleRules: [
        { prefix: 'templates/', expiration: Duration.days(7) },
        { prefix: 'helm-charts/', expiration: Duration.days(7) },
        { prefix: LEDGER_BLOBS.prefix, tagFilters: { [LEDGER_BLOBS.retiredTag.key]: LEDGER_BLOBS.retiredTag.value }, expiration: Duration.days(LEDGER_BLOBS.graceDays) },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });

    const dlq = new Queue(this, 'DeadLetters', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });

    const cfnRole = new Role(this, 'CloudFormationServiceRole', {
      assumedBy: new ServicePrincipal('cloudformation.amazonaws.com'),
      description: 'Role CloudFormation assumes for stack targets; attach the permissions your stacks need',
    });

    const secret = (id: string, name: string) => Secret.fromSecretNameV2(this, id, name);
    const webhookSecret = secret('WebhookSecret', names.webhook);
    const webhookPrevious = secret('WebhookSecretPrevious', names.webhookPrevious);
    const github = secret('GitHubSecret', names.github);
    const slack = secret('SlackSecret', names.slack);
    const helmCredentials = secret('HelmCredentialsSecret', names.helmCredentials);
    const kubeconfigSecrets = Object.values(props.registry.clusters)
      .map((c) => c.kubeconfigSecret)
      .filter((n): n is string => Boolean(n));

    const vpc = props.vpc
      ? {
          vpc: Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpc.vpcId, availabilityZones: props.vpc.availabilityZones }),
          subnets: props.vpc.subnetIds.map((s, i) => Subnet.fromSubnetId(this, `Subnet${i}`, s)),
          securityGroups: [SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', props.vpc.securityGroupId)],
        }
      : undefined;
    const registryJson = JSON.stringify(props.registry);
    const common = { [ENV.registryJson]: registryJson };

    // Helm 3.17.3 for the functions that render (reconcile, drift): the layer's binary is x86-64, so those two run
    // on x86-64 rather than handing each chart to a Helm function of its own (see README, Helm charts).
    const helmLayer = new KubectlV31Layer(this, 'HelmLayer');
    const reconcile = new ReconcilerFunction(this, 'Reconcile', {
      name: 'reconcile',
      helmLayer,
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: common,
      ...(reserved ? { reservedConcurrency: reserved.reconcile } : {}),
      ...(vpc ? { vpc } : {}),
    })
      .bindLedger(table, ENV.table, LEDGER_ACCESS.reconcile)
      .bindSecret(github, ENV.githubSecretId)
      .bindSecret(slack, ENV.slackSecretId)
      .bindSecret(helmCredentials, ENV.helmCredentialsSecretId);
    reconcile.fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new SqsDestination(dlq) });

    const webhook = new ReconcilerFunction(this, 'Webhook', {
      name: 'webhook',
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: common,
      ...(reserved ? { reservedConcurrency: reserved.webhook } : {}),
    })
      .bindLedger(table, ENV.table, LEDGER_ACCESS.webhook)
      .bindSecret(webhookSecret, ENV.webhookSecretId)
      .bindSecret(webhookPrevious, ENV.webhookSecretPreviousId)
      .bindSecret(github, ENV.githubSecretId);
    webhook.fn.addEnvironment(ENV.reconcileFunction, reconcile.fn.functionName);
    reconcile.fn.grantInvoke(webhook.fn);
    const url = webhook.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });

    const drift = new ReconcilerFunction(this, 'Drift', {
      name: 'drift',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: common,
      helmLayer,
      ...(reserved ? { reservedConcurrency: reserved.drift } : {}),
      ...(vpc ? { vpc } : {}),
    })
      .bindLedger(table, ENV.table, LEDGER_ACCESS.drift)
      .bindSecret(github, ENV.githubSecretId)
      .bindSecret(slack, ENV.slackSecretId)
      .bindSecret(helmCredentials, ENV.helmCredentialsSecretId);
    // Pulled Helm charts are cached in the artifact bucket under helm-charts/, shared by both rendering functions.
    for (const fn of [reconcile.fn, drift.fn]) {
      artifacts.grantReadWrite(fn, 'helm-charts/*');
      fn.addEnvironment(ENV.artifactBucket, artifacts.bucketName);
      // Ledger values over an item (inventories, change sets, drift reports): read, write and retire, never delete.
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging'], resources: [artifacts.arnForObjects(`${LEDGER_BLOBS.prefix}*`)] }),
      );
    }
    drift.fn.addEnvironment(ENV.reconcileFunction, reconcile.fn.functionName);
    reconcile.fn.grantInvoke(drift.fn);

    // The drift fan-out: the scheduled run enqueues one message per target (FIFO, grouped by cluster, so one batch
    // of a cluster is checked at a time), the same function consumes the queue; failed checks are retried, then
    // dead-lettered with the target in the body and the `target` attribute.
    const driftDeadLetters = new Queue(this, 'DriftDeadLetters', { fifo: true, encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    const driftQueue = new Queue(this, 'DriftQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // At least the function's timeout (Lambda refuses less); twice it, so a throttled batch is not received again mid-check.
      visibilityTimeout: Duration.minutes(30),
      retentionPeriod: Duration.hours(4),
      deadLetterQueue: { queue: driftDeadLetters, maxReceiveCount: fanOut.maxReceiveCount },
    });
    driftQueue.grantSendMessages(drift.fn);
    drift.fn.addEnvironment(ENV.driftQueueUrl, driftQueue.queueUrl);
    drift.fn.addEnvironment(ENV.driftPerCluster, String(fanOut.perCluster));
    drift.fn.addEventSource(new SqsEventSource(driftQueue, { batchSize: fanOut.batchSize, maxConcurrency: fanOut.maxConcurrency, reportBatchItemFailures: true }));
    const rate = props.driftRateMinutes ?? 15;
    const schedule = new Rule(this, 'DriftSchedule', { schedule: Schedule.rate(Duration.minutes(rate)), targets: [new LambdaFunction(drift.fn)] });

    // Cluster and stack access, from the registry only.
    const kubeconfigs = kubeconfigSecrets.map((name, i) => Secret.fromSecretNameV2(this, `Kubeconfig${i}`, name));
    for (const fn of [reconcile.fn, drift.fn]) {
      for (const k of kubeconfigs) k.grantRead(fn);
      const eks = Object.values(props.registry.clusters).flatMap((c) => (c.eks ? [c.eks] : []));
      if (eks.length) {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['eks:DescribeCluster'],
            resources: eks.map((c) => this.formatArn({ service: 'eks', region: c.region, resource: 'cluster', resourceName: c.name })),
          }),
        );
      }
    }
    const stackArns = Object.values(props.registry.repositories).flatMap((r) =>
      r.stackPrefix
        ? (r.regions ?? [this.region]).map((region) => this.formatArn({ service: 'cloudformation', region, resource: 'stack', resourceName: `${r.stackPrefix}*/*` }))
        : [],
    );
    if (stackArns.length) {
      reconcile.fn.addToRolePolicy(
        new PolicyStatement({
          actions: [
            'cloudformation:CreateChangeSet',
            'cloudformation:DescribeChangeSet',
            'cloudformation:ExecuteChangeSet',
            'cloudformation:DeleteChangeSet',
            'cloudformation:DescribeStacks',
            'cloudformation:DescribeStackEvents',
            // Pre-deployment validation findings of a change set (plans and previews report them).
            'cloudformation:DescribeEvents',
            'cloudformation:DeleteStack',
            'cloudformation:DetectStackDrift',
            'cloudformation:DescribeStackDriftDetectionStatus',
            'cloudformation:DescribeStackResourceDrifts',
            'cloudformation:GetTemplate',
          ],
          resources: stackArns,
        }),
      );
      // The deployment's service role, and the roles the registry grants to repositories: nothing else.
      const grantedRoles = [...new Set(Object.values(registry.repositories).flatMap((r) => (r.stackPrefix ? r.cloudformation.roleArns : [])))].sort();
      reconcile.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [cfnRole.roleArn, ...grantedRoles],
          conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
        }),
      );
      // Templates over 51,200 bytes are staged under templates/ (CloudFormation reads them with the caller's rights).
      artifacts.grantReadWrite(reconcile.fn, 'templates/*');
      reconcile.fn.addEnvironment(ENV.cloudFormationRole, cfnRole.roleArn);
      drift.fn.addToRolePolicy(
        new PolicyStatement({
          actions: [
            'cloudformation:DetectStackDrift',
            'cloudformation:DescribeStackDriftDetectionStatus',
            'cloudformation:DescribeStackResourceDrifts',
            'cloudformation:DescribeStacks',
          ],
          resources: stackArns,
        }),
      );
    }

    // Alarms: dead letters, reconcile errors, throttles, and a drift run missing for two intervals.
    new Alarm(this, 'DeadLettersAlarm', {
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'a reconcile hand-off failed after its retries (messages in the dead-letter queue)',
    });
    new Alarm(this, 'DriftDeadLettersAlarm', {
      metric: driftDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'a drift check failed after its retries (the message names the target)',
    });
    new Alarm(this, 'ReconcileErrorsAlarm', {
      metric: reconcile.fn.metricErrors({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const [name, f] of [
      ['Webhook', webhook],
      ['Reconcile', reconcile],
      ['Drift', drift],
    ] as const) {
      new Alarm(this, `${name}ThrottlesAlarm`, {
        metric: f.fn.metricThrottles({ period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    new Alarm(this, 'DriftMissingAlarm', {
      metric: drift.fn.metricInvocations({ period: Duration.minutes(rate * 2) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription: `no drift run for two intervals (${rate * 2} minutes)`,
    });

    new CfnOutput(this, 'WebhookUrl', { value: url.url, description: 'Payload URL of the GitHub webhook' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'ReconcileFunctionName', { value: reconcile.fn.functionName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: dlq.queueUrl });
    new CfnOutput(this, 'DriftDeadLetterQueueUrl', {
      value: driftDeadLetters.queueUrl,
      description: 'Drift checks that failed after their retries; each message names its target',
    });
    new CfnOutput(this, 'CloudFormationRoleArn', { value: cfnRole.roleArn });
    void schedule;

    // Every acknowledged cdk-nag finding says why.
    const acks: [string, string][] = [
      ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', "grants only writing the functions' own logs"],
      ['AwsSolutions-IAM5[Resource::<ReconcileF09151E3.Arn>:*]', 'versions and aliases of the reconcile function, for the async hand-off'],
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map(
        (a) =>
          [`AwsSolutions-IAM5[Action::${a}]`, 'in the artifact bucket only: reconcile stages large templates there, reconcile and drift cache Helm charts'] as [string, string],
      ),
      ['AwsSolutions-IAM5[Resource::<Artifacts82DD59A1.Arn>/templates/*]', 'staged templates (templates/ of the artifact bucket) only'],
      ['AwsSolutions-IAM5[Resource::<Artifacts82DD59A1.Arn>/ledger/*]', 'ledger values over a DynamoDB item (ledger/ of the artifact bucket) only'],
      ['AwsSolutions-IAM5[Resource::<Artifacts82DD59A1.Arn>/helm-charts/*]', 'the Helm chart cache (helm-charts/ of the artifact bucket) only'],
      ...Object.values(props.registry.repositories).flatMap((r) =>
        r.stackPrefix
          ? (r.regions?.length ? r.regions : ['<AWS::Region>']).map(
              (region) =>
                [
                  `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:${region}:<AWS::AccountId>:stack/${r.stackPrefix}*/*]`,
                  `stacks under the registry's stack prefix ${r.stackPrefix} only`,
                ] as [string, string],
            )
          : [],
      ),
      ['AwsSolutions-S1', 'the artifact bucket holds large templates and pulled Helm charts for a few days and ledger values over an item; CloudTrail covers access'],
      ['AwsSolutions-SQS3', 'the two queues without a dead-letter queue are themselves dead-letter queues'],
      ['AwsSolutions-L1', 'Node.js 22 is the newest runtime the handlers are tested on'],
    ];
    for (const [id, reason] of acks) Validations.of(this).acknowledge({ id: `AwsSolutions::${id}`, reason });
  }
}
