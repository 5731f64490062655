import { formatFieldChange, type FieldChange } from './field-diff.js';

/**
 * A pull-request preview as data, and its rendering as a check run (summary, text, annotations) or as one
 * pull-request comment. Pure: the planning fills a `PreviewReport`, GitHub adapters send what this renders.
 */

/** What the merge would do to one object or stack resource. */
export interface ObjectPreview {
  /** `Kind/namespace/name` (Kubernetes) or `LogicalId (AWS::Type)` (CloudFormation). */
  readonly name: string;
  readonly action: 'create' | 'change' | 'delete' | 'adopt' | 'refused' | 'failed';
  /** Field-level changes, live → desired (Secret values hidden). */
  readonly fields?: readonly FieldChange[];
  /** What a deletion takes with it: a Namespace's objects, a CRD's custom resources. */
  readonly cascade?: readonly string[];
  /** CloudFormation's replacement flag for a modification. */
  readonly replacement?: 'True' | 'False' | 'Conditional';
  /** The API server's or CloudFormation's words, a guard's rule. */
  readonly detail?: string;
}

/** A problem located in the repository: a check-run annotation. */
export interface PreviewAnnotation {
  readonly path: string;
  readonly line: number;
  readonly level: 'failure' | 'warning' | 'notice';
  readonly message: string;
  readonly title?: string;
}

/** One touched target's preview. */
export interface TargetPreview {
  readonly target: string;
  readonly type: 'kubernetes' | 'cloudformation';
  /** `added` / `removed`: the pull request adds the target to driftless.yaml, or takes it out. */
  readonly change: 'modified' | 'added' | 'removed';
  readonly objects: readonly ObjectPreview[];
  /** Objects (or resources) the merge leaves as they are. */
  readonly unchanged: number;
  /** Why the sync the merge starts would stop (a guard, a registry refusal, a render error): empty when it would sync. */
  readonly blockers: readonly string[];
  readonly annotations?: readonly PreviewAnnotation[];
  /** What the target's own validation found before writing (CloudFormation's pre-deployment validation). */
  readonly findings?: readonly { readonly level: 'failure' | 'warning'; readonly name: string; readonly message: string; readonly path?: string }[];
}

export interface PreviewReport {
  readonly repository: string;
  readonly base: string;
  readonly head: string;
  readonly targets: readonly TargetPreview[];
  /** Problems of the repository as a whole (driftless.yaml), located. */
  readonly annotations?: readonly PreviewAnnotation[];
}

/** GitHub's check-run conclusion for a preview. */
export type PreviewConclusion = 'success' | 'failure' | 'neutral';

/** The most characters a check run's summary or text may hold (GitHub: 65,535). */
export const CHECK_TEXT_LIMIT = 65_535;
/** The most annotations one check-run request may carry. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** The hidden marker that finds driftless's one preview comment on a pull request. */
export const COMMENT_MARKER = '<!-- driftless:preview -->';
/** The check run's name. */
export const CHECK_NAME = 'driftless preview';

const count = (t: TargetPreview, actions: ObjectPreview['action'][]) => t.objects.filter((o) => actions.includes(o.action)).length;

/** `failure` when any target would not sync cleanly, `neutral` when no target is touched, else `success`. */
export const conclusionOf = (report: PreviewReport): PreviewConclusion => {
  if (report.targets.some((t) => t.blockers.length > 0) || (report.annotations ?? []).some((a) => a.level === 'failure')) return 'failure';
  return report.targets.length ? 'success' : 'neutral';
};

/** Whether the merge would change anything at all (the CLI's exit 1). */
export const hasPreviewChanges = (report: PreviewReport): boolean => report.targets.some((t) => t.objects.length > 0 || t.change !== 'modified');

const verdictOf = (t: TargetPreview): string =>
  t.blockers.length
    ? `✖ ${t.blockers[0]}${t.blockers.length > 1 ? ` (+${t.blockers.length - 1})` : ''}`
    : t.objects.length || t.change !== 'modified'
      ? '✔ would sync'
      : '✔ no changes';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The one-line title of the check run. */
export const titleOf = (report: PreviewReport): string => {
  if (!report.targets.length) return 'No target touched';
  const blocked = report.targets.filter((t) => t.blockers.length).length;
  const changing = report.targets.filter((t) => t.objects.length || t.change !== 'modified').length;
  const n = report.targets.length;
  return blocked ? `${blocked} of ${n} target${n === 1 ? '' : 's'} would not sync` : `${changing} of ${n} target${n === 1 ? '' : 's'} would change`;
};

