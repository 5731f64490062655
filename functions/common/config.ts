import { ENV } from '../../lib/core/env-names.js';
import { ReconcilerError } from '../../lib/core/errors.js';
import { parseRegistry } from '../../lib/config/load-config.js';
import type { Registry } from '../../lib/config/schema.js';

/** The functions' configuration, read from the environment once per cold start; fails fast on what is missing. */
export interface FunctionConfig {
  readonly table: string;
  readonly registry: Registry;
  readonly reconcileFunction?: string;
  readonly driftFunction?: string;
  /** The drift queue's URL (the drift function: the schedule enqueues, the event source consumes). */
  readonly driftQueueUrl?: string;
  /** Checks in flight per cluster in one batch of the drift queue. @default 4 */
  readonly driftPerCluster?: number;
  /** Per-target commit statuses as well as the commit's report. @default false */
  readonly perTargetStatuses?: boolean;
  readonly secretIds: { webhook?: string; webhookPrevious?: string; github?: string; slack?: string };
  readonly githubApiUrl?: string;
  readonly maxBodyBytes?: number;
}

const required = (env: Record<string, string | undefined>, name: string): string => {
  const v = env[name];
  if (!v) throw new ReconcilerError(`environment: ${name} is required`);
  return v;
};

const positive = (env: Record<string, string | undefined>, name: string): number => {
  const n = Number(env[name]);
  if (!Number.isInteger(n) || n < 1) throw new ReconcilerError(`environment: ${name} must be a whole number of at least 1, not "${env[name]}"`);
  return n;
};

export const loadConfig = (env: Record<string, string | undefined> = process.env): FunctionConfig => ({
  table: required(env, ENV.table),
  registry: parseRegistry(required(env, ENV.registryJson), ENV.registryJson),
  ...(env[ENV.reconcileFunction] ? { reconcileFunction: env[ENV.reconcileFunction] } : {}),
  ...(env[ENV.driftFunction] ? { driftFunction: env[ENV.driftFunction] } : {}),
  ...(env[ENV.driftQueueUrl] ? { driftQueueUrl: env[ENV.driftQueueUrl] } : {}),
  ...(env[ENV.driftPerCluster] ? { driftPerCluster: positive(env, ENV.driftPerCluster) } : {}),
  ...(env[ENV.perTargetStatuses] === 'true' ? { perTargetStatuses: true } : {}),
  secretIds: {
    ...(env[ENV.webhookSecretId] ? { webhook: env[ENV.webhookSecretId] } : {}),
    ...(env[ENV.webhookSecretPreviousId] ? { webhookPrevious: env[ENV.webhookSecretPreviousId] } : {}),
    ...(env[ENV.githubSecretId] ? { github: env[ENV.githubSecretId] } : {}),
    ...(env[ENV.slackSecretId] ? { slack: env[ENV.slackSecretId] } : {}),
  },
  ...(env[ENV.githubApiUrl] ? { githubApiUrl: env[ENV.githubApiUrl] } : {}),
  ...(env[ENV.maxBodyBytes] ? { maxBodyBytes: Number(env[ENV.maxBodyBytes]) } : {}),
});
