import { RenderError } from '../core/errors.js';
import type { KubeObject } from '../core/object-ref.js';

/** Bounds on what a repository may make the reconciler read and render (README.md, "Input limits"). */
export interface InputLimits {
  /** Uncompressed bytes of one repository snapshot (all files). @default 256 MiB */
  readonly snapshotBytes: number;
  /** Bytes of one file; a larger file is kept out of the snapshot and fails only the render that reads it. @default 8 MiB */
  readonly fileBytes: number;
  /** Bytes of one rendered object as JSON (the API server's own request limit is 1.5 MiB). @default 1.5 MiB */
  readonly objectBytes: number;
  /** Rendered objects of one target. @default 10000 */
  readonly objectsPerTarget: number;
  /** YAML aliases one document may expand (an alias bomb is refused, not expanded). @default 1000 */
  readonly yamlAliases: number;
}

const MIB = 1024 * 1024;

/** The defaults of every limit. */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  snapshotBytes: 256 * MIB,
  fileBytes: 8 * MIB,
  objectBytes: 1.5 * MIB,
  objectsPerTarget: 10_000,
  yamlAliases: 1000,
};

/** The environment variable that overrides each limit (a positive integer). */
export const LIMIT_ENV: Readonly<Record<keyof InputLimits, string>> = {
  snapshotBytes: 'DRIFTLESS_MAX_SNAPSHOT_BYTES',
  fileBytes: 'DRIFTLESS_MAX_FILE_BYTES',
  objectBytes: 'DRIFTLESS_MAX_OBJECT_BYTES',
  objectsPerTarget: 'DRIFTLESS_MAX_OBJECTS',
  yamlAliases: 'DRIFTLESS_MAX_YAML_ALIASES',
};

/** The limits in force: the defaults, each overridable by its LIMIT_ENV variable; a value that is not a positive integer is an error naming the variable. */
export const inputLimits = (env: Record<string, string | undefined> = process.env): InputLimits => {
  const out: Record<string, number> = { ...DEFAULT_INPUT_LIMITS };
  for (const [key, name] of Object.entries(LIMIT_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!/^[1-9][0-9]*$/.test(raw)) throw new Error(`${name}: "${raw}" is not a positive integer`);
    out[key] = Number(raw);
  }
  return out as unknown as InputLimits;
};

/** Bytes as `8 MiB`, `1.5 MiB` or `512 bytes`. */
export const formatBytes = (n: number): string => (n >= MIB ? `${+(n / MIB).toFixed(2)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(2)} KiB` : `${n} bytes`);

/** The error for a file over the file limit. */
export const fileTooLarge = (path: string, size: number, limit: number): RenderError =>
  new RenderError(path, `file is ${formatBytes(size)}, over the limit of ${formatBytes(limit)} for one file (${LIMIT_ENV.fileBytes})`);

/** Refuses a render with more objects than the limit, or an object larger than the API server would take. */
export const checkRenderedObjects = (objects: readonly KubeObject[], path: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): void => {
  if (objects.length > limits.objectsPerTarget) {
    throw new RenderError(path || '.', `renders ${objects.length} objects, over the limit of ${limits.objectsPerTarget} per target (${LIMIT_ENV.objectsPerTarget})`);
  }
  for (const o of objects) {
    const size = Buffer.byteLength(JSON.stringify(o));
    if (size > limits.objectBytes) {
      const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
      const ref = [o.kind, meta.namespace, meta.name].filter(Boolean).join('/');
      throw new RenderError(path || '.', `${ref} is ${formatBytes(size)} as JSON, over the limit of ${formatBytes(limits.objectBytes)} for one object (${LIMIT_ENV.objectBytes})`);
    }
  }
};

/** Whether an error is the `yaml` package's refusal of an alias expansion over maxAliasCount. */
export const isAliasBomb = (err: unknown): boolean => err instanceof ReferenceError && /alias count/i.test(err.message);

/** The render error for an alias bomb, naming the file and the limit. */
export const aliasBomb = (file: string, limit: number, line?: number): RenderError =>
  new RenderError(file, `YAML alias expansion exceeds ${limit} aliases (an alias bomb?); refused (${LIMIT_ENV.yamlAliases})`, line);
