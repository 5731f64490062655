import { isBranchName, isCommitId, isRepositoryName } from '../core/git-names.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { CONFIG_FILE, loadTargets } from '../config/load-config.js';
import type { Registry } from '../config/schema.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RepositorySource } from '../source/repository-source.js';
import type { ReconcileRequest } from './reconcile-target.js';

/** A webhook delivery as received: raw body (never parsed before the signature is checked) and headers. */
export interface WebhookRequest {
  readonly body: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** What became of a delivery; only the HTTP mapping knows status codes. */
export type WebhookOutcome =
  | { readonly kind: 'accepted'; readonly targets: readonly string[]; readonly preview?: { readonly head: string; readonly pullRequest?: number } }
  /** driftless.yaml is broken at the pushed commit: a failure status, and known targets handed off to record `failed`. */
  | { readonly kind: 'invalid'; readonly reason: string; readonly targets: readonly string[] }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'duplicate'; readonly reason: string }
  | { readonly kind: 'rejected'; readonly status: 400 | 401 | 413; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

export interface WebhookDeps {
  /** The webhook secret, and its rotating twin (both accepted while a rotation is under way). */
  readonly secrets: readonly string[];
  readonly registry: Registry;
  /** Only what the webhook needs of the ledger: deliveries, and the targets it already knows. */
  readonly ledger: Pick<Ledger, 'hasDelivery' | 'recordDelivery' | 'listTargets'>;
  /** Only what the webhook needs of a repository source: one file, and a status on a bad driftless.yaml. */
  readonly source: Pick<RepositorySource, 'readFile' | 'setStatus'>;
  /** Hands one target to reconcile (an async Lambda invoke); rejects when the hand-off failed. */
  readonly handOff: (request: ReconcileRequest) => Promise<void>;
  /**
   * Routes a verified delivery of a registered repository that asks for a pull-request preview
   * (`previewWebhook(handOffPreview)` of lib/preview/preview-webhook.ts); undefined: not a preview delivery.
   * Absent: this deployment runs no previews (pull requests that are not merged are ignored).
   */
  readonly preview?: (event: string, payload: Record<string, unknown>, delivery: string, deps: WebhookDeps) => Promise<WebhookOutcome | undefined>;
  /** Largest body accepted. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Answer `failed` (502, redelivered) when the work of a delivery takes longer: GitHub waits 10 s. @default 6000 */
  readonly timeoutMs?: number;
}

/** GitHub caps webhook payloads at 25 MB; push payloads with many commits are far smaller, and 1 MiB is plenty. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The 413 for a body of `bytes` over the limit; a server that streams the body can answer it before buffering. */
export const bodyTooLarge = (bytes: number, max = DEFAULT_MAX_BODY_BYTES): WebhookOutcome | undefined =>
  bytes > max ? { kind: 'rejected', status: 413, reason: `body larger than ${max} bytes` } : undefined;

/**
 * Verifies a GitHub delivery, works out the targets it concerns and hands each to reconcile; records the
 * delivery id only after every hand-off succeeded (a redelivery of a failed hand-off must not be swallowed).
 * @example
 * const outcome = await handleWebhook({ body, headers }, deps);
 */
export const handleWebhook = async (req: WebhookRequest, deps: WebhookDeps): Promise<WebhookOutcome> => {
  const tooLarge = bodyTooLarge(Buffer.byteLength(req.body), deps.maxBodyBytes);
  if (tooLarge) return tooLarge;
  const signature = req.headers['x-hub-signature-256'];
  if (!signature) return { kind: 'rejected', status: 401, reason: 'missing X-Hub-Signature-256' };
  let valid = false;
  if (!req.body) valid = deps.secrets.some((secret) => secret && emptyBodySigned(secret, signature));
  for (const verifier of req.body ? verifiers(deps.secrets) : []) {
    if (await verifier.verify(req.body, signature).catch(() => false)) {
      valid = true;
      break;
    }
  }
  if (!valid) return { kind: 'rejected', status: 401, reason: 'signature does not match' };

  // Only now is the body trusted enough to parse. The signature is fine: what is wrong now is the body (400).
  if (!req.body) return { kind: 'rejected', status: 400, reason: 'empty body' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body);
  } catch {
    return { kind: 'rejected', status: 400, reason: 'body is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'rejected', status: 400, reason: 'body is not a JSON object' };
  const timeoutMs = deps.timeoutMs ?? 6000;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      route(parsed as Record<string, unknown>, req, deps),
      new Promise<WebhookOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'failed', reason: `webhook: not handled within ${timeoutMs} ms (the ledger, GitHub or the hand-off is slow)` }), timeoutMs);
      }),
    ]);
  } catch (err) {
    // Our side failed (the ledger, GitHub, a deadline): 502, so that GitHub shows it and it can be redelivered.
    return { kind: 'failed', reason: `webhook: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
};

/** A verified delivery: the targets it concerns, handed off. */
const route = async (payload: Record<string, unknown>, req: WebhookRequest, deps: WebhookDeps): Promise<WebhookOutcome> => {
  const event = req.headers['x-github-event'] ?? '';
  const delivery = req.headers['x-github-delivery'] ?? '';
  if (event === 'ping') return { kind: 'ignored', reason: 'pong' };
  const repository = String((payload.repository as { full_name?: string } | undefined)?.full_name ?? '');
  if (!isRepositoryName(repository) || !Object.hasOwn(deps.registry.repositories, repository)) {
    return { kind: 'ignored', reason: `repository ${repository || '(none)'} is not registered` };
  }
  const preview = await deps.preview?.(event, payload, delivery, deps);
  if (preview) return preview;
  const work = triggerOf(event, payload);
  if ('reject' in work) return { kind: 'rejected', status: 400, reason: work.reject };
  if ('ignore' in work) return { kind: 'ignored', reason: work.ignore };
  // The delivery id is not signed: it only spares duplicate work; reconcile is idempotent on (target, commit) anyway.
  const [duplicate, known] = await Promise.all([
    delivery ? deps.ledger.hasDelivery(delivery) : Promise.resolve(false),
    deps.ledger.listTargets({ repository, withInventory: false }),
  ]);
  if (duplicate) return { kind: 'duplicate', reason: `delivery ${delivery} was handled before` };
  const knownOnBranch = known.filter((t) => (t.config as { branch?: string } | undefined)?.branch === work.branch).map((t) => t.target);

  // driftless.yaml is read (one GitHub call) only when it may have changed or no target is known yet. When it
  // cannot be read at the pushed commit, the known targets are handed off anyway: reconcile resolves the head.
  let targets: string[] = knownOnBranch;
  let invalid: string | undefined;
  if (!knownOnBranch.length || configMayHaveChanged(event, payload)) {
    let text: string | undefined;
    let unreadable: string | undefined;
    try {
      text = await deps.source.readFile(repository, work.commit, CONFIG_FILE);
      if (text === undefined) unreadable = `no ${CONFIG_FILE} at ${work.commit.slice(0, 12)}`;
    } catch (err) {
      unreadable = `${CONFIG_FILE} at ${work.commit.slice(0, 12)} cannot be read: ${(err as Error).message}`;
      // Nothing known to hand off: GitHub should redeliver once the commit can be read.
      if (!knownOnBranch.length) return { kind: 'failed', reason: unreadable };
    }
    if (unreadable && !knownOnBranch.length) return { kind: 'ignored', reason: unreadable };
    if (text !== undefined) {
      try {
        const config = loadTargets(text, { repository, registry: deps.registry });
        const named = config.targets.filter((t) => t.branch === work.branch).map((t) => t.name);
        // Targets that left the file are handed off too: reconcile records their removal once.
        targets = [...named, ...knownOnBranch.filter((t) => !named.includes(t))];
      } catch (err) {
        // Any error of the repository's content (a validation error, a YAML bomb) is the repository's: 200, never 500.
        const message = (err as Error).message || String(err);
        invalid = `invalid ${CONFIG_FILE}: ${message}`;
        await deps.source
          .setStatus(repository, work.commit, { context: 'driftless', state: 'failure', description: message.split('\n')[0]?.slice(0, 140) || 'invalid driftless.yaml' })
          .catch(() => undefined);
        // Known targets record the failure (reconcile reads the same file at the head).
        if (!knownOnBranch.length) return { kind: 'ignored', reason: invalid };
      }
    }
  }
  if (!targets.length) return { kind: 'ignored', reason: `no target tracks ${work.branch}` };
  const results = await Promise.allSettled(
    targets.map((target) =>
      deps.handOff({
        repository,
        target,
        branch: work.branch,
        commit: work.commit,
        trigger: 'webhook',
        ...(delivery ? { deliveryId: delivery } : {}),
        ...(work.author ? { author: work.author } : {}),
      }),
    ),
  );
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    return {
      kind: 'failed',
      reason: `hand-off failed for ${failed.length} of ${targets.length} targets: ${String(((failed[0] as PromiseRejectedResult).reason as { message?: unknown } | undefined)?.message ?? failed[0])}`,
    };
  }
  if (delivery) await deps.ledger.recordDelivery(delivery, { event, repository });
  return invalid ? { kind: 'invalid', reason: invalid, targets } : { kind: 'accepted', targets };
};

/**
 * Whether a delivery may change driftless.yaml: a push whose (at most 20 listed) commits name it, a push that
 * lists no commits or may list only some, and merged pull requests (their payload has no file lists).
 */
const configMayHaveChanged = (event: string, p: Record<string, unknown>): boolean => {
  if (event !== 'push') return true;
  const commits = p.commits as { added?: string[]; modified?: string[]; removed?: string[] }[] | undefined;
  if (!Array.isArray(commits) || commits.length === 0 || commits.length >= 20) return true;
  return commits.some((c) => [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])].includes(CONFIG_FILE));
};

/** Whether `signature` signs an empty body with `secret` (@octokit/webhooks refuses to verify an empty payload). */
const emptyBodySigned = (secret: string, signature: string): boolean => {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update('').digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
};

const cache = new Map<string, Webhooks>();
/** One @octokit/webhooks verifier per secret, kept across invocations. */
const verifiers = (secrets: readonly string[]): Webhooks[] =>
  secrets.filter(Boolean).map((secret) => cache.get(secret) ?? (cache.set(secret, new Webhooks({ secret })), cache.get(secret) as Webhooks));

/** The branch and commit an event asks to converge, or why it is ignored. */
const triggerOf = (event: string, p: Record<string, unknown>): { branch: string; commit: string; author?: string } | { ignore: string } | { reject: string } => {
  if (event === 'push') {
    const ref = String(p.ref ?? '');
    if (!ref.startsWith('refs/heads/')) return { ignore: `push to ${ref} is not a branch` };
    if (p.deleted === true) return { ignore: `branch ${ref.slice(11)} was deleted` };
    if (!isBranchName(ref.slice(11))) return { reject: `push to ${JSON.stringify(ref.slice(0, 80))}: not a valid branch name` };
    if (!isCommitId(p.after)) return { reject: 'push without a valid after (a 40- or 64-hex commit id)' };
    const pusher = (p.pusher as { name?: string } | undefined)?.name;
    return { branch: ref.slice(11), commit: p.after, ...(pusher ? { author: pusher } : {}) };
  }
  if (event === 'pull_request') {
    const pr = (p.pull_request ?? {}) as { merged?: boolean; merge_commit_sha?: string; base?: { ref?: string }; merged_by?: { login?: string } };
    if (p.action !== 'closed' || pr.merged !== true) return { ignore: `pull_request ${String(p.action)} neither merges nor asks for a preview` };
    if (!pr.merge_commit_sha || !pr.base?.ref) return { ignore: 'merged pull request without a merge commit' };
    if (!isCommitId(pr.merge_commit_sha)) return { reject: 'merged pull request whose merge_commit_sha is not a commit id' };
    if (!isBranchName(pr.base.ref)) return { reject: `merged pull request into ${JSON.stringify(String(pr.base.ref).slice(0, 80))}: not a valid branch name` };
    return { branch: pr.base.ref, commit: pr.merge_commit_sha, ...(pr.merged_by?.login ? { author: pr.merged_by.login } : {}) };
  }
  return { ignore: `event ${event || '(none)'} is not handled` };
};
