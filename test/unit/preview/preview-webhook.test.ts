import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { previewWebhook } from '../../../lib/preview/preview-webhook.js';
import type { PreviewJob } from '../../../lib/preview/run-preview.js';
import { handleWebhook, type WebhookDeps } from '../../../lib/reconcile/handle-webhook.js';
import { toHttpResponse } from '../../../functions/common/http.js';
import { InMemoryWebhookLedger, recordingHandOff, StaticSource } from '../../fakes/webhook-fakes.js';

// Real payloads as GitHub sends them (@octokit/webhooks-examples), pointed at the registered repository.
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Record<string, unknown>[] }[];
const REPO = 'Codertocat/Hello-World';
const example = (name: string, action: string) =>
  structuredClone((examples.find((e) => e.name === name)?.examples ?? []).find((e) => e.action === action) as Record<string, unknown>);
const registry = (previewForks = false) =>
  parseRegistry(JSON.stringify({ repositories: { [REPO]: { clusters: ['dev'], namespaces: ['shop-*'], previewForks } }, clusters: { dev: { context: 'dev' } } }));
const CONFIG = 'version: 1\ntargets:\n  - name: web\n    branch: master\n    path: deploy\n    cluster: dev\n    namespace: shop-web\n';

describe('handleWebhook with previews', () => {
  let ledger: InMemoryWebhookLedger;
  let source: StaticSource;
  let jobs: PreviewJob[];
  let failing: boolean;
  let deps: WebhookDeps;
  const deliver = async (event: string, payload: unknown, delivery = `d-${Math.random()}`) => {
    const body = JSON.stringify(payload);
    return handleWebhook({ body, headers: { 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': await sign('current', body) } }, deps);
  };

  beforeEach(() => {
    ledger = new InMemoryWebhookLedger();
    source = new StaticSource({ 'driftless.yaml': CONFIG });
    jobs = [];
    failing = false;
    const hand = recordingHandOff();
    deps = {
      secrets: ['current'],
      registry: registry(),
      ledger,
      source,
      handOff: hand.handOff,
      preview: previewWebhook(async (job) => {
        if (failing) throw new Error('invoke failed');
        jobs.push(job);
      }),
    };
  });

  it.each(['opened', 'synchronize', 'reopened', 'ready_for_review'])('hands off one preview of pull_request %s, answering 202', async (action) => {
    const payload = example('pull_request', action);
    const pr = payload.pull_request as { number: number; head: { sha: string }; base: { ref: string } };
    const out = await deliver('pull_request', payload, 'd1');
    expect(out).toEqual({ kind: 'accepted', targets: [], preview: { head: pr.head.sha, pullRequest: pr.number } });
    expect(toHttpResponse(out).statusCode).toBe(202);
    expect(jobs).toEqual([expect.objectContaining({ kind: 'preview', repository: REPO, headSha: pr.head.sha, baseBranch: pr.base.ref, pullRequest: pr.number, deliveryId: 'd1' })]);
    expect(ledger.deliveries).toEqual(new Set(['d1', `preview/${REPO}@${pr.head.sha}`]));
  });

  it('hands off one preview per head: a second event of the same head is a duplicate, a push back to it and a re-run of the check are not', async () => {
    const payload = example('pull_request', 'opened');
    await deliver('pull_request', payload);
    expect((await deliver('pull_request', { ...payload, action: 'ready_for_review' })).kind).toBe('duplicate');
    expect(jobs).toHaveLength(1);
    // A push back to a head previewed before previews it again (the pull request's newest head is that one now).
    expect((await deliver('pull_request', { ...payload, action: 'synchronize' })).kind).toBe('accepted');
    expect(jobs).toHaveLength(2);
    jobs.pop();
    // GitHub's example is another repository's run without pull requests: made the re-run of ours on this pull request.
    const rerun = example('check_run', 'rerequested');
    const pr = payload.pull_request as { number: number; head: { sha: string; ref: string }; base: { sha: string; ref: string } };
    rerun.repository = payload.repository;
    Object.assign(rerun.check_run as object, {
      name: 'driftless preview',
      head_sha: pr.head.sha,
      pull_requests: [{ number: pr.number, head: { sha: pr.head.sha, ref: pr.head.ref, repo: { id: 1 } }, base: { sha: pr.base.sha, ref: pr.base.ref, repo: { id: 1 } } }],
    });
    const out = await deliver('check_run', rerun);
    expect(out.kind).toBe('accepted');
    expect(jobs[1]).toMatchObject({ trigger: 'check_run', headSha: (rerun.check_run as { head_sha: string }).head_sha });
  });

  it('checks the signature before anything else, and the registry before any hand-off', async () => {
    const body = JSON.stringify(example('pull_request', 'opened'));
    const forged = await handleWebhook({ body, headers: { 'x-github-event': 'pull_request', 'x-hub-signature-256': await sign('other', body) } }, deps);
    expect(forged).toMatchObject({ kind: 'rejected', status: 401 });
    const other = example('pull_request', 'opened');
    (other.repository as { full_name: string }).full_name = 'mallory/other';
    expect(await deliver('pull_request', other)).toEqual({ kind: 'ignored', reason: 'repository mallory/other is not registered' });
    expect(jobs).toEqual([]);
  });

  it('ignores a fork unless the registry entry sets previewForks', async () => {
    const payload = example('pull_request', 'opened');
    (payload.pull_request as { head: { repo: { full_name: string } } }).head.repo.full_name = 'mallory/Hello-World';
    expect(await deliver('pull_request', payload)).toEqual({
      kind: 'ignored',
      reason: 'pull request #2 is from a fork: previews of forks need previewForks in the registry entry',
    });
    deps = { ...deps, registry: registry(true) };
    expect(await deliver('pull_request', payload)).toMatchObject({ kind: 'accepted' });
    expect(jobs[0]).toMatchObject({ fork: true });
  });

  it('ignores a pull request into a branch no target tracks; previews one whose driftless.yaml is broken, to show where', async () => {
    const payload = example('pull_request', 'opened');
    (payload.pull_request as { base: { ref: string } }).base.ref = 'docs';
    expect(await deliver('pull_request', payload)).toEqual({ kind: 'ignored', reason: 'no target tracks docs' });
    source = new StaticSource({ 'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    cluster: nowhere\n' });
    deps = { ...deps, source };
    expect(await deliver('pull_request', payload)).toMatchObject({ kind: 'accepted' });
  });

  it('answers 502 and records nothing when the hand-off fails, so the redelivery previews', async () => {
    failing = true;
    const payload = example('pull_request', 'synchronize');
    const out = await deliver('pull_request', payload, 'd9');
    expect(out.kind).toBe('failed');
    expect(toHttpResponse(out).statusCode).toBe(502);
    expect(ledger.deliveries.size).toBe(0);
    failing = false;
    expect((await deliver('pull_request', payload, 'd9')).kind).toBe('accepted');
  });

  it('ignores previews where the deployment runs none, and still applies merged pull requests', async () => {
    const { preview: _p, ...noPreview } = deps;
    deps = noPreview;
    expect(await deliver('pull_request', example('pull_request', 'opened'))).toEqual({ kind: 'ignored', reason: 'pull_request opened neither merges nor asks for a preview' });
  });
});
