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

/** A check run as driftless writes it: one per (repository, commit), named `driftless sync`. */
export interface CheckRunReport {
  readonly name: string;
  readonly status: 'in_progress' | 'completed';
  /** Only with `completed`. */
  readonly conclusion?: 'success' | 'failure';
  readonly title: string;
  /** Markdown, at most 65,535 characters (GitHub's limit). */
  readonly summary: string;
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
  };
};
