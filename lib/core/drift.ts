/** Drift vocabulary shared by every target kind, the drift use case, the ledger and the notifier. */
import { createHash } from 'node:crypto';
import { formatRef, type ObjectRef } from './object-ref.js';

/** One field that differs between what Git says and what the cluster has. */
export interface FieldDrift {
  /** `spec.template.spec.containers[name=web].image` */
  readonly path: string;
  readonly desired: unknown;
  readonly live: unknown;
  /** The field manager that owns the live value (from managedFields), when one does. */
  readonly changedBy?: string;
}

/** How one object drifted. */
export interface ObjectDrift {
  readonly ref: ObjectRef;
  /** modified: fields differ; missing: not on the cluster; unmanaged: carries the target's label but is not in its inventory. */
  readonly state: 'modified' | 'missing' | 'unmanaged';
  readonly fields?: readonly FieldDrift[];
  /** For objects the dry run could not check. */
  readonly error?: string;
}

/** A target's drift at one check. */
export interface DriftReport {
  readonly target: string;
  readonly checkedAt: string;
  readonly objects: readonly ObjectDrift[];
  /** A stable hash of what drifted: the same drift on two checks has the same fingerprint. */
  readonly fingerprint: string;
}

/** A stable hash of what drifted (values included, so a changed drift is new; Secret values are already hidden). */
export const fingerprintOf = (objects: readonly ObjectDrift[]): string =>
  objects.length
    ? createHash('sha256')
        .update(JSON.stringify(objects.map((o) => [formatRef(o.ref), o.state, (o.fields ?? []).map((f) => [f.path, f.desired, f.live]), o.error ?? ''])))
        .digest('hex')
        .slice(0, 16)
    : '';
