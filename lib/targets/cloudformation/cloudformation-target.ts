import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeEventsCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
  type Capability,
  type Change,
  type CloudFormationClient,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ChangeAction, type ChangeSet, type ChangeSetEntry } from '../../core/change-set.js';
import { PlanFindingsError, ReconcilerError } from '../../core/errors.js';
import type { ObjectRef } from '../../core/object-ref.js';
import { STACK_TARGET_TAG } from '../../core/ownership.js';
import type { FieldDrift, ObjectDrift } from '../../core/drift.js';
import type { PlanFinding, PlannedChange, StackTemplate as Template } from '../../core/target.js';

/** The largest TemplateBody CloudFormation accepts; larger templates go through S3. */
export const MAX_TEMPLATE_BODY = 51_200;
/** Group of the refs of stack resources in change sets. */
export const CFN_GROUP = 'cloudformation.aws';

export interface CloudFormationTargetOptions {
  /** The target's id, `owner/repo/target`. */
  readonly id: string;
  readonly stack: string;
  readonly capabilities?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** The service role CloudFormation assumes (deployed: the stack's role). */
  readonly roleArn?: string;
  /** Where templates over 51,200 bytes are uploaded. */
  readonly artifactBucket?: string;
  /**
   * Take over an existing stack that carries no ownership tag (the registry's `adopt`). A stack tagged for
   * another target is refused even then. @default false
   */
  readonly adopt?: boolean;
  /** @default 2000 */
  readonly pollMs?: number;
}

/** How an apply ended. */
export type StackOutcome =
  | { readonly result: 'succeeded' | 'unchanged'; readonly changeSet: ChangeSet }
  | { readonly result: 'in-progress'; readonly changeSet: ChangeSet; readonly status: string }
  | { readonly result: 'failed'; readonly changeSet: ChangeSet; readonly error: string };

type Parameters = readonly { ParameterKey: string; ParameterValue: string }[];

const SUCCESS = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);
const FAILED = new Set([
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'CREATE_FAILED',
  'UPDATE_ROLLBACK_COMPLETE',
  'UPDATE_ROLLBACK_FAILED',
  'DELETE_FAILED',
  'UPDATE_FAILED',
  'IMPORT_ROLLBACK_COMPLETE',
  'IMPORT_ROLLBACK_FAILED',
]);
const NO_CHANGES = /didn't contain changes|No updates are to be performed|The submitted information didn't contain changes/i;

/**
 * A CloudFormation stack as a target: change sets for plan and apply, the stack's events for failures, and
 * DetectStackDrift for drift (a change set compares templates, never live resources).
 * @example
 * const outcome = await new CloudFormationTarget(cfn, { id, stack: 'acme-vpc' }).apply(template, params, { commit });
 */
export class CloudFormationTarget {
  private readonly pollMs: number;

  constructor(
    private readonly cfn: CloudFormationClient,
    private readonly o: CloudFormationTargetOptions,
    private readonly s3?: S3Client,
  ) {
    this.pollMs = o.pollMs ?? 2000;
  }

  /** The stack's status, or undefined when it does not exist. */
  async status(): Promise<StackStatus | undefined> {
    return (await this.describe())?.status;
  }

