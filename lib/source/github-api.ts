import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { createAppAuth } from '@octokit/auth-app';
import { ReconcilerError } from '../core/errors.js';
import type { CheckRunReport, CheckRuns, CommitStatus, HeadAndChanges, PullRequestChange, PullRequestComments, RepositorySource } from './repository-source.js';
import { assertBranchName, assertCommitId, assertRepositoryPath, isCommitId, isRepositoryName } from '../core/git-names.js';

/** How the reconciler authenticates to GitHub: a token, or a GitHub App (installation tokens, cached by Octokit). */
export type GitHubAuth = { token: string } | { appId: string | number; privateKey: string };

export interface GitHubSourceOptions {
  readonly auth: GitHubAuth;
  /** API base URL (GitHub Enterprise, or a local test endpoint). @default https://api.github.com */
  readonly baseUrl?: string;
  /** Called when the rate limit is hit (logging). */
  readonly onRateLimit?: (message: string) => void;
  /** Deadline of one HTTP request (the webhook's are short, to answer within GitHub's 10 s). @default 60000 */
  readonly requestTimeoutMs?: number;
}

const ThrottledOctokit = Octokit.plugin(retry, throttling);
type Client = InstanceType<typeof ThrottledOctokit>;

/** The most files a compare answers in one page; more means a truncated compare (every target touched). */
const COMPARE_PAGE = 300;

