import { Readable } from 'node:stream';
import type { FileTree } from '../render/file-tree.js';
import { GitHubApi, split, wrap } from './github-api.js';
import type { RepositorySource } from './repository-source.js';
import { treeFromTarball } from './tarball.js';
import { assertCommitId } from '../core/git-names.js';
import { inputLimits } from '../render/limits.js';

export { type GitHubAuth, type GitHubSourceOptions } from './github-api.js';

/** Repositories on GitHub: the API, plus snapshots of a commit as one tarball. */
export class GitHubSource extends GitHubApi implements RepositorySource {
  async snapshot(repository: string, sha: string, signal?: AbortSignal): Promise<FileTree> {
    const [owner, repo] = split(repository);
    assertCommitId(`GitHub ${repository}: snapshot`, sha);
    const gh = await this.forRepo(repository);
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
      throw wrap(repository, `tarball of ${sha.slice(0, 12)}`, err);
    }
  }
}
