/**
 * Writes to the sandbox cluster: server-side apply with managedFields per manager (Apply and Update operations,
 * conflicts, force), merge and JSON patches, PUT, POST, the status subresource, dry run, resourceVersion and
 * generation, and the namespace checks (missing → 404, terminating → 403).
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { isMap, type Obj } from '../../core/plain-object.js';
import type { Cluster } from './controllers.js';
import { applyMerge, changedFields, fieldSetOf, formatFieldPath, fromFieldsV1, removeAt, toFieldsV1, valueAt, type FieldSet } from './field-set.js';
import { jsonPatch, mergePatch, stableJson } from './patch.js';
import { detailsOf, groupResource, notFound, now, statusBody, withTypeMeta } from './responses.js';
import { applyDefaults, validate } from './schema.js';
import { apiVersionOf, namespaceKey, type ResourceType } from './store.js';

/** A route's answer: status, body, and a content type when it is not JSON. */
export type Answer = [number, unknown, string?];

/** One manager's entry in managedFields, with its fields as a set. */
interface ManagedEntry {
  operation: string;
  apiVersion: string;
  set: FieldSet;
  time: string;
  subresource?: string;
}

/** Whether an object kind carries metadata.generation (objects with a spec, except Namespace). */
export const hasGeneration = (o: Obj): boolean => o.kind !== 'Namespace' && isMap(o.spec);

