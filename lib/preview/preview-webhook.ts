import { CONFIG_FILE, parseDriftlessConfig } from '../config/load-config.js';
import type { WebhookDeps, WebhookOutcome } from '../reconcile/handle-webhook.js';
import { PREVIEW_ACTIONS, previewTriggerOf, type PreviewRequest } from './preview-trigger.js';
import type { PreviewJob } from './run-preview.js';

/** Deliveries that ask for a preview: a pull request opened or pushed to, and a re-run of a check. */
const isPreviewEvent = (event: string, p: Record<string, unknown>): boolean =>
  (event === 'pull_request' && (PREVIEW_ACTIONS as readonly string[]).includes(String(p.action))) ||
  ((event === 'check_run' || event === 'check_suite') && p.action === 'rerequested');

/** The claim of one preview per (repository, head): a redelivery or a second event of the same head is not previewed twice. */
const previewClaim = (req: PreviewRequest): string => `preview/${req.repository}@${req.headSha}`;

/**
 * A verified pull-request delivery of a registered repository: one preview of its head, handed off when the
 * registry allows it (forks only with `previewForks`) and a target tracks its base branch (known in the ledger,
 * or named by driftless.yaml at the head; a driftless.yaml that does not parse is previewed, to show its errors).
 * A re-run of the check (`rerequested`) and a push (`synchronize`) preview their head again; `opened`, `reopened`
 * and `ready_for_review` of a head already handed off do not.
 */
export const previewWebhook =
  (handOffPreview: (job: PreviewJob) => Promise<void>) =>
  async (event: string, payload: Record<string, unknown>, delivery: string, deps: WebhookDeps): Promise<WebhookOutcome | undefined> => {
    if (!isPreviewEvent(event, payload)) return undefined;
    const repository = String((payload.repository as { full_name?: string } | undefined)?.full_name ?? '');
    const work = previewTriggerOf(event, payload);
    if ('reject' in work) return { kind: 'rejected', status: 400, reason: work.reject };
    if ('ignore' in work) return { kind: 'ignored', reason: work.ignore };
    const req = work.preview;
    const grant = deps.registry.repositories[repository];
    if (req.fork && !grant?.previewForks) {
      return { kind: 'ignored', reason: `pull request${req.pullRequest ? ` #${req.pullRequest}` : ''} is from a fork: previews of forks need previewForks in the registry entry` };
    }
    const rerun = req.trigger !== 'pull_request';
    // A push to the pull request always previews its head, even one previewed before (a force-push back to it):
    // the comment (token auth) and the newest head must follow the pull request. Redeliveries have the same id.
    const pushed = payload.action === 'synchronize';
    const [duplicate, claimed, known] = await Promise.all([
      delivery ? deps.ledger.hasDelivery(delivery) : Promise.resolve(false),
      rerun || pushed ? Promise.resolve(false) : deps.ledger.hasDelivery(previewClaim(req)),
      deps.ledger.listTargets({ repository, withInventory: false }),
    ]);
    if (duplicate) return { kind: 'duplicate', reason: `delivery ${delivery} was handled before` };
    if (claimed) return { kind: 'duplicate', reason: `the preview of ${req.headSha.slice(0, 12)} was handed off before` };
    if (!known.some((t) => (t.config as { branch?: string } | undefined)?.branch === req.baseBranch)) {
      let text: string | undefined;
      try {
        text = await deps.source.readFile(repository, req.headSha, CONFIG_FILE);
      } catch (err) {
        return { kind: 'failed', reason: `${CONFIG_FILE} at ${req.headSha.slice(0, 12)} cannot be read: ${(err as Error).message}` };
      }
      if (text === undefined) return { kind: 'ignored', reason: `no ${CONFIG_FILE} at ${req.headSha.slice(0, 12)}` };
      let tracked = true;
      try {
        tracked = parseDriftlessConfig(text, { repository, registry: deps.registry }).targets.some((t) => t.branch === req.baseBranch);
      } catch {
        // Broken at the head: the preview says where (annotations), so it is handed off.
      }
      if (!tracked) return { kind: 'ignored', reason: `no target tracks ${req.baseBranch}` };
    }
    try {
      await handOffPreview({ kind: 'preview', ...req, ...(delivery ? { deliveryId: delivery } : {}) });
    } catch (err) {
      return { kind: 'failed', reason: `hand-off of the preview of ${req.headSha.slice(0, 12)} failed: ${(err as Error).message}` };
    }
    // Only after the hand-off: a failed one is redelivered.
    await Promise.all([
      delivery ? deps.ledger.recordDelivery(delivery, { event, repository }) : undefined,
      rerun ? undefined : deps.ledger.recordDelivery(previewClaim(req), { event: 'preview', repository }),
    ]);
    return { kind: 'accepted', targets: [], preview: { head: req.headSha, ...(req.pullRequest ? { pullRequest: req.pullRequest } : {}) } };
  };
