import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReconcilerError } from '../core/errors.js';
import type { FileTree } from '../render/file-tree.js';
import { GitHubApi, split, wrap } from './github-api.js';
import type { RepositorySource } from './repository-source.js';
import { treeFromTarball } from './tarball.js';
import { assertCommitId } from '../core/git-names.js';
import { inputLimits } from '../render/limits.js';

export { type GitHubAuth, type GitHubSourceOptions } from './github-api.js';

/**
 * Attempts at one tarball whose download broke off after GitHub answered (a connection cut mid-body, a
 * truncated or damaged archive): codeload cuts a download now and then, and the next one is whole. A refusal
 * (4xx, or a snapshot over its limit) is not retried; 5xx and rate limits are retried by Octokit before a body.
 */
export const TARBALL_ATTEMPTS = 3;
const BACKOFF_MS = 200;

/** A download that broke off, worth another attempt: not an HTTP answer, a limit, nor the caller's abort. */
const brokenOff = (err: unknown, signal?: AbortSignal): boolean =>
  !signal?.aborted && !(err instanceof ReconcilerError) && typeof (err as { status?: unknown }).status !== 'number' && (err as Error).name !== 'AbortError';

/** Repositories on GitHub: the API, plus snapshots of a commit as one tarball. */
export class GitHubSource extends GitHubApi implements RepositorySource {
  async snapshot(repository: string, sha: string, signal?: AbortSignal): Promise<FileTree> {
    const [owner, repo] = split(repository);
    assertCommitId(`GitHub ${repository}: snapshot`, sha);
    const gh = await this.forRepo(repository);
    for (let attempt = 1; ; attempt++) {
      try {
        // Streamed: the snapshot limit stops the download as soon as the archive's contents exceed it.
        const res = await gh.request('GET /repos/{owner}/{repo}/tarball/{ref}', {
          owner,
          repo,
          ref: sha,
          request: { parseSuccessResponseBody: false, ...(signal ? { signal } : {}) },
        });
        const body = res.data as ReadableStream<Uint8Array> | ArrayBuffer;
        const input = body instanceof ArrayBuffer ? new Uint8Array(body) : Readable.fromWeb(body);
        return (await treeFromTarball(input, inputLimits())).tree;
      } catch (err) {
        if (attempt < TARBALL_ATTEMPTS && brokenOff(err, signal)) {
          await sleep(BACKOFF_MS * attempt, undefined, signal ? { signal } : {}).catch(() => undefined);
          continue;
        }
        throw wrap(repository, `tarball of ${sha.slice(0, 12)}${attempt > 1 ? ` (${attempt} attempts)` : ''}`, err);
      }
    }
  }
}
