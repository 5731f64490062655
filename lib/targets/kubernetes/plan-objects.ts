/** Plan: prepared objects → what applying them would change, read from the cluster. Writes nothing. */
import { ChangeAction } from '../../core/change-set.js';
import { refKey } from '../../core/inventory.js';
import { mapLimit } from '../../core/map-limit.js';
import { formatRef, type KubeObject, type ObjectRef } from '../../core/object-ref.js';
import { takeOver, TARGET_LABEL } from '../../core/ownership.js';
import type { Obj } from '../../core/plain-object.js';
import { ApplyCache, observe, type Observation } from './apply-cache.js';
import { isMissingNamespace, KubeApiError, type ResourceInfo } from './kube-client.js';
import { comparable, jsonEqual } from './normalize.js';
import { applyOrder } from './ordering.js';
import { applyOptions, locationOf, withSignal, type Plan, type PlannedObject, type PlanOptions, type PreparedObject, type SyncContext } from './sync-types.js';

/**
 * What applying would change, compared with the live object. Writes nothing. The LISTs that read live state
 * come first; then an object the inventory records as unchanged at its live resourceVersion costs no
 * request, a create costs none when no object of that name exists and `validateCreates` is off (planCreates),
 * and every other object gets a server-side dry run.
 */
export const planObjects = async (
  ctx: SyncContext,
  prepared: readonly PreparedObject[],
  signal?: AbortSignal,
  onProgress?: (phase: 'plan', done: number, total: number) => void,
  options: PlanOptions = {},
): Promise<Plan> => {
  const { o } = ctx;
  const { known, validateCreates = true } = options;
  let planned = 0;
  const progress = () => onProgress?.('plan', ++planned, prepared.length);
  const namespacesInSync = new Set(prepared.filter((p) => p.obj.kind === 'Namespace').map((p) => p.ref.name));
  // Objects the inventory does not name are probably creates, which need an unfiltered LIST of their kind and
  // namespace anyway (below): for those kinds and namespaces that LIST is made at once, instead of the labelled
  // one, and this target's objects are picked from it by their label. Their namespaces are read alongside.
  const expected = new Set((known ?? []).map(refKey));
  const likelyNew = prepared.filter((p) => p.info && !expected.has(refKey(p.ref)));
  const wide = new Set(likelyNew.map(groupKey));
  const [live, wideLive, firstNamespaces] = await Promise.all([
    liveObjects(
      ctx,
      prepared.filter((p) => !wide.has(groupKey(p))),
      signal,
    ),
    listAll(
      ctx,
      prepared.filter((p) => wide.has(groupKey(p))),
      signal,
    ),
    validateCreates ? new Map<string, KubeObject | undefined | 'unknown'>() : namespacesOf(ctx, likelyNew, namespacesInSync, signal),
  ]);
  for (const [k, x] of wideLive) if (labelOf(x) === ctx.label) live.set(k, x);
  const cache = new ApplyCache(known, o.fieldManager);
  const ordered = applyOrder(prepared).map((p) => ({ ...p, digest: cache.digest(p.obj) }));
  const out = new Map<PreparedObject, PlannedObject>();
  for (const p of ordered) {
    const current = live.get(refKey(p.ref));
    if (!p.info || !current || !cache.unchanged(p.ref, p.digest, current)) continue;
    if (!('owned' in takeOver(current, formatRef(p.ref), o.id, o.grant?.adopt ?? true))) continue;
    out.set(p, { ...p, action: ChangeAction.Unchanged, live: current, ...withObservation(observe(p.digest, current)) });
    progress();
  }
  // Not among this target's objects: one LIST per kind and namespace, whoever owns them, tells whether it exists.
  // Their namespaces are read alongside, for creates planned without a dry run (planCreates).
  const absent = ordered.filter((p) => p.info && !live.has(refKey(p.ref)));
  const unread = absent.filter((p) => p.ref.namespace && !namespacesInSync.has(p.ref.namespace) && !firstNamespaces.has(p.ref.namespace));
  const [others, moreNamespaces] = await Promise.all([
    listAll(
      ctx,
      absent.filter((p) => !wide.has(groupKey(p))),
      signal,
    ),
    validateCreates || !unread.length ? new Map<string, KubeObject | undefined | 'unknown'>() : namespacesOf(ctx, unread, namespacesInSync, signal),
  ]);
  for (const [k, x] of wideLive) if (!live.has(k)) live.set(k, x);
  for (const [k, x] of others) if (!live.has(k)) live.set(k, x);
  const namespaces = new Map([...firstNamespaces, ...moreNamespaces]);
  const creates = absent.filter((p) => !live.has(refKey(p.ref)));
  const dryRuns = ordered.filter((p) => !out.has(p) && !creates.includes(p));
  const dryRun = async (p: (typeof ordered)[number]) => {
    try {
      out.set(p, { ...(await planOne(ctx, p, live, namespacesInSync, signal)), digest: p.digest });
    } finally {
      progress();
    }
  };
  await mapLimit(dryRuns, o.concurrency, dryRun);
  // An existing object changes: creates are dry-run too, so that a broken commit is found before any write.
  const writesExisting = dryRuns.some((p) => {
    const action = out.get(p)?.action;
    return action !== ChangeAction.Unchanged && action !== ChangeAction.Created;
  });
  if (writesExisting || validateCreates) await mapLimit(creates, o.concurrency, dryRun);
  else {
    for (const [p, x] of await planCreates(ctx, creates, out, namespaces, signal)) {
      out.set(p, x);
      progress();
    }
  }
  const objects = ordered.map((p) => out.get(p) as PlannedObject);
  for (const x of objects) {
    if (x.action === ChangeAction.Unchanged && !x.observed && x.live && x.digest) Object.assign(x, withObservation(observe(x.digest, x.live)));
  }
  return { objects, failed: objects.filter((x) => x.action === ChangeAction.Failed) };
};

