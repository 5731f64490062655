import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTarget } from '../../lib/drift/check-target.js';
import { SlackNotifier } from '../../lib/notify/slack-notifier.js';
import { runDrift } from '../../lib/drift/run-drift.js';
import { sweep } from '../../lib/drift/sweep.js';
import { lambdaHandOff } from '../../functions/common/lambda-hand-off.js';
import { reconcileTarget } from '../../lib/reconcile/reconcile-target.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import { type Pipeline, ns, cm } from '../support/manifests.js';

const CONFIG = `version: 1
targets:
  - name: web
    path: deploy/web
    cluster: dev
    namespace: shop-web
  - name: healer
    path: deploy/healer
    cluster: dev
    namespace: shop-heal
    selfHeal: true
`;
const SECRET = 'hunter2-in-git';
const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData:\n  password: ${SECRET}\n`;

describe('drift runs, Slack reports and the sweeper', () => {
  let p: Pipeline;
  let slack: Server;
  let slackUrl: string;
  const messages: { text: string; blocks: { type: string; text?: { text: string } }[] }[] = [];
  let head: string;

  const edit = (namespace: string, name: string, value: string) =>
    fetch(`${p.dev.url}/api/v1/namespaces/${namespace}/configmaps/${name}?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { value } }),
    });
  const run = () =>
    runDrift({
      ledger: p.ledger,
      check: (id) =>
        checkTarget(id, {
          ...p.deps,
          heal: async (t) => {
            await reconcileTarget({ ...t, trigger: 'self-heal', force: true }, { ...p.deps, holder: 'self-heal' });
          },
        }),
      notifier: new SlackNotifier(slackUrl),
    });

  beforeAll(async () => {
    p = await startPipeline();
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        messages.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/x`;
    head = p.commit({
      'driftless.yaml': CONFIG,
      'deploy/web/ns.yaml': ns('shop-web'),
      'deploy/web/cm.yaml': cm('settings', 'v1'),
      'deploy/web/secret.yaml': secret,
      'deploy/healer/ns.yaml': ns('shop-heal'),
      'deploy/healer/cm.yaml': cm('healing', 'v1'),
    });
    await p.deliver('push', pushPayload('0'.repeat(40), head));
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((r) => slack.close(() => r()));
    await p?.stop();
  });

  it('reports nothing and sends nothing on an unchanged cluster', async () => {
    const r = await run();
    expect(r.checks.map((c) => c.report?.objects.length)).toEqual([0, 0]);
    expect(r.posted).toBe(false);
    expect(messages).toHaveLength(0);
  });

  it('sends one message for new drift, none for the same drift again, one when it is resolved', async () => {
    await edit('shop-web', 'settings', 'hacked');
    const first = await run();
    expect(first.changes.map((c) => [c.check.targetId, c.change])).toEqual([[`${REPO}/web`, 'new']]);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toContain(`${REPO}/web* — new drift, 1 object(s)`);
    expect(messages[0]?.text).toContain('`data.value`: v1 → hacked (by kubectl-edit)');
    expect(messages[0]?.blocks[0]?.type).toBe('header');

    await run();
    expect(messages).toHaveLength(1);

    await edit('shop-web', 'settings', 'hacked-again');
    await run();
    expect(messages).toHaveLength(2);
    expect(messages[1]?.text).toContain('changed drift');

    await edit('shop-web', 'settings', 'v1');
    const resolved = await run();
    expect(resolved.changes.map((c) => c.change)).toEqual(['resolved']);
    expect(messages).toHaveLength(3);
    expect(messages[2]?.text).toContain('drift resolved');
    expect((await p.ledger.latestDrift(`${REPO}/web`))?.status).toBe('resolved');
  });

  it('reports a drifted Secret by name and field, never its values', async () => {
    const stolen = 'stolen-live-value';
    const patched = await fetch(`${p.dev.url}/api/v1/namespaces/shop-web/secrets/creds?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { password: Buffer.from(stolen).toString('base64') } }),
    });
    expect(patched.status).toBe(200);
    const before = messages.length;
    const r = await run();
    expect(r.changes.map((c) => [c.check.targetId, c.change])).toEqual([[`${REPO}/web`, 'new']]);
    expect(messages).toHaveLength(before + 1);
    const sent = JSON.stringify(messages.at(-1));
    expect(sent).toContain('Secret/shop-web/creds');
    expect(sent).toContain('data.password');
    for (const value of [SECRET, stolen, Buffer.from(SECRET).toString('base64'), Buffer.from(stolen).toString('base64')]) expect(sent).not.toContain(value);
    // Put it back as Git has it: the drift resolves.
    await fetch(`${p.dev.url}/api/v1/namespaces/shop-web/secrets/creds?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { password: Buffer.from(SECRET).toString('base64') } }),
    });
    expect((await run()).changes.map((c) => c.change)).toEqual(['resolved']);
  });

  it('re-applies a self-healing target and says so; a suspended one is reported, never healed', async () => {
    await edit('shop-heal', 'healing', 'tampered');
    const r = await run();
    const healer = r.checks.find((c) => c.targetId === `${REPO}/healer`);
    expect(healer?.healed).toBe(true);
    expect(messages.at(-1)?.text).toContain('(self-healed)');
    expect((p.dev.get('v1', 'ConfigMap', 'shop-heal', 'healing') as { data: { value: string } }).data.value).toBe('v1');

    await p.ledger.setSuspended(`${REPO}/healer`, true, 'alice', { repository: REPO, target: 'healer' });
    await edit('shop-heal', 'healing', 'tampered-again');
    const suspended = await run();
    const again = suspended.checks.find((c) => c.targetId === `${REPO}/healer`);
    expect(again).toMatchObject({ suspended: true, healed: false });
    expect((p.dev.get('v1', 'ConfigMap', 'shop-heal', 'healing') as { data: { value: string } }).data.value).toBe('tampered-again');
    await p.ledger.setSuspended(`${REPO}/healer`, false, 'alice', { repository: REPO, target: 'healer' });
  });

  it('catches a push whose webhook never arrived, with one conditional request per branch', async () => {
    const deps = { ledger: p.ledger, source: p.source, registry: p.registry, handOff: lambdaHandOff(p.lambda, 'reconcile') };
    await sweep(deps);
    await p.invoke.idle();
    const missed = p.commit({ 'deploy/web/cm.yaml': cm('settings', 'from-the-sweeper') });
    p.github.requests.length = 0;
    const r = await sweep(deps);
    await p.invoke.idle();
    expect(r.handedOff.map((h) => h.target).sort()).toEqual(['healer', 'web']);
    expect((p.dev.get('v1', 'ConfigMap', 'shop-web', 'settings') as { data: { value: string } }).data.value).toBe('from-the-sweeper');
    expect((await p.ledger.getHead(REPO, 'main'))?.head).toBe(missed);
    // Nothing new: the conditional request answers 304 and nothing is handed off.
    p.github.requests.length = 0;
    const quiet = await sweep(deps);
    expect(quiet.handedOff).toEqual([]);
    expect(p.github.requests.map((q) => q.status)).toEqual([304]);
  });
});
