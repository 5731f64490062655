import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReconcilerStack, type RegistryJson } from '../../infra/stacks/reconciler-stack.js';

const registry = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'infra', 'registry.example.json'), 'utf8')) as RegistryJson;

describe('ReconcilerStack', () => {
  let template: Template;
  let app: App;
  beforeAll(() => {
    app = new App({ outdir: join('/tmp', `cdk-test-${process.pid}`) });
    const stack = new ReconcilerStack(app, 'Driftless', { registry });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    template = Template.fromStack(stack);
  }, 120_000);

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    // Policy validation fails the synth when a plugin reports a violation.
    expect(() => app.synth()).not.toThrow();
  });

  it('has three Node 22 functions bundled as ESM: the webhook on arm64, the two that render Helm charts on x86-64', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Handler: 'index.handler' });
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Architectures: string[]; Layers?: unknown[]; Environment: { Variables: Record<string, unknown> } };
    }[];
    const byName = (n: string) => fns.find((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === `driftless-${n}`)?.Properties;
    expect(byName('webhook')).toMatchObject({ Architectures: ['arm64'] });
    expect(byName('webhook')?.Layers).toBeUndefined();
    for (const n of ['reconcile', 'drift']) {
      expect(byName(n)).toMatchObject({ Architectures: ['x86_64'], Layers: [{ Ref: expect.stringMatching(/^HelmLayer/) }] });
    }
  });

  it('gives the rendering functions the Helm chart cache and the repository credentials secret', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    for (const n of ['reconcile', 'drift']) {
      const vars = fns.find((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === `driftless-${n}`)?.Properties.Environment.Variables;
      expect(vars).toMatchObject({ DRIFTLESS_HELM_CREDENTIALS_SECRET_ID: 'driftless/helm-repositories', DRIFTLESS_ARTIFACT_BUCKET: { Ref: expect.stringMatching(/^Artifacts/) } });
    }
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('/helm-charts/*');
  });

  it('gives reconcile and drift the ledger blobs (ledger/ of the artifact bucket) to read, write and retire, and no more; nothing there expires unless retired', () => {
    type Statement = { Action: string | string[]; Resource: unknown };
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
    const onLedger = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st) => JSON.stringify(st.Resource).includes('/ledger/*'));
    expect(onLedger).toHaveLength(2);
    for (const st of onLedger) expect(st.Action).toEqual(['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging']);
    // No statement grants the whole bucket's objects
    expect(JSON.stringify(policies)).not.toMatch(/Artifacts[0-9A-F]+","Arn"\]\},"\/\*"/);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          { Prefix: 'templates/', ExpirationInDays: 7, Status: 'Enabled' },
          { Prefix: 'helm-charts/', ExpirationInDays: 7, Status: 'Enabled' },
          { Prefix: 'ledger/', TagFilters: [{ Key: 'driftless-ledger', Value: 'retired' }], ExpirationInDays: 2, Status: 'Enabled' },
        ],
      },
    });
  });

  it('ships Helm 3.17.3 in one Lambda layer (/opt/helm/helm)', () => {
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { Description: Match.stringLikeRegexp('/opt/helm/helm 3\\.17\\.3') });
  });

  it('keeps the ledger: on-demand, point-in-time recovery, TTL, encryption, two indexes, retained on delete', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'GSI1' }), Match.objectLike({ IndexName: 'GSI2' })],
      },
    });
  });

  it('serves the webhook on a Function URL, the HMAC checked in code', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
  });

  it('retries async reconciles twice, then sends them to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetters'), 'Arn'] } } },
    });
  });

  it('runs drift on a 15-minute schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });

  it('wires the environment: table, registry, secrets by name, the reconcile function', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRIFTLESS_TABLE: Match.anyValue(),
          DRIFTLESS_REGISTRY_JSON: JSON.stringify(registry),
          DRIFTLESS_WEBHOOK_SECRET_ID: 'driftless/webhook-secret',
          DRIFTLESS_WEBHOOK_SECRET_PREVIOUS_ID: 'driftless/webhook-secret-previous',
          DRIFTLESS_GITHUB_SECRET_ID: 'driftless/github',
          DRIFTLESS_RECONCILE_FUNCTION: Match.anyValue(),
        }),
      },
    });
  });

  it('grants least privilege: EKS and CloudFormation from the registry only, PassRole on its service role only', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    const withAction = (a: string) => statements.filter((s) => [s.Action].flat().includes(a));
    expect(JSON.stringify(withAction('eks:DescribeCluster').map((s) => s.Resource))).toContain('cluster/dev-cluster');
    expect(JSON.stringify(withAction('cloudformation:ExecuteChangeSet').map((s) => s.Resource))).toContain('stack/acme-*/*');
    expect(withAction('iam:PassRole')).toHaveLength(1);
    expect(JSON.stringify(withAction('iam:PassRole')[0]?.Resource)).toContain('CloudFormationServiceRole');
    expect(statements.some((s) => [s.Action].flat().some((a) => a === '*' || a.endsWith(':*')) && s.Resource === '*')).toBe(false);
  });

  it('alarms on dead letters (reconcile and drift), reconcile errors, throttles and a missing drift run', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', Period: 1800 });
  });

  /** The statements of the policies attached to one function's role. */
  const roleStatements = (t: Template, fn: 'Webhook' | 'Reconcile' | 'Drift') =>
    Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(`${fn}ServiceRole`))
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
  const dynamoActions = (statements: Statement[]) => [...new Set(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('dynamodb:')))].sort();

  it('gives the internet-facing webhook only a get, a put and an index query on the ledger, on delivery keys', () => {
    const statements = roleStatements(template, 'Webhook');
    expect(dynamoActions(statements)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    for (const a of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem', 'dynamodb:*']) {
      expect(statements.some((s) => [s.Action].flat().includes(a))).toBe(false);
    }
    const items = statements.find((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    expect(items?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['D#*'] } });
    const query = statements.find((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(JSON.stringify(query?.Resource)).toContain('/index/GSI2');
    expect(JSON.stringify(query?.Resource)).not.toContain('GSI1');
  });

  it('gives reconcile and drift their own ledger actions on their key prefixes, and no function a scan or delete', () => {
    expect(dynamoActions(roleStatements(template, 'Reconcile'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamoActions(roleStatements(template, 'Drift'))).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const leading = (fn: 'Reconcile' | 'Drift') => roleStatements(template, fn).find((s) => [s.Action].flat().includes('dynamodb:GetItem'))?.Condition;
    // Reconcile's claims of commit-report writes are delivery-like items under D#commit-report/ only.
    expect(leading('Reconcile')).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*', 'D#commit-report/*'] } });
    expect(leading('Drift')).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*', 'R#*'] } });
    for (const fn of ['Webhook', 'Reconcile', 'Drift'] as const) {
      const actions = roleStatements(template, fn).flatMap((s) => [s.Action].flat());
      expect(
        actions.filter((a) => ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'].includes(a) || a.startsWith('dynamodb:*')),
      ).toEqual([]);
    }
  });

  it('fans the drift run out on a FIFO queue: the drift function consumes it with a maximum concurrency, failures dead-lettered', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const byId = (prefix: string) => Object.entries(queues).find(([id]) => id.startsWith(prefix))?.[1] as { Properties: Record<string, unknown> } | undefined;
    expect(byId('DriftQueue')?.Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 1800,
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^DriftDeadLetters/), 'Arn'] } },
    });
    expect(byId('DriftDeadLetters')?.Properties).toMatchObject({ FifoQueue: true, MessageRetentionPeriod: 14 * 86_400 });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DriftQueue'), 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^Drift') },
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 8 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const drift = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => (f as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'driftless-drift',
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(drift.Properties.Environment.Variables).toMatchObject({ DRIFTLESS_DRIFT_QUEUE_URL: { Ref: expect.stringMatching(/^DriftQueue/) }, DRIFTLESS_DRIFT_PER_CLUSTER: '4' });
    const actions = roleStatements(template, 'Drift').flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    // No synchronous self-invocation any more: the drift function invokes only reconcile (self-heal).
    const invokes = roleStatements(template, 'Drift').filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invokes)).not.toContain('-Drift*');
  });

  it('reserves concurrency per function: the documented defaults', () => {
    const reserved = Object.fromEntries(
      Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, f]) => [
        id.replace(/[0-9A-F]{8}$/, ''),
        (f as { Properties: Record<string, unknown> }).Properties.ReservedConcurrentExecutions,
      ]),
    );
    expect(reserved).toEqual({ Webhook: 20, Reconcile: 20, Drift: 10 });
  });

  describe('from other props (bundling skipped)', () => {
    const synth = (props: Partial<ConstructorParameters<typeof ReconcilerStack>[2]>) => {
      const other = new App({ outdir: join('/tmp', `cdk-test-${process.pid}-${Math.random().toString(36).slice(2)}`), context: { 'aws:cdk:bundling-stacks': [] } });
      return Template.fromStack(new ReconcilerStack(other, 'Driftless', { registry, ...props }));
    };
    const reservedOf = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function')).map((f) => (f as { Properties: Record<string, unknown> }).Properties.ReservedConcurrentExecutions);

    it('sets reserved concurrency from the props, or none with false', () => {
      const small = synth({ reservedConcurrency: { webhook: 5, drift: 3 } });
      expect(reservedOf(small).sort()).toEqual([20, 3, 5].sort());
      // The queue's consumers leave the scheduled run one of the three.
      small.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
      expect(reservedOf(synth({ reservedConcurrency: false }))).toEqual([undefined, undefined, undefined]);
    });

    it('sets the drift fan-out from the props', () => {
      const t = synth({ drift: { maxConcurrency: 4, perCluster: 2, batchSize: 5, maxReceiveCount: 5 }, reservedConcurrency: { drift: 6 } });
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5, ScalingConfig: { MaximumConcurrency: 4 } });
      t.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
      t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DRIFTLESS_DRIFT_PER_CLUSTER: '2' }) } });
    });

    it('fails the synth when the drift consumers would take every reserved drift invocation, or a fan-out prop is out of range', () => {
      expect(() => synth({ drift: { maxConcurrency: 10 } })).toThrow(
        'drift.maxConcurrency 10 must be below reservedConcurrency.drift 10: the scheduled run needs an invocation of its own',
      );
      expect(() => synth({ drift: { maxConcurrency: 1 } })).toThrow('drift.maxConcurrency: expected a whole number from 2 to 1000, not 1');
      expect(() => synth({ drift: { batchSize: 11 } })).toThrow('drift.batchSize: expected a whole number from 1 to 10, not 11');
      expect(() => synth({ drift: { maxConcurrency: 50 }, reservedConcurrency: false })).not.toThrow();
    });

    it('lets reconcile pass only the deployment role and the roles the registry grants, to CloudFormation only', () => {
      const role = 'arn:aws:iam::123456789012:role/net-deployer';
      const t = synth({ registry: { ...registry, repositories: { 'acme/net': { stackPrefix: 'net-', regions: ['eu-west-1'], cloudformation: { roleArns: [role] } } } } });
      const pass = roleStatements(t, 'Reconcile').filter((s) => [s.Action].flat().includes('iam:PassRole'));
      expect(pass).toHaveLength(1);
      expect(JSON.stringify(pass[0]?.Resource)).toContain(role);
      expect(pass[0]?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } });
    });

    it('fails the synth on overlapping stack prefixes, naming the pair', () => {
      const overlapping = { ...registry, repositories: { 'acme/net': { stackPrefix: 'acme-' }, 'acme/shop': { stackPrefix: 'acme-shop-' } } };
      expect(() => synth({ registry: overlapping })).toThrow('registry: stackPrefix "acme-" of acme/net overlaps stackPrefix "acme-shop-" of acme/shop');
    });

    it('fails the synth on an empty stack prefix', () => {
      expect(() => synth({ registry: { ...registry, repositories: { 'acme/net': { stackPrefix: '' } } } })).toThrow('must not be empty (an empty prefix grants every stack)');
    });
  });
});

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