/**
 * Creates planned without a dry run: no object of that name exists, so nothing can be taken over and the
 * apply creates exactly what was rendered. Their namespace must exist (one GET per namespace, not per object);
 * one this sync creates makes them pending, as after a dry run. The server validates them at the apply
 * itself: a rejected create fails the sync, which then prunes nothing, and no existing object was written
 * (a sync that changes an existing object dry-runs its creates first, see planObjects).
 */
const planCreates = async (
  ctx: SyncContext,
  creates: readonly (PreparedObject & { digest: string })[],
  planned: ReadonlyMap<PreparedObject, PlannedObject>,
  namespaces: ReadonlyMap<string, KubeObject | undefined | 'unknown'>,
  signal?: AbortSignal,
): Promise<[PreparedObject, PlannedObject][]> => {
  if (!creates.length) return [];
  const state = new Map<string, 'active' | 'created-here' | 'missing' | 'other'>();
  for (const [name, ns] of namespaces) state.set(name, ns === 'unknown' ? 'other' : !ns ? 'missing' : terminating(ns) ? 'other' : 'active');
  for (const p of [...planned.values()].filter((p) => p.obj.kind === 'Namespace')) {
    state.set(p.ref.name, p.action === ChangeAction.Created ? 'created-here' : terminating(p.live) ? 'other' : 'active');
  }
  for (const p of creates) if (p.obj.kind === 'Namespace') state.set(p.ref.name, 'created-here');
  const out: [PreparedObject, PlannedObject][] = [];
  const fallback: (PreparedObject & { digest: string })[] = [];
  for (const p of creates) {
    const ns = p.ref.namespace ? state.get(p.ref.namespace) : 'active';
    if (ns === 'active') out.push([p, { ...p, action: ChangeAction.Created }]);
    else if (ns === 'created-here') out.push([p, { ...p, action: ChangeAction.Created, detail: `namespace ${p.ref.namespace ?? ''} is created by this sync`, pending: true }]);
    else if (ns === 'missing')
      out.push([p, { ...p, action: ChangeAction.Failed, detail: `namespace ${p.ref.namespace ?? ''} does not exist (create it, or add a Namespace to the target)` }]);
    // A terminating namespace: the dry run says what the server says.
    else fallback.push(p);
  }
  const namespacesInSync = new Set([...state].filter(([, s]) => s === 'created-here').map(([n]) => n));
  await mapLimit(fallback, ctx.o.concurrency, async (p) => {
    out.push([p, { ...(await planOne(ctx, p, new Map(), namespacesInSync, signal)), digest: p.digest }]);
  });
  return out;
};

