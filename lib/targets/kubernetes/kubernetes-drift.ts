import { refKey } from '../../core/inventory.js';
import { formatRef, refOf, type KubeObject, type ObjectRef } from '../../core/object-ref.js';
import type { PlannedObject } from './kubernetes-target.js';
import { comparable } from './normalize.js';
import { MERGE_KEYS } from '../../render/kustomize/strategic-merge.js';
import { isList, isMap, type Obj } from '../../core/plain-object.js';
import { fingerprintOf, type DriftReport, type FieldDrift, type ObjectDrift } from '../../core/drift.js';

/** Keys that identify list elements, so a reordered list is not drift and paths name the element. */
const LIST_KEYS: Readonly<Record<string, string>> = { ...MERGE_KEYS, ports: 'containerPort' };

const HIDDEN = '<hidden>';

/**
 * The fields that differ between the server-side dry run of the desired object and the live object. The dry run
 * merges only the fields our manifest sets into the live object, so fields it does not set (an autoscaler's
 * replicas, server defaults, other controllers' annotations) are equal on both sides and never drift.
 */
export const fieldDrifts = (desired: KubeObject, live: KubeObject): FieldDrift[] => {
  const out: FieldDrift[] = [];
  const secret = desired.kind === 'Secret';
  const walk = (a: unknown, b: unknown, path: string[], fv1: string[]): void => {
    if (isMap(a) && isMap(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], [...path, k], [...fv1, `f:${k}`]);
      return;
    }
    if (isList(a) && isList(b)) {
      const key = LIST_KEYS[path[path.length - 1] ?? ''];
      if (key && [...a, ...b].every((e) => isMap(e) && e[key] !== undefined)) {
        const ids = new Set([...a, ...b].map((e) => String((e as Obj)[key])));
        for (const id of ids) {
          const ea = a.find((e) => String((e as Obj)[key]) === id);
          const eb = b.find((e) => String((e as Obj)[key]) === id);
          walk(ea, eb, [...path.slice(0, -1), `${path[path.length - 1]}[${key}=${id}]`], [...fv1, `k:${key}=${id}`]);
        }
        return;
      }
    }
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const hide = secret && (path[0] === 'data' || path[0] === 'stringData');
    out.push({
      path: path.join('.'),
      desired: hide ? HIDDEN : a,
      live: hide ? HIDDEN : b,
      ...ownerOf(live, fv1),
    });
  };
  walk(comparable(desired), comparable(live), [], []);
  return out;
};

/** The manager that owns a field path in the live object's managedFields. */
const ownerOf = (live: KubeObject, path: string[]): { changedBy?: string } => {
  const entries = ((live.metadata as Obj | undefined)?.managedFields as { manager?: string; fieldsV1?: unknown }[] | undefined) ?? [];
  for (const e of entries) {
    let node: unknown = e.fieldsV1;
    let found = true;
    for (const seg of path) {
      if (!isMap(node)) {
        found = false;
        break;
      }
      if (seg.startsWith('k:')) {
        const [k, v] = seg.slice(2).split('=') as [string, string];
        const match = Object.keys(node).find((key) => key.startsWith('k:') && String((JSON.parse(key.slice(2)) as Obj)[k]) === v);
        node = match ? node[match] : undefined;
      } else node = node[seg];
      if (node === undefined) {
        found = false;
        break;
      }
    }
    if (found && e.manager) return { changedBy: e.manager };
  }
  return {};
};

/** Builds a target's drift report from its dry-run plan and the objects on the cluster that carry its label. */
export const driftReport = (
  target: string,
  planned: readonly PlannedObject[],
  labelled: readonly (KubeObject | ObjectRef)[],
  inventory: readonly ObjectRef[] | undefined,
  checkedAt = new Date().toISOString(),
): DriftReport => {
  const objects: ObjectDrift[] = [];
  for (const p of planned) {
    if (p.action === 'failed') objects.push({ ref: p.ref, state: 'modified', error: p.detail ?? 'the dry run failed' });
    else if (p.action === 'created' || !p.live) objects.push({ ref: p.ref, state: 'missing' });
    else if (p.action === 'configured' && p.dryRun) {
      const fields = fieldDrifts(p.dryRun, p.live);
      if (fields.length) objects.push({ ref: p.ref, state: 'modified', fields });
    }
  }
  // Without a ledger the inventory is the render itself.
  const known = new Set((inventory ?? planned.map((p) => p.ref)).map(refKey));
  for (const o of labelled) {
    const ref = 'apiVersion' in o ? refOf(o) : (o as ObjectRef);
    if (!known.has(refKey(ref))) objects.push({ ref, state: 'unmanaged' });
  }
  objects.sort((a, b) => formatRef(a.ref).localeCompare(formatRef(b.ref)));
  return { target, checkedAt, objects, fingerprint: fingerprintOf(objects) };
};
