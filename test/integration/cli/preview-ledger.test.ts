import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';
import { DynamoDbLedger } from '../../../lib/ledger/dynamodb-ledger.js';
import type { PreviewReport } from '../../../lib/preview/preview-report.js';
import { KubeApiServer } from '../../kube-api-server/server.js';
import { startLedgerDb } from '../../support/ledger.js';

describe('driftless preview with the ledger', () => {
  let server: KubeApiServer;
  let db: Awaited<ReturnType<typeof startLedgerDb>>;
  let dir: string;
  let repo: string;
  let env: Record<string, string>;
  const flags = () => ['--kubeconfig', join(dir, 'kubeconfig'), '--context', 'kind-dev', '--repository', 'acme/shop'];
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=Octo Cat', '-c', 'user.email=o@example.com', ...a], { encoding: 'utf8' }).trim();
  const run = async (argv: string[], withLedger = true) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir, isTTY: false, env: withLedger ? env : {} });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    server = new KubeApiServer({ namespaceController: true });
    await server.start();
    db = await startLedgerDb();
    const { table } = await db.ledger();
    env = { DRIFTLESS_TABLE: table, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint };
    dir = mkdtempSync(join(tmpdir(), 'driftless-preview-ledger-'));
    repo = join(dir, 'repo');
    mkdirSync(join(repo, 'deploy'), { recursive: true });
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig('test-admin-token', 'kind-dev'));
    writeFileSync(join(repo, 'driftless.yaml'), 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n');
    writeFileSync(join(repo, 'deploy', 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n');
    writeFileSync(join(repo, 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n');
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    git('checkout', '-q', '-b', 'docs');
    writeFileSync(join(repo, 'README.md'), '# shop\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'docs');
    git('checkout', '-q', 'main');
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('previews a target whose last recorded sync failed on any change, as a merge retries it; records nothing', async () => {
    // GIVEN a recorded sync that succeeded, then one that failed (a broken manifest in the checkout)
    expect((await run(['sync', '--repo', 'repo', '--target', 'web', ...flags()])).code).toBe(0);
    writeFileSync(join(repo, 'deploy', 'broken.yaml'), 'kind: ConfigMap\n');
    expect((await run(['sync', '--repo', 'repo', '--target', 'web', ...flags()])).code).toBe(2);
    rmSync(join(repo, 'deploy', 'broken.yaml'));
    const ledger = new DynamoDbLedger(db.client, env.DRIFTLESS_TABLE as string);
    const before = (await ledger.history({ targetId: 'acme/shop/web' })).items.length;
    expect((await ledger.getState('acme/shop/web'))?.lastResult).toBe('failed');
    server.resetLog();

    // WHEN a change touches only documentation
    const withLedger = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'docs', '--json', ...flags()]);
    const without = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'docs', '--json', ...flags()], false);

    // THEN with the ledger the failed target is previewed (unchanged: exit 0); without it, no target is touched
    expect(withLedger.code, withLedger.stderr).toBe(0);
    expect((JSON.parse(withLedger.stdout) as PreviewReport).targets).toEqual([{ target: 'web', type: 'kubernetes', change: 'modified', objects: [], unchanged: 2, blockers: [] }]);
    expect((JSON.parse(without.stdout) as PreviewReport).targets).toEqual([]);
    // Nothing recorded, nothing written to the cluster.
    expect((await ledger.history({ targetId: 'acme/shop/web' })).items).toHaveLength(before);
    expect(Object.keys(server.counts()).filter((v) => ['apply', 'patch', 'update', 'create', 'delete'].includes(v))).toEqual([]);
  });
});
