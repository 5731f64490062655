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

/** The label selector of a target's objects (`driftless.dev/target=<hash>`), as LIST calls and `kubectl -l` take it. */
export const targetSelector = (id: string): string => `${TARGET_LABEL}=${targetLabelValue(id)}`;

/** Who owns a live object by driftless's marks: a target id (from the annotation), a bare label value, or nobody. */
export const ownerOf = (live: { metadata?: unknown }): { id?: string; label?: string } => {
  const meta = (live.metadata ?? {}) as { labels?: Record<string, unknown>; annotations?: Record<string, unknown> };
  const label = meta.labels?.[TARGET_LABEL];
  const id = meta.annotations?.[TARGET_ID_ANNOTATION];
  return { ...(typeof id === 'string' && id ? { id } : {}), ...(typeof label === 'string' && label ? { label } : {}) };
};

/** The field managers a live object lists (`metadata.managedFields[].manager`), each once. */
export const managersOf = (live: { metadata?: unknown }): string[] => {
  const fields = ((live.metadata ?? {}) as { managedFields?: unknown }).managedFields;
  if (!Array.isArray(fields)) return [];
  return [...new Set(fields.map((f) => (f as { manager?: unknown }).manager).filter((m): m is string => typeof m === 'string' && m !== ''))];
};

/**
 * Whether a target may write over an object that already exists live: `owned` when it carries this target's
 * label, `adopt` when it carries no driftless ownership and adoption is allowed, otherwise a refusal. An object
 * of another driftless target is always refused (two targets must never fight over one object).
 * @example takeOver(live, 'ClusterRole/ops', 'acme/shop/dev', false)
 * // { refusal: 'ClusterRole/ops exists and is not managed by acme/shop/dev (managers: kubectl-create); …' }
 */
export const takeOver = (live: { metadata?: unknown }, what: string, id: string, adopt: boolean): { owned: true } | { adopt: true } | { refusal: string } => {
  const owner = ownerOf(live);
  const mine = targetLabelValue(id);
  if (owner.label === mine && (owner.id === undefined || owner.id === id)) return { owned: true };
  const foreignId = owner.id !== undefined && owner.id !== id;
  if (foreignId || (owner.label !== undefined && owner.label !== mine)) {
    const other = foreignId ? owner.id : `the target labelled ${TARGET_LABEL}=${owner.label ?? ''}`;
    return { refusal: `${what} is managed by another driftless target, ${other}; two targets must not manage one object` };
  }
  // No marks, or only this target's annotation with the label removed: not (or no longer) this target's.
  if (adopt) return { adopt: true };
  const managers = managersOf(live);
  return {
    refusal: `${what} exists and is not managed by ${id} (managers: ${managers.length ? managers.join(', ') : 'none recorded'}); the registry's \`adopt\` lets this repository take such objects over`,
  };
};