/** Apply (PATCH with apply-patch), patch (merge or JSON patch), update (PUT) or create (POST) of one object. */
export const write = (
  { store, controllers }: Cluster,
  t: ResourceType,
  namespace: string,
  urlName: string | undefined,
  verb: string,
  body: string,
  url: URL,
  contentType: string | undefined,
): Answer => {
  const dryRun = url.searchParams.get('dryRun') === 'All';
  const manager = url.searchParams.get('fieldManager');
  const force = url.searchParams.get('force') === 'true';
  const apiVersion = apiVersionOf(t);
  if (verb === 'apply' && !manager) {
    return [
      422,
      statusBody(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
      }),
    ];
  }
  let input: unknown;
  try {
    input = contentType?.includes('yaml') ? parseYaml(body) : JSON.parse(body);
  } catch (err) {
    const what = contentType?.includes('yaml') ? 'error decoding YAML: error converting YAML to JSON: yaml: ' : 'error decoding patch: ';
    return [400, statusBody(400, 'BadRequest', `${what}${(err as Error).message.split('\n')[0]}`)];
  }
  const name = urlName ?? (isMap(input) && isMap(input.metadata) ? String(input.metadata.name ?? '') : '');
  const key = store.key(t, namespace, name);
  const live = store.get(key);
  const creating = !live;
  const nsError = checkNamespace(store.get(namespaceKey(namespace)), t, namespace, creating, name);
  if (nsError) return nsError;

  let next: Obj;
  const managed = new Map<string, ManagedEntry>();
  for (const e of ((live?.metadata as Obj | undefined)?.managedFields as Obj[] | undefined) ?? []) {
    managed.set(`${String(e.manager)}|${String(e.operation)}`, {
      operation: String(e.operation),
      apiVersion: String(e.apiVersion),
      set: fromFieldsV1(e.fieldsV1),
      time: String(e.time),
      ...(e.subresource ? { subresource: String(e.subresource) } : {}),
    });
  }
  if (verb === 'apply') {
    if (!isMap(input)) return [400, statusBody(400, 'BadRequest', 'the body of an apply patch must be an object')];
    const meta = isMap(input.metadata) ? input.metadata : {};
    if (urlName && meta.name !== urlName) {
      return [400, statusBody(400, 'BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${urlName})`)];
    }
    const applied = structuredClone(input);
    const appliedSet = fieldSetOf(applied, t.kind);
    const mine = `${manager}|Apply`;
    if (live) {
      const conflicts: { manager: string; operation: string; apiVersion: string; field: string }[] = [];
      for (const [id, entry] of managed) {
        if (id === mine) continue;
        for (const f of entry.set) {
          if (!appliedSet.has(f)) continue;
          const a = valueAt(applied, f, t.kind);
          const l = valueAt(live, f, t.kind);
          if (l.present && JSON.stringify(a.value) === JSON.stringify(l.value)) continue;
          if (force) entry.set.delete(f);
          else conflicts.push({ manager: id.split('|')[0] as string, operation: entry.operation, apiVersion: entry.apiVersion, field: f });
        }
      }
      if (conflicts.length) {
        const label = (c: (typeof conflicts)[number]) => (c.operation === 'Update' ? `conflict with "${c.manager}" using ${c.apiVersion}` : `conflict with "${c.manager}"`);
        const summary = conflicts.map((c) => `${label(c)}: ${formatFieldPath(c.field)}`).join('\n');
        return [
          409,
          statusBody(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${summary}`, {
            causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: label(c), field: formatFieldPath(c.field) })),
          }),
        ];
      }
      const { managedFields: _m, ...liveMeta } = live.metadata as Obj;
      const base = { ...structuredClone(live), metadata: structuredClone(liveMeta) };
      next = applyMerge(base, { ...applied, metadata: { ...meta } }, [], t.kind) as Obj;
      const previous = managed.get(mine)?.set ?? new Set<string>();
      const othersOwn = new Set([...managed.entries()].filter(([id]) => id !== mine).flatMap(([, e]) => [...e.set]));
      for (const f of previous) if (!appliedSet.has(f) && !othersOwn.has(f)) removeAt(next, f, t.kind);
    } else {
      next = structuredClone(applied);
    }
    managed.set(mine, { operation: 'Apply', apiVersion, set: appliedSet, time: now() });
  } else {
    // Update operations: merge patch, JSON patch, PUT, POST.
    let candidate: Obj;
    if (verb === 'patch') {
      candidate = contentType?.includes('json-patch') ? (jsonPatch(live ?? {}, input) as Obj) : (mergePatch(live ?? {}, input) as Obj);
      if (!live) return [404, notFound(t, name)];
    } else {
      if (!isMap(input)) return [400, statusBody(400, 'BadRequest', 'the body must be an object')];
      candidate = structuredClone(input);
      if (verb === 'create' && live) return [409, statusBody(409, 'AlreadyExists', `${groupResource(t)} "${name}" already exists`, detailsOf(t, name))];
    }
    const { managedFields: _m, ...candMeta } = (candidate.metadata as Obj) ?? {};
    candidate.metadata = candMeta;
    if (live && isMap(live.status) && verb !== 'create') candidate.status = live.status;
    next = candidate;
    const who = `${manager ?? 'unknown'}|Update`;
    const { changed, removed } = changedFields(live ?? {}, next, t.kind);
    for (const [id, e] of managed) if (id !== who) for (const f of [...changed, ...removed]) e.set.delete(f);
    const entry = managed.get(who) ?? { operation: 'Update', apiVersion, set: new Set<string>(), time: now() };
    for (const f of changed) entry.set.add(f);
    for (const f of removed) entry.set.delete(f);
    entry.time = now();
    managed.set(who, entry);
  }

  // Identity, defaults, validation.
  next.apiVersion = apiVersion;
  next.kind = t.kind;
  const meta = (next.metadata = isMap(next.metadata) ? next.metadata : {});
  meta.name = name;
  if (t.namespaced) meta.namespace = namespace;
  else delete meta.namespace;
  applyDefaults(next);
  const causes = validate(next);
  if (causes.length) {
    return [
      422,
      statusBody(422, 'Invalid', `${t.kind}.${t.group || 'core'} "${name}" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`, {
        name,
        ...(t.group ? { group: t.group } : {}),
        kind: t.kind,
        causes: causes.map((c) => ({ reason: c.message.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueInvalid', message: c.message, field: c.field })),
      }),
    ];
  }
  const entries = [...managed.entries()].filter(([, e]) => e.set.size > 0);
  const previousEntries = (live?.metadata as Obj | undefined)?.managedFields as Obj[] | undefined;
  const sameContent = live && stableJson(strip(live)) === stableJson(strip(next));
  const sameOwnership =
    live &&
    stableJson((previousEntries ?? []).map((e) => [e.manager, e.operation, e.fieldsV1])) ===
      stableJson(entries.map(([id, e]) => [id.split('|')[0], e.operation, toFieldsV1(e.set)]));
  if (live && sameContent && sameOwnership) return [200, withTypeMeta(live, t)];
  meta.managedFields = entries.map(([id, e]) => ({
    manager: id.split('|')[0],
    operation: e.operation,
    apiVersion: e.apiVersion,
    time: e.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(e.set),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
  const liveMeta = (live?.metadata ?? {}) as Obj;
  meta.uid = liveMeta.uid ?? randomUUID();
  meta.creationTimestamp = liveMeta.creationTimestamp ?? now();
  if (liveMeta.deletionTimestamp) meta.deletionTimestamp = liveMeta.deletionTimestamp;
  if (hasGeneration(next)) {
    const prevGen = typeof liveMeta.generation === 'number' ? liveMeta.generation : 0;
    meta.generation = !live ? 1 : specChanged(live, next) ? prevGen + 1 : prevGen;
  } else delete meta.generation;
  if (dryRun) {
    if (live) meta.resourceVersion = liveMeta.resourceVersion;
    else delete meta.resourceVersion;
    return [creating ? 201 : 200, withTypeMeta(next, t)];
  }
  meta.resourceVersion = store.nextVersion();
  store.set(key, next);
  if (t.kind === 'CustomResourceDefinition') controllers.crdWritten(next);
  controllers.written(key);
  return [creating ? 201 : 200, withTypeMeta(next, t)];
};

/** GET, PUT or PATCH (merge) of the status subresource. */
export const writeStatus = ({ store }: Cluster, t: ResourceType, namespace: string, name: string, method: string, body: string, url: URL): Answer => {
  const live = store.get(store.key(t, namespace, name));
  if (!live) return [404, notFound(t, name)];
  if (method === 'GET') return [200, withTypeMeta(live, t)];
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    return [400, statusBody(400, 'BadRequest', 'error decoding patch')];
  }
  const status = method === 'PUT' ? (input as Obj).status : (mergePatch(live, input) as Obj).status;
  if (url.searchParams.get('dryRun') === 'All') return [200, withTypeMeta({ ...live, status }, t)];
  live.status = structuredClone(status);
  (live.metadata as Obj).resourceVersion = store.nextVersion();
  return [200, withTypeMeta(live, t)];
};

/** A namespaced write needs its Namespace to exist, and a create needs it not to be terminating. */
const checkNamespace = (ns: Obj | undefined, t: ResourceType, namespace: string, creating: boolean, name: string): Answer | undefined => {
  if (!t.namespaced) return undefined;
  if (!ns) return [404, statusBody(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' })];
  if (creating && (ns.metadata as Obj).deletionTimestamp) {
    return [
      403,
      statusBody(403, 'Forbidden', `${t.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        name,
        kind: t.resource,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      }),
    ];
  }
  return undefined;
};

/** An object without the fields the server sets, to tell a no-op write. */
const strip = (o: Obj): Obj => {
  const { metadata, ...rest } = o;
  const { managedFields: _m, resourceVersion: _r, generation: _g, uid: _u, creationTimestamp: _c, ...meta } = (metadata ?? {}) as Obj;
  return { ...rest, metadata: meta };
};

/** Whether anything but metadata and status changed (a new generation). */
const specChanged = (a: Obj, b: Obj): boolean => {
  const pick = (o: Obj) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return stableJson(pick(a)) !== stableJson(pick(b));
};
