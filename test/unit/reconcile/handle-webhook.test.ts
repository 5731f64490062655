import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { handleWebhook, type WebhookDeps } from '../../../lib/reconcile/handle-webhook.js';
import { toHttpResponse, toWebhookRequest } from '../../../functions/common/http.js';
import { InMemoryWebhookLedger, recordingHandOff, StaticSource } from '../../fakes/webhook-fakes.js';

const registry = parseRegistry(JSON.stringify({ repositories: { 'acme/shop': { clusters: ['dev'], namespaces: ['shop-*'] } }, clusters: { dev: { context: 'dev' } } }));
const CONFIG = 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n  - name: docs\n    branch: docs\n    path: docs\n    cluster: dev\n';
const SHA = 'a'.repeat(40);
const push = (extra: Record<string, unknown> = {}) => ({
  ref: 'refs/heads/main',
  after: SHA,
  deleted: false,
  repository: { full_name: 'acme/shop' },
  pusher: { name: 'octocat' },
  commits: [],
  ...extra,
});

describe('handleWebhook', () => {
  let ledger: InMemoryWebhookLedger;
  let source: StaticSource;
  let hand: ReturnType<typeof recordingHandOff>;
  let deps: WebhookDeps;
  const deliver = async (event: string, payload: unknown, o: { secret?: string; delivery?: string } = {}) => {
    const body = JSON.stringify(payload);
    return handleWebhook(
      { body, headers: { 'x-github-event': event, 'x-github-delivery': o.delivery ?? 'd1', 'x-hub-signature-256': await sign(o.secret ?? 'current', body) } },
      deps,
    );
  };

  beforeEach(() => {
    ledger = new InMemoryWebhookLedger();
    source = new StaticSource({ 'driftless.yaml': CONFIG });
    hand = recordingHandOff();
    deps = { secrets: ['current', 'previous'], registry, ledger, source, handOff: hand.handOff };
  });

  it('hands off each target tracking the pushed branch, then records the delivery', async () => {
    expect(await deliver('push', push())).toEqual({ kind: 'accepted', targets: ['web'] });
    expect(hand.handed).toEqual([{ repository: 'acme/shop', target: 'web', branch: 'main', commit: SHA, trigger: 'webhook', deliveryId: 'd1', author: 'octocat' }]);
    expect(ledger.deliveries.has('d1')).toBe(true);
  });

  it('accepts the rotating second secret', async () => {
    expect((await deliver('push', push(), { secret: 'previous' })).kind).toBe('accepted');
    expect((await deliver('push', push(), { secret: 'other', delivery: 'd2' })).kind).toBe('rejected');
  });

  it('does not record the delivery when a hand-off fails, so the redelivery is processed', async () => {
    hand.state.failing = true;
    expect((await deliver('push', push())).kind).toBe('failed');
    expect(ledger.deliveries.has('d1')).toBe(false);
    hand.state.failing = false;
    expect((await deliver('push', push())).kind).toBe('accepted');
  });

  it.each([
    ['a tag', push({ ref: 'refs/tags/v1' }), 'push to refs/tags/v1 is not a branch'],
    ['a branch deletion', push({ deleted: true }), 'branch main was deleted'],
    ['a branch no target tracks', push({ ref: 'refs/heads/feature' }), 'no target tracks feature'],
    ['an unregistered repository', push({ repository: { full_name: 'evil/repo' } }), 'repository evil/repo is not registered'],
  ])('ignores %s', async (_case, payload, reason) => {
    expect(await deliver('push', payload)).toEqual({ kind: 'ignored', reason });
    expect(hand.handed).toHaveLength(0);
  });

  it('ignores events it does not handle', async () => {
    expect(await deliver('issues', { repository: { full_name: 'acme/shop' } })).toEqual({ kind: 'ignored', reason: 'event issues is not handled' });
  });

  it('reports a duplicate delivery without handing off again', async () => {
    await deliver('push', push());
    expect(await deliver('push', push())).toEqual({ kind: 'duplicate', reason: 'delivery d1 was handled before' });
    expect(hand.handed).toHaveLength(1);
  });

  it('takes known targets from the ledger and reads driftless.yaml only when the push may change it', async () => {
    ledger.targets = [{ targetId: 'acme/shop/web', repository: 'acme/shop', target: 'web', suspended: false, inventory: [], dependencies: [], config: { branch: 'main' } }];
    const quiet = push({ commits: [{ added: [], modified: ['deploy/a.yaml'], removed: [] }] });
    expect(await deliver('push', quiet)).toEqual({ kind: 'accepted', targets: ['web'] });
    expect(source.reads).toBe(0);
    const touchingConfig = push({ commits: [{ added: [], modified: ['driftless.yaml'], removed: [] }] });
    await deliver('push', touchingConfig, { delivery: 'd2' });
    expect(source.reads).toBe(1);
  });

  it('sets a failure status and hands off nothing when driftless.yaml is invalid', async () => {
    source = new StaticSource({ 'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: prod\n' });
    deps = { ...deps, source };
    const out = await deliver('push', push());
    expect(out.kind).toBe('ignored');
    expect(source.statuses[0]?.status).toMatchObject({ context: 'driftless', state: 'failure' });
    expect(source.statuses[0]?.status.description).toContain('targets[0].cluster: cluster "prod" is not allowed for acme/shop');
  });
});