/** GitHub's API for repositories, through Octokit with the retry and throttling plugins (everything but snapshots). */
export class GitHubApi implements Omit<RepositorySource, 'snapshot'> {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly options: GitHubSourceOptions) {}

  protected client(installationId?: number): Client {
    const key = String(installationId ?? 'token');
    let c = this.clients.get(key);
    if (!c) {
      const common = {
        ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}),
        userAgent: 'driftless',
        request: { fetch: timedFetch(this.options.requestTimeoutMs ?? 60_000) },
        throttle: {
          onRateLimit: (after: number, opts: { method: string; url: string }, _o: unknown, retryCount: number) => {
            this.options.onRateLimit?.(`GitHub rate limit on ${opts.method} ${opts.url}; retrying after ${after} s`);
            return retryCount < 2;
          },
          onSecondaryRateLimit: (after: number, opts: { method: string; url: string }, _o: unknown, retryCount: number) => {
            this.options.onRateLimit?.(`GitHub secondary rate limit on ${opts.method} ${opts.url}; retrying after ${after} s`);
            return retryCount < 1;
          },
        },
      };
      const auth = this.options.auth;
      c =
        'token' in auth
          ? new ThrottledOctokit({ ...common, auth: auth.token })
          : new ThrottledOctokit({
              ...common,
              authStrategy: createAppAuth,
              auth: { appId: auth.appId, privateKey: auth.privateKey, ...(installationId ? { installationId } : {}) },
            });
      this.clients.set(key, c);
    }
    return c;
  }

  private readonly installations = new Map<string, number>();

  /** The Octokit for a repository: the token's, or the App installation's (looked up once per repository). */
  protected async forRepo(repository: string): Promise<Client> {
    if ('token' in this.options.auth) return this.client();
    let id = this.installations.get(repository);
    if (id === undefined) {
      const [owner, repo] = split(repository);
      const res = await this.client().request('GET /repos/{owner}/{repo}/installation', { owner, repo });
      id = res.data.id;
      this.installations.set(repository, id);
    }
    return this.client(id);
  }

  async headAndChanges(repository: string, branch: string, since?: string, signal?: AbortSignal): Promise<HeadAndChanges> {
    const [owner, repo] = split(repository);
    assertBranchName(`GitHub ${repository}: branch`, branch);
    const gh = await this.forRepo(repository);
    const request = signal ? { request: { signal } } : {};
    // A base that is not a commit id (a ledger item edited by hand) is never sent: every target counts as touched.
    if (since && !isCommitId(since)) return { head: await this.ref(gh, owner, repo, branch, signal), changed: { files: [], truncated: true } };
    if (since) {
      // One request gives both: the compare of the last attempted commit with the branch names the head.
      try {
        const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', { owner, repo, basehead: `${since}...${branch}`, per_page: COMPARE_PAGE, ...request });
        const d = res.data;
        const files = (d.files ?? []).flatMap((f) => [f.filename, ...(f.previous_filename ? [f.previous_filename] : [])]);
        // Compare lists the changes from the merge base: when the head is not a descendant of the base (a
        // force-push back, a rewritten branch), what changed since the base is not in it, so touch everything.
        const truncated = (d.files?.length ?? 0) >= COMPARE_PAGE || d.commits.length < d.ahead_by || d.behind_by > 0;
        let head: string | undefined;
        if (d.ahead_by === 0) head = d.behind_by === 0 ? d.base_commit.sha : d.merge_base_commit.sha;
        else if (d.commits.length === d.ahead_by) head = d.commits[d.commits.length - 1]?.sha;
        if (head) return { head, changed: { files, truncated } };
        const ref = await this.ref(gh, owner, repo, branch, signal);
        return { head: ref, changed: { files, truncated: true }, requests: 2 };
      } catch (err) {
        // An unknown base (force-pushed away, or garbage collected): every target counts as touched.
        if ((err as { status?: number }).status !== 404) throw wrap(repository, 'compare', err);
        return { head: await this.ref(gh, owner, repo, branch, signal), changed: { files: [], truncated: true }, requests: 2 };
      }
    }
    return { head: await this.ref(gh, owner, repo, branch, signal) };
  }

  /**
   * `baseBranch...head` in one request: the base branch's head (`base_commit`), the merge base, and the files
   * the pull request changes. A compare of 300 files or more is truncated (every target counts as touched).
   */
  async compareHead(repository: string, baseBranch: string, head: string, signal?: AbortSignal): Promise<PullRequestChange> {
    const [owner, repo] = split(repository);
    assertBranchName(`GitHub ${repository}: base branch`, baseBranch);
    assertCommitId(`GitHub ${repository}: pull request head`, head);
    const gh = await this.forRepo(repository);
    try {
      const res = await gh.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
        owner,
        repo,
        basehead: `${baseBranch}...${head}`,
        per_page: COMPARE_PAGE,
        ...(signal ? { request: { signal } } : {}),
      });
      const d = res.data;
      const base = d.base_commit.sha;
      const mergeBase = d.merge_base_commit.sha;
      assertCommitId(`GitHub ${repository}: head of ${baseBranch}`, base);
      assertCommitId(`GitHub ${repository}: merge base of ${baseBranch} and ${head.slice(0, 12)}`, mergeBase);
      const files = (d.files ?? []).flatMap((f) => [f.filename, ...(f.previous_filename ? [f.previous_filename] : [])]);
      return { base, mergeBase, changed: { files, truncated: (d.files?.length ?? 0) >= COMPARE_PAGE } };
    } catch (err) {
      throw wrap(repository, `compare ${baseBranch}...${head.slice(0, 12)}`, err);
    }
  }

  /** Comments work with a token and with an App (`pull_requests: write` or `issues: write`). */
  async pullRequestComments(): Promise<PullRequestComments> {
    return this;
  }

  async findComment(repository: string, pullRequest: number, marker: string): Promise<number | undefined> {
    const [owner, repo] = split(repository);
    const gh = await this.forRepo(repository);
    try {
      // Oldest first, 100 a page: driftless's comment is written on the first preview, so it is almost always on page 1.
      for (let page = 1; page <= COMMENT_PAGES; page++) {
        const res = await gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: pullRequest, per_page: 100, page });
        const found = res.data.find((c) => (c.body ?? '').includes(marker));
        if (found) return Number(found.id);
        if (res.data.length < 100) return undefined;
      }
      return undefined;
    } catch (err) {
      throw wrap(repository, `comments of pull request #${pullRequest}`, err);
    }
  }

  async createComment(repository: string, pullRequest: number, body: string): Promise<number> {
    const [owner, repo] = split(repository);
    const gh = await this.forRepo(repository);
    try {
      const res = await gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: pullRequest, body: cap(body) });
      return Number(res.data.id);
    } catch (err) {
      throw wrap(repository, `comment on pull request #${pullRequest}`, err);
    }
  }

  async updateComment(repository: string, id: number, body: string): Promise<void> {
    const [owner, repo] = split(repository);
    const gh = await this.forRepo(repository);
    try {
      await gh.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { owner, repo, comment_id: id, body: cap(body) });
    } catch (err) {
      throw wrap(repository, `comment ${id}`, err);
    }
  }

  private async ref(gh: Client, owner: string, repo: string, branch: string, signal?: AbortSignal): Promise<string> {
    try {
      const res = await gh.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner, repo, ref: `heads/${branch}`, ...(signal ? { request: { signal } } : {}) });
      const sha = res.data.object.sha;
      assertCommitId(`GitHub ${owner}/${repo}: head of ${branch}`, sha);
      return sha;
    } catch (err) {
      throw wrap(`${owner}/${repo}`, `branch ${branch}`, err);
    }
  }

  async headIfChanged(repository: string, branch: string, etag?: string): Promise<{ notModified: true } | { head: string; etag?: string }> {
    const [owner, repo] = split(repository);
    assertBranchName(`GitHub ${repository}: branch`, branch);
    const gh = await this.forRepo(repository);
    try {
      const res = await gh.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner, repo, ref: `heads/${branch}`, ...(etag ? { headers: { 'if-none-match': etag } } : {}) });
      const tag = res.headers.etag;
      return { head: res.data.object.sha, ...(tag ? { etag: tag } : {}) };
    } catch (err) {
      if ((err as { status?: number }).status === 304) return { notModified: true };
      throw wrap(repository, `branch ${branch}`, err);
    }
  }

  async readFile(repository: string, sha: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    const [owner, repo] = split(repository);
    assertCommitId(`GitHub ${repository}: ${path}`, sha);
    assertRepositoryPath(`GitHub ${repository}: file`, path);
    const gh = await this.forRepo(repository);
    try {
      const res = await gh.request('GET /repos/{owner}/{repo}/contents/{path}', {
        owner,
        repo,
        path,
        ref: sha,
        headers: { accept: 'application/vnd.github.raw+json' },
        ...(signal ? { request: { signal } } : {}),
      });
      return typeof res.data === 'string' ? res.data : Buffer.from((res.data as { content?: string }).content ?? '', 'base64').toString('utf8');
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      throw wrap(repository, `${path} at ${sha.slice(0, 12)}`, err);
    }
  }

  async setStatus(repository: string, sha: string, status: CommitStatus): Promise<void> {
    const [owner, repo] = split(repository);
    assertCommitId(`GitHub ${repository}: status ${status.context}`, sha);
    const gh = await this.forRepo(repository);
    try {
      await gh.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
        owner,
        repo,
        sha,
        state: status.state,
        context: status.context,
        description: status.description.slice(0, 140),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      });
    } catch (err) {
      throw wrap(repository, `status ${status.context}`, err);
    }
  }

  /** Check runs need a GitHub App (`checks: write`): a token's answer is undefined, and statuses are used instead. */
  async checkRuns(): Promise<CheckRuns | undefined> {
    return 'token' in this.options.auth ? undefined : this;
  }

  async findCheckRun(repository: string, sha: string, name: string): Promise<number | undefined> {
    const [owner, repo] = split(repository);
    const gh = await this.forRepo(repository);
    try {
      // With an installation token, GitHub lists check runs of every app: `app_id` is not known here, the name is ours.
      const res = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { owner, repo, ref: sha, check_name: name, filter: 'latest', per_page: 1 });
      const id = res.data.check_runs[0]?.id;
      return id === undefined ? undefined : Number(id);
    } catch (err) {
      throw wrap(repository, `check run ${name} of ${sha.slice(0, 12)}`, err);
    }
  }

  async createCheckRun(repository: string, sha: string, run: CheckRunReport): Promise<number> {
    const [owner, repo] = split(repository);
    const gh = await this.forRepo(repository);
    try {
      const res = await gh.request('POST /repos/{owner}/{repo}/check-runs', { owner, repo, head_sha: sha, ...checkRunBody(run) });
      return Number(res.data.id);
    } catch (err) {
      throw wrap(repository, `check run ${run.name} of ${sha.slice(0, 12)}`, err);
    }
  }

  async updateCheckRun(repository: string, id: number, run: CheckRunReport): Promise<void> {
    const [owner, repo] = split(repository);
    const gh = await this.forRepo(repository);
    try {
      await gh.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { owner, repo, check_run_id: id, ...checkRunBody(run) });
    } catch (err) {
      throw wrap(repository, `check run ${run.name} (${id})`, err);
    }
  }
}

