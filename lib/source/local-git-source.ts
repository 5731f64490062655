import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ReconcilerError } from '../core/errors.js';
import type { FileTree } from '../render/file-tree.js';
import type { CommitStatus, HeadAndChanges, PullRequestChange, RepositorySource } from './repository-source.js';
import { treeFromTarball } from './tarball.js';
import { inputLimits } from '../render/limits.js';
import { assertBranchName, assertCommitId, assertRepositoryPath, isCommitId } from '../core/git-names.js';

const run = promisify(execFile);

/**
 * Repositories read from local git clones (`driftless serve --clone OWNER/NAME=DIR`, tests).
 * Commit statuses are kept in memory and reported through `onStatus`.
 */
export class LocalGitSource implements RepositorySource {
  readonly statuses: { repository: string; sha: string; status: CommitStatus }[] = [];

  constructor(
    private readonly clones: Readonly<Record<string, string>>,
    private readonly onStatus?: (repository: string, sha: string, status: CommitStatus) => void,
  ) {}

  private dir(repository: string): string {
    const dir = Object.hasOwn(this.clones, repository) ? this.clones[repository] : undefined;
    if (!dir) throw new ReconcilerError(`repository ${repository}: no local clone configured`);
    return dir;
  }

  private async git(repository: string, args: string[], encoding: 'utf8' | 'buffer' = 'utf8'): Promise<string | Buffer> {
    try {
      const out = await run('git', ['-C', this.dir(repository), ...args], { encoding, maxBuffer: 512 * 1024 * 1024 });
      return out.stdout;
    } catch (err) {
      throw new ReconcilerError(`repository ${repository}: git ${args[0]} failed: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`, { cause: err });
    }
  }

  // Every name from a payload is checked before it reaches git, and revisions follow `--end-of-options`, so
  // none can be read as an option (a push whose `after` is `--output=FILE` must not write a file).
  async headAndChanges(repository: string, branch: string, since?: string): Promise<HeadAndChanges> {
    assertBranchName(`repository ${repository}: branch`, branch);
    const head = String(await this.git(repository, ['rev-parse', '--verify', '--end-of-options', `refs/heads/${branch}^{commit}`])).trim();
    assertCommitId(`repository ${repository}: head of ${branch}`, head);
    if (!since) return { head };
    // A base that is not a commit id (a ledger item edited by hand) is treated as unknown: everything is touched.
    const known =
      isCommitId(since) &&
      (await this.git(repository, ['cat-file', '-e', '--end-of-options', `${since}^{commit}`]).then(
        () => true,
        () => false,
      ));
    if (!known) return { head, changed: { files: [], truncated: true } };
    const out = String(await this.git(repository, ['diff', '--name-only', '--no-renames', '--end-of-options', since, head, '--']));
    return { head, changed: { files: out.split('\n').filter(Boolean), truncated: false } };
  }

  /** `baseBranch...head` as GitHub answers it: the base branch's head, the merge base, the files from it to the head. */
  async compareHead(repository: string, baseBranch: string, head: string): Promise<PullRequestChange> {
    assertCommitId(`repository ${repository}: pull request head`, head);
    const { head: base } = await this.headAndChanges(repository, baseBranch);
    const mergeBase = String(await this.git(repository, ['merge-base', '--end-of-options', base, head])).trim();
    assertCommitId(`repository ${repository}: merge base of ${baseBranch} and ${head.slice(0, 12)}`, mergeBase);
    const out = String(await this.git(repository, ['diff', '--name-only', '--no-renames', '--end-of-options', mergeBase, head, '--']));
    return { base, mergeBase, changed: { files: out.split('\n').filter(Boolean), truncated: false } };
  }

  async snapshot(repository: string, sha: string): Promise<FileTree> {
    assertCommitId(`repository ${repository}: snapshot`, sha);
    const tgz = (await this.git(repository, ['archive', '--format=tar.gz', `--prefix=snapshot/`, '--end-of-options', sha], 'buffer')) as Buffer;
    return (await treeFromTarball(tgz, inputLimits())).tree;
  }

  async readFile(repository: string, sha: string, path: string): Promise<string | undefined> {
    assertCommitId(`repository ${repository}: ${path}`, sha);
    assertRepositoryPath(`repository ${repository}: file`, path);
    try {
      return String(await this.git(repository, ['show', '--end-of-options', `${sha}:${path}`]));
    } catch {
      return undefined;
    }
  }

  async headIfChanged(repository: string, branch: string, etag?: string): Promise<{ notModified: true } | { head: string; etag?: string }> {
    const { head } = await this.headAndChanges(repository, branch);
    return etag === head ? { notModified: true } : { head, etag: head };
  }

  async setStatus(repository: string, sha: string, status: CommitStatus): Promise<void> {
    this.statuses.push({ repository, sha, status });
    this.onStatus?.(repository, sha, status);
  }
}
