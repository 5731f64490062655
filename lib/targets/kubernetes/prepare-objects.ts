/** Prepare: rendered objects → objects ready to apply (namespace, ownership, kind), checked against the grant. */
import { GrantRefusalError, ReconcilerError } from '../../core/errors.js';
import { refKey } from '../../core/inventory.js';
import { formatRef, splitApiVersion, type KubeObject, type ObjectRef } from '../../core/object-ref.js';
import { TARGET_ID_ANNOTATION, TARGET_LABEL } from '../../core/ownership.js';
import type { Obj } from '../../core/plain-object.js';
import { grantRefusal } from '../../config/registry-check.js';
import { stageOf } from './ordering.js';
import { withSignal, type PreparedObject, type SyncContext } from './sync-types.js';

/**
 * Adds the default namespace and the ownership label and annotation; resolves each kind. Then checks the
 * final objects against the grant, with each kind's scope from discovery and from CRDs of this render:
 * any object outside it throws before anything is sent.
 */
export const prepareObjects = async (ctx: SyncContext, objects: readonly KubeObject[], signal?: AbortSignal): Promise<PreparedObject[]> => {
  const { o } = ctx;
  const discovery = await ctx.client.discover(withSignal(signal));
  const crdKinds = new Set(objects.filter((x) => x.kind === 'CustomResourceDefinition').flatMap((crd) => crdVersionKeys(crd).map(([key]) => key)));
  const seen = new Set<string>();
  const prepared = objects.map((input) => {
    const obj = structuredClone<KubeObject>(input);
    const apiVersion = String(obj.apiVersion);
    const key = `${apiVersion}/${String(obj.kind)}`;
    const info = discovery.get(key);
    const meta = (obj.metadata ?? {}) as Obj;
    obj.metadata = meta;
    // A kind is namespaced only if neither discovery nor a CRD of this render says it is cluster-scoped.
    const fromCrd = crdKinds.has(key) ? crdNamespaced(objects, key) : undefined;
    const namespaced = info || fromCrd !== undefined ? (info?.namespaced ?? true) && (fromCrd ?? true) : Boolean(meta.namespace);
    if (namespaced && !meta.namespace) {
      if (!o.namespace) {
        throw new ReconcilerError(`${String(obj.kind)}/${String(meta.name)} has no namespace and the target sets none`);
      }
      meta.namespace = o.namespace;
    }
    if (!namespaced) delete meta.namespace;
    meta.labels = { ...(meta.labels ?? {}), [TARGET_LABEL]: ctx.label };
    meta.annotations = { ...(meta.annotations ?? {}), [TARGET_ID_ANNOTATION]: o.id };
    const [group] = splitApiVersion(apiVersion);
    const ref: ObjectRef = { group, kind: String(obj.kind), ...(namespaced ? { namespace: String(meta.namespace) } : {}), name: String(meta.name) };
    if (seen.has(refKey(ref))) throw new ReconcilerError(`${formatRef(ref)} is declared twice in ${o.id}`);
    seen.add(refKey(ref));
    if (!info && !crdKinds.has(key)) {
      throw new ReconcilerError(`${formatRef(ref)}: unknown kind ${String(obj.kind)} in ${apiVersion} (the API server does not serve it and no CRD of this target defines it)`);
    }
    return { obj, ref, stage: stageOf(obj), namespaced, ...(info ? { info } : {}) };
  });
  const grant = o.grant;
  if (grant) {
    const refusals = prepared.flatMap((p) => grantRefusal(p.ref, p.namespaced, grant) ?? []);
    if (refusals.length) throw new GrantRefusalError(`${refusals.join('; ')}; nothing was applied`);
  }
  return prepared.map(({ namespaced: _, ...p }) => p);
};

/** The `group/version/Kind` keys a CRD defines, each with whether that kind is namespaced. */
const crdVersionKeys = (crd: KubeObject): [string, boolean][] => {
  const spec = (crd.spec ?? {}) as Obj;
  const kind = String((spec.names as Obj | undefined)?.kind ?? '');
  return ((spec.versions as Obj[] | undefined) ?? []).map((v) => [`${String(spec.group)}/${String(v.name)}/${kind}`, spec.scope !== 'Cluster']);
};

/** Whether the first CRD of this render that defines `key` makes it namespaced (true when none does). */
const crdNamespaced = (objects: readonly KubeObject[], key: string): boolean => {
  for (const crd of objects) {
    if (crd.kind !== 'CustomResourceDefinition') continue;
    for (const [k, namespaced] of crdVersionKeys(crd)) if (k === key) return namespaced;
  }
  return true;
};
