import type { FileTree } from '../render/file-tree.js';

/** A branch head and, when asked with a base, the files changed from that base to the head. */
export interface HeadAndChanges {
  readonly head: string;
  /** Paths changed between the base and the head (both sides of renames); undefined without a base. */
  readonly changed?: { readonly files: readonly string[]; readonly truncated: boolean };
  /** API requests this took (default 1): a truncated GitHub compare needs a second one for the head. */
  readonly requests?: number;
}

/** A commit status, as GitHub shows it on a commit and a pull request. */
export interface CommitStatus {
  readonly context: string;
  readonly state: 'pending' | 'success' | 'failure' | 'error';
  readonly description: string;
  readonly targetUrl?: string;
}

/** A check-run annotation: a problem at a file and line of the repository. */
export interface CheckRunAnnotation {
  readonly path: string;
  readonly line: number;
  readonly level: 'notice' | 'warning' | 'failure';
  readonly message: string;
  readonly title?: string;
}

/** A check run as driftless writes it: one per (repository, commit), named `driftless sync` or `driftless preview`. */
export interface CheckRunReport {
  readonly name: string;
  readonly status: 'in_progress' | 'completed';
  /** Only with `completed`. */
  readonly conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled';
  readonly title: string;
  /** Markdown, at most 65,535 characters (GitHub's limit). */
  readonly summary: string;
  /** The details below the summary: Markdown, at most 65,535 characters. */
  readonly text?: string;
  /** At most 50 per request (GitHub appends the annotations of each update to the run's). */
  readonly annotations?: readonly CheckRunAnnotation[];
}

/** A pull request's change as GitHub shows it: the base branch's head now, and the files from the merge base to the head. */
export interface PullRequestChange {
  /** The base branch's head commit. */
  readonly base: string;
  /** The commit the head branched from (what the files are compared with). */
  readonly mergeBase: string;
  /** Both sides of renames; `truncated`: the list is incomplete (every target counts as touched). */
  readonly changed: { readonly files: readonly string[]; readonly truncated: boolean };
}

/** The comments of a pull request (token auth writes its preview as one comment, edited in place). */
export interface PullRequestComments {
  /** The id of the oldest comment on the pull request whose body contains `marker` (a read per 100 comments). */
  findComment(repository: string, pullRequest: number, marker: string): Promise<number | undefined>;
  /** Creates a comment; returns its id (a write). */
  createComment(repository: string, pullRequest: number, body: string): Promise<number>;
  /** Rewrites a comment's body (a write). */
  updateComment(repository: string, id: number, body: string): Promise<void>;
}

/** Check runs of commits: GitHub App auth only (a token cannot write them). */
export interface CheckRuns {
  /** The id of the newest check run of this app named `name` on the commit, if any (a read). */
  findCheckRun(repository: string, sha: string, name: string): Promise<number | undefined>;
  /** Creates a check run; returns its id (a write). */
  createCheckRun(repository: string, sha: string, run: CheckRunReport): Promise<number>;
  /** Rewrites a check run's status, conclusion and output (a write). */
  updateCheckRun(repository: string, id: number, run: CheckRunReport): Promise<void>;
}

/** Where repositories come from: GitHub, or local clones (serve, tests). */
export interface RepositorySource {
  /** The branch head; with `since`, also what changed since that commit (one request where the API allows). */
  headAndChanges(repository: string, branch: string, since?: string, signal?: AbortSignal): Promise<HeadAndChanges>;
  /** Every file of a commit, in memory. */
  snapshot(repository: string, sha: string, signal?: AbortSignal): Promise<FileTree>;
  /** One file at a commit; undefined when it does not exist. */
  readFile(repository: string, sha: string, path: string, signal?: AbortSignal): Promise<string | undefined>;
  setStatus(repository: string, sha: string, status: CommitStatus): Promise<void>;
  /** Check runs, when this source can write them (a GitHub App); undefined for token auth and local clones. */
  checkRuns?(): Promise<CheckRuns | undefined>;
  /** A pull request's change: `baseBranch...head` (one request). Sources that cannot answer it leave it out. */
  compareHead?(repository: string, baseBranch: string, head: string, signal?: AbortSignal): Promise<PullRequestChange>;
  /** Pull-request comments, when this source can write them (GitHub); undefined for local clones. */
  pullRequestComments?(): Promise<PullRequestComments | undefined>;
  /** The branch head, asked conditionally: `notModified` when the ETag still matches (free on GitHub's rate limit). */
  headIfChanged(repository: string, branch: string, etag?: string): Promise<{ notModified: true } | { head: string; etag?: string }>;
}

/** A source that counts the requests made through it (for the ledger's "GitHub calls spent"). */
export const countingSource = (source: RepositorySource): RepositorySource & { readonly reads: number; readonly writes: number } => {
  const counts = { reads: 0, writes: 0 };
  return {
    get reads() {
      return counts.reads;
    },
    get writes() {
      return counts.writes;
    },
    headAndChanges: (...a) =>
      source.headAndChanges(...a).then((r) => {
        counts.reads += r.requests ?? 1;
        return r;
      }),
    snapshot: (...a) => {
      counts.reads++;
      return source.snapshot(...a);
    },
    readFile: (...a) => {
      counts.reads++;
      return source.readFile(...a);
    },
    setStatus: (...a) => {
      counts.writes++;
      return source.setStatus(...a);
    },
    headIfChanged: (...a) => {
      counts.reads++;
      return source.headIfChanged(...a);
    },
    ...(source.checkRuns
      ? {
          checkRuns: async () => {
            const runs = await source.checkRuns?.();
            if (!runs) return undefined;
            return {
              findCheckRun: (...a) => (counts.reads++, runs.findCheckRun(...a)),
              createCheckRun: (...a) => (counts.writes++, runs.createCheckRun(...a)),
              updateCheckRun: (...a) => (counts.writes++, runs.updateCheckRun(...a)),
            } satisfies CheckRuns;
          },
        }
      : {}),
    ...(source.compareHead
      ? {
          compareHead: (...a: Parameters<NonNullable<RepositorySource['compareHead']>>) => {
            counts.reads++;
            return (source.compareHead as NonNullable<RepositorySource['compareHead']>)(...a);
          },
        }
      : {}),
    ...(source.pullRequestComments
      ? {
          pullRequestComments: async () => {
            const comments = await source.pullRequestComments?.();
            if (!comments) return undefined;
            return {
              findComment: (...a) => (counts.reads++, comments.findComment(...a)),
              createComment: (...a) => (counts.writes++, comments.createComment(...a)),
              updateComment: (...a) => (counts.writes++, comments.updateComment(...a)),
            } satisfies PullRequestComments;
          },
        }
      : {}),
  };
};
