import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { main } from '../../../lib/cli/main.js';

const run = async (argv: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: join(import.meta.dirname, '..', '..', '..'), isTTY: false });
  return { code, stdout, stderr };
};

describe('driftless render', () => {
  it('prints the example overlay as a YAML stream', async () => {
    const { code, stdout } = await run(['render', 'examples/shop/deploy/overlays/prod']);
    expect(code).toBe(0);
    const docs = parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Namespace/shop-prod',
      'ConfigMap/shop-config-gkk2k767k4',
      'Service/shop',
      'Deployment/shop',
      'PodDisruptionBudget/shop',
    ]);
  });

  it('prints a JSON array with --json', async () => {
    const { code, stdout } = await run(['render', 'examples/shop/deploy/overlays/dev', '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as unknown[]).length).toBe(4);
  });

  it('fails with exit 2 and a message on stderr', async () => {
    const { code, stdout, stderr } = await run(['render', 'does/not/exist']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('no such file or directory');
  });

  it('fails with exit 2 on an unknown command', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
  });
});
