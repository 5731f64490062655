/**
 * The rules that decide which stale objects prune may delete, as named pure filters. Each rule looks at one
 * thing and either lets the object through (undefined) or gives its verdict: the change-set entry's action and
 * detail, and whether the object stays in the inventory. The first verdict wins; prune-stale.ts runs the lists
 * in this order and deletes only what passes every rule.
 *
 * Four lists, by what a rule needs to know:
 * - {@link TARGET_RULES}: the target's settings and the render (before anything is read; they skip everything);
 * - {@link BEFORE_READ_RULES}: the inventory entry and discovery (before the object is read);
 * - {@link LIVE_RULES}: the live object;
 * - {@link BATCH_RULES}: every object that passed, together (they stop the prune).
 */
import { ChangeAction } from '../../core/change-set.js';
import type { KubeObject, ObjectRef } from '../../core/object-ref.js';
import { ownerOf, PRUNE_ANNOTATION, TARGET_LABEL } from '../../core/ownership.js';
import { grantRefusal, prunableKinds, type KubernetesGrant } from '../../config/registry-check.js';
import type { ResourceInfo } from './kube-client.js';
import type { PruneSettings } from './sync-types.js';

/** What a rule decides for a stale object. */
export interface PruneVerdict {
  /** Deleted: already gone, nothing to do. Skipped: left in place. */
  readonly action: typeof ChangeAction.Deleted | typeof ChangeAction.Skipped;
  readonly detail: string;
  /** Whether the object stays in the inventory (still this target's, only not deleted now), so a later sync looks again. */
  readonly keep: boolean;
}

/** What every rule may read about the target. */
export interface PruneFacts {
  readonly id: string;
  /** The value of the target label on this target's objects. */
  readonly label: string;
  readonly prune: PruneSettings;
  readonly grant?: KubernetesGrant | undefined;
}

/** One rule: a name, why it exists, and the pure check. */
export interface PruneRule<Subject> {
  readonly name: string;
  readonly reason: string;
  readonly check: (subject: Subject, facts: PruneFacts) => PruneVerdict | undefined;
}

/** Kinds whose deletion needs `prune.allowKinds` (and, with a registry, its `pruneKinds`). */
export const PROTECTED_KINDS: ReadonlySet<string> = new Set(['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim']);

const skip = (detail: string, keep: boolean): PruneVerdict => ({ action: ChangeAction.Skipped, detail, keep });
const gone = (detail: string): PruneVerdict => ({ action: ChangeAction.Deleted, detail, keep: false });

/** The whole prune, before anything is read: a verdict here applies to every stale object. */
export const TARGET_RULES: readonly PruneRule<{ readonly desiredCount: number }>[] = [
  {
    name: 'prune-disabled',
    reason: 'The target turned prune off (prune.enabled: false): stale objects stay, and stay in the inventory.',
    check: (_, { prune }) => (prune.enabled ? undefined : skip('prune is disabled for this target', true)),
  },
  {
    name: 'empty-render-guard',
    reason: 'A render with no objects is more often a broken commit or path than a wish to delete everything.',
    check: ({ desiredCount }, { prune }) => (desiredCount === 0 && !prune.allowEmpty ? skip('the render is empty; set prune.allowEmpty to delete everything', true) : undefined),
  },
];

/** One stale object before it is read: its inventory entry and how the API server serves its kind (undefined: not served). */
export const BEFORE_READ_RULES: readonly PruneRule<{ readonly ref: ObjectRef; readonly info: ResourceInfo | undefined }>[] = [
  {
    name: 'kind-no-longer-served',
    reason: 'A kind the API server no longer serves has no objects left (its CRD went): nothing to delete.',
    check: ({ info }) => (info ? undefined : gone('already gone (its kind is no longer served)')),
  },
  {
    name: 'outside-grant',
    reason: 'The grant of today decides, not the one the object was created under: prune never deletes outside it.',
    check: ({ ref, info }, { grant }) => {
      const refusal = info && grant && grantRefusal(ref, info.namespaced, grant);
      return refusal ? skip(`not pruned: ${refusal}`, true) : undefined;
    },
  },
];

/** One stale object as it is live (undefined: not found). */
export const LIVE_RULES: readonly PruneRule<{ readonly ref: ObjectRef; readonly live: KubeObject | undefined }>[] = [
  {
    name: 'already-gone',
    reason: 'An object someone else deleted needs no delete.',
    check: ({ live }) => (live ? undefined : gone('already gone')),
  },
  {
    name: 'not-labelled-by-us',
    reason: 'Only objects that still carry this target label are deleted: removing the label is how a person keeps one.',
    check: ({ live }, { label }) =>
      live && ownerOf(live).label !== label
        ? skip(`not pruned: it does not carry ${TARGET_LABEL}=${label} (the label was removed or changed, so it is left in place)`, false)
        : undefined,
  },
  {
    name: 'owned-by-another-target',
    reason: 'An object another driftless target took over is that target’s to delete.',
    check: ({ live }, { id }) => {
      const owner = live && ownerOf(live).id;
      return owner !== undefined && owner !== id ? skip(`not pruned: it is managed by another driftless target, ${owner}`, false) : undefined;
    },
  },
  {
    name: 'prune-annotation-disabled',
    reason: `An object annotated ${PRUNE_ANNOTATION}: disabled is kept, whoever renders it no longer.`,
    check: ({ live }) => {
      const annotations = ((live?.metadata ?? {}) as { annotations?: Record<string, unknown> }).annotations;
      return annotations?.[PRUNE_ANNOTATION] === 'disabled' ? skip(`not pruned: ${PRUNE_ANNOTATION}: disabled`, false) : undefined;
    },
  },
  {
    name: 'protected-kind',
    reason: 'Deleting a Namespace, CRD or PersistentVolumeClaim deletes data with it: it needs prune.allowKinds, and with a registry its pruneKinds.',
    check: ({ ref }, { prune, grant }) => {
      if (!PROTECTED_KINDS.has(ref.kind) || prunableKinds(prune.allowKinds, grant).includes(ref.kind)) return undefined;
      const needs = prune.allowKinds.includes(ref.kind) ? `the registry's pruneKinds to grant ${ref.kind}` : `prune.allowKinds: [${ref.kind}]`;
      return skip(`not pruned: deleting a ${ref.kind} needs ${needs}`, true);
    },
  },
];

/** Every object that passed, together: a verdict here skips them all and stops the prune (the sync fails). */
export const BATCH_RULES: readonly PruneRule<{ readonly candidates: number; readonly inventoryCount: number }>[] = [
  {
    name: 'max-delete-share',
    reason: 'Deleting more than prune.maxDeleteShare of the inventory at once is more often a mistake than a change; a person decides.',
    check: ({ candidates, inventoryCount }, { prune }) => {
      const share = inventoryCount ? candidates / inventoryCount : 0;
      return candidates && share > prune.maxDeleteShare
        ? skip(`not pruned: would delete ${candidates} of ${inventoryCount} objects, more than prune.maxDeleteShare ${prune.maxDeleteShare}`, true)
        : undefined;
    },
  },
];

/** The first verdict of `rules` on `subject`, with the name of the rule that gave it. */
export const firstVerdict = <S>(rules: readonly PruneRule<S>[], subject: S, facts: PruneFacts): (PruneVerdict & { rule: string }) | undefined => {
  for (const r of rules) {
    const v = r.check(subject, facts);
    if (v) return { ...v, rule: r.name };
  }
  return undefined;
};
