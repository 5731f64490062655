/**
 * Attack suite, "Secret values never leave": a corpus of failing renders and applies, each carrying a known
 * secret value (Secret `data`/`stringData`, secretGenerator literals, env files and files), pushed through the
 * pipeline and run through the CLI. The value must appear in none of: the ledger items (every attribute of
 * every item in DynamoDB Local), the commit status descriptions (the GitHub API server), the log, the Slack
 * payloads (SlackNotifier against a local incoming-webhook endpoint), and CLI stdout, stderr and `--json`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { REDACTED } from '../../lib/core/redact.js';
import { SlackNotifier } from '../../lib/notify/slack-notifier.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, stringData: Record<string, string>) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\nstringData:\n${Object.entries(stringData)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;
const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`;

/** Each case: a target, its files, the secret value it carries, and what its error must still say. */
const CASES = [
  {
    target: 'literal',
    value: 'LiteralWithoutEquals-7c1e9a',
    says: 'literals[1] is invalid, expected key=value',
    files: { 'kustomization.yaml': 'secretGenerator:\n- name: creds\n  literals:\n  - user=admin\n  - LiteralWithoutEquals-7c1e9a\n' },
  },
  {
    target: 'env-line',
    value: 'bare env value 41d2ee',
    says: 'invalid key (the line has no "=") in env file',
    files: { 'kustomization.yaml': 'secretGenerator:\n- name: creds\n  envs: [creds.env]\n', 'creds.env': 'TOKEN=fine\nbare env value 41d2ee\n' },
  },
  {
    target: 'replacement-index',
    value: 'repl-s3cret:tail-88b0',
    says: 'options.index 5 is out of bounds for stringData.password',
    files: {
      'kustomization.yaml':
        'resources: [secret.yaml, deploy.yaml]\nreplacements:\n- source: {kind: Secret, name: db, fieldPath: stringData.password, options: {delimiter: ":", index: 5}}\n  targets: [{select: {kind: Deployment}, fieldPaths: [metadata.annotations.x], options: {create: true}}]\n',
      'secret.yaml': secret('db', { password: 'repl-s3cret:tail-88b0' }),
      'deploy.yaml': deployment,
    },
  },
  {
    // Rendered fine; the API server's 422 echoes the template labels, which a replacement filled from the Secret.
    // All its objects are new, so the apply itself validates them (no dry run before creates).
    target: 'apply-echo',
    renders: true,
    value: 'ApplyEchoedValue-5f3a',
    says: 'apply failed for 1 object(s)',
    files: {
      'kustomization.yaml':
        'resources: [secret.yaml, deploy.yaml]\nreplacements:\n- source: {kind: Secret, name: tls, fieldPath: data.token}\n  targets: [{select: {kind: Deployment}, fieldPaths: [spec.template.metadata.labels.app]}]\n',
      'secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ndata:\n  token: ${b64('ApplyEchoedValue-5f3a')}\n`,
      'deploy.yaml': deployment,
    },
  },
  {
    // Rendered fine; the registry refusal names the namespace, which a replacement took from a generated Secret.
    target: 'grant-echo',
    renders: true,
    value: 'GrantEchoedFromFile-19cd',
    says: 'is not allowed for acme/shop',
    files: {
      'kustomization.yaml':
        'resources: [cm.yaml]\nsecretGenerator:\n- name: ns\n  files: [ns=ns.txt]\n  options: {disableNameSuffixHash: true}\nreplacements:\n- source: {kind: Secret, name: ns, fieldPath: data.ns}\n  targets: [{select: {kind: ConfigMap}, fieldPaths: [metadata.namespace], options: {create: true}}]\n',
      'ns.txt': 'GrantEchoedFromFile-19cd',
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {k: v}\n',
    },
  },
  {
    target: 'broken-yaml',
    value: 'BrokenYamlValue-0a77',
    says: 'invalid YAML',
    files: { 'secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: broken}\nstringData:\n  password: BrokenYamlValue-0a77: more\n' },
  },
] as const;
/** A target that syncs, with a Secret of its own: its change set and status carry keys at most. */
const GOOD = { target: 'good', renders: true, value: 'GoodSecretValue-e0f1', files: { 'secret.yaml': secret('good', { password: 'GoodSecretValue-e0f1' }) } };
const VALUES = [...CASES.map((c) => c.value), GOOD.value];
const ALL = [...CASES, GOOD];

const config = `version: 1\ntargets:\n${ALL.map((c) => `  - name: ${c.target}\n    path: deploy/${c.target}\n    cluster: dev\n    namespace: shop-a\n`).join('')}`;
const files = Object.fromEntries(ALL.flatMap((c) => Object.entries(c.files).map(([f, text]) => [`deploy/${c.target}/${f}`, text])));

/** Every form of a value that would count as leaked: as is, base64, and JSON-escaped. */
const expectNoValue = (where: string, text: string) => {
  for (const v of VALUES) {
    expect(text, `${where} carries ${v}`).not.toContain(v);
    expect(text, `${where} carries base64 of ${v}`).not.toContain(b64(v));
  }
};

