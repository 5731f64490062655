import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';
import { KubeApiServer } from '../../kube-api-server/server.js';

const run = async (argv: string[], cwd: string) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd, isTTY: false, env: {} });
  return { code, stdout, stderr };
};

describe('driftless diff and sync', () => {
  let server: KubeApiServer;
  let dir: string;
  let flags: string[];

  const writeRepo = (files: Record<string, string>) => {
    for (const [p, content] of Object.entries(files)) {
      mkdirSync(join(dir, 'repo', p, '..'), { recursive: true });
      writeFileSync(join(dir, 'repo', p), content);
    }
  };

  beforeEach(async () => {
    server = new KubeApiServer({ namespaceController: true });
    await server.start();
    dir = mkdtempSync(join(tmpdir(), 'driftless-cli-'));
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig('test-admin-token', 'kind-dev'));
    writeRepo({
      'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n',
      'deploy/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
      'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n',
      'deploy/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2\n',
    });
    flags = ['--repo', 'repo', '--target', 'web', '--kubeconfig', join(dir, 'kubeconfig'), '--context', 'kind-dev', '--repository', 'acme/shop'];
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('diff exits 1 with a unified diff per object, never showing a Secret value', async () => {
    const { code, stdout } = await run(['diff', ...flags], dir);
    expect(code).toBe(1);
    expect(stdout).toContain('+++ desired/ConfigMap/shop/settings');
    expect(stdout).toContain('+  level: info');
    expect(stdout).toContain('password: <hidden>');
    expect(stdout).not.toContain('hunter2');
    expect(server.counts().apply).toBeUndefined();
  });

  it('sync applies and exits 0; then diff exits 0 and sync changes nothing', async () => {
    const first = await run(['sync', ...flags], dir);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created\s+ConfigMap\/shop\/settings/);
    expect(first.stdout).toContain('3 created');
    expect(first.stdout).not.toContain('hunter2');
    expect((await run(['diff', ...flags], dir)).code).toBe(0);
    server.resetLog();
    const again = await run(['sync', ...flags, '--json'], dir);
    expect(again.code).toBe(0);
    const changeSet = JSON.parse(again.stdout) as { target: string; entries: { action: string }[] };
    expect(changeSet.target).toBe('acme/shop/web');
    expect(changeSet.entries.map((e) => e.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(server.counts().apply).toBeUndefined();
  });

  it('prunes what left the repository, found by the target label on the cluster', async () => {
    await run(['sync', ...flags], dir);
    rmSync(join(dir, 'repo', 'deploy', 'secret.yaml'));
    const dry = await run(['sync', ...flags, '--dry-run', '--json'], dir);
    expect(JSON.parse(dry.stdout).entries).toContainEqual({ ref: { group: '', kind: 'Secret', namespace: 'shop', name: 'creds' }, action: 'deleted', detail: 'would be pruned' });
    expect(server.get('v1', 'Secret', 'shop', 'creds')).toBeDefined();
    const { code, stdout } = await run(['sync', ...flags], dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/deleted\s+Secret\/shop\/creds/);
    expect(server.get('v1', 'Secret', 'shop', 'creds')).toBeUndefined();
  });

  it('sync exits 1 when the sync fails and 2 for errors before it starts', async () => {
    writeRepo({
      'deploy/bad.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  replicas: -1\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n',
    });
    await run(['sync', ...flags], dir).then(() => undefined);
    const failed = await run(['sync', ...flags], dir);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('spec.replicas: Invalid value: -1');
    expect((await run(['sync', ...flags.slice(0, 4), '--context', 'missing', '--kubeconfig', join(dir, 'kubeconfig')], dir)).stderr).toContain('no context "missing"');
    writeRepo({ 'deploy/broken.yaml': 'kind: [\n' });
    const broken = await run(['sync', ...flags], dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/deploy\/broken.yaml:\d+: invalid YAML/);
    expect((await run(['sync', '--repo', 'repo'], dir)).code).toBe(2);
  });

  it('drift exits 0 on an unchanged cluster and 1 with the drifted field after an edit', async () => {
    await run(['sync', ...flags], dir);
    expect((await run(['drift', ...flags], dir)).stdout).toContain('acme/shop/web: no drift');
    await fetch(`${server.url}/api/v1/namespaces/shop/configmaps/settings?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { level: 'debug' } }),
    });
    const drift = await run(['drift', ...flags], dir);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toMatch(/modified\s+ConfigMap\/shop\/settings/);
    expect(drift.stdout).toContain('data.level: info → debug  (changed by kubectl-edit)');
    const json = JSON.parse((await run(['drift', ...flags, '--json'], dir)).stdout) as { target: string; objects: unknown[] }[];
    expect(json[0]?.objects).toHaveLength(1);
  });

  it('without a ledger, keeps observations in .driftless/cache: a second sync, diff and drift send no dry run, and an edit is still found', async () => {
    expect((await run(['sync', ...flags], dir)).code).toBe(0);
    const cached = readdirSync(join(dir, '.driftless', 'cache', 'observations'));
    expect(cached).toHaveLength(1);
    expect(statSync(join(dir, '.driftless', 'cache', 'observations', cached[0] ?? '')).mode & 0o777).toBe(0o600);
    server.resetLog();
    expect((await run(['sync', ...flags, '--json'], dir)).code).toBe(0);
    expect((await run(['diff', ...flags], dir)).code).toBe(0);
    expect((await run(['drift', ...flags], dir)).stdout).toContain('acme/shop/web: no drift');
    expect(server.counts()['dry-run apply']).toBeUndefined();
    expect(server.counts().apply).toBeUndefined();
    // Another manager's edit moves the resourceVersion: the next diff dry-runs that object (only it) and shows the edit.
    await fetch(`${server.url}/api/v1/namespaces/shop/configmaps/settings?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { level: 'debug' } }),
    });
    server.resetLog();
    const diff = await run(['diff', ...flags], dir);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain('-  level: debug');
    expect(server.counts()['dry-run apply']).toBe(1);
    const drift = await run(['drift', ...flags], dir);
    expect(drift.stdout).toContain('data.level: info → debug  (changed by kubectl-edit)');
    // A corrupt cache costs dry runs, never a wrong answer.
    const cacheDir = join(dir, '.driftless', 'cache', 'observations');
    for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), '{not json');
    server.resetLog();
    const synced = await run(['sync', ...flags], dir);
    expect(synced.stdout).toMatch(/configured\s+ConfigMap\/shop\/settings/);
    expect(server.counts()['dry-run apply']).toBe(3);
    // A failed sync keeps what earlier runs observed: a change the dry run refuses, then reverted, costs no dry run again.
    const deployment = (replicas: number) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n`;
    writeRepo({ 'deploy/app.yaml': deployment(1) });
    expect((await run(['sync', ...flags], dir)).code).toBe(0);
    writeRepo({ 'deploy/app.yaml': deployment(-1) });
    const refused = await run(['sync', ...flags], dir);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('nothing was applied');
    writeRepo({ 'deploy/app.yaml': deployment(1) });
    server.resetLog();
    expect((await run(['sync', ...flags], dir)).code).toBe(0);
    expect(server.counts()['dry-run apply']).toBeUndefined();
  });

  it('refuses objects in namespaces the registry does not grant', async () => {
    writeFileSync(join(dir, 'registry.yaml'), 'repositories:\n  acme/shop: {clusters: [dev], namespaces: ["team-*"]}\nclusters:\n  dev: {context: kind-dev}\n');
    writeRepo({ 'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: team-a\n' });
    const { code, stderr } = await run(
      ['sync', '--repo', 'repo', '--target', 'web', '--registry', 'registry.yaml', '--repository', 'acme/shop', '--kubeconfig', join(dir, 'kubeconfig')],
      dir,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('Namespace/shop: namespace "shop" is not allowed for acme/shop');
    expect(stderr).not.toContain('ConfigMap/settings');
    expect(server.requests).toHaveLength(0);
  });
});