/** The summary: one table row per target (target, kind, creates, changes, deletes, verdict). */
export const summaryOf = (report: PreviewReport): string => {
  const head = `Merging \`${report.head.slice(0, 12)}\` into \`${report.base}\` of ${report.repository}`;
  if (!report.targets.length) return `${head} touches no driftless target.`;
  const rows = report.targets.map((t) => {
    const kind = t.type === 'cloudformation' ? 'stack' : 'kubernetes';
    const name = t.change === 'modified' ? t.target : `${t.target} (${t.change})`;
    return `| ${cell(name)} | ${kind} | ${count(t, ['create'])} | ${count(t, ['change', 'adopt'])} | ${count(t, ['delete'])} | ${cell(verdictOf(t))} |`;
  });
  return [head, '', '| target | kind | creates | changes | deletes | verdict |', '|---|---|--:|--:|--:|---|', ...rows].join('\n');
};

const SIGN: Record<ObjectPreview['action'], string> = { create: '+', change: '~', delete: '-', adopt: '~', refused: '!', failed: '!' };

/** One target's section: its blockers, then each object with its field changes, in a diff block. */
const sectionOf = (t: TargetPreview): string => {
  const lines: string[] = [];
  for (const b of t.blockers) lines.push(`! ${b}`);
  for (const f of t.findings ?? [])
    lines.push(`${f.level === 'failure' ? '!' : '?'} validation ${f.level === 'failure' ? 'FAIL' : 'WARN'} ${f.name}${f.path ? ` at ${f.path}` : ''}: ${f.message}`);
  for (const o of t.objects) {
    const flags = [o.action === 'adopt' ? 'adopt' : '', o.replacement === 'True' ? 'REPLACEMENT' : o.replacement === 'Conditional' ? 'may be replaced' : ''].filter(Boolean);
    lines.push(`${SIGN[o.action]} ${o.name}${flags.length ? ` [${flags.join(', ')}]` : ''}${o.detail ? `: ${o.detail}` : ''}`);
    for (const f of o.fields ?? []) lines.push(`    ${formatFieldChange(f)}`);
    if (o.cascade?.length) {
      lines.push(`    deletes with it ${o.cascade.length} object${o.cascade.length === 1 ? '' : 's'}:`);
      for (const c of o.cascade) lines.push(`      - ${c}`);
    }
  }
  if (t.unchanged) lines.push(`  ${t.unchanged} unchanged`);
  const open = t.blockers.length > 0 || (t.findings?.length ?? 0) > 0 || t.objects.some((o) => o.action === 'delete' || o.replacement === 'True');
  const fence = lines.some((l) => l.includes('```')) ? '~~~~' : '```';
  return [
    `<details${open ? ' open' : ''}><summary><b>${escapeHtml(t.target)}</b>: ${escapeHtml(verdictOf(t))}</summary>`,
    '',
    `${fence}diff`,
    ...lines,
    fence,
    '',
    '</details>',
  ].join('\n');
};

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The check run's text: a collapsible section per target, cut to `limit` characters at a section boundary
 * (a section that alone is too long is cut at a line) with a count of what was left out.
 */
export const textOf = (report: PreviewReport, limit = CHECK_TEXT_LIMIT): string => {
  const sections = report.targets.map(sectionOf);
  const out: string[] = [];
  let used = 0;
  const reserve = 200; // room for the note of what was left out
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i] as string;
    if (used + s.length + 2 <= limit - reserve) {
      out.push(s);
      used += s.length + 2;
      continue;
    }
    const room = limit - reserve - used - 40;
    if (room > 400 && out.length === i) {
      const cut = s.slice(0, room);
      out.push(`${cut.slice(0, cut.lastIndexOf('\n'))}\n… (cut)\n\`\`\`\n\n</details>`);
    }
    const left = sections.length - out.length;
    out.push(
      `_${left} more target${left === 1 ? '' : 's'} left out: the preview is over GitHub's ${limit.toLocaleString('en-US')}-character limit. Run \`driftless preview\` for all of it._`,
    );
    break;
  }
  return out.join('\n\n');
};

/** The annotations of a report (repository-wide first), in batches of at most 50 as the Checks API takes them. */
export const annotationBatches = (report: PreviewReport, size = ANNOTATIONS_PER_REQUEST): PreviewAnnotation[][] => {
  const all = [...(report.annotations ?? []), ...report.targets.flatMap((t) => t.annotations ?? [])];
  const batches: PreviewAnnotation[][] = [];
  for (let i = 0; i < all.length; i += size) batches.push(all.slice(i, i + size));
  return batches;
};

/** The same report as the body of the one pull-request comment driftless edits in place (token auth). */
export const commentOf = (report: PreviewReport): string => {
  const conclusion = conclusionOf(report);
  const icon = conclusion === 'failure' ? '✖' : conclusion === 'neutral' ? '○' : '✔';
  const notes = annotationBatches(report)
    .flat()
    .slice(0, 50)
    .map((a) => `- \`${a.path}:${a.line}\` ${a.message}`);
  const head = [COMMENT_MARKER, `### ${icon} ${CHECK_NAME}: ${titleOf(report)}`, '', summaryOf(report), ...(notes.length ? ['', ...notes] : []), ''].join('\n');
  return `${head}\n${textOf(report, CHECK_TEXT_LIMIT - head.length - 1)}`;
};
