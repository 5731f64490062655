import { describe, expect, it } from 'vitest';
import { PRUNE_ANNOTATION, TARGET_ID_ANNOTATION, TARGET_LABEL } from '../../../lib/core/ownership.js';
import { noGrant, type KubernetesGrant } from '../../../lib/config/registry-check.js';
import type { ResourceInfo } from '../../../lib/targets/kubernetes/kube-client.js';
import { BATCH_RULES, BEFORE_READ_RULES, firstVerdict, LIVE_RULES, TARGET_RULES, type PruneFacts, type PruneRule } from '../../../lib/targets/kubernetes/prune-rules.js';

const facts = (over: Partial<PruneFacts> = {}, prune: Partial<PruneFacts['prune']> = {}): PruneFacts => ({
  id: 'acme/shop/prod',
  label: 'lbl',
  prune: { enabled: true, allowEmpty: false, allowKinds: [], maxDeleteShare: 0.5, ...prune },
  ...over,
});
const rule = <S>(rules: readonly PruneRule<S>[], name: string): PruneRule<S> => {
  const r = rules.find((x) => x.name === name);
  if (!r) throw new Error(`no rule ${name}`);
  return r;
};
const cm = { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'settings' };
const cmInfo: ResourceInfo = { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true };
const live = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings', namespace: 'shop', labels, annotations },
});
const ours = live({ [TARGET_LABEL]: 'lbl' }, { [TARGET_ID_ANNOTATION]: 'acme/shop/prod' });
const grant = (over: Partial<KubernetesGrant> = {}): KubernetesGrant => ({ ...noGrant('acme/shop'), namespaces: ['shop'], ...over });

