import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseRegistry } from '../../config/load-config.js';
import { ENV } from '../../core/env-names.js';
import { ReconcilerError } from '../../core/errors.js';
import { assertCommitId } from '../../core/git-names.js';
import { formatFieldChange } from '../../preview/field-diff.js';
import { planPreview } from '../../preview/plan-preview.js';
import {
  annotationBatches,
  conclusionOf,
  hasPreviewChanges,
  summaryOf,
  textOf,
  titleOf,
  type ObjectPreview,
  type PreviewReport,
  type TargetPreview,
} from '../../preview/preview-report.js';
import { LocalGitSource } from '../../source/local-git-source.js';
import { parseCommand, UsageError } from '../args.js';
import { PREVIEW_COMMAND } from '../specs/preview.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { localAccess, repositoryIdentity } from '../local-target.js';
import { targetOpener } from '../../targets/open-target.js';
import { paint, progress, toJson, type Io } from '../output.js';
import { table } from '../table.js';

const run = promisify(execFile);

/**
 * `driftless preview`: the pull-request preview of a local checkout (`planPreview`), printed as aligned text,
 * the check run's markdown or JSON. Exit 0: nothing would change; 1: something would; 2: errors or a blocker.
 */
export const previewCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(PREVIEW_COMMAND, args);
  if (values.json && values.markdown) throw new UsageError('--json and --markdown cannot be given together');
  const dir = resolve(io.cwd, values.repo);
  if (!existsSync(dir)) throw new ReconcilerError(`${values.repo}: no such directory`);
  const registryFile = values.registry ?? io.env[ENV.registry];
  const registry = registryFile ? parseRegistry(readFileSync(resolve(io.cwd, registryFile), 'utf8'), registryFile) : undefined;
  const { repository } = repositoryIdentity(dir, values.repository, registry);
  const base = await resolveCommit(dir, '--base', values.base);
  const head = await resolveCommit(dir, '--head', values.head);
  const source = new LocalGitSource({ [repository]: dir });
  const [baseTree, headTree, changed] = await Promise.all([source.snapshot(repository, base), source.snapshot(repository, head), changedFiles(dir, base, head)]);
  const branch = await branchOf(dir, values.base);

  const access = localAccess(registry, values);
  const ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env, io.cwd) : undefined;
  const bar = progress(io);
  let report: PreviewReport;
  try {
    report = await planPreview(
      { repository, base, head, baseName: branch ?? values.base, baseTree, headTree, changed, ...(branch ? { branch } : {}), ...(values.target ? { target: values.target } : {}) },
      {
        ...(registry ? { registry } : {}),
        targets: targetOpener(access),
        ...(ledger ? { state: (id: string) => ledger.ledger.getState(id) } : {}),
        onProgress: (target, phase, done, total) => bar.update(`${target}: ${phase} ${done}/${total}`),
      },
    );
  } finally {
    bar.done();
    ledger?.close();
    access.close();
  }
  if (values.target && !report.targets.length && !(report.annotations ?? []).length) {
    io.stderr(`${values.target}: not touched by ${values.base}..${values.head} (or not a target of driftless.yaml)\n`);
  }
  if (values.json) io.stdout(toJson(report));
  else if (values.markdown) io.stdout(`${summaryOf(report)}\n\n${textOf(report)}\n`);
  else io.stdout(formatPreview(io, report));
  return conclusionOf(report) === 'failure' ? 2 : hasPreviewChanges(report) ? 1 : 0;
};