  /** The stack's status and tags, or undefined when it does not exist. */
  async describe(): Promise<{ status: StackStatus | undefined; tags: Record<string, string> } | undefined> {
    try {
      const out = await this.cfn.send(new DescribeStacksCommand({ StackName: this.o.stack }));
      const s = out.Stacks?.[0];
      if (!s) return undefined;
      return { status: s.StackStatus, tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) };
    } catch (err) {
      if (/does not exist/.test((err as Error).message)) return undefined;
      throw this.wrap('DescribeStacks', err);
    }
  }

  /**
   * Describes the stack and refuses it unless this target owns it (its tag names this target) or, with `adopt`,
   * it carries no driftless tag at all. Returns the status (undefined: no stack) and whether it is adopted.
   */
  private async owned(): Promise<{ status: StackStatus | undefined; adopted: boolean }> {
    const found = await this.describe();
    if (!found) return { status: undefined, adopted: false };
    const problem = ownershipProblem(found.tags, this.o.id, this.o.adopt === true);
    if (problem) throw new ReconcilerError(`stack ${this.o.stack} ${problem}`);
    return { status: found.status, adopted: found.tags[STACK_TARGET_TAG] !== this.o.id };
  }

  /** What an apply would change: a change set, described and deleted again (with the empty stack it created). */
  async plan(template: Template, parameters: Parameters, o: { commit?: string; signal?: AbortSignal } = {}): Promise<ChangeSet> {
    return (await this.planChanges(template, parameters, o)).changeSet;
  }

  /**
   * `plan`, with each resource change described (its replacement flag, and the property values before and
   * after, as `{ Properties: … }`, from DescribeChangeSet with IncludePropertyValues).
   */
  async planChanges(
    template: Template,
    parameters: Parameters,
    o: { commit?: string; signal?: AbortSignal } = {},
  ): Promise<{ changeSet: ChangeSet; changes: PlannedChange[]; findings?: readonly PlanFinding[] }> {
    const { status: before, adopted } = await this.owned();
    if (before?.endsWith('_IN_PROGRESS') && before !== 'REVIEW_IN_PROGRESS') {
      return { changeSet: this.changeSet([entry(this.stackRef(), ChangeAction.Skipped, `stack is ${before}; planned later`)]), changes: [] };
    }
    if (before === 'ROLLBACK_COMPLETE') {
      return {
        changeSet: this.changeSet([entry(this.stackRef(), ChangeAction.Configured, 'stack is ROLLBACK_COMPLETE after a failed create: it will be deleted and created again')]),
        changes: [],
      };
    }
    const created = await this.createChangeSet(template, parameters, before === undefined || before === 'REVIEW_IN_PROGRESS' ? 'CREATE' : 'UPDATE', { ...o, propertyValues: true });
    try {
      const changeSet = this.changeSet([
        ...(adopted ? [adoptedEntry(this.stackRef())] : []),
        ...(created.noChanges ? [entry(this.stackRef(), ChangeAction.Unchanged)] : created.entries),
      ]);
      return { changeSet, changes: created.changes.map((c) => this.toPlannedChange(c)), ...(created.findings.length ? { findings: created.findings } : {}) };
    } finally {
      await this.cfn.send(new DeleteChangeSetCommand({ StackName: this.o.stack, ChangeSetName: created.name })).catch(() => undefined);
      // A CREATE change set made an empty stack in REVIEW_IN_PROGRESS: a plan leaves nothing behind.
      if (before === undefined) await this.cfn.send(new DeleteStackCommand({ StackName: this.o.stack })).catch(() => undefined);
    }
  }

  /**
   * Executes a change set and waits as long as the invocation allows; a stack still updating is `in-progress`.
   * `beforeWrite` runs before each write to the stack (the reconciler checks its lease there); a rejection stops the apply.
   */
  async apply(
    template: Template,
    parameters: Parameters,
    o: { commit?: string; signal?: AbortSignal; deadline?: number; beforeWrite?: (stage: 'delete' | 'execute') => Promise<void> } = {},
  ): Promise<StackOutcome> {
    const ownership = await this.owned();
    let before = ownership.status;
    const adopted = ownership.adopted ? [adoptedEntry(this.stackRef())] : [];
    if (before === 'UPDATE_ROLLBACK_FAILED') {
      return {
        result: 'failed',
        changeSet: this.changeSet([entry(this.stackRef(), ChangeAction.Failed, 'UPDATE_ROLLBACK_FAILED')]),
        error: `stack ${this.o.stack} is UPDATE_ROLLBACK_FAILED: continue the rollback in CloudFormation, then push again`,
      };
    }
    if (before?.endsWith('_IN_PROGRESS') && before !== 'REVIEW_IN_PROGRESS') {
      // Never race another update: a later invocation (the schedule) tries again.
      return { result: 'in-progress', changeSet: this.changeSet([entry(this.stackRef(), ChangeAction.Skipped, `stack is ${before}`)]), status: before };
    }
    if (before === 'ROLLBACK_COMPLETE') {
      // A failed create leaves a stack that can only be deleted: replace it.
      await o.beforeWrite?.('delete');
      await this.cfn.send(new DeleteStackCommand({ StackName: this.o.stack }));
      const gone = await this.waitFor((s) => s === undefined || s === 'DELETE_COMPLETE' || s === 'DELETE_FAILED', o);
      if (gone !== undefined && gone !== 'DELETE_COMPLETE') {
        return {
          result: 'failed',
          changeSet: this.changeSet([entry(this.stackRef(), ChangeAction.Failed, `delete before re-create ended ${gone}`)]),
          error: `stack ${this.o.stack}: deleting the ROLLBACK_COMPLETE stack ended ${gone}`,
        };
      }
      before = undefined;
    }
    const created = await this.createChangeSet(template, parameters, before === undefined || before === 'REVIEW_IN_PROGRESS' ? 'CREATE' : 'UPDATE', o);
    if (created.noChanges) {
      await this.cfn.send(new DeleteChangeSetCommand({ StackName: this.o.stack, ChangeSetName: created.name })).catch(() => undefined);
      return { result: 'unchanged', changeSet: this.changeSet([...adopted, entry(this.stackRef(), ChangeAction.Unchanged)]) };
    }
    await o.beforeWrite?.('execute');
    const startedAt = new Date();
    await this.cfn.send(new ExecuteChangeSetCommand({ StackName: this.o.stack, ChangeSetName: created.name }));
    return this.settle(this.changeSet([...adopted, ...created.entries]), startedAt, o);
  }

  /** Finishes a sync recorded `in-progress`: waits again for the stack to settle. */
  async finish(changeSet: ChangeSet, startedAt: Date, o: { signal?: AbortSignal; deadline?: number } = {}): Promise<StackOutcome> {
    return this.settle(changeSet, startedAt, o);
  }

  /** DetectStackDrift, polled, then the MODIFIED and DELETED resources with their property differences. */
  async detectDrift(o: { signal?: AbortSignal; deadline?: number } = {}): Promise<ObjectDrift[]> {
    const { StackDriftDetectionId: id } = await this.cfn.send(new DetectStackDriftCommand({ StackName: this.o.stack }));
    if (!id) throw new ReconcilerError(`stack ${this.o.stack}: DetectStackDrift returned no detection id`);
    for (;;) {
      const s = await this.cfn.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: id }));
      if (s.DetectionStatus === 'DETECTION_FAILED') throw new ReconcilerError(`stack ${this.o.stack}: drift detection failed: ${s.DetectionStatusReason ?? ''}`);
      if (s.DetectionStatus === 'DETECTION_COMPLETE') break;
      if (o.deadline && Date.now() + this.pollMs > o.deadline) throw new ReconcilerError(`stack ${this.o.stack}: drift detection did not finish in time`);
      await sleep(this.pollMs, o.signal);
    }
    const drifts: ObjectDrift[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      if (++pages > 100) throw new ReconcilerError(`stack ${this.o.stack}: more than 100 pages of drift`);
      const page = await this.cfn.send(
        new DescribeStackResourceDriftsCommand({ StackName: this.o.stack, StackResourceDriftStatusFilters: ['MODIFIED', 'DELETED'], ...(token ? { NextToken: token } : {}) }),
      );
      for (const d of page.StackResourceDrifts ?? []) {
        const ref = this.resourceRef(d.ResourceType ?? 'Resource', d.LogicalResourceId ?? '');
        if (d.StackResourceDriftStatus === 'DELETED') drifts.push({ ref, state: 'missing' });
        else {
          const fields: FieldDrift[] = (d.PropertyDifferences ?? []).map((p) => ({ path: p.PropertyPath ?? '', desired: p.ExpectedValue, live: p.ActualValue }));
          drifts.push({ ref, state: 'modified', fields });
        }
      }
      token = page.NextToken;
    } while (token);
    return drifts;
  }

  /**
   * Deletes the stack (a target removed with `deleteOnRemove: true`) when this target owns it (or `adopt`);
   * `absent` when there is no such stack. A stack owned by anyone else is refused before any call but the Describe.
   */
  async delete(): Promise<'deleted' | 'absent'> {
    const { status } = await this.owned();
    if (status === undefined) return 'absent';
    await this.cfn.send(new DeleteStackCommand({ StackName: this.o.stack, ...(this.o.roleArn ? { RoleARN: this.o.roleArn } : {}) }));
    return 'deleted';
  }

  private async settle(changeSet: ChangeSet, startedAt: Date, o: { signal?: AbortSignal; deadline?: number }): Promise<StackOutcome> {
    const status = await this.waitFor((s) => s === undefined || SUCCESS.has(s) || FAILED.has(s), o);
    if (status && SUCCESS.has(status)) return { result: 'succeeded', changeSet };
    if (status === undefined || FAILED.has(status)) {
      const reason = await this.firstFailure(startedAt);
      return {
        result: 'failed',
        changeSet: this.changeSet([
          ...changeSet.entries.filter((e) => e.ref.kind !== 'AWS::CloudFormation::Stack'),
          entry(this.stackRef(), ChangeAction.Failed, status ?? 'stack is gone'),
        ]),
        error: `stack ${this.o.stack} ended ${status ?? 'deleted'}${reason ? `: ${reason}` : ''}`,
      };
    }
    return { result: 'in-progress', changeSet, status };
  }

  /** Polls the stack status until `done` or the deadline; returns the last status seen. */
  private async waitFor(done: (s: StackStatus | undefined) => boolean, o: { signal?: AbortSignal; deadline?: number }): Promise<StackStatus | undefined> {
    for (;;) {
      const s = await this.status();
      if (done(s)) return s;
      if ((o.deadline && Date.now() + this.pollMs > o.deadline) || o.signal?.aborted) return s;
      await sleep(this.pollMs, o.signal).catch(() => undefined);
    }
  }

  /** The reason of the first resource that failed since the execution started. */
  private async firstFailure(since: Date): Promise<string | undefined> {
    const out = await this.cfn.send(new DescribeStackEventsCommand({ StackName: this.o.stack })).catch(() => undefined);
    const failed = (out?.StackEvents ?? [])
      .filter((e) => (e.Timestamp ?? new Date(0)) >= new Date(since.getTime() - 1000) && /FAILED$/.test(e.ResourceStatus ?? '') && e.ResourceStatusReason)
      .sort((a, b) => (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0));
    const first = failed[0];
    return first ? `${first.LogicalResourceId} (${first.ResourceType}): ${first.ResourceStatusReason}` : undefined;
  }

  private async createChangeSet(template: Template, parameters: Parameters, type: 'CREATE' | 'UPDATE', o: { commit?: string; signal?: AbortSignal; propertyValues?: boolean }) {
    const name = `driftless-${(o.commit ?? Date.now().toString(36)).slice(0, 12)}-${Date.now().toString(36)}`;
    const body = await this.templateLocation(template, name);
    const createdSet = await this.cfn.send(
      new CreateChangeSetCommand({
        StackName: this.o.stack,
        ChangeSetName: name,
        ChangeSetType: type,
        ...body,
        Parameters: parameters.map((p) => ({ ...p })),
        Capabilities: [...(this.o.capabilities ?? [])] as Capability[],
        Tags: Object.entries({ ...this.o.tags, [STACK_TARGET_TAG]: this.o.id }).map(([Key, Value]) => ({ Key, Value })),
        ...(this.o.roleArn ? { RoleARN: this.o.roleArn } : {}),
      }),
    );
    const changes: Change[] = [];
    const values = o.propertyValues ? { IncludePropertyValues: true } : {};
    for (;;) {
      let token: string | undefined;
      const first = await this.cfn.send(new DescribeChangeSetCommand({ StackName: this.o.stack, ChangeSetName: name, ...values }));
      if (first.Status === 'FAILED') {
        if (NO_CHANGES.test(first.StatusReason ?? '')) return { name, noChanges: true, entries: [] as ChangeSetEntry[], changes, findings: [] as PlanFinding[] };
        const findings = await this.validationFindings(createdSet.Id ?? name);
        await this.cfn.send(new DeleteChangeSetCommand({ StackName: this.o.stack, ChangeSetName: name })).catch(() => undefined);
        const reason = `stack ${this.o.stack}: change set failed: ${first.StatusReason ?? 'no reason given'}`;
        if (findings.length) throw new PlanFindingsError(`${reason}; ${findings.map(formatFinding).join('; ')}`, findings);
        throw new ReconcilerError(reason);
      }
      if (first.Status !== 'CREATE_COMPLETE') {
        await sleep(this.pollMs, o.signal);
        continue;
      }
      changes.push(...(first.Changes ?? []));
      token = first.NextToken;
      for (let pages = 1; token; pages++) {
        if (pages > 100) throw new ReconcilerError(`stack ${this.o.stack}: change set has more than 100 pages`);
        const page = await this.cfn.send(new DescribeChangeSetCommand({ StackName: this.o.stack, ChangeSetName: name, NextToken: token, ...values }));
        changes.push(...(page.Changes ?? []));
        token = page.NextToken;
      }
      const findings = await this.validationFindings(createdSet.Id ?? name);
      return { name, noChanges: changes.length === 0, entries: changes.map((c) => this.toEntry(c)), changes, findings };
    }
  }

  /**
   * What CloudFormation's pre-deployment validation found for a change set (DescribeEvents: property syntax,
   * resource name conflicts, bucket emptiness, quotas…), FAIL and WARN findings with their template paths.
   * Best effort: a role without `cloudformation:DescribeEvents`, or a region without the API, gives none.
   */
  private async validationFindings(changeSet: string): Promise<PlanFinding[]> {
    const findings: PlanFinding[] = [];
    let token: string | undefined;
    try {
      for (let pages = 0; pages < 10; pages++) {
        const out = await this.cfn.send(new DescribeEventsCommand({ StackName: this.o.stack, ChangeSetName: changeSet, ...(token ? { NextToken: token } : {}) }));
        for (const e of out.OperationEvents ?? []) {
          if (!e.ValidationName || e.ValidationStatus !== 'FAILED') continue;
          findings.push({
            level: e.ValidationFailureMode === 'WARN' ? 'warning' : 'failure',
            name: e.ValidationName,
            message: e.ValidationStatusReason ?? e.ValidationName,
            ...(e.ValidationPath ? { path: e.ValidationPath } : {}),
          });
        }
        token = out.NextToken;
        if (!token) break;
      }
    } catch {
      return findings;
    }
    return findings;
  }

  /** TemplateBody, or a TemplateURL in the artifact bucket for templates over 51,200 bytes. */
  private async templateLocation(template: Template, name: string): Promise<{ TemplateBody: string } | { TemplateURL: string }> {
    if (Buffer.byteLength(template.text) <= MAX_TEMPLATE_BODY) return { TemplateBody: template.text };
    if (!this.o.artifactBucket || !this.s3) {
      throw new ReconcilerError(
        `stack ${this.o.stack}: the template is ${Buffer.byteLength(template.text)} bytes, over CloudFormation's ${MAX_TEMPLATE_BODY}; configure the artifact bucket`,
      );
    }
    const key = `templates/${this.o.stack}/${name}.${template.format}`;
    await this.s3.send(new PutObjectCommand({ Bucket: this.o.artifactBucket, Key: key, Body: template.text }));
    return { TemplateURL: `https://${this.o.artifactBucket}.s3.amazonaws.com/${key}` };
  }

  private toEntry(c: Change): ChangeSetEntry {
    const rc = c.ResourceChange ?? {};
    const ref = this.resourceRef(rc.ResourceType ?? 'Resource', rc.LogicalResourceId ?? '');
    switch (rc.Action) {
      case 'Add':
        return entry(ref, ChangeAction.Created);
      case 'Remove':
        return entry(ref, ChangeAction.Deleted);
      case 'Import':
        return entry(ref, ChangeAction.Created, 'imported');
      default: {
        const replacement = rc.Replacement === 'True' ? 'replacement' : rc.Replacement === 'Conditional' ? 'replacement: conditional' : undefined;
        const props = (rc.Details ?? []).map((d) => d.Target?.Name).filter(Boolean);
        return entry(ref, ChangeAction.Configured, [replacement, props.length ? `changes ${[...new Set(props)].join(', ')}` : undefined].filter(Boolean).join('; ') || undefined);
      }
    }
  }

  /** A resource change for a diff: its flag, and the changed property values (when described with them) under `Properties`. */
  private toPlannedChange(c: Change): PlannedChange {
    const rc = c.ResourceChange ?? {};
    const e = this.toEntry(c);
    const live: Record<string, unknown> = {};
    const desired: Record<string, unknown> = {};
    for (const d of rc.Details ?? []) {
      const t = d.Target ?? {};
      // `Path` is a JSON pointer (`/Properties/Tags/0/Value`); older answers name the property only.
      const path = (t.Path ?? (t.Name ? `/Properties/${t.Name}` : '')).split('/').filter(Boolean);
      if (!path.length || (t.BeforeValue === undefined && t.AfterValue === undefined)) continue;
      if (t.BeforeValue !== undefined) setPath(live, path, parseValue(t.BeforeValue));
      if (t.AfterValue !== undefined) setPath(desired, path, parseValue(t.AfterValue));
    }
    const replacement = rc.Replacement === 'True' || rc.Replacement === 'False' || rc.Replacement === 'Conditional' ? rc.Replacement : undefined;
    return { ref: e.ref, action: e.action, ...(e.detail ? { detail: e.detail } : {}), ...(replacement && rc.Action === 'Modify' ? { replacement } : {}), live, desired };
  }

  private resourceRef(type: string, logicalId: string): ObjectRef {
    return { group: CFN_GROUP, kind: type, namespace: this.o.stack, name: logicalId };
  }

  private stackRef(): ObjectRef {
    return { group: CFN_GROUP, kind: 'AWS::CloudFormation::Stack', name: this.o.stack };
  }

  private changeSet(entries: ChangeSetEntry[]): ChangeSet {
    return { target: this.o.id, entries };
  }

  private wrap(operation: string, err: unknown): ReconcilerError {
    return new ReconcilerError(`stack ${this.o.stack}: ${operation} failed: ${(err as Error).message}`, { cause: err });
  }
}

