import type { Registry } from '../../lib/config/schema.js';
import type { DriftQueue } from '../../lib/core/drift-queue.js';
import { ReconcilerError } from '../../lib/core/errors.js';
import type { ObjectRef } from '../../lib/core/object-ref.js';
import type { CheckDeps } from '../../lib/drift/check-target.js';
import type { SweepDeps } from '../../lib/drift/sweep.js';
import type { Ledger } from '../../lib/ledger/ledger.js';
import type { Notifier } from '../../lib/notify/notifier.js';
import { createCommitReporter, type CommitReporterOptions } from '../../lib/reconcile/commit-report.js';
import type { WebhookDeps } from '../../lib/reconcile/handle-webhook.js';
import type { ReconcileDeps, ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import type { RepositorySource } from '../../lib/source/repository-source.js';
import type { TargetOpener } from '../../lib/targets/target-opener.js';
import type { Deadline } from '../../lib/core/deadline.js';
import type { PreviewJob, RunPreviewDeps } from '../../lib/preview/run-preview.js';
import { previewWebhook } from '../../lib/preview/preview-webhook.js';

/** Reads a secret by id (Secrets Manager in AWS, the environment locally). */
export type SecretReader = (id: string) => Promise<string>;

/** A structured log line (functions/common/observability.ts may replace it with the Powertools logger). */
export type Log = (message: string, fields?: Record<string, unknown>) => void;

/** The JSON-lines log of the functions. */
export const jsonLog: Log = (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

/**
 * Where this process runs and what it reaches: the one input of `compose`. The Lambda functions build it from their
 * environment (`lambdaRuntime` in compose-lambda.ts; the webhook's lean one in functions/webhook/compose-runtime.ts),
 * `driftless serve` from its options and the demo, tests from their local servers. The runtime builds the adapters;
 * compose wires them, so a function's bundle holds only the adapters its runtime builds.
 */
export interface Runtime {
  readonly registry: Registry;
  /** The ledger table (DynamoDB, or DynamoDB Local). */
  readonly ledger: Ledger;
  /** The webhook's ledger, with deadlines that fit GitHub's 10 s. @default ledger */
  readonly webhookLedger?: WebhookDeps['ledger'];
  /** Repositories: GitHub, or local git clones. Absent (the webhook): reconcile and drift cannot read any. */
  readonly source?: RepositorySource;
  /** What the webhook reads a repository with (one file, a status). @default source */
  readonly webhookSource?: WebhookDeps['source'];
  /** How targets are reached (`targetOpener(access)`). Absent (the webhook): every target is unreachable. */
  readonly targets?: TargetOpener;
  /** The objects of each target on a cluster, one LIST per kind for all of them (`labelledByTarget`). */
  readonly labelled?: (cluster: string, signal?: AbortSignal) => Promise<ReadonlyMap<string, readonly ObjectRef[]>>;
  /** Hands one target to the reconcile function (a Lambda invoke, or the local Invoke endpoint). */
  readonly handOff?: (request: ReconcileRequest) => Promise<void>;
  /** Hands one pull-request preview to the reconcile function; absent: the webhook runs no previews. */
  readonly handOffPreview?: (job: PreviewJob) => Promise<void>;
  /** The webhook secrets (current and previous), read when a delivery arrives. */
  readonly secrets?: () => Promise<string[]>;
  readonly notifier?: Notifier;
  /** The drift function's queue (one message per target). */
  readonly queue?: DriftQueue;
  /** Checks in flight per cluster in one batch of the drift queue. */
  readonly driftPerCluster?: number;
  /** The commit report's options. @default one combined report per commit */
  readonly commitReport?: CommitReporterOptions;
  readonly maxBodyBytes?: number;
  /** Progress of long syncs (serve prints it). */
  readonly progress?: ReconcileDeps['progress'];
  /** @default jsonLog */
  readonly log?: Log;
  /** Where the commit reporter logs a report it could not write. @default log */
  readonly reportLog?: Log;
}

/** The webhook's dependencies, its secrets read per delivery. */
export type ComposedWebhook = Omit<WebhookDeps, 'secrets'> & { readonly secrets: () => Promise<string[]> };

/** The drift function's dependencies: the queue, checks, the sweeper, self-heal hand-offs and the drift report. */
export interface ComposedDrift {
  readonly ledger: Ledger;
  readonly queue?: DriftQueue;
  /** One LIST per kind per cluster finds labelled objects for all of a batch's targets; each check gets its share. */
  readonly labelled?: (cluster: string, signal?: AbortSignal) => Promise<ReadonlyMap<string, readonly ObjectRef[]>>;
  readonly perCluster?: number;
  readonly check: CheckDeps;
  readonly sweep: SweepDeps;
  readonly notifier?: Notifier;
}

/** What each handler needs, built from one runtime. */
export interface Composed {
  /** The log every part writes to (one line to swap for the Powertools logger). */
  readonly log: Log;
  readonly webhook: ComposedWebhook;
  /** The reconcile function's dependencies (the holder is set per invocation). */
  readonly reconcile: Omit<ReconcileDeps, 'holder'>;
  readonly drift: ComposedDrift;
}

const missing = (what: string) => async (): Promise<never> => {
  throw new ReconcilerError(`this runtime has no ${what}`);
};

/** The source of a runtime that reads no repository (the webhook's reads go through `webhookSource`). */
const NO_SOURCE: RepositorySource = {
  headAndChanges: missing('repository source'),
  snapshot: missing('repository source'),
  readFile: missing('repository source'),
  setStatus: missing('repository source'),
  headIfChanged: missing('repository source'),
};

/** The targets of a runtime that reaches none: every one is unreachable, said as such. */
const NO_TARGETS: TargetOpener = {
  open: async () => ({ unreachable: 'this process reaches no targets' }),
  capabilities: async () => undefined,
  cascades: async () => new Map(),
};

/**
 * The one composition: ledger, source, targets, notifier and hand-off of a runtime, wired into what the webhook,
 * reconcile and drift handlers take. Lambda, `driftless serve` and the tests all compose here.
 * @example
 * const composed = compose(lambdaRuntime('reconcile'));
 * await createHandler(composed.reconcile)(event, context);
 */
export const compose = (runtime: Runtime): Composed => {
  const log = runtime.log ?? jsonLog;
  const { ledger, registry } = runtime;
  const source = runtime.source ?? NO_SOURCE;
  const targets = runtime.targets ?? NO_TARGETS;
  const handOff = runtime.handOff ?? missing('reconcile function to hand work to');
  const reconcile: { -readonly [K in keyof Omit<ReconcileDeps, 'holder'>]: Omit<ReconcileDeps, 'holder'>[K] } = {
    ledger,
    source,
    registry,
    targets,
    ...(runtime.notifier ? { notifier: runtime.notifier } : {}),
    ...(runtime.progress ? { progress: runtime.progress } : {}),
    log,
  };
  // The reporter reads the deps at call time, so that a caller who swaps the ledger (a test) swaps it for reports too.
  reconcile.reporter = createCommitReporter(
    {
      get ledger() {
        return reconcile.ledger;
      },
      get source() {
        return reconcile.source;
      },
      log: runtime.reportLog ?? log,
    },
    runtime.commitReport ?? {},
  );
  return {
    log,
    webhook: {
      registry,
      ledger: runtime.webhookLedger ?? ledger,
      source: runtime.webhookSource ?? source,
      handOff,
      ...(runtime.handOffPreview ? { preview: previewWebhook(runtime.handOffPreview) } : {}),
      ...(runtime.maxBodyBytes ? { maxBodyBytes: runtime.maxBodyBytes } : {}),
      secrets: runtime.secrets ?? missing('webhook secret'),
    },
    reconcile,
    drift: {
      ledger,
      ...(runtime.queue ? { queue: runtime.queue } : {}),
      ...(runtime.labelled ? { labelled: runtime.labelled } : {}),
      ...(runtime.driftPerCluster ? { perCluster: runtime.driftPerCluster } : {}),
      check: { ledger, source, registry, targets, heal: (t) => handOff({ ...t, trigger: 'self-heal', force: true }) },
      sweep: { ledger, source, registry, handOff },
      ...(runtime.notifier ? { notifier: runtime.notifier } : {}),
    },
  };
};

/** A preview job's dependencies, from the reconcile function's: the same source, ledger, clusters and stacks, planned and never applied. */
export const previewDepsOf = (deps: Omit<ReconcileDeps, 'holder'>, deadline: Deadline): RunPreviewDeps => ({
  registry: deps.registry,
  source: deps.source,
  targets: deps.targets,
  ledger: deps.ledger,
  deadline,
  ...(deps.log ? { log: deps.log } : {}),
});
