import { ReconcilerError } from './errors.js';

/**
 * Checks for names that come from a payload (a webhook, an invocation event, a ledger item) before they reach a
 * command line (`git`, `helm`) or a lookup. A name that fails is refused, never cleaned up: a cleaned name could
 * point somewhere the sender did not mean.
 */

/** A 40- or 64-hex commit id (SHA-1 or SHA-256 repositories), lower case as Git and GitHub print them. */
export const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export const isCommitId = (value: unknown): value is string => typeof value === 'string' && COMMIT_ID.test(value);

/** GitHub's `owner/name`: an owner of 1–39 letters, digits and inner hyphens; a name of letters, digits, `.`, `_`, `-`. */
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

export const isRepositoryName = (value: unknown): value is string => typeof value === 'string' && REPOSITORY.test(value) && !/\/\.{1,2}$/.test(value) && !value.endsWith('.git');

/**
 * A branch name as `git check-ref-format --branch` accepts it, and one that cannot be read as an option:
 * no leading `-`, no `..`, no `@{`, no control characters, space, `~ ^ : ? * [ \`, no component starting
 * with `.` or ending with `.lock`, no empty component, not `@`, at most 255 bytes.
 */
export const isBranchName = (value: unknown): value is string => {
  if (typeof value !== 'string' || value === '' || value === '@' || Buffer.byteLength(value) > 255) return false;
  if (value.startsWith('-') || value.startsWith('/') || value.endsWith('/') || value.endsWith('.')) return false;
  if (value.includes('..') || value.includes('@{') || value.includes('//')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(value)) return false;
  return value.split('/').every((c) => c !== '' && !c.startsWith('.') && !c.endsWith('.lock'));
};

/** A path inside a repository: relative, `/`-separated, no `.`/`..` or empty segment, no NUL, no leading `-`. */
export const isRepositoryPath = (value: unknown): value is string =>
  typeof value === 'string' &&
  value !== '' &&
  !value.startsWith('/') &&
  !value.startsWith('-') &&
  !value.includes('\0') &&
  !value.includes('\\') &&
  value.split('/').every((s) => s !== '' && s !== '.' && s !== '..');

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value);

/** Throws a ReconcilerError naming `what` unless `value` is a commit id. */
export function assertCommitId(what: string, value: unknown): asserts value is string {
  if (!isCommitId(value)) throw new ReconcilerError(`${what}: ${show(value)} is not a commit id (40 or 64 lower-case hex digits)`);
}

/** Throws a ReconcilerError naming `what` unless `value` is an `owner/name` repository. */
export function assertRepositoryName(what: string, value: unknown): asserts value is string {
  if (!isRepositoryName(value)) throw new ReconcilerError(`${what}: ${show(value)} is not a repository (owner/name)`);
}

/** Throws a ReconcilerError naming `what` unless `value` is a valid branch name. */
export function assertBranchName(what: string, value: unknown): asserts value is string {
  if (!isBranchName(value)) throw new ReconcilerError(`${what}: ${show(value)} is not a valid branch name`);
}

/** Throws a ReconcilerError naming `what` unless `value` is a path inside a repository. */
export function assertRepositoryPath(what: string, value: unknown): asserts value is string {
  if (!isRepositoryPath(value)) throw new ReconcilerError(`${what}: ${show(value)} is not a path inside the repository`);
}