const entry = (ref: ObjectRef, action: ChangeAction, detail?: string): ChangeSetEntry => ({ ref, action, ...(detail ? { detail } : {}) });

/** A described property value: JSON when it parses as an object or list, else the string CloudFormation gave. */
const parseValue = (v: string): unknown => {
  if (!/^[[{]/.test(v.trim())) return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

const setPath = (into: Record<string, unknown>, path: readonly string[], value: unknown): void => {
  let at = into;
  for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[path[path.length - 1] as string] = value;
};

const adoptedEntry = (ref: ObjectRef): ChangeSetEntry =>
  entry(ref, ChangeAction.Configured, `adopted: the stack had no ${STACK_TARGET_TAG} tag; the registry's adopt lets this repository take it over`);

/**
 * Why a stack with these tags is not this target's to change, or undefined when it is: tagged for this target,
 * or untagged with `adopt`. A stack tagged for another target is never taken over.
 */
export const ownershipProblem = (tags: Readonly<Record<string, string>>, id: string, adopt: boolean): string | undefined => {
  const owner = tags[STACK_TARGET_TAG];
  if (owner === id) return undefined;
  const listed = Object.keys(tags).length
    ? Object.entries(tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : 'none';
  if (owner !== undefined) return `is managed by ${owner}, not ${id}: two targets never share a stack (tags: ${listed})`;
  if (adopt) return undefined;
  return `exists and is not managed by ${id} (no ${STACK_TARGET_TAG} tag; tags: ${listed}); the registry's adopt lets this repository take such stacks over`;
};

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** A finding in one line: `Name at /Resources/X/Properties/Y: reason`. */
export const formatFinding = (f: PlanFinding): string => `${f.name}${f.path ? ` at ${f.path}` : ''}: ${f.message}`;
