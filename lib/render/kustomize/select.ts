import { isClusterScopedId } from './scope.js';
import type { Selector } from './kustomization.js';
import { matchesSelector } from '../../core/label-selector.js';
import { isMap } from '../../core/plain-object.js';
import { curId, effectiveNamespace, gvkSelected, prevIds, type ResId, type Resource } from './resource.js';

const anchored = (pattern: string): RegExp => {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (cause) {
    throw new Error(`invalid selector pattern "${pattern}"`, { cause });
  }
};

const selectorNs = (id: ResId): string => (isClusterScopedId(id) ? '' : effectiveNamespace(id));

/**
 * Resources a patch target selects (Kustomize's SelectorRegex): name and namespace are anchored regexes matched
 * against the original or current id; group, version and kind are anchored regexes matched against the current one.
 */
export const selectResources = (resources: readonly Resource[], sel: Selector): Resource[] => {
  const name = sel.name ? anchored(sel.name) : undefined;
  const namespace = sel.namespace ? anchored(sel.namespace) : undefined;
  const group = sel.group ? anchored(sel.group) : undefined;
  const version = sel.version ? anchored(sel.version) : undefined;
  const kind = sel.kind ? anchored(sel.kind) : undefined;
  return resources.filter((r) => {
    const cur = curId(r);
    const org = r.orgId;
    if (namespace && !namespace.test(selectorNs(org)) && !namespace.test(selectorNs(cur)) && !namespace.test(org.namespace) && !namespace.test(cur.namespace)) {
      return false;
    }
    if (name && !name.test(org.name) && !name.test(cur.name)) return false;
    if ((group && !group.test(cur.group)) || (version && !version.test(cur.version)) || (kind && !kind.test(cur.kind))) return false;
    const meta = isMap(r.obj.metadata) ? r.obj.metadata : {};
    if (sel.labelSelector && !matchesSelector(sel.labelSelector, isMap(meta.labels) ? meta.labels : {})) return false;
    if (sel.annotationSelector && !matchesSelector(sel.annotationSelector, isMap(meta.annotations) ? meta.annotations : {})) {
      return false;
    }
    return true;
  });
};

/** Kustomize's ResId.IsSelectedBy: exact name and namespace where the selector sets them. */
export const idSelectedBy = (id: ResId, sel: Selector): boolean =>
  (!sel.name || sel.name === id.name) && (!sel.namespace || sel.namespace === id.namespace) && gvkSelected(id, sel);

/** All ids a resource has had, current first (Kustomize's MakeResIds). */
export const allIds = (r: Resource): ResId[] => [curId(r), ...r.prevIds];

/** Resources any of whose ids (original, previous or current) satisfy `pred`. */
export const matchAnyId = (resources: readonly Resource[], pred: (id: ResId) => boolean): Resource[] =>
  resources.filter((r) => pred(curId(r)) || pred(r.orgId) || prevIds(r).some(pred));
