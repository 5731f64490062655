import { z } from 'zod';
import { parseDuration } from './duration.js';
import { isBranchName, isRepositoryName } from '../core/git-names.js';

/** Kubernetes object name rules for a target name (it becomes part of ids, labels and statuses). */
const TARGET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const duration = z.string().refine((v) => parseDuration(v) !== undefined, { message: 'must be a duration such as 30s, 5m or 1h' });

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'must be a path inside the repository (no leading "/" and no "..")',
  });

/** Kinds whose deletion by prune needs an explicit opt-in. */
export const PROTECTED_KINDS = ['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim'] as const;

const applySchema = z.strictObject({
  /** Take ownership of fields other managers set (server-side apply `force`). @default true */
  force: z.boolean().default(true),
  /** Objects applied in parallel within a stage. @default 8 */
  concurrency: z.number().int().min(1).max(64).default(8),
});

const pruneSchema = z.strictObject({
  /** Delete objects that left the render. @default true */
  enabled: z.boolean().default(true),
  /** Allow a render with no objects to prune everything. @default false */
  allowEmpty: z.boolean().default(false),
  /** Protected kinds that may be pruned. @default [] */
  allowKinds: z.array(z.enum(PROTECTED_KINDS)).default([]),
  /** A sync that would delete more than this share of the inventory stops instead. @default 0.5 */
  maxDeleteShare: z.number().min(0).max(1).default(0.5),
});

const waitSchema = z.strictObject({
  /** Wait for applied objects to become healthy. @default false */
  enabled: z.boolean().default(false),
  /** How long to wait. @default 5m */
  timeout: duration.default('5m'),
});

const helmRepository = z.string().regex(/^(https:\/\/|oci:\/\/|http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$))[^\s?#@]+$/, {
  message: 'must be an https:// chart repository or an oci:// registry URL, without credentials',
});

const helmSchema = z.strictObject({
  /** Helm release name. @default the target name */
  releaseName: z
    .string()
    .max(53)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a Helm release name (lowercase DNS subdomain)')
    .optional(),
  /** Repository-relative values files, merged in order. @default [] */
  values: z.array(relativePath).default([]),
  /** Values by Helm path (`image.tag`), merged last (`--set-json`). @default {} */
  set: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.\-[\]]*$/, 'must be a Helm value path such as image.tag'), z.unknown()).default({}),
  /** Render the chart's crds/ directory. @default true */
  includeCRDs: z.boolean().default(true),
  /** Leave test hooks out. @default true */
  skipTests: z.boolean().default(true),
  /** `apply`: install/upgrade hooks are applied with the release in Helm's hook order; `skip`: `--no-hooks`. @default apply */
  hooks: z.enum(['apply', 'skip']).default('apply'),
  /** A chart from a repository instead of the chart directory at `path`. */
  chart: z
    .strictObject({
      repository: helmRepository,
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a chart name'),
      version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/, 'must be an exact chart version such as 6.5.4'),
    })
    .optional(),
});

const commonTarget = {
  name: z.string().regex(TARGET_NAME, 'must be lowercase letters, digits and "-" (a DNS label)').max(63),
  branch: z.string().refine(isBranchName, 'must be a valid Git branch name (no leading "-", "..", spaces or ~^:?*[\\)').default('main'),
  path: relativePath,
  suspend: z.boolean().default(false),
  selfHeal: z.boolean().default(false),
};

const kubernetesTargetSchema = z.strictObject({
  ...commonTarget,
  type: z.literal('kubernetes').default('kubernetes'),
  cluster: z.string().min(1),
  namespace: z.string().regex(DNS_LABEL, 'must be a DNS label').optional(),
  apply: applySchema.default({}),
  prune: pruneSchema.default({}),
  wait: waitSchema.default({}),
  /** Render `path` (a chart directory) or `helm.chart` with Helm. */
  helm: helmSchema.optional(),
});

/** CloudFormation capabilities a stack target may acknowledge (granted by the registry). */
export const CFN_CAPABILITIES = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'] as const;
const IAM_ROLE_ARN = /^arn:aws[-a-z]*:iam::\d{12}:role\/.+$/;

const cloudFormationTargetSchema = z.strictObject({
  ...commonTarget,
  type: z.literal('cloudformation'),
  stack: z
    .string()
    .regex(/^[A-Za-z][-A-Za-z0-9]*$/, 'must be a CloudFormation stack name')
    .max(128),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
  parameters: relativePath.optional(),
  cloudformation: z
    .strictObject({
      /** A subset of the capabilities the registry grants the repository. */
      capabilities: z.array(z.enum(CFN_CAPABILITIES)).default([]),
      tags: z.record(z.string(), z.string()).default({}),
      deleteOnRemove: z.boolean().default(false),
      /** Service role CloudFormation assumes for this stack, one the registry lists; defaults to the deployment's role. */
      roleArn: z.string().regex(IAM_ROLE_ARN, 'must be an IAM role ARN').optional(),
    })
    .default({}),
});

