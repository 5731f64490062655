/** A parsed YAML or JSON mapping: what manifests, patches and API responses are made of. */
export type Obj = Record<string, unknown>;

/** Whether a value is a plain mapping (not null, not an array). */
export const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether a value is an array, typed `unknown[]` (`Array.isArray` narrows `unknown` to `any[]`). */
export const isList = (v: unknown): v is unknown[] => Array.isArray(v);