/** GitHub caps a check run's summary and text, and a comment's body, at 65,535 characters. */
const SUMMARY_MAX = 65_535;
/** Pages of 100 comments looked through for driftless's comment. */
const COMMENT_PAGES = 5;

const cap = (text: string, what = 'summary'): string => (text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 40)}\n\n… (${what} cut at GitHub's limit)` : text);

const checkRunBody = (run: CheckRunReport) => ({
  name: run.name,
  status: run.status,
  ...(run.status === 'completed' ? { conclusion: run.conclusion ?? 'success', completed_at: new Date().toISOString() } : {}),
  output: {
    title: run.title.slice(0, 255),
    summary: cap(run.summary),
    ...(run.text !== undefined ? { text: cap(run.text, 'text') } : {}),
    ...(run.annotations?.length
      ? {
          annotations: run.annotations.slice(0, 50).map((a) => ({
            path: a.path,
            start_line: a.line,
            end_line: a.line,
            annotation_level: a.level,
            message: a.message.slice(0, 64 * 1024),
            ...(a.title ? { title: a.title.slice(0, 255) } : {}),
          })),
        }
      : {}),
  },
});

/** fetch with a deadline per request, on top of the caller's own signal. */
const timedFetch =
  (ms: number): typeof fetch =>
  (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };

/** `owner/name` as its two parts; anything else (`../x`, `a/b/c`, `__proto__`) is refused before any request. */
export const split = (repository: string): [string, string] => {
  if (!isRepositoryName(repository)) throw new ReconcilerError(`repository ${JSON.stringify(String(repository).slice(0, 80))} is not OWNER/NAME`);
  const [owner, repo] = repository.split('/') as [string, string];
  return [owner, repo];
};

export const wrap = (repository: string, what: string, err: unknown): ReconcilerError =>
  new ReconcilerError(`GitHub ${repository}: ${what} failed: ${(err as { status?: number }).status ?? ''} ${(err as Error).message}`.replace(/\s+/g, ' '), { cause: err });
