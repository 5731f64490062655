import { describe, expect, it } from 'vitest';
import { formatDriftMessage } from '../../lib/notify/slack-drift-message.js';

const check = (i: number, fields = 1) => ({
  targetId: `acme/shop/t${i}`,
  suspended: false,
  healed: false,
  report: {
    target: `acme/shop/t${i}`,
    checkedAt: '2026-11-21T00:00:00Z',
    fingerprint: 'f',
    objects: [
      {
        ref: { group: 'apps', kind: 'Deployment', namespace: 'shop', name: `web-${i}` },
        state: 'modified' as const,
        fields: Array.from({ length: fields }, (_, f) => ({ path: `spec.f${f}`, desired: 'x'.repeat(100), live: 'y', changedBy: 'kubectl-edit' })),
      },
    ],
  },
});

describe('formatDriftMessage', () => {
  it('groups by target, shortens values and names who changed a field', () => {
    const m = formatDriftMessage([
      { check: check(1), change: 'new' },
      { check: { targetId: 'acme/shop/t2', suspended: true, healed: false }, change: 'resolved' },
    ]);
    expect(m.text).toContain('Drift check: 1 target(s) with new or changed drift, 1 resolved');
    expect(m.text).toContain('*acme/shop/t1* — new drift, 1 object(s)');
    expect(m.text).toContain('• modified `Deployment/shop/web-1`');
    expect(m.text).toMatch(/`spec\.f0`: x{39}… → y \(by kubectl-edit\)/);
    expect(m.text).toContain('*acme/shop/t2* — drift resolved (suspended)');
  });

  it('stays within Slack limits: 50 blocks, 3,000 characters a section, summarising the rest', () => {
    const m = formatDriftMessage(Array.from({ length: 80 }, (_, i) => ({ check: check(i, 40), change: 'new' as const })));
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks as { text?: { text: string } }[]) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(m.blocks.at(-1))).toContain('and 35 more targets');
    expect(m.text.length).toBeLessThanOrEqual(4000);
    expect(m.text).toContain('…and 35 more fields');
  });
});
