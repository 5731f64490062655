import { ChangeAction } from '../core/change-set.js';
import type { Deadline } from '../core/deadline.js';
import { ConfigError, PlanFindingsError, RenderError } from '../core/errors.js';
import { formatRef, type ObjectRef } from '../core/object-ref.js';
import { targetId as makeTargetId } from '../core/ownership.js';
import { redactDeep } from '../core/redact.js';
import type { PlanFinding, PlannedChange, TargetPlan } from '../core/target.js';
import { CONFIG_FILE, loadTargets } from '../config/load-config.js';
import type { DriftlessConfig, Registry, TargetConfig } from '../config/schema.js';
import { registryGrant, whyStackNotGranted } from '../config/stack-grants.js';
import type { TargetState } from '../ledger/ledger.js';
import { touches } from '../reconcile/reconcile-target.js';
import { NO_RECORDER, syncTarget, type SyncOutcome } from '../reconcile/sync-target.js';
import { templatePathLine } from '../render/cloudformation-template.js';
import { renderDesired } from '../render/desired-state.js';
import type { FileTree } from '../render/file-tree.js';
import type { TargetOpener } from '../targets/target-opener.js';
import { fieldChanges } from './field-diff.js';
import type { ObjectPreview, PreviewAnnotation, PreviewReport, TargetPreview } from './preview-report.js';

/** What to preview: a repository's tree at the base and at the head of a change, and the files it changes. */
export interface PreviewRequest {
  /** `owner/name`: the identity the targets' objects are owned by. */
  readonly repository: string;
  /** The commit the change goes into (the base branch's head) and the change's head commit. */
  readonly base: string;
  readonly head: string;
  /** The name the report gives the base (a branch such as `main`); @default the base commit */
  readonly baseName?: string;
  readonly baseTree: FileTree;
  readonly headTree: FileTree;
  /** Files the change touches (base...head); `truncated`: the list is incomplete, every target is touched. */
  readonly changed: { readonly files: readonly string[]; readonly truncated: boolean };
  /** Only targets tracking this branch (the pull request's base); undefined: every target. */
  readonly branch?: string;
  /** Only this target. */
  readonly target?: string;
}

