import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';
import { KubeApiServer } from '../../kube-api-server/server.js';

const run = async (argv: string[], cwd: string) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd, isTTY: false, env: {} });
  return { code, stdout, stderr };
};

describe('driftless diff and sync of a Helm target', () => {
  let server: KubeApiServer;
  let dir: string;
  let flags: string[];
  beforeAll(async () => {
    server = new KubeApiServer({ namespaceController: true });
    await server.start();
    dir = mkdtempSync(join(tmpdir(), 'driftless-cli-helm-'));
    cpSync(join(import.meta.dirname, '../../fixtures/helm/repo'), join(dir, 'repo'), { recursive: true });
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig('test-admin-token', 'kind-dev'));
    server.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop-prod' } });
    flags = ['--repo', 'repo', '--target', 'web-prod', '--kubeconfig', join(dir, 'kubeconfig'), '--context', 'kind-dev', '--repository', 'acme/charts'];
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("diff renders with the cluster's capabilities (no default-capabilities warning) and sync applies", async () => {
    const diff = await run(['diff', ...flags], dir);
    expect(diff.code).toBe(1);
    expect(diff.stderr).not.toMatch(/default capabilities/);
    expect(diff.stdout).toMatch(/PodDisruptionBudget/);
    const sync = await run(['sync', ...flags], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect((server.get('apps/v1', 'Deployment', 'shop-prod', 'web-webapp') as any).spec.replicas).toBe(4);
    expect((server.get('v1', 'ConfigMap', 'shop-prod', 'web-webapp-info') as any).data).toMatchObject({ kubeVersion: 'v1.28.0', hasPolicyV1: 'true' });
    const again = await run(['diff', ...flags], dir);
    expect(again.code, again.stdout).toBe(0);
  });
});
