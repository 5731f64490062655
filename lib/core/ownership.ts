import { createHash } from 'node:crypto';

/** The field manager of every apply driftless makes. */
export const FIELD_MANAGER = 'driftless';
/** Label carrying the short hash of the owning target's id. */
export const TARGET_LABEL = 'driftless.dev/target';
/** Annotation carrying the owning target's full id (`owner/repo/target`). */
export const TARGET_ID_ANNOTATION = 'driftless.dev/target-id';
/**
 * Tag carrying the owning target's id (`owner/repo/target`) on a CloudFormation stack. Set when driftless creates
 * the stack; a stack without it (or with another target's id) is not updated, replaced or deleted.
 */
export const STACK_TARGET_TAG = 'driftless:target';
/** Annotation that keeps an object from being pruned when set to `disabled`. */
export const PRUNE_ANNOTATION = 'driftless.dev/prune';

/** A target's identity everywhere: `owner/repo/target`. */
export const targetId = (repository: string, target: string): string => `${repository}/${target}`;

/** The short, stable label value for a target id (a label value must be ≤ 63 characters). */
export const targetLabelValue = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 20);
