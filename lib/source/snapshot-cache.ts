import { isCommitId } from '../core/git-names.js';
import type { FileTree } from '../render/file-tree.js';
import type { RepositorySource } from './repository-source.js';

/** How many snapshots a process keeps. @default 4 */
const DEFAULT_ENTRIES = 4;

/**
 * A repository source that keeps the last few snapshots it fetched, by repository and commit id: a commit's
 * files never change, so a warm function that checks or syncs many targets of one monorepo commit downloads its
 * tarball once instead of once per target. Only full commit ids are cached (a branch name moves); a fetch in
 * flight is shared by the callers that ask for it meanwhile, and a failed fetch is not kept. Every other method
 * goes to the source as it is.
 * @example const source = cachingSnapshots(new GitHubSource({ auth }), { entries: 4 });
 */
export const cachingSnapshots = <S extends RepositorySource>(source: S, o: { entries?: number } = {}): S & { readonly fetched: number } => {
  const entries = Math.max(1, o.entries ?? DEFAULT_ENTRIES);
  const cache = new Map<string, Promise<FileTree>>();
  let fetched = 0;
  const snapshot = (repository: string, sha: string, signal?: AbortSignal): Promise<FileTree> => {
    if (!isCommitId(sha)) return source.snapshot(repository, sha, signal);
    const key = `${repository.toLowerCase()}@${sha}`;
    const hit = cache.get(key);
    if (hit) {
      // Most recently used last: the oldest entry is the first to go.
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    fetched++;
    // A caller's abort ends its own wait, never the shared fetch another caller waits on.
    const shared = source.snapshot(repository, sha);
    cache.set(key, shared);
    shared.catch(() => {
      if (cache.get(key) === shared) cache.delete(key);
    });
    while (cache.size > entries) cache.delete(cache.keys().next().value as string);
    return signal ? abortable(shared, signal) : shared;
  };
  return new Proxy(source, {
    get(target, prop, receiver) {
      if (prop === 'snapshot') return snapshot;
      if (prop === 'fetched') return fetched;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as S & { readonly fetched: number };
};

const abortable = <T>(p: Promise<T>, signal: AbortSignal): Promise<T> =>
  signal.aborted
    ? Promise.reject(signal.reason as Error)
    : new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        p.then(
          (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
          (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e as Error)),
        );
      });