describe('prune rules', () => {
  it('every rule has a name and a reason, and names are unique', () => {
    const all = [...TARGET_RULES, ...BEFORE_READ_RULES, ...LIVE_RULES, ...BATCH_RULES];
    expect(all.map((r) => r.name)).toEqual([
      'prune-disabled',
      'empty-render-guard',
      'kind-no-longer-served',
      'outside-grant',
      'already-gone',
      'not-labelled-by-us',
      'owned-by-another-target',
      'prune-annotation-disabled',
      'protected-kind',
      'max-delete-share',
    ]);
    for (const r of all) expect(r.reason.length).toBeGreaterThan(20);
  });

  it('prune-disabled keeps every stale object in the inventory when prune is off', () => {
    const r = rule(TARGET_RULES, 'prune-disabled');
    expect(r.check({ desiredCount: 3 }, facts({}, { enabled: false }))).toEqual({ action: 'skipped', detail: 'prune is disabled for this target', keep: true });
    expect(r.check({ desiredCount: 3 }, facts())).toBeUndefined();
  });

  it('empty-render-guard refuses to delete everything for an empty render unless allowEmpty', () => {
    const r = rule(TARGET_RULES, 'empty-render-guard');
    expect(r.check({ desiredCount: 0 }, facts())).toEqual({ action: 'skipped', detail: 'the render is empty; set prune.allowEmpty to delete everything', keep: true });
    expect(r.check({ desiredCount: 0 }, facts({}, { allowEmpty: true }))).toBeUndefined();
    expect(r.check({ desiredCount: 1 }, facts())).toBeUndefined();
  });

  it('kind-no-longer-served counts an object of an unserved kind as gone', () => {
    const r = rule(BEFORE_READ_RULES, 'kind-no-longer-served');
    expect(r.check({ ref: cm, info: undefined }, facts())).toEqual({ action: 'deleted', detail: 'already gone (its kind is no longer served)', keep: false });
    expect(r.check({ ref: cm, info: cmInfo }, facts())).toBeUndefined();
  });

  it('outside-grant keeps an object the grant of today does not cover, and passes without a grant', () => {
    const r = rule(BEFORE_READ_RULES, 'outside-grant');
    const v = r.check({ ref: { ...cm, namespace: 'billing' }, info: cmInfo }, facts({ grant: grant() }));
    expect(v).toMatchObject({ action: 'skipped', keep: true });
    expect(v?.detail).toMatch(/^not pruned: ConfigMap\/billing\/settings: namespace "billing" is not allowed for acme\/shop/);
    expect(r.check({ ref: cm, info: cmInfo }, facts({ grant: grant() }))).toBeUndefined();
    expect(r.check({ ref: { ...cm, namespace: 'billing' }, info: cmInfo }, facts())).toBeUndefined();
  });

  it('already-gone: an object not found needs no delete', () => {
    const r = rule(LIVE_RULES, 'already-gone');
    expect(r.check({ ref: cm, live: undefined }, facts())).toEqual({ action: 'deleted', detail: 'already gone', keep: false });
    expect(r.check({ ref: cm, live: ours }, facts())).toBeUndefined();
  });

  it('not-labelled-by-us leaves an object whose target label was removed or changed, and drops it from the inventory', () => {
    const r = rule(LIVE_RULES, 'not-labelled-by-us');
    for (const labels of [{}, { [TARGET_LABEL]: 'other' }] as Record<string, string>[]) {
      expect(r.check({ ref: cm, live: live(labels) }, facts())).toEqual({
        action: 'skipped',
        detail: `not pruned: it does not carry ${TARGET_LABEL}=lbl (the label was removed or changed, so it is left in place)`,
        keep: false,
      });
    }
    expect(r.check({ ref: cm, live: ours }, facts())).toBeUndefined();
  });

  it('owned-by-another-target leaves an object another target took over', () => {
    const r = rule(LIVE_RULES, 'owned-by-another-target');
    const theirs = live({ [TARGET_LABEL]: 'lbl' }, { [TARGET_ID_ANNOTATION]: 'acme/other/prod' });
    expect(r.check({ ref: cm, live: theirs }, facts())).toEqual({
      action: 'skipped',
      detail: 'not pruned: it is managed by another driftless target, acme/other/prod',
      keep: false,
    });
    expect(r.check({ ref: cm, live: ours }, facts())).toBeUndefined();
    expect(r.check({ ref: cm, live: live({ [TARGET_LABEL]: 'lbl' }) }, facts())).toBeUndefined();
  });

  it('prune-annotation-disabled keeps an object annotated against prune', () => {
    const r = rule(LIVE_RULES, 'prune-annotation-disabled');
    const kept = live({ [TARGET_LABEL]: 'lbl' }, { [PRUNE_ANNOTATION]: 'disabled' });
    expect(r.check({ ref: cm, live: kept }, facts())).toEqual({ action: 'skipped', detail: `not pruned: ${PRUNE_ANNOTATION}: disabled`, keep: false });
    expect(r.check({ ref: cm, live: live({}, { [PRUNE_ANNOTATION]: 'enabled' }) }, facts())).toBeUndefined();
  });

  it('protected-kind keeps Namespaces, CRDs and PVCs unless allowKinds (narrowed by the registry) lists them', () => {
    const r = rule(LIVE_RULES, 'protected-kind');
    const ns = { group: '', kind: 'Namespace', name: 'shop' };
    const nsLive = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
    expect(r.check({ ref: ns, live: nsLive }, facts())).toEqual({ action: 'skipped', detail: 'not pruned: deleting a Namespace needs prune.allowKinds: [Namespace]', keep: true });
    expect(r.check({ ref: ns, live: nsLive }, facts({}, { allowKinds: ['Namespace'] }))).toBeUndefined();
    expect(r.check({ ref: ns, live: nsLive }, facts({ grant: grant() }, { allowKinds: ['Namespace'] }))).toEqual({
      action: 'skipped',
      detail: "not pruned: deleting a Namespace needs the registry's pruneKinds to grant Namespace",
      keep: true,
    });
    expect(r.check({ ref: ns, live: nsLive }, facts({ grant: grant({ pruneKinds: ['Namespace'] }) }, { allowKinds: ['Namespace'] }))).toBeUndefined();
    expect(r.check({ ref: cm, live: ours }, facts())).toBeUndefined();
  });

  it('max-delete-share stops a prune that would delete more than the share of the inventory', () => {
    const r = rule(BATCH_RULES, 'max-delete-share');
    expect(r.check({ candidates: 3, inventoryCount: 4 }, facts())).toEqual({
      action: 'skipped',
      detail: 'not pruned: would delete 3 of 4 objects, more than prune.maxDeleteShare 0.5',
      keep: true,
    });
    expect(r.check({ candidates: 2, inventoryCount: 4 }, facts())).toBeUndefined();
    expect(r.check({ candidates: 0, inventoryCount: 0 }, facts({}, { maxDeleteShare: 0 }))).toBeUndefined();
    expect(r.check({ candidates: 4, inventoryCount: 4 }, facts({}, { maxDeleteShare: 1 }))).toBeUndefined();
  });

  it('firstVerdict returns the first rule that decides, in list order, with its name', () => {
    const theirsUnlabelled = live({}, { [TARGET_ID_ANNOTATION]: 'acme/other/prod', [PRUNE_ANNOTATION]: 'disabled' });
    expect(firstVerdict(LIVE_RULES, { ref: cm, live: theirsUnlabelled }, facts())?.rule).toBe('not-labelled-by-us');
    expect(firstVerdict(TARGET_RULES, { desiredCount: 0 }, facts({}, { enabled: false }))?.rule).toBe('prune-disabled');
    expect(firstVerdict(LIVE_RULES, { ref: cm, live: ours }, facts())).toBeUndefined();
  });
});
