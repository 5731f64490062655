import type { ObjectRef } from './object-ref.js';

/** What happened (or would happen) to one object. */
export const ChangeAction = {
  Created: 'created',
  Configured: 'configured',
  /** An object that existed live without this target's ownership and was taken over (registry `adopt`). */
  Adopted: 'adopted',
  Unchanged: 'unchanged',
  Deleted: 'deleted',
  Skipped: 'skipped',
  Failed: 'failed',
} as const;
export type ChangeAction = (typeof ChangeAction)[keyof typeof ChangeAction];

/** One object's line in a change set. */
export interface ChangeSetEntry {
  readonly ref: ObjectRef;
  readonly action: ChangeAction;
  /** Why, in a few words: the API server's message for a failure, the rule for a skip. */
  readonly detail?: string;
}

/** The result of a plan, apply or prune on one target: `{target, entries}` is the stable `--json` shape. */
export interface ChangeSet {
  readonly target: string;
  readonly entries: readonly ChangeSetEntry[];
}

/** Counts of entries by action (every action present, zero or not). */
export const countActions = (entries: readonly ChangeSetEntry[]): Record<ChangeAction, number> => {
  const counts = { created: 0, configured: 0, adopted: 0, unchanged: 0, deleted: 0, skipped: 0, failed: 0 };
  for (const e of entries) counts[e.action]++;
  return counts;
};

/** Whether a change set changes anything (or would). */
export const hasChanges = (entries: readonly ChangeSetEntry[]): boolean =>
  entries.some((e) => e.action === 'created' || e.action === 'configured' || e.action === 'adopted' || e.action === 'deleted');

/** Formats counts as `2 created, 1 configured, 5 unchanged` (zeros left out). */
export const formatCounts = (entries: readonly ChangeSetEntry[]): string => formatCountMap(countActions(entries));

/** Formats a counts map the same way. */
export const formatCountMap = (counts: Partial<Record<ChangeAction, number>>): string => {
  const parts = Object.values(ChangeAction)
    .filter((a) => Number(counts[a] ?? 0) > 0)
    .map((a) => `${String(counts[a])} ${a}`);
  return parts.length ? parts.join(', ') : 'no objects';
};
