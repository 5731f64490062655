import type { KubeObject, ObjectRef } from '../../core/object-ref.js';
import { TARGET_LABEL } from '../../core/ownership.js';
import { KubeApiError, type KubeClient, type ResourceInfo } from './kube-client.js';
import { mapLimit } from '../../core/map-limit.js';

/** Resources never worth listing when looking for labelled objects. */
const SKIP_LISTING = new Set([
  'events',
  'componentstatuses',
  'bindings',
  'tokenreviews',
  'subjectaccessreviews',
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
  'localsubjectaccessreviews',
  'selfsubjectreviews',
]);

/**
 * Every object of every served kind that matches `selector`, cluster-wide: one LIST per kind (the kinds the
 * server does not let us list are skipped). Returns each object with the kind it was listed as.
 */
export const listLabelled = async (
  client: KubeClient,
  selector: string,
  options: { readonly concurrency?: number; readonly signal?: AbortSignal } = {},
): Promise<{ info: ResourceInfo; object: KubeObject }[]> => {
  const { signal } = options;
  const discovery = await client.discover({ ...(signal ? { signal } : {}) });
  const seen = new Set<string>();
  const types = [...discovery.values()].filter((i) => {
    const k = `${i.group}/${i.resource}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return !SKIP_LISTING.has(i.resource);
  });
  const lists = await mapLimit(types, options.concurrency ?? 8, async (info) => {
    try {
      return (await client.list(info, undefined, selector, { ...(signal ? { signal } : {}) })).map((object) => ({ info, object }));
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 405 || err.status === 403)) return [];
      throw err;
    }
  });
  return lists.flat();
};

/**
 * The refs of every object on a cluster that carries a driftless target label, by label value
 * (`targetLabelValue(id)`): one LIST per served kind for all of the cluster's targets, which a drift run
 * makes once per cluster instead of once per target.
 */
export const labelledByTarget = async (client: KubeClient, options: { readonly concurrency?: number; readonly signal?: AbortSignal } = {}): Promise<Map<string, ObjectRef[]>> => {
  const out = new Map<string, ObjectRef[]>();
  for (const { info, object } of await listLabelled(client, TARGET_LABEL, options)) {
    const meta = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown; labels?: Record<string, unknown> };
    const label = meta.labels?.[TARGET_LABEL];
    if (typeof label !== 'string') continue;
    const ref: ObjectRef = {
      group: info.group,
      kind: info.kind,
      ...(typeof meta.namespace === 'string' && meta.namespace ? { namespace: meta.namespace } : {}),
      name: String(meta.name),
    };
    out.set(label, [...(out.get(label) ?? []), ref]);
  }
  return out;
};