describe('attack: secret values in failure text', () => {
  let p: Pipeline;
  let head: string;
  let slack: Server;
  const slackBodies: string[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    p = await startPipeline();
    p.dev.createNamespace('shop-a');
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => (slackBodies.push(body), res.writeHead(200).end('ok')));
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    // The pipeline's reconcile reads deps at every invocation: the real Slack adapter, and a captured log.
    Object.assign(p.deps, {
      notifier: new SlackNotifier(`http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T/B/X`),
      log: (message: string, fields?: Record<string, unknown>) => logs.push(`${message} ${JSON.stringify(fields ?? {})}`),
    });
    head = p.commit({ 'driftless.yaml': config, ...files });
    const res = await p.deliver('push', pushPayload('0'.repeat(40), head));
    expect(res.status).toBe(202);
  }, 180_000);
  afterAll(async () => {
    await new Promise<void>((r) => slack?.close(() => r()));
    await p?.stop();
  });

  it('fails every case, with an error that still names its subject', async () => {
    for (const c of CASES) {
      const rec = (await p.ledger.history({ targetId: `${REPO}/${c.target}`, limit: 1 })).items[0];
      expect(rec?.result, c.target).toBe('failed');
      expect(rec?.error?.message, c.target).toContain(c.says);
    }
    const good = (await p.ledger.history({ targetId: `${REPO}/good`, limit: 1 })).items[0];
    expect(good?.result).toBe('succeeded');
    // The echoed values are replaced by the marker, not dropped with the rest of the message.
    const echo = (await p.ledger.history({ targetId: `${REPO}/apply-echo`, limit: 1 })).items[0];
    expect(echo?.changeSet?.find((e) => e.action === 'failed')?.detail).toMatch(/is invalid.*\[redacted\]/);
    const grant = (await p.ledger.history({ targetId: `${REPO}/grant-echo`, limit: 1 })).items[0];
    expect(grant?.error?.message).toContain(`namespace "${REDACTED}" is not allowed for acme/shop`);
    // No object the server rejected reached the cluster.
    expect(p.dev.get('apps/v1', 'Deployment', 'shop-a', 'web')).toBeUndefined();
  });

  it('keeps every value out of every ledger item', async () => {
    const items = await p.db.client.send(new ScanCommand({ TableName: p.table }));
    expect(items.Items?.length).toBeGreaterThan(ALL.length);
    expectNoValue('ledger', JSON.stringify(items.Items));
  });

  it('keeps every value out of the commit statuses', () => {
    const statuses = p.github.statuses.filter((s) => s.sha === head);
    // One failure per failing target (per-target statuses), and the commit's combined status, which names them.
    expect(statuses.filter((s) => s.state === 'failure' && s.context.startsWith('driftless/')).length).toBe(CASES.length);
    expect(statuses.filter((s) => s.context === 'driftless').at(-1)?.state).toBe('failure');
    expectNoValue('commit statuses', JSON.stringify(statuses));
  });

  it('keeps every value out of the Slack payloads and the log', () => {
    expect(slackBodies.length).toBe(CASES.length);
    expect(slackBodies.join('\n')).toContain(REDACTED);
    expectNoValue('Slack', slackBodies.join('\n'));
    expectNoValue('log', logs.join('\n'));
  });

  it.each(ALL.map((c) => [c.target, 'renders' in c]))(
    'keeps every value out of CLI render, diff and sync output for %s',
    async (target, renders) => {
      const registryFile = join(p.dir, 'registry.json');
      writeFileSync(registryFile, JSON.stringify(p.registry));
      const runs: string[][] = [
        ['render', join(p.repoDir, 'deploy', target)],
        ['render', '--repo', p.repoDir, '--target', target, '--registry', registryFile, '--repository', REPO, '--json'],
        ['diff', '--repo', p.repoDir, '--target', target, '--registry', registryFile, '--repository', REPO],
        ['diff', '--repo', p.repoDir, '--target', target, '--registry', registryFile, '--repository', REPO, '--json'],
        ['sync', '--repo', p.repoDir, '--target', target, '--registry', registryFile, '--repository', REPO, '--dry-run', '--json'],
        ['sync', '--repo', p.repoDir, '--target', target, '--registry', registryFile, '--repository', REPO],
      ];
      for (const argv of runs) {
        let stdout = '';
        let stderr = '';
        const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), cwd: p.dir, isTTY: false, env: {} });
        const what = `${argv.slice(0, 1).join(' ')} ${argv.includes('--json') ? '--json ' : ''}${target}`;
        if (target !== GOOD.target && !(argv[0] === 'render' && renders)) expect(code, what).not.toBe(0);
        expectNoValue(`${what} stderr`, stderr);
        // `render` prints the Secrets it rendered, as kubectl kustomize does; every other stdout is redacted.
        if (argv[0] !== 'render') expectNoValue(`${what} stdout`, stdout);
      }
    },
    60_000,
  );
});
