import type { Deadline } from '../core/deadline.js';
import { isBranchName, isCommitId, isRepositoryName } from '../core/git-names.js';
import type { Registry } from '../config/schema.js';
import type { Ledger } from '../ledger/ledger.js';
import type { CheckRunAnnotation, CheckRunReport, RepositorySource } from '../source/repository-source.js';
import { planPreview, type PreviewDeps } from './plan-preview.js';
import {
  annotationBatches,
  CHECK_NAME,
  CHECK_TEXT_LIMIT,
  COMMENT_MARKER,
  commentOf,
  conclusionOf,
  summaryOf,
  textOf,
  titleOf,
  type PreviewAnnotation,
  type PreviewReport,
} from './preview-report.js';
import type { PreviewRequest } from './preview-trigger.js';

/** A preview handed to the reconcile function: a trigger's request, told apart from a target's reconcile by `kind`. */
export type PreviewJob = PreviewRequest & { readonly kind: 'preview'; readonly deliveryId?: string };

/** Whether an invocation's event is a preview job (a reconcile request has no `kind`); its fields are checked by `runPreview`. */
export const isPreviewJob = (event: unknown): event is PreviewJob => typeof event === 'object' && event !== null && (event as { kind?: unknown }).kind === 'preview';

/** Why a job's fields cannot be used (an invocation is not a webhook, but its fields are checked the same way). */
const invalidJob = (job: PreviewRequest): string | undefined => {
  if (!isRepositoryName(job.repository)) return 'preview job without a valid repository';
  if (!isBranchName(job.baseBranch)) return `preview job for ${job.repository}: baseBranch is not a branch name`;
  if (!isCommitId(job.headSha)) return `preview job for ${job.repository}: headSha is not a commit id`;
  if (job.pullRequest !== undefined && !(Number.isSafeInteger(job.pullRequest) && job.pullRequest > 0)) return `preview job for ${job.repository}: pullRequest is not a number`;
  if (typeof job.fork !== 'boolean') return `preview job for ${job.repository}: fork must be true or false`;
  return undefined;
};

