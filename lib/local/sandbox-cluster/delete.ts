/** DELETE of one object in the sandbox cluster: DeleteOptions preconditions, dry run, and the controllers' part. */
import type { Obj } from '../../core/plain-object.js';
import type { Cluster } from './controllers.js';
import { detailsOf, groupResource, notFound, statusBody } from './responses.js';
import type { ResourceType } from './store.js';
import type { Answer } from './write.js';

export const remove = ({ store, controllers }: Cluster, t: ResourceType, namespace: string, name: string, dryRun: boolean, body = ''): Answer => {
  const key = store.key(t, namespace, name);
  const live = store.get(key);
  if (!live) return [404, notFound(t, name)];
  const meta = live.metadata as Obj;
  // DeleteOptions.preconditions: uid and resourceVersion must match, as the real server checks them.
  let pre: Obj;
  try {
    pre = body ? (((JSON.parse(body) as Obj).preconditions as Obj | undefined) ?? {}) : {};
  } catch {
    return [400, statusBody(400, 'BadRequest', 'error decoding DeleteOptions')];
  }
  for (const [field, label] of [
    ['uid', 'UID'],
    ['resourceVersion', 'ResourceVersion'],
  ] as const) {
    if (pre[field] !== undefined && pre[field] !== meta[field]) {
      return [
        409,
        statusBody(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${groupResource(t)} "${name}": Precondition failed: ${label} in precondition: ${String(pre[field])}, ${label} in object meta: ${String(meta[field])}`,
          detailsOf(t, name),
        ),
      ];
    }
  }
  if (t.kind === 'Namespace') return [200, controllers.namespaceDeleted(key, live, dryRun)];
  if (!dryRun) {
    store.delete(key);
    if (t.kind === 'CustomResourceDefinition') controllers.crdDeleted(String(meta.name));
  }
  return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...detailsOf(t, name), uid: meta.uid } }];
};