/** A git ref of the checkout as a commit id (refs are checked: one cannot be read as an option). */
const resolveCommit = async (dir: string, flag: string, ref: string): Promise<string> => {
  if (ref === '' || ref.startsWith('-')) throw new UsageError(`${flag} ${JSON.stringify(ref)}: not a git ref`);
  let out: string;
  try {
    out = (await run('git', ['-C', dir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { encoding: 'utf8' })).stdout.trim();
  } catch {
    throw new ReconcilerError(`${flag} ${ref}: not a commit of the checkout ${dir}`);
  }
  assertCommitId(`${flag} ${ref}`, out);
  return out;
};

/** The files the change touches, as a pull request shows them: from the merge base of the two to the head. */
const changedFiles = async (dir: string, base: string, head: string): Promise<{ files: string[]; truncated: boolean }> => {
  const git = async (...argv: string[]) => (await run('git', ['-C', dir, ...argv], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
  const from = (await git('merge-base', '--end-of-options', base, head).catch(() => base)).trim() || base;
  const out = await git('diff', '--name-only', '--no-renames', '--end-of-options', from, head, '--');
  return { files: out.split('\n').filter(Boolean), truncated: false };
};

/** The branch a base ref names (`main`, `origin/main`), whose targets the preview covers; undefined for a commit or tag. */
const branchOf = async (dir: string, ref: string): Promise<string | undefined> => {
  const exists = (full: string) =>
    run('git', ['-C', dir, 'show-ref', '--verify', '--quiet', '--end-of-options', full]).then(
      () => true,
      () => false,
    );
  if (await exists(`refs/heads/${ref}`)) return ref;
  const slash = ref.indexOf('/');
  if (slash > 0 && (await exists(`refs/remotes/${ref}`))) return ref.slice(slash + 1);
  return undefined;
};

const SIGN: Record<ObjectPreview['action'], [string, string]> = {
  create: ['+', 'green'],
  change: ['~', 'yellow'],
  adopt: ['~', 'yellow'],
  delete: ['-', 'red'],
  refused: ['!', 'red'],
  failed: ['!', 'red'],
};

const counts = (t: TargetPreview, actions: ObjectPreview['action'][]) => String(t.objects.filter((o) => actions.includes(o.action)).length);

/** The report for a terminal: a table of targets, then each target's objects with their field changes. */
export const formatPreview = (io: Io, report: PreviewReport): string => {
  const out: string[] = [];
  const conclusion = conclusionOf(report);
  const color = conclusion === 'failure' ? 'red' : conclusion === 'neutral' ? 'dim' : 'green';
  out.push(`${paint(io, 'bold', 'driftless preview')} of ${report.repository}: ${report.head.slice(0, 12)} into ${report.base} — ${paint(io, color, titleOf(report))}\n`);
  for (const a of annotationBatches(report).flat()) {
    out.push(`${paint(io, a.level === 'failure' ? 'red' : a.level === 'warning' ? 'yellow' : 'dim', `${a.path}:${a.line}`)}  ${a.level}: ${a.message}\n`);
  }
  if (!report.targets.length) return out.join('');
  out.push('\n');
  const verdict = (t: TargetPreview) =>
    t.blockers.length
      ? paint(io, 'red', `✖ ${t.blockers.length} blocker${t.blockers.length === 1 ? '' : 's'}`)
      : t.objects.length || t.change !== 'modified'
        ? paint(io, 'yellow', '✔ would sync')
        : paint(io, 'dim', '✔ no changes');
  out.push(
    table(
      io,
      ['TARGET', 'KIND', 'CREATES', 'CHANGES', 'DELETES', 'VERDICT'],
      report.targets.map((t) => [
        t.change === 'modified' ? t.target : `${t.target} (${t.change})`,
        t.type === 'cloudformation' ? 'stack' : 'kubernetes',
        counts(t, ['create']),
        counts(t, ['change', 'adopt']),
        counts(t, ['delete']),
        verdict(t),
      ]),
    ),
  );
  for (const t of report.targets) {
    if (!t.objects.length && !t.blockers.length) continue;
    out.push(`\n${paint(io, 'bold', t.target)}\n`);
    for (const b of t.blockers) out.push(`  ${paint(io, 'red', `✖ ${b}`)}\n`);
    const width = Math.max(0, ...t.objects.map((o) => o.name.length));
    for (const o of t.objects) {
      const [sign, c] = SIGN[o.action];
      const flag = o.replacement === 'True' ? paint(io, 'red', ' REPLACEMENT') : o.replacement === 'Conditional' ? paint(io, 'yellow', ' may be replaced') : '';
      // `would be pruned` says again what `delete` says.
      const detail = o.detail === 'would be pruned' ? undefined : o.detail;
      out.push(`  ${paint(io, c, `${sign} ${o.action.padEnd(7)}`)} ${detail ? o.name.padEnd(width) : o.name}${flag}${detail ? `  ${paint(io, 'dim', detail)}` : ''}\n`);
      for (const f of o.fields ?? []) out.push(`      ${formatFieldChange(f)}\n`);
      if (o.cascade?.length) {
        out.push(`      ${paint(io, 'red', `deletes with it ${o.cascade.length} object${o.cascade.length === 1 ? '' : 's'}:`)}\n`);
        for (const x of o.cascade) out.push(`        - ${x}\n`);
      }
    }
    if (t.unchanged) out.push(`  ${paint(io, 'dim', `${t.unchanged} unchanged`)}\n`);
  }
  return out.join('');
};
