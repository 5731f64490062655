import type { Deadline } from '../core/deadline.js';
import type { PreviewReport } from '../preview/preview-report.js';
import { isPreviewJob, runPreview, type PreviewJob, type PreviewOutcome } from '../preview/run-preview.js';
import type { ReconcileDeps } from '../reconcile/reconcile-target.js';
import { previewDepsOf } from '../../functions/common/compose.js';

/**
 * `driftless serve`'s pull-request previews: a `pull_request` delivery for a local clone hands off one preview
 * (the webhook's own routing), the in-process reconcile function runs it against the clusters serve reaches,
 * and serve prints one line. Local clones have no check runs or comments: the line is the report.
 */
export const servePreview = (deps: Omit<ReconcileDeps, 'holder'>, print: (line: string) => void) => ({
  /** Whether an invocation is a preview job. */
  isJob: isPreviewJob,
  /** Runs one preview job and prints its line. */
  run: async (job: PreviewJob, deadline: Deadline): Promise<PreviewOutcome> => {
    const out = await runPreview(job, {
      ...previewDepsOf(deps, deadline),
      log: (message, fields) => {
        if (message === 'preview failed' || message === 'preview left unpublished') print(`preview ${job.repository}: ${message}: ${String(fields?.error ?? '')}`);
      },
    });
    print(previewLine(job, out));
    return out;
  },
});

/** `preview acme/shop#2 1a2b3c4 into main: failure — 1 of 2 targets would not sync (web +1 ~1 -2, api ✖)`. */
export const previewLine = (job: PreviewJob, out: PreviewOutcome): string => {
  const at = `preview ${job.repository}${job.pullRequest ? `#${job.pullRequest}` : ''} ${job.headSha.slice(0, 7)} into ${job.baseBranch}`;
  if (out.kind === 'ignored') return `${at}: ignored — ${out.reason}`;
  if (out.error || !out.report) return `${at}: ${out.conclusion} — ${out.error ?? 'no report'}`;
  return `${at}: ${out.conclusion} — ${titleLine(out.report)}`;
};

const titleLine = (report: PreviewReport): string => {
  if (!report.targets.length) return 'no target touched';
  const n = (t: PreviewReport['targets'][number], actions: string[]) => t.objects.filter((o) => actions.includes(o.action)).length;
  const parts = report.targets.map((t) =>
    t.blockers.length ? `${t.target} ✖ ${t.blockers[0] ?? ''}`.slice(0, 120) : `${t.target} +${n(t, ['create'])} ~${n(t, ['change', 'adopt'])} -${n(t, ['delete'])}`,
  );
  const blocked = report.targets.filter((t) => t.blockers.length).length;
  return `${blocked ? `${blocked} of ${report.targets.length} would not sync` : `${report.targets.length} touched`} (${parts.join(', ')})`;
};
