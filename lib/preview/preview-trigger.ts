import { isBranchName, isCommitId, isRepositoryName } from '../core/git-names.js';
import { CHECK_NAME } from './preview-report.js';

/** One preview to run: a pull request's head against its base branch, in the base repository. */
export interface PreviewRequest {
  readonly repository: string;
  /** The branch the pull request would merge into (what the targets track). */
  readonly baseBranch: string;
  /** The base commit the pull request compares against, when the payload names it. */
  readonly baseSha?: string;
  readonly headSha: string;
  readonly pullRequest?: number;
  /** The head is in another repository (a fork): previewed only where the registry says `previewForks`. */
  readonly fork: boolean;
  readonly trigger: 'pull_request' | 'check_run' | 'check_suite';
}

/** The pull-request actions that (re)start a preview. */
export const PREVIEW_ACTIONS = ['opened', 'synchronize', 'reopened', 'ready_for_review'] as const;

type Repo = { full_name?: unknown; id?: unknown } | null;
type Pr = { number?: unknown; base?: { ref?: unknown; sha?: unknown; repo?: Repo }; head?: { sha?: unknown; repo?: Repo } };

/**
 * What a verified delivery asks to preview, or why it is not a preview. Every name is checked before it is
 * used (commit ids, branch, repository, number); a payload that breaks one is rejected, never cleaned.
 * `check_run`/`check_suite` `rerequested` re-run the preview of their head commit, for a check run of ours
 * (`driftless preview`) and a suite with a pull request of this repository (GitHub lists no fork's there).
 */
export const previewTriggerOf = (event: string, payload: Record<string, unknown>): { preview: PreviewRequest } | { ignore: string } | { reject: string } => {
  const repository = (payload.repository as { full_name?: unknown } | undefined)?.full_name;
  if (!isRepositoryName(repository)) return { reject: 'payload without a valid repository.full_name' };
  if (event === 'pull_request') {
    const action = String(payload.action);
    if (!(PREVIEW_ACTIONS as readonly string[]).includes(action)) return { ignore: `pull_request ${action} does not start a preview` };
    const pr = (payload.pull_request ?? {}) as Pr;
    // A deleted fork has no head repository: it is somebody else's code all the same.
    const headRepo = pr.head?.repo?.full_name;
    const fork = typeof headRepo !== 'string' || headRepo.toLowerCase() !== repository.toLowerCase();
    return fromPullRequest(repository, pr, fork, 'pull_request');
  }
  if (event === 'check_run' || event === 'check_suite') {
    if (payload.action !== 'rerequested') return { ignore: `${event} ${String(payload.action)} does not start a preview` };
    const run = (payload[event] ?? {}) as { name?: unknown; head_sha?: unknown; pull_requests?: Pr[] };
    if (event === 'check_run' && run.name !== CHECK_NAME) return { ignore: `check run ${JSON.stringify(String(run.name))} is not driftless's` };
    const pr = Array.isArray(run.pull_requests) ? run.pull_requests[0] : undefined;
    if (!pr) return { ignore: `${event} rerequested without a pull request of ${repository} (a fork's preview reruns on its next push)` };
    // These list repositories by id only: the head is ours when its repository is the base's.
    const headId = pr.head?.repo?.id;
    const fork = headId === undefined || headId !== pr.base?.repo?.id;
    return fromPullRequest(repository, { ...pr, head: { ...pr.head, sha: run.head_sha ?? pr.head?.sha } }, fork, event);
  }
  return { ignore: `event ${event || '(none)'} does not start a preview` };
};

const fromPullRequest = (repository: string, pr: Pr, fork: boolean, trigger: PreviewRequest['trigger']): { preview: PreviewRequest } | { reject: string } => {
  const base = pr.base?.ref;
  const head = pr.head?.sha;
  if (!isBranchName(base)) return { reject: 'pull request whose base.ref is not a branch name' };
  if (!isCommitId(head)) return { reject: 'pull request whose head.sha is not a commit id' };
  const baseSha = isCommitId(pr.base?.sha) ? pr.base.sha : undefined;
  const number = typeof pr.number === 'number' && Number.isSafeInteger(pr.number) && pr.number > 0 ? pr.number : undefined;
  return {
    preview: { repository, baseBranch: base, headSha: head, fork, trigger, ...(baseSha ? { baseSha } : {}), ...(number ? { pullRequest: number } : {}) },
  };
};