const targetSchema = z.discriminatedUnion('type', [kubernetesTargetSchema, cloudFormationTargetSchema]);

/** Events a repository may ask to be told about in Slack. */
export const NOTIFY_EVENTS = ['drift', 'failure', 'success'] as const;

/** The schema of a repository's `driftless.yaml`. */
export const driftlessConfigSchema = z.strictObject({
  version: z.literal(1),
  targets: z.array(targetSchema).min(1, 'must list at least one target'),
  notifications: z
    .strictObject({
      slack: z.strictObject({ on: z.array(z.enum(NOTIFY_EVENTS)).default(['drift', 'failure']) }).default({}),
    })
    .default({}),
});

/** A validated `driftless.yaml` with every default filled in. */
export type DriftlessConfig = z.output<typeof driftlessConfigSchema>;
/** One target of a `driftless.yaml`. */
export type TargetConfig = DriftlessConfig['targets'][number];
export type KubernetesTargetConfig = Extract<TargetConfig, { type: 'kubernetes' }>;
export type CloudFormationTargetConfig = Extract<TargetConfig, { type: 'cloudformation' }>;

/** Normalises a raw target before validation: `type` defaults to kubernetes. */
export const withDefaultType = (raw: unknown): unknown => {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as { targets?: unknown };
    if (Array.isArray(r.targets)) {
      return {
        ...r,
        targets: (r.targets as unknown[]).map((t) => (t && typeof t === 'object' && !Array.isArray(t) && !('type' in t) ? { ...t, type: 'kubernetes' } : t)),
      };
    }
  }
  return raw;
};

const clusterSchema = z.union([
  z.strictObject({ eks: z.strictObject({ name: z.string().min(1), region: z.string().min(1) }) }),
  z.strictObject({ kubeconfigSecret: z.string().min(1) }),
  /** Local use (CLI, serve): a context of the local kubeconfig. */
  z.strictObject({ context: z.string().min(1), kubeconfig: z.string().min(1).optional() }),
]);

/** The operator's registry: where each repository may write. */
export const registrySchema = z.strictObject({
  repositories: z.record(
    z.string().refine(isRepositoryName, 'must be OWNER/NAME as GitHub spells it'),
    z.strictObject({
      clusters: z.array(z.string()).default([]),
      namespaces: z.array(z.string()).default([]),
      /** Stacks of this repository start with it; required for stack targets, never empty, never overlapping another's. */
      stackPrefix: z
        .string()
        .min(1, 'must not be empty (an empty prefix grants every stack)')
        .refine((p) => p === '' || /^[A-Za-z][-A-Za-z0-9]*$/.test(p), 'must be the start of a CloudFormation stack name (letters, digits, "-")')
        .optional(),
      regions: z.array(z.string()).default([]),
      /** Cluster-scoped kinds the repository may write, as `Kind` (a built-in kind) or `group/Kind`. @default [] */
      clusterScoped: z
        .array(
          z
            .string()
            .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Z][A-Za-z0-9]*$/, 'must be Kind or group/Kind')
            .refine((k) => k !== 'Namespace' && !k.endsWith('/Namespace'), { message: 'must not be Namespace: namespaces are granted by the namespaces patterns' }),
        )
        .default([]),
      /** Take over existing objects and stacks that carry no driftless ownership. @default false */
      adopt: z.boolean().default(false),
      /** Protected kinds the repository may prune (its `prune.allowKinds` can only narrow this). @default [] */
      pruneKinds: z.array(z.enum(PROTECTED_KINDS)).default([]),
      /** What stack targets may ask of CloudFormation. @default none granted */
      cloudformation: z
        .strictObject({
          /** Service roles a target may name in `cloudformation.roleArn`. @default [] */
          roleArns: z.array(z.string().regex(IAM_ROLE_ARN, 'must be an IAM role ARN')).default([]),
          /** Capabilities a target may acknowledge. @default [] */
          capabilities: z.array(z.enum(CFN_CAPABILITIES)).default([]),
        })
        .default({}),
      /**
       * Preview pull requests whose head is in a fork. The render is pure, but a preview's server-side dry run
       * still reaches the cluster's admission webhooks with somebody else's objects. @default false
       */
      previewForks: z.boolean().default(false),
    }),
  ),
  // A cluster name starts with a letter or digit: `__proto__` cannot be one.
  clusters: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a cluster name (letters, digits, ".", "_", "-")'), clusterSchema).default({}),
});

/** A validated registry. */
export type Registry = z.output<typeof registrySchema>;
export type RepositoryGrant = Registry['repositories'][string];
export type ClusterEntry = Registry['clusters'][string];

/** Parses a duration field of the config into milliseconds (validated by the schema already). */
export const durationMs = (text: string): number => parseDuration(text) ?? 0;
