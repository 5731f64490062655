import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { RenderError } from '../../lib/core/errors.js';
import { LocalFileTree } from '../../lib/render/file-tree.js';
import { renderPath } from '../../lib/render/render.js';

// Each case under fixtures/helm/kustomize/cases (kustomizations with helmCharts: patches, a name prefix,
// values files, valuesInline, chartHome, skipHooks) is compared with the output of
// `kubectl kustomize --enable-helm --helm-command <Helm 3.17.3>` recorded under expected/
// (scripts/regenerate-helm-kustomize-fixtures.ts). Cases under errors/ fail in kubectl and must fail here.
const root = join(import.meta.dirname, '..', 'fixtures', 'helm', 'kustomize');
const cases = readdirSync(join(root, 'cases')).sort();
const errors: Record<string, RegExp> = {
  'chart-home-outside': /security; file '\.\.\/cases\/with-resources\/charts\/webapp' is not in or below 'chart-home-outside'/,
  'no-chart': /helmCharts\[0\]: no repo specified for pull, no chart found at 'no-chart\/charts\/missing'/,
};

const parseStream = (text: string): unknown[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined);

describe('helmCharts conformance with kubectl kustomize --enable-helm (Helm 3)', () => {
  it.each(cases)('%s', async (name) => {
    const expected = parseStream(readFileSync(join(root, 'expected', `${name}.yaml`), 'utf8'));
    const result = await renderPath(new LocalFileTree(join(root, 'cases')), name);
    expect(JSON.parse(JSON.stringify(result.objects))).toEqual(expected);
    expect(result.files).toContain(`${name}/kustomization.yaml`);
    expect([...result.files].some((f) => f.endsWith('webapp/templates/deployment.yaml'))).toBe(true);
  });

  it.each(Object.keys(errors))('fails on %s', async (name) => {
    const err = await renderPath(new LocalFileTree(join(root, 'errors')), name).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderError);
    expect((err as Error).message).toMatch(errors[name] as RegExp);
  });

  it('lists every error case', () => {
    expect(readdirSync(join(root, 'errors')).sort()).toEqual(Object.keys(errors).sort());
  });
});
