/** The shapes the sandbox cluster answers with: Status bodies (as the recordings show them) and typed objects. */
import type { Obj } from '../../core/plain-object.js';
import { apiVersionOf, type ResourceType } from './store.js';

/** An RFC 3339 timestamp to the second, as the API server writes them. */
export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `deployments.apps`, or `services` for the core group. */
export const groupResource = (t: ResourceType): string => (t.group ? `${t.resource}.${t.group}` : t.resource);

/** The `details` of a Status about one object of a type. */
export const detailsOf = (t: ResourceType, name: string): Obj => ({ name, ...(t.group ? { group: t.group } : {}), kind: t.resource });

export const statusBody = (code: number, reason: string, message: string, details?: Obj): Obj => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

export const notFound = (t: ResourceType, name: string): Obj => statusBody(404, 'NotFound', `${groupResource(t)} "${name}" not found`, detailsOf(t, name));

/** A copy of a stored object with the kind and apiVersion of the type it is served as, first. */
export const withTypeMeta = (o: Obj, t: ResourceType): Obj => {
  const { apiVersion: _a, kind: _k, ...rest } = structuredClone(o);
  return { kind: t.kind, apiVersion: apiVersionOf(t), ...rest };
};
