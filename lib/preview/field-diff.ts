import { isList, isMap } from '../core/plain-object.js';

/** One changed leaf of an object: where, what it is live, what the merge makes it (absent on either side: undefined). */
export interface FieldChange {
  /** A field path as reviewers read it: `spec.template.spec.containers[name=web].image`. */
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** Fields of a Secret whose values are never shown: only that a key was added, removed or changed. */
const SECRET_FIELDS = new Set(['data', 'stringData']);
const HIDDEN = '<hidden>';

/** Server-set fields that say nothing about what the merge changes. */
const IGNORED = new Set([
  'metadata.managedFields',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.uid',
  'metadata.creationTimestamp',
  'metadata.selfLink',
  'metadata.annotations.kubectl.kubernetes.io/last-applied-configuration',
  'metadata.annotations.deployment.kubernetes.io/revision',
  'status',
]);

/** List items are matched by the first of these keys they all carry (containers by name, ports by containerPort…). */
const LIST_KEYS = ['name', 'containerPort', 'port', 'mountPath', 'devicePath', 'ip', 'topologyKey', 'type', 'key'];

const keyOf = (items: readonly unknown[]): string | undefined =>
  items.length && items.every(isMap)
    ? LIST_KEYS.find((k) => items.every((i) => (i as Record<string, unknown>)[k] !== undefined && ['string', 'number'].includes(typeof (i as Record<string, unknown>)[k])))
    : undefined;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : isMap(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sortKeys(v[k])]),
        )
      : v;

/**
 * The leaves that differ between the live object and what the server would store after the merge (the dry
 * run's answer), in document order. Server-set metadata and status are left out; a Secret's `data` and
 * `stringData` show keys only (`<hidden>`). Lists of maps with a common key are compared item by item.
 * @example
 * fieldChanges(live, dryRun) // [{ path: 'spec.template.spec.containers[name=web].image', from: 'web:1', to: 'web:2' }]
 */
export const fieldChanges = (live: Record<string, unknown> | undefined, desired: Record<string, unknown>): FieldChange[] => {
  const secret = desired.kind === 'Secret' || live?.kind === 'Secret';
  const out: FieldChange[] = [];
  const walk = (a: unknown, b: unknown, path: string, hide: boolean): void => {
    if (IGNORED.has(path)) return;
    if (same(a, b)) return;
    // A Secret's data added or removed whole still lists its keys, never its values.
    if (hide && (isMap(a) || isMap(b)) && (isMap(a) || a === undefined) && (isMap(b) || b === undefined)) {
      a ??= {};
      b ??= {};
    }
    if (isMap(a) && isMap(b)) {
      const keys = [...Object.keys(b), ...Object.keys(a).filter((k) => !(k in b))];
      for (const k of keys) walk(a[k], b[k], join(path, k), hide || (secret && path === '' && SECRET_FIELDS.has(k)));
      return;
    }
    if (isList(a) && isList(b)) {
      const key = keyOf([...a, ...b]);
      if (key) {
        const byKey = (items: unknown[]) => new Map(items.map((i) => [String((i as Record<string, unknown>)[key]), i]));
        const am = byKey(a);
        const bm = byKey(b);
        for (const k of [...bm.keys(), ...[...am.keys()].filter((k) => !bm.has(k))]) walk(am.get(k), bm.get(k), `${path}[${key}=${k}]`, hide);
        return;
      }
      if (a.length === b.length) {
        a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`, hide));
        return;
      }
    }
    const show = (v: unknown) => (v === undefined ? undefined : hide ? HIDDEN : v);
    out.push({ path, ...(a !== undefined ? { from: show(a) } : {}), ...(b !== undefined ? { to: show(b) } : {}) });
  };
  walk(live ?? {}, desired, '', false);
  return out;
};

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** A value as one line of a report: strings bare when plain, everything else as JSON, long values cut. */
export const formatValue = (v: unknown, max = 120): string => {
  if (v === undefined) return '(none)';
  const s = typeof v === 'string' && /^[\w./:@-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** `path: from → to`, the line a reviewer reads. */
export const formatFieldChange = (c: FieldChange): string =>
  c.from === undefined
    ? `${c.path}: + ${formatValue(c.to)}`
    : c.to === undefined
      ? `${c.path}: − ${formatValue(c.from)}`
      : `${c.path}: ${formatValue(c.from)} → ${formatValue(c.to)}`;
