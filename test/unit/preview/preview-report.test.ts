import { describe, expect, it } from 'vitest';
import {
  annotationBatches,
  CHECK_TEXT_LIMIT,
  COMMENT_MARKER,
  commentOf,
  conclusionOf,
  summaryOf,
  textOf,
  titleOf,
  type PreviewReport,
  type TargetPreview,
} from '../../../lib/preview/preview-report.js';

const HEAD = 'a'.repeat(40);
const report = (targets: TargetPreview[], annotations: PreviewReport['annotations'] = []): PreviewReport => ({
  repository: 'acme/shop',
  base: 'main',
  head: HEAD,
  targets,
  annotations,
});
const web: TargetPreview = {
  target: 'web',
  type: 'kubernetes',
  change: 'modified',
  unchanged: 4,
  blockers: [],
  objects: [
    { name: 'Deployment/shop/web', action: 'change', fields: [{ path: 'spec.template.spec.containers[name=web].image', from: 'web:1', to: 'web:2' }] },
    { name: 'ConfigMap/shop/new', action: 'create' },
    { name: 'Namespace/old', action: 'delete', cascade: ['ConfigMap/old/a', 'Deployment/old/b'] },
  ],
};
const stack: TargetPreview = {
  target: 'db',
  type: 'cloudformation',
  change: 'added',
  unchanged: 0,
  blockers: [],
  objects: [{ name: 'Table (AWS::DynamoDB::Table)', action: 'change', replacement: 'True' }],
};
const broken: TargetPreview = {
  target: 'api',
  type: 'kubernetes',
  change: 'modified',
  unchanged: 0,
  blockers: ['deploy/api/kustomization.yaml:3: resource "gone.yaml": no such file or directory'],
  objects: [],
  annotations: [{ path: 'deploy/api/kustomization.yaml', line: 3, level: 'failure', message: 'resource "gone.yaml": no such file or directory' }],
};

describe('preview report', () => {
  it('concludes success when every target would sync, failure when one would not, neutral when none is touched', () => {
    expect(conclusionOf(report([web, stack]))).toBe('success');
    expect(conclusionOf(report([web, broken]))).toBe('failure');
    expect(conclusionOf(report([]))).toBe('neutral');
    expect(conclusionOf(report([], [{ path: 'driftless.yaml', line: 4, level: 'failure', message: 'bad' }]))).toBe('failure');
    expect(titleOf(report([web, broken]))).toBe('1 of 2 targets would not sync');
    expect(titleOf(report([web, stack]))).toBe('2 of 2 targets would change');
  });

  it('summarises one row per target: kind, creates, changes, deletes, verdict', () => {
    expect(
      summaryOf(report([web, stack, broken]))
        .split('\n')
        .slice(2),
    ).toEqual([
      '| target | kind | creates | changes | deletes | verdict |',
      '|---|---|--:|--:|--:|---|',
      '| web | kubernetes | 1 | 1 | 1 | ✔ would sync |',
      '| db (added) | stack | 0 | 1 | 0 | ✔ would sync |',
      '| api | kubernetes | 0 | 0 | 0 | ✖ deploy/api/kustomization.yaml:3: resource "gone.yaml": no such file or directory |',
    ]);
  });

  it('writes a section per target with field changes, cascades and replacements, open where something is deleted or blocked', () => {
    const text = textOf(report([web, stack, broken]));
    expect(text).toContain('<details open><summary><b>web</b>');
    expect(text).toContain('~ Deployment/shop/web\n    spec.template.spec.containers[name=web].image: web:1 → web:2');
    expect(text).toContain('- Namespace/old\n    deletes with it 2 objects:\n      - ConfigMap/old/a\n      - Deployment/old/b');
    expect(text).toContain('~ Table (AWS::DynamoDB::Table) [REPLACEMENT]');
    expect(text).toContain('! deploy/api/kustomization.yaml:3');
    expect(text).toContain('  4 unchanged');
  });

  it('cuts the text to GitHub’s limit at a section and says how many targets were left out', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      ...web,
      target: `t-${i}`,
      objects: Array.from({ length: 20 }, (_, j) => ({
        name: `ConfigMap/shop/cm-${j}`,
        action: 'change' as const,
        fields: [{ path: 'data.k', from: 'a'.repeat(30), to: 'b'.repeat(30) }],
      })),
    }));
    const text = textOf(report(many));
    expect(text.length).toBeLessThanOrEqual(CHECK_TEXT_LIMIT);
    const shown = (text.match(/<details/g) ?? []).length;
    expect(shown).toBeGreaterThan(10);
    expect(text).toContain(`_${400 - shown} more targets left out`);
    const comment = commentOf(report(many));
    expect(comment.length).toBeLessThanOrEqual(CHECK_TEXT_LIMIT);
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
  });

  it('batches annotations by 50, repository-wide ones first', () => {
    const ann = (i: number) => ({ path: 'driftless.yaml', line: i, level: 'failure' as const, message: `m${i}` });
    const batches = annotationBatches(report([{ ...broken, annotations: Array.from({ length: 70 }, (_, i) => ann(i + 10)) }], [ann(1)]));
    expect(batches.map((b) => b.length)).toEqual([50, 21]);
    expect(batches[0]?.[0]?.line).toBe(1);
  });
});