/** What a preview reads: the registry, the targets (planned, never applied) and, when there is one, the ledger. */
export interface PreviewDeps {
  readonly registry?: Registry;
  /** How targets are reached (the opener a sync uses); it also lists deletion cascades. */
  readonly targets: TargetOpener;
  /** The ledger's state of a target (its inventory and the dependency files of its last render). */
  readonly state?: (targetId: string) => Promise<TargetState | undefined>;
  readonly deadline?: Deadline;
  readonly onProgress?: (target: string, phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
}

/**
 * What merging a change would do to every target it touches, planned and never applied: for each touched
 * target the sync use case's dry run (config → render → grant check → `target.plan`), its objects with
 * field-level changes (Secret values hidden), what each deletion cascades to, and every reason the sync would
 * stop as a blocker. Targets the change adds are previewed as created, targets it removes as what their removal
 * does (a stack with `deleteOnRemove` is deleted; anything else is left in place). Render and config errors are
 * blockers and annotations at file and line. Nothing is written: a stack's change set (and the
 * REVIEW_IN_PROGRESS stack a new one leaves) is deleted by the plan.
 * @example
 * const report = await planPreview({ repository, base, head, baseTree, headTree, changed }, { registry, targets });
 * process.exitCode = conclusionOf(report) === 'failure' ? 2 : hasPreviewChanges(report) ? 1 : 0;
 */
export const planPreview = async (req: PreviewRequest, deps: PreviewDeps): Promise<PreviewReport> => {
  const report = (targets: TargetPreview[], annotations: PreviewAnnotation[] = []): PreviewReport => ({
    repository: req.repository,
    base: req.baseName ?? req.base,
    head: req.head,
    targets,
    ...(annotations.length ? { annotations } : {}),
  });
  const head = await readConfig(req.headTree, req, deps.registry);
  if ('error' in head) return report([], head.error);
  // The base only says which targets existed: it is read without today's registry (whose verdict on a removed
  // target comes below). A base whose driftless.yaml does not parse names no target: nothing counts as removed.
  const base = await readConfig(req.baseTree, req);
  const baseKnown = !('error' in base);
  const baseTargets = 'error' in base ? [] : base.config.targets;
  const wanted = (t: TargetConfig) => (req.branch === undefined || t.branch === req.branch) && (req.target === undefined || t.name === req.target);
  const headTargets = head.config.targets.filter(wanted);
  const removed = baseTargets.filter((b) => wanted(b) && !headTargets.some((h) => h.name === b.name));

  const previews: TargetPreview[] = [];
  for (const target of headTargets) {
    const id = makeTargetId(req.repository, target.name);
    const state = await deps.state?.(id);
    // Against a base that does not parse, no target counts as added: each is previewed as modified (and touched, by driftless.yaml).
    const added = baseKnown && !baseTargets.some((b) => b.name === target.name && (req.branch === undefined || b.branch === req.branch));
    if (!added && !(await isTouched(req, target, state))) continue;
    previews.push(await previewTarget(req, deps, target, added ? 'added' : 'modified', state));
  }
  for (const target of removed) previews.push(await previewRemoval(req, deps, target, await deps.state?.(makeTargetId(req.repository, target.name))));
  return report(previews);
};

/** driftless.yaml of one side, or its errors as annotations. */
const readConfig = async (tree: FileTree, req: PreviewRequest, registry?: Registry): Promise<{ config: DriftlessConfig } | { error: PreviewAnnotation[] }> => {
  try {
    const config = await loadTargets(tree, { repository: req.repository, ...(registry ? { registry } : {}) });
    if (!config) return { error: [{ path: CONFIG_FILE, line: 1, level: 'failure', message: `${CONFIG_FILE} is missing`, title: 'driftless.yaml' }] };
    return { config };
  } catch (err) {
    return { error: await annotationsOf(err, CONFIG_FILE) };
  }
};

/**
 * Whether the change touches a target, as a merge decides it (`touches`): its dependency files from the last
 * render in the ledger, its path, driftless.yaml. Without a ledger state the render at the head names the
 * dependencies; a render that fails touches the target (the preview reports the error).
 */
const isTouched = async (req: PreviewRequest, target: TargetConfig, state: TargetState | undefined): Promise<boolean> => {
  if (state) return touches(state, req.changed);
  const files = await renderDesired(req.headTree, target).then(
    (d) => [...d.files],
    () => undefined,
  );
  if (!files) return true;
  const assumed: TargetState = {
    targetId: '',
    repository: req.repository,
    target: target.name,
    suspended: false,
    inventory: [],
    dependencies: files,
    config: target,
    lastResult: 'succeeded',
  };
  return touches(assumed, req.changed);
};

/** One touched target: the sync use case as a dry run, its plan mapped to objects and blockers. */
const previewTarget = async (
  req: PreviewRequest,
  deps: PreviewDeps,
  target: TargetConfig,
  change: 'added' | 'modified',
  state: TargetState | undefined,
): Promise<TargetPreview> => {
  const outcome = await syncTarget(
    { repository: req.repository, target: target.name, branch: target.branch, commit: req.head, tree: req.headTree, ...(state ? { state } : {}), dryRun: true },
    {
      ...(deps.registry ? { registry: deps.registry } : {}),
      targets: deps.targets,
      recorder: NO_RECORDER,
      // Without a ledger the target's labelled objects are its inventory (as the CLI's sync finds them).
      discoverInventory: !deps.state,
      ...(deps.deadline ? { deadline: deps.deadline } : {}),
      ...(deps.onProgress ? { onProgress: (phase: 'plan' | 'apply' | 'prune' | 'wait', n: number, total: number) => deps.onProgress?.(target.name, phase, n, total) } : {}),
    },
  );
  const base = { target: target.name, type: target.type, change } as const;
  const preview = await fromOutcome(req, deps, target, outcome, base);
  // Secret values of the render never leave in a report, wherever they appear.
  return redactDeep(preview, outcome.redact);
};

const fromOutcome = async (
  req: PreviewRequest,
  deps: PreviewDeps,
  target: TargetConfig,
  outcome: SyncOutcome,
  base: Pick<TargetPreview, 'target' | 'type' | 'change'>,
): Promise<TargetPreview> => {
  if (outcome.result === 'skipped') {
    // Suspended: the merge applies nothing, which is not a problem. Unreachable: nothing could be planned.
    const blockers = outcome.reason === 'suspended' ? [] : [`not previewed: ${outcome.message ?? 'skipped'}`];
    return {
      ...base,
      objects: [],
      unchanged: 0,
      blockers,
      annotations: outcome.reason === 'suspended' ? [await targetNotice(req, target, `${target.name} is ${outcome.message ?? 'suspended'}: the merge applies nothing to it`)] : [],
    };
  }
  if (outcome.result !== 'planned' || !outcome.plan) {
    const message = outcome.message ?? `${target.name}: the preview failed`;
    if (outcome.cause instanceof PlanFindingsError) {
      // CloudFormation's pre-deployment validation refused the change set: each finding at its template line.
      return {
        ...base,
        objects: [],
        unchanged: 0,
        blockers: [message],
        findings: outcome.cause.findings,
        annotations: await findingAnnotations(req, target, outcome.cause.findings),
      };
    }
    const located = outcome.cause instanceof RenderError || outcome.cause instanceof ConfigError;
    const annotations = located ? await annotationsOf(outcome.cause, target.path, req.headTree) : [await targetNotice(req, target, message, 'failure')];
    return { ...base, objects: [], unchanged: 0, blockers: [message], annotations };
  }
  if (target.type === 'kubernetes') return kubernetesPreview(deps, target.cluster, outcome.plan, base);
  const stack = stackPreview(outcome.plan, base);
  const findings = outcome.plan.findings ?? [];
  if (!findings.length) return stack;
  return {
    ...stack,
    findings,
    blockers: [...stack.blockers, ...findings.filter((f) => f.level === 'failure').map((f) => `validation ${f.name}${f.path ? ` at ${f.path}` : ''}: ${f.message}`)],
    annotations: [...(stack.annotations ?? []), ...(await findingAnnotations(req, target, findings))],
  };
};

/** Validation findings as annotations on the stack's template, at the line of each finding's path. */
const findingAnnotations = async (req: PreviewRequest, target: TargetConfig, findings: readonly PlanFinding[]): Promise<PreviewAnnotation[]> => {
  const text = await req.headTree.read(target.path).then(
    (b) => new TextDecoder().decode(b),
    () => '',
  );
  return findings.map((f) => ({
    path: target.path,
    line: (f.path && text ? templatePathLine(text, f.path) : undefined) ?? 1,
    level: f.level === 'failure' ? ('failure' as const) : ('warning' as const),
    title: `${target.name}: CloudFormation validation ${f.name}`,
    message: `${f.message}${f.path ? ` (${f.path})` : ''}`,
  }));
};

/** Prune details that are a deliberate choice of the repository, not a guard that stops what a reviewer expects. */
const DELIBERATE = /prune is disabled for this target|prune: disabled/;
/** Planned objects another target (or nobody driftless knows) owns: the sync would refuse the whole target. */
const OWNERSHIP = /is managed by another driftless target|exists and is not managed by/;

const kubernetesPreview = async (deps: PreviewDeps, cluster: string, plan: TargetPlan, base: Pick<TargetPreview, 'target' | 'type' | 'change'>): Promise<TargetPreview> => {
  const objects: ObjectPreview[] = [];
  const blockers: string[] = [];
  let unchanged = 0;
  const changes: readonly PlannedChange[] = plan.changes ?? plan.changeSet.entries.filter((e) => !(plan.pruned ?? []).some((p) => formatRef(p.ref) === formatRef(e.ref)));
  for (const c of changes) {
    const name = formatRef(c.ref);
    const detail = c.detail ? { detail: c.detail } : {};
    switch (c.action) {
      case ChangeAction.Unchanged:
        unchanged++;
        break;
      case ChangeAction.Created:
        objects.push({ name, action: 'create', ...detail });
        break;
      case ChangeAction.Configured:
      case ChangeAction.Adopted:
        objects.push({ name, action: c.action === ChangeAction.Adopted ? 'adopt' : 'change', fields: fieldChanges(c.live, c.desired ?? {}), ...detail });
        break;
      case ChangeAction.Failed:
        objects.push({ name, action: OWNERSHIP.test(c.detail ?? '') ? 'refused' : 'failed', ...detail });
        break;
      default:
        objects.push({ name, action: 'failed', detail: c.detail ?? c.action });
    }
  }
  const refused = objects.filter((o) => o.action === 'refused');
  const failed = objects.filter((o) => o.action === 'failed');
  if (refused.length) blockers.push(`${refused.length} object${refused.length === 1 ? '' : 's'} refused: ${refused[0]?.detail ?? ''}`);
  if (failed.length)
    blockers.push(
      `the dry run failed for ${failed.length} object${failed.length === 1 ? '' : 's'} (${failed[0]?.name}: ${failed[0]?.detail ?? 'failed'}); nothing would be applied`,
    );

  const deletions: ObjectRef[] = [];
  const guards = new Set<string>();
  for (const p of plan.pruned ?? []) {
    const name = formatRef(p.ref);
    if (p.action === ChangeAction.Deleted && p.detail?.startsWith('already gone')) continue;
    if (p.action === ChangeAction.Deleted) {
      deletions.push(p.ref);
      objects.push({ name, action: 'delete', ...(p.detail ? { detail: p.detail } : {}) });
      continue;
    }
    // A stale object the sync would keep: the guard that keeps it is a verdict the reviewer must see.
    objects.push({ name, action: 'refused', detail: p.detail ?? 'not pruned' });
    if (p.detail && !DELIBERATE.test(p.detail)) guards.add(p.detail);
  }
  if (plan.stop) blockers.push(plan.stop);
  for (const g of guards) {
    // maxDeleteShare marks every candidate with the stop's own words: said once, as the stop.
    if (plan.stop && g.replace(/^not pruned: /, '') === plan.stop.replace(/^prune stopped: /, '')) continue;
    blockers.push(`${guardCount(plan, g)} not pruned: ${g.replace(/^not pruned: /, '')}`);
  }

  if (deletions.length) {
    const cascades = await deps.targets.cascades(cluster, deletions, deps.deadline?.signal);
    for (let i = 0; i < objects.length; i++) {
      const o = objects[i] as ObjectPreview;
      const c = o.action === 'delete' ? cascades.get(o.name) : undefined;
      if (!c || !c.total) continue;
      objects[i] = { ...o, cascade: [...c.names, ...(c.total > c.names.length ? [`… and ${c.total - c.names.length} more`] : [])] };
    }
  }
  return { ...base, objects, unchanged, blockers };
};

/** `2 objects`: how many stale objects one guard keeps. */
const guardCount = (plan: TargetPlan, detail: string): string => {
  const n = (plan.pruned ?? []).filter((p) => p.detail === detail).length;
  return n === 1 ? '1 stale object' : `${n} stale objects`;
};

const stackPreview = (plan: TargetPlan, base: Pick<TargetPreview, 'target' | 'type' | 'change'>): TargetPreview => {
  const objects: ObjectPreview[] = [];
  const blockers: string[] = [];
  let unchanged = 0;
  const described = new Map((plan.changes ?? []).map((c) => [formatRef(c.ref), c] as const));
  for (const e of plan.changeSet.entries) {
    const c = described.get(formatRef(e.ref));
    const isStack = e.ref.kind === 'AWS::CloudFormation::Stack' && e.ref.namespace === undefined;
    const name = isStack ? `stack ${e.ref.name}` : `${e.ref.name} (${e.ref.kind})`;
    const detail = e.detail ? { detail: e.detail } : {};
    const fields = c ? fieldChanges(c.live, c.desired ?? {}) : [];
    switch (e.action) {
      case ChangeAction.Unchanged:
        unchanged++;
        break;
      case ChangeAction.Created:
        objects.push({ name, action: 'create', ...(fields.length ? { fields } : {}), ...detail });
        break;
      case ChangeAction.Deleted:
        objects.push({ name, action: 'delete', ...detail });
        break;
      case ChangeAction.Configured:
        objects.push({
          name,
          action: isStack && e.detail?.startsWith('adopted') ? 'adopt' : 'change',
          ...(fields.length ? { fields } : {}),
          ...(c?.replacement ? { replacement: c.replacement } : {}),
          ...detail,
        });
        break;
      case ChangeAction.Skipped:
        // The stack is busy (an update in progress): what the merge does cannot be planned now.
        blockers.push(`${name}: ${e.detail ?? 'skipped'}`);
        break;
      default:
        objects.push({ name, action: 'failed', detail: e.detail ?? e.action });
        blockers.push(`${name}: ${e.detail ?? e.action}`);
    }
  }
  return { ...base, objects, unchanged, blockers };
};

/**
 * A target the change removes from driftless.yaml, as its sync would handle it: a stack with `deleteOnRemove`
 * (in the ledger's last config, else the base's) is deleted, when the registry of now still grants it; anything
 * else is left in place, said in a notice.
 */
const previewRemoval = async (req: PreviewRequest, deps: PreviewDeps, target: TargetConfig, state: TargetState | undefined): Promise<TargetPreview> => {
  const last = (state?.config as TargetConfig | undefined) ?? target;
  const base = { target: target.name, type: last.type, change: 'removed' } as const;
  const notice = (message: string): PreviewAnnotation => ({ path: CONFIG_FILE, line: 1, level: 'notice', message, title: `${target.name} removed` });
  if (last.type === 'cloudformation' && last.cloudformation?.deleteOnRemove) {
    const stack = last;
    const refused =
      deps.registry && whyStackNotGranted(registryGrant(deps.registry, req.repository), { stack: stack.stack, region: stack.region, roleArn: stack.cloudformation?.roleArn });
    const name = `stack ${stack.stack}`;
    if (refused) return { ...base, objects: [{ name, action: 'refused', detail: refused }], unchanged: 0, blockers: [`${name} would not be deleted (deleteOnRemove): ${refused}`] };
    return {
      ...base,
      objects: [{ name, action: 'delete', detail: `deleteOnRemove: the stack and every resource in it are deleted (${stack.region})` }],
      unchanged: 0,
      blockers: [],
    };
  }
  const held = state?.inventory.length;
  const what =
    last.type === 'cloudformation' ? `stack ${last.stack} is left in place (deleteOnRemove is false)` : `its ${held ? `${held} ` : ''}objects are left in place, no longer managed`;
  return { ...base, objects: [], unchanged: 0, blockers: [], annotations: [notice(`${target.name} leaves ${CONFIG_FILE}: ${what}`)] };
};

/** A render or config error as annotations at file and line (a render error without a line: where the file names what failed). */
const annotationsOf = async (err: unknown, fallback: string, tree?: FileTree): Promise<PreviewAnnotation[]> => {
  if (err instanceof ConfigError)
    return err.issues.map((i) => ({
      path: i.file,
      line: Math.max(1, i.line),
      level: 'failure',
      message: `${i.field ? `${i.field}: ` : ''}${i.message}`,
      title: `invalid ${i.file}`,
    }));
  if (err instanceof RenderError) {
    const prefix = `${err.file}${err.line !== undefined ? `:${err.line}` : ''}: `;
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return [{ path: err.file, line: await locate(tree, err.file, err.line, message), level: 'failure', message, title: 'render failed' }];
  }
  return [{ path: fallback, line: 1, level: 'failure', message: (err as Error)?.message ?? String(err) }];
};

/** The line a render error points at: its own, else the first line naming what it quotes (`resource "x"`), else 1. */
const locate = async (tree: FileTree | undefined, file: string, line: number | undefined, message: string): Promise<number> => {
  if (line !== undefined) return Math.max(1, line);
  const quoted = message.match(/"([^"]+)"|'([^']+)'/);
  const needle = quoted?.[1] ?? quoted?.[2];
  if (!tree || !needle) return 1;
  const text = await tree.read(file).then(
    (b) => new TextDecoder().decode(b),
    () => '',
  );
  const at = text.split('\n').findIndex((l) => l.includes(needle));
  return at >= 0 ? at + 1 : 1;
};

/** A notice (or failure) at the target's entry in driftless.yaml. */
const targetNotice = async (req: PreviewRequest, target: TargetConfig, message: string, level: PreviewAnnotation['level'] = 'notice'): Promise<PreviewAnnotation> => {
  const text = await req.headTree.read(CONFIG_FILE).then(
    (b) => new TextDecoder().decode(b),
    () => '',
  );
  const at = text.split('\n').findIndex((l) => new RegExp(`^\\s*-?\\s*name:\\s*["']?${target.name}["']?\\s*$`).test(l));
  return { path: CONFIG_FILE, line: at >= 0 ? at + 1 : 1, level, message, title: target.name };
};