/** One object's server-side dry run, compared with its live object. */
const planOne = async (ctx: SyncContext, p: PreparedObject, live: Map<string, KubeObject>, namespacesInSync: Set<string>, signal?: AbortSignal): Promise<PlannedObject> => {
  const { client, o } = ctx;
  if (!p.info) return { ...p, action: ChangeAction.Created, detail: 'kind defined by a CRD of this sync', pending: true };
  try {
    const res = await client.apply(locationOf(p), p.obj, applyOptions(o, true, signal));
    let current = live.get(refKey(p.ref));
    if (!res.created && !current) current = await client.get(locationOf(p), withSignal(signal));
    if (res.created || !current) return { ...p, action: ChangeAction.Created, dryRun: res.object };
    const owner = takeOver(current, formatRef(p.ref), o.id, o.grant?.adopt ?? true);
    if ('refusal' in owner) return { ...p, action: ChangeAction.Failed, detail: owner.refusal, refused: true, live: current };
    if ('adopt' in owner) return { ...p, action: ChangeAction.Adopted, detail: 'taken over: it existed without driftless ownership', dryRun: res.object, live: current };
    const same = jsonEqual(comparable(res.object), comparable(current));
    return { ...p, action: same ? ChangeAction.Unchanged : ChangeAction.Configured, dryRun: res.object, live: current };
  } catch (err) {
    if (isMissingNamespace(err) && p.ref.namespace && namespacesInSync.has(p.ref.namespace)) {
      return { ...p, action: ChangeAction.Created, detail: `namespace ${p.ref.namespace} is created by this sync`, pending: true };
    }
    if (isMissingNamespace(err) && p.ref.namespace) {
      return { ...p, action: ChangeAction.Failed, detail: `namespace ${p.ref.namespace} does not exist (create it, or add a Namespace to the target)` };
    }
    if (err instanceof KubeApiError) return { ...p, action: ChangeAction.Failed, detail: err.describe() };
    throw err;
  }
};

/** The kind and namespace an object is listed by. */
const groupKey = (p: PreparedObject): string => (p.info ? `${p.info.group}/${p.info.resource}/${p.ref.namespace ?? ''}` : '');

/** The target label of a live object. */
const labelOf = (x: KubeObject): unknown => ((x.metadata ?? {}) as { labels?: Record<string, unknown> }).labels?.[TARGET_LABEL];

/** The live objects of this target, by LIST per kind and namespace (one request each, not one per object). */
const liveObjects = async (ctx: SyncContext, prepared: readonly PreparedObject[], signal?: AbortSignal, selector = ctx.selector): Promise<Map<string, KubeObject>> => {
  const groups = new Map<string, { info: ResourceInfo; namespace?: string }>();
  for (const p of prepared) {
    if (!p.info) continue;
    groups.set(groupKey(p), { info: p.info, ...(p.ref.namespace ? { namespace: p.ref.namespace } : {}) });
  }
  const out = new Map<string, KubeObject>();
  await mapLimit([...groups.values()], ctx.o.concurrency, async (g) => {
    try {
      for (const x of await ctx.client.list(g.info, g.namespace, selector, withSignal(signal))) {
        const meta = (x.metadata ?? {}) as { namespace?: string; name?: string };
        const ref: ObjectRef = { group: g.info.group, kind: g.info.kind, ...(meta.namespace ? { namespace: meta.namespace } : {}), name: String(meta.name) };
        out.set(refKey(ref), x);
      }
    } catch (err) {
      // A namespace that does not exist yet has nothing to list; anything else is a real error.
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  });
  return out;
};

/**
 * Every live object (whoever owns it) of the kinds and namespaces of objects planned before their Namespace
 * or CRD existed: one LIST per kind and namespace, usually empty, so that one created meanwhile is not taken over.
 */
export const listAll = async (ctx: SyncContext, pending: readonly PreparedObject[], signal?: AbortSignal): Promise<Map<string, KubeObject>> =>
  pending.length ? liveObjects(ctx, pending, signal, '') : new Map();

/** The live Namespaces of objects not in the sync's own Namespaces (one GET each); 'unknown' when not served or not readable. */
const namespacesOf = async (
  ctx: SyncContext,
  objects: readonly PreparedObject[],
  inSync: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<Map<string, KubeObject | undefined | 'unknown'>> => {
  const names = [...new Set(objects.flatMap((p) => (p.ref.namespace && !inSync.has(p.ref.namespace) ? [p.ref.namespace] : [])))];
  const out = new Map<string, KubeObject | undefined | 'unknown'>();
  if (!names.length) return out;
  const info = (await ctx.client.discover(withSignal(signal))).get('v1/Namespace');
  await mapLimit(names, ctx.o.concurrency, async (name) => {
    try {
      out.set(name, info ? await ctx.client.get({ info, name }, withSignal(signal)) : 'unknown');
    } catch (err) {
      // RBAC limited to namespaces may not grant reading Namespaces: those creates get a dry run instead.
      if (!(err instanceof KubeApiError)) throw err;
      out.set(name, 'unknown');
    }
  });
  return out;
};

/** Spreads an observation into a planned object (nothing when the live object had no resourceVersion). */
const withObservation = (x: Observation | undefined): { observed?: Observation } => (x ? { observed: x } : {});

/** Whether a live object (a Namespace) is being deleted. */
const terminating = (live: KubeObject | undefined): boolean => Boolean(live && ((live.metadata ?? {}) as Obj).deletionTimestamp);