describe('handleWebhook edges', () => {
  let ledger: InMemoryWebhookLedger;
  let source: StaticSource;
  let hand: ReturnType<typeof recordingHandOff>;
  let deps: WebhookDeps;
  /** GitHub's signature (sign() of @octokit/webhooks-methods refuses an empty payload). */
  const signed = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const raw = async (body: string, event = 'push') =>
    handleWebhook({ body, headers: { 'x-github-event': event, 'x-github-delivery': 'e1', 'x-hub-signature-256': signed('current', body) } }, deps);
  const known = () => {
    ledger.targets = [{ targetId: 'acme/shop/web', repository: 'acme/shop', target: 'web', suspended: false, inventory: [], dependencies: [], config: { branch: 'main' } }];
  };

  beforeEach(() => {
    ledger = new InMemoryWebhookLedger();
    source = new StaticSource({ 'driftless.yaml': CONFIG });
    hand = recordingHandOff();
    deps = { secrets: ['current'], registry, ledger, source, handOff: hand.handOff };
  });

  it.each([
    ['an empty body', '', 'empty body'],
    ['null', 'null', 'body is not a JSON object'],
    ['an array', '[1]', 'body is not a JSON object'],
    ['a number', '42', 'body is not a JSON object'],
  ])('answers a validly signed %s with 400', async (_case, body, reason) => {
    expect(await raw(body)).toEqual({ kind: 'rejected', status: 400, reason });
  });

  it('still answers 401 for an empty body with a wrong signature', async () => {
    const out = await handleWebhook({ body: '', headers: { 'x-github-event': 'push', 'x-hub-signature-256': signed('other', '') } }, deps);
    expect(out).toMatchObject({ kind: 'rejected', status: 401 });
  });

  it.each([
    [
      'no after',
      (() => {
        const p: Record<string, unknown> = push();
        delete p.after;
        return p;
      })(),
    ],
    ['after "undefined"', push({ after: 'undefined' })],
    ['a short after', push({ after: 'abc123' })],
  ])('answers a push with %s with 400 and hands off nothing', async (_case, payload) => {
    expect(await raw(JSON.stringify(payload))).toEqual({ kind: 'rejected', status: 400, reason: 'push without a valid after (a 40- or 64-hex commit id)' });
    expect(hand.handed).toEqual([]);
  });

  it('accepts a 64-hex after (a SHA-256 repository)', async () => {
    expect((await raw(JSON.stringify(push({ after: 'b'.repeat(64) })))).kind).toBe('accepted');
  });

  it('hands off the known targets when driftless.yaml is not at the pushed commit (deleted, or the commit unreadable)', async () => {
    known();
    source = new StaticSource({});
    deps = { ...deps, source };
    expect(await raw(JSON.stringify(push({ commits: [] })))).toEqual({ kind: 'accepted', targets: ['web'] });
    expect(hand.handed.map((h) => h.target)).toEqual(['web']);
  });

  it('hands off the known targets when reading driftless.yaml fails; without known targets it is a 502 for redelivery', async () => {
    source.readFile = async () => {
      throw new Error('GitHub acme/shop: driftless.yaml failed: 502');
    };
    expect((await raw(JSON.stringify(push()))).kind).toBe('failed');
    known();
    expect(await raw(JSON.stringify(push()))).toEqual({ kind: 'accepted', targets: ['web'] });
  });

  it('answers a broken driftless.yaml (any error, a YAML bomb too) with the reason, a failure status, and hands off the known targets', async () => {
    known();
    const bomb =
      'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n';
    source = new StaticSource({ 'driftless.yaml': bomb });
    deps = { ...deps, source };
    const out = await raw(JSON.stringify(push()));
    expect(out).toMatchObject({ kind: 'invalid', targets: ['web'] });
    expect(out.kind === 'invalid' && out.reason).toMatch(/^invalid driftless\.yaml: Excessive alias count/);
    expect(source.statuses[0]?.status).toMatchObject({ context: 'driftless', state: 'failure' });
    expect(hand.handed.map((h) => h.target)).toEqual(['web']);
    expect(toHttpResponse(out).statusCode).toBe(200);
  });

  it('answers 502 (not 500) when the ledger fails, and when the work outlives its deadline', async () => {
    ledger.listTargets = async () => {
      throw new Error('ledger table t: Query failed: TimeoutError');
    };
    expect(await raw(JSON.stringify(push()))).toEqual({ kind: 'failed', reason: 'webhook: ledger table t: Query failed: TimeoutError' });
    ledger.listTargets = () => new Promise(() => undefined);
    deps = { ...deps, timeoutMs: 50 };
    expect((await raw(JSON.stringify(push()))).kind).toBe('failed');
  });
});

describe('webhook HTTP mapping', () => {
  it('keeps the raw body of a base64 Function URL event and lower-cases headers', () => {
    const req = toWebhookRequest({ isBase64Encoded: true, body: Buffer.from('{"a":1}').toString('base64'), headers: { 'X-GitHub-Event': 'push' } });
    expect(req).toEqual({ body: '{"a":1}', headers: { 'x-github-event': 'push' } });
  });

  it.each([
    [{ kind: 'accepted', targets: ['web'] }, 202],
    [{ kind: 'ignored', reason: 'pong' }, 200],
    [{ kind: 'duplicate', reason: 'seen' }, 200],
    [{ kind: 'rejected', status: 401, reason: 'bad signature' }, 401],
    [{ kind: 'rejected', status: 413, reason: 'too big' }, 413],
    [{ kind: 'rejected', status: 400, reason: 'not JSON' }, 400],
    [{ kind: 'failed', reason: 'hand-off failed' }, 502],
    [{ kind: 'invalid', reason: 'invalid driftless.yaml', targets: ['web'] }, 200],
  ] as const)('%j → %i', (outcome, status) => {
    expect(toHttpResponse(outcome).statusCode).toBe(status);
  });
});
