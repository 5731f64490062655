import { formatRef } from '../core/object-ref.js';
import type { DriftNotice } from './notifier.js';

const MAX_BLOCKS = 45;
const MAX_SECTION = 2900;
const MAX_FIELDS = 5;
const short = (v: unknown, n = 40): string => {
  const s = typeof v === 'string' ? v : v === undefined ? '(unset)' : JSON.stringify(v);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
};

/** One target's lines: objects as `Kind/namespace/name`, fields as `path: desired → live`. */
const targetLines = (c: DriftNotice): string[] => {
  const r = c.check.report;
  const tags = [c.check.suspended ? 'suspended' : '', c.check.healed ? 'self-healed' : ''].filter(Boolean).join(', ');
  const what =
    c.change === 'resolved'
      ? 'drift resolved'
      : c.change === 'removed'
        ? `removed from driftless.yaml; its objects were left in place and are no longer checked`
        : `${c.change} drift, ${r?.objects.length ?? 0} object(s)`;
  const head = `*${c.check.targetId}* — ${what}${tags ? ` (${tags})` : ''}`;
  if (c.change === 'resolved' || c.change === 'removed' || !r) return [head];
  const lines = [head];
  for (const o of r.objects) {
    lines.push(`• ${o.state} \`${formatRef(o.ref)}\`${o.error ? ` — ${short(o.error, 120)}` : ''}`);
    const fields = o.fields ?? [];
    for (const f of fields.slice(0, MAX_FIELDS)) lines.push(`    \`${f.path}\`: ${short(f.desired)} → ${short(f.live)}${f.changedBy ? ` (by ${f.changedBy})` : ''}`);
    if (fields.length > MAX_FIELDS) lines.push(`    …and ${fields.length - MAX_FIELDS} more fields`);
  }
  return lines;
};

/** The run's Slack message: grouped by target, Block Kit with a text fallback, summarised to fit Slack's limits. */
export const formatDriftMessage = (changes: readonly DriftNotice[]): { text: string; blocks: unknown[] } => {
  const drifted = changes.filter((c) => c.change === 'new' || c.change === 'changed').length;
  const resolved = changes.filter((c) => c.change === 'resolved').length;
  const removed = changes.filter((c) => c.change === 'removed').length;
  const title = `Drift check: ${[drifted ? `${drifted} target(s) with new or changed drift` : '', resolved ? `${resolved} resolved` : '', removed ? `${removed} removed` : ''].filter(Boolean).join(', ')}`;
  const sections: string[] = [];
  for (const c of changes) {
    let text = targetLines(c).join('\n');
    if (text.length > MAX_SECTION) text = `${text.slice(0, MAX_SECTION - 20)}\n…(shortened)`;
    sections.push(text);
  }
  const shown = sections.slice(0, MAX_BLOCKS);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    ...shown.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
  ];
  if (sections.length > shown.length)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${sections.length - shown.length} more targets; see \`driftless status\`` }] });
  const text = `${title}\n${sections.join('\n')}`.slice(0, 3900);
  return { text, blocks };
};
