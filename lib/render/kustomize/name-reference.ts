import { isClusterScopedId } from './scope.js';
import { NAME_REFERENCES, type NameReference } from './builtin-field-specs.js';
import { specApplies, visitPath } from './field-spec.js';
import { isList, isMap } from '../../core/plain-object.js';
import { curId, formatId, gvkSelected, nsEquals, prefixesSuffixesEqual, type Resource } from './resource.js';

type Sieve = (r: Resource) => boolean;

/**
 * Rewrites references by name (env, volumes, roleRef, subjects, …) to the current names of their referrals;
 * `refs` are the built-in name references merged with those of `configurations:`.
 */
export const fixNameReferences = (resources: readonly Resource[], refs: readonly NameReference[] = NAME_REFERENCES): void => {
  for (const referrer of resources) {
    const candidates = couldBeReferencedBy(resources, referrer);
    for (const ref of refs) {
      for (const spec of ref.fieldSpecs) {
        if (!specApplies(spec, referrer.obj)) continue;
        const target = { kind: ref.kind, group: ref.group ?? '', version: ref.version ?? '' };
        // Kustomize's previous ids (not the current one): a resource never renamed is never a referral to update.
        const ofKind = candidates.filter((c) => c.prevIds.some((id) => gvkSelected(id, target)));
        if (!ofKind.length) continue;
        visitPath(referrer.obj, spec.path, (value) => setReference(value, referrer, spec.path, ofKind));
      }
    }
  }
};

/** Kustomize's SubsetThatCouldBeReferencedByResource. */
const couldBeReferencedBy = (resources: readonly Resource[], referrer: Resource): Resource[] => {
  const rid = curId(referrer);
  if (isClusterScopedId(rid)) return [...resources];
  const bindingNamespaces = new Set<string>();
  if (rid.kind === 'RoleBinding' && Array.isArray(referrer.obj.subjects)) {
    for (const s of referrer.obj.subjects) {
      if (isMap(s) && s.kind === 'ServiceAccount' && typeof s.namespace === 'string') bindingNamespaces.add(s.namespace);
    }
  }
  return resources.filter((r) => {
    const id = curId(r);
    return isClusterScopedId(id) || nsEquals(id, rid) || bindingNamespaces.has(id.namespace);
  });
};

const setReference = (value: unknown, referrer: Resource, path: string, candidates: Resource[]): unknown => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const referral = selectReferral(value, candidates, referrer, path, (rs) => rs.every((r) => curId(r).name === curId(rs[0] as Resource).name));
    return referral ? curId(referral).name : undefined;
  }
  if (isList(value)) {
    return value.map((el) => (el === null || el === undefined ? el : (setReference(el, referrer, path, candidates) ?? el)));
  }
  if (isMap(value)) {
    if (typeof value.name !== 'string') {
      if (!('name' in value)) throw new Error(`${formatId(curId(referrer))}: updating name reference in ${path}: no 'name' field`);
      return undefined;
    }
    let pool = candidates;
    if (typeof value.namespace === 'string') {
      const ns = value.namespace;
      // Grouped by namespace the way Kustomize groups, where no namespace means "default".
      const byOrg = candidates.filter((c) => (c.orgId.namespace || 'default') === ns);
      pool = byOrg.length ? byOrg : candidates.filter((c) => (curId(c).namespace || 'default') === ns);
    }
    const referral = selectReferral(value.name, pool, referrer, path, (rs) =>
      rs.every((r) => curId(r).name === curId(rs[0] as Resource).name && curId(r).namespace === curId(rs[0] as Resource).namespace),
    );
    if (!referral) return undefined;
    const id = curId(referral);
    if (id.name === value.name && id.namespace === '') return undefined;
    value.name = id.name;
    if (id.namespace !== '') value.namespace = id.namespace;
    return value;
  }
  return undefined;
};

/** Kustomize's selectReferral: narrows candidates step by step until one is left. */
const selectReferral = (oldName: string, candidates: Resource[], referrer: Resource, path: string, identical: (rs: Resource[]) => boolean): Resource | undefined => {
  const sieve = (list: Resource[], fn: Sieve) => list.filter(fn);
  let c = sieve(candidates, (r) => r.prevIds.some((id) => id.name === oldName));
  if (path.endsWith('roleRef/name')) {
    const roleRef = referrer.obj.roleRef;
    if (isMap(roleRef) && typeof roleRef.kind === 'string' && typeof roleRef.apiGroup === 'string') {
      const sel = { kind: roleRef.kind, group: roleRef.apiGroup };
      c = sieve(c, (r) => r.prevIds.some((id) => gvkSelected(id, sel)));
    }
  }
  const rid = curId(referrer);
  if (!isClusterScopedId(rid)) {
    c = sieve(c, (r) => isClusterScopedId(curId(r)) || r.obj.kind === 'ServiceAccount' || nsEquals(rid, curId(r)));
  }
  if (c.length === 1) return c[0];
  c = sieve(c, (r) => prefixesSuffixesEqual(r, referrer, true));
  if (c.length > 1) c = sieve(c, (r) => prefixesSuffixesEqual(r, referrer, false));
  if (c.length === 1) return c[0];
  if (c.length === 0) return undefined;
  if (identical(c)) return c[0];
  throw new Error(`${formatId(rid)}: found multiple possible referrals for "${oldName}": ${c.map((r) => formatId(curId(r))).join(', ')}`);
};
