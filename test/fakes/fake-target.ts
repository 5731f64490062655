import type { ObjectDrift } from '../../lib/core/drift.js';
import type { DesiredState, Target, TargetApply, TargetPlan, TargetRunOptions } from '../../lib/core/target.js';
import type { SyncOutcome, SyncRecorder } from '../../lib/reconcile/sync-target.js';

/** A Target that applies nothing anywhere: it records each call and answers what the test set. */
export class FakeTarget implements Target {
  readonly kind = 'kubernetes' as const;
  readonly calls: { method: 'plan' | 'apply' | 'detectDrift'; desired: DesiredState | undefined; options: TargetRunOptions }[] = [];
  /** What `apply` answers (or throws); by default every desired object unchanged. */
  applyAnswer?: TargetApply | Error;
  drift: ObjectDrift[] = [];

  constructor(readonly id: string) {}

  async plan(desired: DesiredState, options: TargetRunOptions = {}): Promise<TargetPlan> {
    this.calls.push({ method: 'plan', desired, options });
    return { changeSet: { target: this.id, entries: [] }, failed: 0 };
  }

  async apply(desired: DesiredState, options: TargetRunOptions = {}): Promise<TargetApply> {
    this.calls.push({ method: 'apply', desired, options });
    await options.beforeWrite?.('resources');
    if (this.applyAnswer instanceof Error) throw this.applyAnswer;
    if (this.applyAnswer) return this.applyAnswer;
    const refs =
      desired.kind === 'kubernetes'
        ? desired.objects.map((o) => ({ group: '', kind: String(o.kind), namespace: 'shop', name: String((o.metadata as { name: string }).name) }))
        : [];
    return { result: 'succeeded', changeSet: { target: this.id, entries: refs.map((ref) => ({ ref, action: 'created' as const })) }, inventory: refs };
  }

  async detectDrift(desired: DesiredState | undefined, options: TargetRunOptions = {}): Promise<readonly ObjectDrift[]> {
    this.calls.push({ method: 'detectDrift', desired, options });
    return this.drift;
  }
}

/** A recorder that keeps the outcomes it is given. */
export class RecordingRecorder implements SyncRecorder {
  readonly outcomes: SyncOutcome[] = [];
  started = 0;
  starting(): void {
    this.started++;
  }
  async record(outcome: SyncOutcome): Promise<void> {
    this.outcomes.push(outcome);
  }
}
