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
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Architectures: string[]; Layers?: unknown[]; Environment: { Variables: Record<string, unknown> } } }[];
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

  it('alarms on dead letters, reconcile errors, throttles and a missing drift run', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', Period: 1800 });
  });

  it('has no reserved concurrency unless asked', () => {
    for (const f of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect((f as { Properties: Record<string, unknown> }).Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });
});
