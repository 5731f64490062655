import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { main } from '../../../lib/cli/main.js';

const root = join(import.meta.dirname, '..', '..', '..');
const run = async (argv: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: root, env: {}, isTTY: false });
  return { code, stdout, stderr, objects: parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, any>) };
};
const names = (objects: Record<string, any>[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

describe('driftless render with Helm', () => {
  it("renders a chart directory with Helm's defaults and says so", async () => {
    const { code, objects, stderr } = await run(['render', 'test/fixtures/helm/repo/charts/webapp']);
    expect(code).toBe(0);
    expect(names(objects)).toContain('Deployment/release-name-webapp');
    expect(stderr).toMatch(/warning: .*charts\/webapp: rendered with Helm's default capabilities/);
  });

  it('renders a kustomization with helmCharts', async () => {
    const { code, objects } = await run(['render', 'test/fixtures/helm/kustomize/cases/prefix-and-patches']);
    expect(code).toBe(0);
    expect(names(objects)).toContain('Deployment/prod-web-webapp');
  });

  it('renders a target exactly as sync would: --repo DIR --target NAME', async () => {
    const { code, objects } = await run(['render', '--repo', 'test/fixtures/helm/repo', '--target', 'web-prod', '--repository', 'acme/charts']);
    expect(code).toBe(0);
    const deploy = objects.find((o) => o.kind === 'Deployment');
    expect(deploy?.metadata.name).toBe('web-webapp');
    expect(deploy?.spec.replicas).toBe(4);
    expect(deploy?.spec.template.spec.containers[0].env[1]).toEqual({ name: 'NAMESPACE', value: 'shop-prod' });
    expect(names(objects)).toContain('HorizontalPodAutoscaler/web-webapp');
  });

  it('reports a template error with file and line, exit 2', async () => {
    const { code, stderr } = await run(['render', 'test/fixtures/helm/broken']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/broken\/templates\/configmap\.yaml:7: helm template: .*nil pointer evaluating interface \{\}\.host/);
  });

  it('needs both --repo and --target', async () => {
    const { code, stderr } = await run(['render', '--repo', 'test/fixtures/helm/repo']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage: driftless render/);
  });
});
