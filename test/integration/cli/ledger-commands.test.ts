import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';
import { KubeApiServer } from '../../kube-api-server/server.js';
import { startLedgerDb } from '../../support/ledger.js';
import { DynamoDbLedger } from '../../../lib/ledger/dynamodb-ledger.js';

describe('sync with a ledger, history and status', () => {
  let db: Awaited<ReturnType<typeof startLedgerDb>>;
  let server: KubeApiServer;
  let dir: string;
  let env: Record<string, string>;
  const run = async (argv: string[], extraEnv: Record<string, string> = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir, isTTY: false, env: { ...env, ...extraEnv } });
    return { code, stdout, stderr };
  };
  const flags = () => ['--repo', 'repo', '--target', 'web', '--kubeconfig', join(dir, 'kubeconfig'), '--context', 'test', '--repository', 'acme/shop'];

  beforeAll(async () => {
    db = await startLedgerDb();
    const { table } = await db.ledger();
    server = new KubeApiServer();
    await server.start();
    server.createNamespace('shop');
    dir = mkdtempSync(join(tmpdir(), 'driftless-ledger-cli-'));
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig());
    mkdirSync(join(dir, 'repo', 'deploy'), { recursive: true });
    writeFileSync(
      join(dir, 'repo', 'driftless.yaml'),
      'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n    prune: {maxDeleteShare: 1}\n',
    );
    writeFileSync(join(dir, 'repo', 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n');
    const git = (...a: string[]) => execFileSync('git', ['-C', join(dir, 'repo'), ...a], { stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.name=Octo Cat', '-c', 'user.email=o@example.com', 'add', '.');
    git('-c', 'user.name=Octo Cat', '-c', 'user.email=o@example.com', 'commit', '-q', '-m', 'first');
    git('config', 'user.name', 'Octo Cat');
    env = { DRIFTLESS_TABLE: table, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint };
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a sync under the lease; history and status show it', async () => {
    const sync = await run(['sync', ...flags()]);
    expect(sync.code).toBe(0);
    expect(sync.stderr).toContain(`recorded in ${env.DRIFTLESS_TABLE}`);
    // A second sync reads the inventory from the ledger and prunes what left the checkout.
    writeFileSync(join(dir, 'repo', 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  k: v\n');
    writeFileSync(join(dir, 'repo', 'deploy', 'cm2.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n');
    const second = await run(['sync', ...flags(), '--json']);
    expect(JSON.parse(second.stdout).entries).toContainEqual({ ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'a' }, action: 'deleted', detail: 'pruned' });

    const history = await run(['history', '--repo', 'acme/shop', '--target', 'web']);
    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+TARGET\s+COMMIT\s+AUTHOR\s+RESULT\s+CHANGES\s+DURATION$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/acme\/shop\/web\s+[0-9a-f]{12}\s+Octo Cat\s+succeeded\s+2 created, 1 deleted/);
    expect(lines[2]).toMatch(/succeeded\s+1 created\s/);

    const json = JSON.parse((await run(['history', '--json', '--limit', '1'])).stdout) as { result: string; trigger: string }[];
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ result: 'succeeded', trigger: 'cli' });

    const status = await run(['status', '--repo', 'acme/shop']);
    expect(status.stdout).toMatch(/acme\/shop\/web\s+[0-9a-f]{12}\s+succeeded\s+\S+ \S+\s+no\s+unknown\s+2/);
    const statusJson = JSON.parse((await run(['status', '--json'])).stdout) as { target: string; objects: number; suspended: boolean }[];
    expect(statusJson).toEqual([expect.objectContaining({ target: 'acme/shop/web', objects: 2, suspended: false })]);
    // After a clean drift check: clean; after self-heal: healed.
    const ledger = new DynamoDbLedger(db.client, env.DRIFTLESS_TABLE as string);
    await ledger.markDriftChecked('acme/shop/web', { status: 'none', checkedAt: new Date().toISOString() });
    expect((await run(['status'])).stdout).toMatch(/acme\/shop\/web\s+.*\s+no\s+clean\s+2/);
    await ledger.markDriftChecked('acme/shop/web', { status: 'healed', checkedAt: new Date().toISOString() });
    expect(JSON.parse((await run(['status', '--json'])).stdout)[0]).toMatchObject({ drift: 'healed' });
  });

  it('exits 2 with a clear message when the table is missing or not named', async () => {
    const missing = await run(['history'], { DRIFTLESS_TABLE: 'nope' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ledger table nope does not exist');
    const unset = await run(['status'], { DRIFTLESS_TABLE: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('DRIFTLESS_TABLE is not set');
  });
});