/** What a preview job reads and writes. */
export interface RunPreviewDeps {
  readonly registry: Registry;
  /** GitHub: one compare and two tarballs; one check run (an App) or one comment (a token). */
  readonly source: Pick<RepositorySource, 'snapshot' | 'compareHead' | 'checkRuns' | 'pullRequestComments'>;
  /** How targets are planned (never applied): clusters for the dry run and cascades, CloudFormation for change sets. */
  readonly targets: PreviewDeps['targets'];
  /** The ledger: targets' states (inventory, dependency files) and the newest head of each pull request. */
  readonly ledger?: Pick<Ledger, 'getState' | 'getHead' | 'putHead'>;
  readonly deadline?: Deadline;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** How a preview job ended. `published`: its check run or comment says so (false: only the log does). */
export type PreviewOutcome =
  | { readonly kind: 'ignored'; readonly reason: string }
  | {
      readonly kind: 'done';
      readonly conclusion: NonNullable<CheckRunReport['conclusion']>;
      readonly via: 'check-run' | 'comment' | 'log';
      readonly published: boolean;
      readonly report?: PreviewReport;
      readonly error?: string;
    };

/** What a completed preview says, in both of its forms. */
export interface PreviewResult {
  readonly conclusion: NonNullable<CheckRunReport['conclusion']>;
  readonly title: string;
  readonly summary: string;
  readonly text: string;
  /** Batches of at most 50, as the Checks API takes them. */
  readonly batches: readonly (readonly PreviewAnnotation[])[];
  /** The pull-request comment (marker, title, summary, annotations, text). */
  readonly comment: string;
}

/** The ledger key of a pull request's newest previewed head (`getHead`/`putHead`, next to branch heads). */
export const pullRequestKey = (pullRequest: number): string => `pull/${pullRequest}`;

/** A finished report as a check run's fields and as a comment. */
export const resultOf = (report: PreviewReport): PreviewResult => ({
  conclusion: conclusionOf(report),
  title: titleOf(report),
  summary: summaryOf(report),
  text: textOf(report, CHECK_TEXT_LIMIT),
  batches: annotationBatches(report),
  comment: commentOf(report),
});

/** A preview that could not be planned: a failure that says why (GitHub down, a render crash). */
export const failureOf = (req: PreviewRequest, reason: string): PreviewResult => {
  const summary = `The preview of \`${req.headSha.slice(0, 12)}\` into \`${req.baseBranch}\` of ${req.repository} failed: ${reason}\n\nPush again or re-run the check to retry.`;
  return {
    conclusion: 'failure',
    title: 'Preview failed',
    summary,
    text: '',
    batches: [],
    comment: `${COMMENT_MARKER}\n### ✖ ${CHECK_NAME}: preview failed\n\n${summary}\n`,
  };
};

/** A preview a newer head of the pull request replaced: cancelled, pointing at the newer one. */
export const supersededOf = (req: PreviewRequest, newer: string): PreviewResult => {
  const summary = `\`${req.headSha.slice(0, 12)}\` is no longer the head of the pull request: the preview of \`${newer.slice(0, 12)}\` replaces this one.`;
  return { conclusion: 'cancelled', title: `Superseded by ${newer.slice(0, 7)}`, summary, text: '', batches: [], comment: '' };
};

/** Where a preview goes: a check run (a GitHub App) or the one pull-request comment (a token). Two writes plus annotation batches. */
interface Publisher {
  readonly via: 'check-run' | 'comment';
  /** The run (or comment) in progress: one write. */
  start(): Promise<void>;
  /** The result: one write, plus one per further batch of 50 annotations. */
  finish(result: PreviewResult): Promise<void>;
}

const toAnnotations = (batch: readonly PreviewAnnotation[]): CheckRunAnnotation[] =>
  batch.map((a) => ({ path: a.path, line: Math.max(1, a.line), level: a.level, message: a.message, ...(a.title ? { title: a.title } : {}) }));

/** The check run of (repository, head): created `in_progress`, completed with the first 50 annotations, the rest in further updates. */
export const checkRunPublisher = (runs: NonNullable<Awaited<ReturnType<NonNullable<RepositorySource['checkRuns']>>>>, req: PreviewRequest): Publisher => {
  let id: number | undefined;
  return {
    via: 'check-run',
    async start() {
      id = await runs.createCheckRun(req.repository, req.headSha, {
        name: CHECK_NAME,
        status: 'in_progress',
        title: `Planning ${req.headSha.slice(0, 7)}`,
        summary: `Planning what merging \`${req.headSha.slice(0, 12)}\` into \`${req.baseBranch}\` would do to every target it touches.`,
      });
    },
    async finish(result) {
      const [first, ...rest] = result.batches.length ? result.batches : [[]];
      const report = (batch: readonly PreviewAnnotation[]): CheckRunReport => ({
        name: CHECK_NAME,
        status: 'completed',
        conclusion: result.conclusion,
        title: result.title,
        summary: result.summary,
        ...(result.text ? { text: result.text } : {}),
        ...(batch.length ? { annotations: toAnnotations(batch) } : {}),
      });
      // A start that failed (GitHub was down) left no run: the conclusion creates it, completed.
      if (id === undefined) id = await runs.createCheckRun(req.repository, req.headSha, report(first ?? []));
      else await runs.updateCheckRun(req.repository, id, report(first ?? []));
      // GitHub appends each update's annotations to the run's.
      for (const batch of rest) await runs.updateCheckRun(req.repository, id, report(batch));
    },
  };
};

/** The one comment on the pull request, found by its hidden marker and edited in place on every push. */
export const commentPublisher = (
  comments: NonNullable<Awaited<ReturnType<NonNullable<RepositorySource['pullRequestComments']>>>>,
  req: PreviewRequest & { pullRequest: number },
): Publisher => {
  let id: number | undefined;
  const write = async (body: string) => {
    id ??= await comments.findComment(req.repository, req.pullRequest, COMMENT_MARKER);
    if (id === undefined) id = await comments.createComment(req.repository, req.pullRequest, body);
    else await comments.updateComment(req.repository, id, body);
  };
  return {
    via: 'comment',
    start: () =>
      write(
        `${COMMENT_MARKER}\n### ⏳ ${CHECK_NAME}: planning \`${req.headSha.slice(0, 7)}\`\n\nPlanning what merging \`${req.headSha.slice(0, 12)}\` into \`${req.baseBranch}\` would do to every target it touches.\n`,
      ),
    // A superseded preview leaves the comment to the newer head's preview (which has rewritten it already).
    finish: (result) => (result.conclusion === 'cancelled' ? Promise.resolve() : write(result.comment)),
  };
};

/**
 * Runs one pull-request preview: plans what merging the head would do (`planPreview`, never applied) and
 * publishes it as the check run `driftless preview` of (repository, head) with a GitHub App, or as the one
 * pull-request comment with a token. GitHub: one compare and two tarballs; two writes plus one per further 50
 * annotations. A preview whose pull request has a newer head by the time it is planned is completed as
 * `cancelled`. Every failure ends in a completed check run (or comment) that says why, and a log line; this
 * function never throws.
 * @example
 * const outcome = await runPreview({ kind: 'preview', ...trigger.preview }, { registry, source, targets, ledger, log });
 */
export const runPreview = async (job: PreviewRequest, deps: RunPreviewDeps): Promise<PreviewOutcome> => {
  const log = deps.log ?? (() => undefined);
  const fields = { repository: job.repository, head: job.headSha, base: job.baseBranch, ...(job.pullRequest ? { pullRequest: job.pullRequest } : {}) };
  const ignore = (reason: string): PreviewOutcome => (log('preview ignored', { ...fields, reason }), { kind: 'ignored', reason });
  const invalid = invalidJob(job);
  if (invalid) return ignore(invalid);
  const grant = Object.hasOwn(deps.registry.repositories, job.repository) ? deps.registry.repositories[job.repository] : undefined;
  if (!grant) return ignore(`repository ${job.repository} is not registered`);
  if (job.fork && !grant.previewForks)
    return ignore(`pull request${job.pullRequest ? ` #${job.pullRequest}` : ''} is from a fork and the registry entry does not set previewForks`);

  let publisher: Publisher | undefined;
  let publishError: string | undefined;
  try {
    const runs = await deps.source.checkRuns?.();
    if (runs) publisher = checkRunPublisher(runs, job);
    else {
      const comments = job.pullRequest !== undefined ? await deps.source.pullRequestComments?.() : undefined;
      if (comments && job.pullRequest !== undefined) publisher = commentPublisher(comments, { ...job, pullRequest: job.pullRequest });
    }
  } catch (err) {
    publishError = (err as Error).message;
  }
  if (!publisher) log('preview not published: no check runs (GitHub App) and no pull-request comments here', { ...fields, ...(publishError ? { error: publishError } : {}) });
  else {
    await publisher.start().catch((err: unknown) => {
      // The conclusion creates what the start could not: never a run left in progress.
      log('preview start not written', { ...fields, error: (err as Error).message });
    });
  }

  const key = job.pullRequest !== undefined ? pullRequestKey(job.pullRequest) : undefined;
  let result: PreviewResult;
  let report: PreviewReport | undefined;
  let error: string | undefined;
  try {
    if (key) await deps.ledger?.putHead(job.repository, key, { head: job.headSha });
    if (!deps.source.compareHead) throw new Error(`the repository source cannot compare ${job.baseBranch}...${job.headSha.slice(0, 12)}`);
    const change = await deps.source.compareHead(job.repository, job.baseBranch, job.headSha, deps.deadline?.signal);
    const [baseTree, headTree] = await Promise.all([
      deps.source.snapshot(job.repository, change.base, deps.deadline?.signal),
      deps.source.snapshot(job.repository, job.headSha, deps.deadline?.signal),
    ]);
    const ledger = deps.ledger;
    report = await planPreview(
      { repository: job.repository, base: change.base, head: job.headSha, baseName: job.baseBranch, baseTree, headTree, changed: change.changed, branch: job.baseBranch },
      { registry: deps.registry, targets: deps.targets, ...(ledger ? { state: (id: string) => ledger.getState(id) } : {}), ...(deps.deadline ? { deadline: deps.deadline } : {}) },
    );
    const newest = key ? (await deps.ledger?.getHead(job.repository, key))?.head : undefined;
    result = newest && newest !== job.headSha ? supersededOf(job, newest) : resultOf(report);
  } catch (err) {
    error = (err as Error).message || String(err);
    log('preview failed', { ...fields, error });
    result = failureOf(job, error);
  }

  let published = false;
  if (publisher) {
    try {
      await publisher.finish(result);
      published = true;
    } catch (err) {
      const message = (err as Error).message;
      log('preview result not written', { ...fields, conclusion: result.conclusion, error: message });
      // Once more, short: the run must not stay in progress because its full report could not be written.
      await publisher.finish(failureOf(job, `the report could not be written: ${message}`)).then(
        () => void (published = true),
        (again: unknown) => log('preview left unpublished', { ...fields, error: (again as Error).message }),
      );
    }
  }
  log('preview done', { ...fields, conclusion: result.conclusion, title: result.title, via: publisher?.via ?? 'log', published });
  return {
    kind: 'done',
    conclusion: result.conclusion,
    via: publisher?.via ?? 'log',
    published,
    ...(report ? { report } : {}),
    ...(error ? { error } : {}),
  };
};
