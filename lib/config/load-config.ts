import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import { globMatch } from './glob.js';
import { overlapMessage, overlappingStackPrefixes, stackGrantIssues } from './stack-grants.js';
import { driftlessConfigSchema, registrySchema, withDefaultType, type DriftlessConfig, type Registry } from './schema.js';
import { formatFieldPath, parseLocated, type LocatedDocument } from './yaml-locator.js';

/** The repository file's conventional name. */
export const CONFIG_FILE = 'driftless.yaml';

/** Whose driftless.yaml it is, and the registry that bounds it (absent: a CLI run without one; nothing is checked against it). */
export interface LoadTargetsOptions {
  /** `owner/name`: checked against the registry's grant when a registry is given. */
  readonly repository?: string;
  readonly registry?: Registry;
}

/** Where a driftless.yaml is read from: a commit's tree (lib/render's FileTree has this shape). */
export interface ConfigFiles {
  read(path: string): Promise<Uint8Array>;
}

/**
 * Reads a repository's driftless.yaml: the one way every caller (webhook, reconcile, sync, preview, serve, CLI)
 * turns it into targets, checked against the registry grant when a registry is given. From text it parses (and
 * throws a ConfigError naming file:line:col); from a tree it reads `driftless.yaml` first and resolves undefined
 * when the tree has none (each caller says what a missing file means to it).
 * @example
 * const config = await loadTargets(tree, { repository: 'acme/shop', registry });
 * if (!config) return failed(`${CONFIG_FILE} is missing`);
 */
export function loadTargets(text: string, o?: LoadTargetsOptions): DriftlessConfig;
export function loadTargets(tree: ConfigFiles, o?: LoadTargetsOptions): Promise<DriftlessConfig | undefined>;
export function loadTargets(from: string | ConfigFiles, o: LoadTargetsOptions = {}): DriftlessConfig | Promise<DriftlessConfig | undefined> {
  const options = { file: CONFIG_FILE, ...(o.repository ? { repository: o.repository } : {}), ...(o.registry ? { registry: o.registry } : {}) };
  if (typeof from === 'string') return parseDriftlessConfig(from, options);
  return from.read(CONFIG_FILE).then(
    (bytes) => parseDriftlessConfig(new TextDecoder().decode(bytes), options),
    () => undefined,
  );
}

/** Parses and validates a `driftless.yaml` (callers use `loadTargets`); throws a ConfigError listing every problem with file:line:col. */
export const parseDriftlessConfig = (text: string, options: { file?: string; repository?: string; registry?: Registry } = {}): DriftlessConfig => {
  const file = options.file ?? CONFIG_FILE;
  const doc = parseLocated(text);
  syntaxCheck(file, doc);
  const parsed = driftlessConfigSchema.safeParse(withDefaultType(doc.value ?? null));
  if (!parsed.success) throw new ConfigError(file, zodIssues(file, doc, parsed.error.issues));
  const config = parsed.data;
  const issues: ConfigIssue[] = [];
  const at = (path: PropertyKey[], message: string) => issues.push({ file, ...doc.locate(path), field: formatFieldPath(path), message });

  const seen = new Map<string, number>();
  config.targets.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) at(['targets', i, 'name'], `duplicate target name "${t.name}" (first at targets[${first}])`);
    else seen.set(t.name, i);
  });
  if (options.registry && options.repository) {
    checkAgainstRegistry(config, options.repository, options.registry, at);
  }
  if (issues.length) throw new ConfigError(file, issues);
  return config;
};

/** Checks every target against its repository's registry entry (DESIGN.md, "Trust"). */
const checkAgainstRegistry = (config: DriftlessConfig, repository: string, registry: Registry, at: (path: PropertyKey[], message: string) => void): void => {
  // Own properties only: a repository named `constructor` or `__proto__` is not in any registry.
  const grant = Object.hasOwn(registry.repositories, repository) ? registry.repositories[repository] : undefined;
  if (!grant) {
    at([], `repository ${repository} is not in the registry`);
    return;
  }
  config.targets.forEach((t, i) => {
    if (t.type === 'kubernetes') {
      if (!grant.clusters.includes(t.cluster)) {
        at(['targets', i, 'cluster'], `cluster "${t.cluster}" is not allowed for ${repository}`);
      } else if (!Object.hasOwn(registry.clusters, t.cluster)) {
        at(['targets', i, 'cluster'], `cluster "${t.cluster}" is not defined in the registry`);
      }
      if (t.namespace !== undefined && !namespaceAllowed(grant.namespaces, t.namespace)) {
        at(['targets', i, 'namespace'], `namespace "${t.namespace}" is not allowed for ${repository}`);
      }
      t.prune.allowKinds.forEach((kind, k) => {
        if (!grant.pruneKinds.includes(kind)) {
          at(['targets', i, 'prune', 'allowKinds', k], `kind ${kind} is not granted to ${repository} (registry pruneKinds)`);
        }
      });
    } else {
      for (const issue of stackGrantIssues(t, grant, repository)) at(['targets', i, ...issue.path], issue.message);
    }
  });
};

/** Whether a namespace matches one of the registry's glob patterns (`shop-*`). */
export const namespaceAllowed = (patterns: readonly string[], namespace: string): boolean => patterns.some((p) => globMatch(p, namespace));

/** Parses and validates a registry file (YAML or JSON). */
export const parseRegistry = (text: string, file = 'registry.yaml'): Registry => {
  const doc = parseLocated(text);
  syntaxCheck(file, doc);
  const parsed = registrySchema.safeParse(doc.value ?? null);
  if (!parsed.success) throw new ConfigError(file, zodIssues(file, doc, parsed.error.issues));
  const registry = parsed.data;
  const issues: ConfigIssue[] = [];
  for (const [repo, grant] of Object.entries(registry.repositories)) {
    grant.clusters.forEach((c, i) => {
      if (!Object.hasOwn(registry.clusters, c)) {
        const path = ['repositories', repo, 'clusters', i];
        issues.push({ file, ...doc.locate(path), field: formatFieldPath(path), message: `cluster "${c}" is not defined under clusters` });
      }
    });
  }
  for (const pair of overlappingStackPrefixes(registry.repositories)) {
    const path = ['repositories', pair[1], 'stackPrefix'];
    issues.push({ file, ...doc.locate(path), field: formatFieldPath(path), message: overlapMessage(registry.repositories, pair) });
  }
  if (issues.length) throw new ConfigError(file, issues);
  return registry;
};

const syntaxCheck = (file: string, doc: LocatedDocument): void => {
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ file, line: e.line, column: e.column, field: '', message: `invalid YAML: ${e.message}` })),
    );
  }
};

const zodIssues = (file: string, doc: LocatedDocument, issues: readonly z.ZodIssue[]): ConfigIssue[] =>
  issues.flatMap((issue) => {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key: string) => ({
        file,
        ...doc.locate(path, key),
        field: formatFieldPath([...path, key]),
        message: `unknown field "${key}"`,
      }));
    }
    return [{ file, ...doc.locate(path), field: formatFieldPath(path), message: describeIssue(issue, doc, path) }];
  });

const describeIssue = (issue: z.ZodIssue, doc: LocatedDocument, path: PropertyKey[]): string => {
  if (issue.code === 'invalid_type' && valueAt(doc.value, path) === undefined) return 'is required';
  if ((issue.code === 'invalid_union_discriminator' || issue.code === 'invalid_union') && path[path.length - 1] === 'type') {
    return 'must be kubernetes or cloudformation';
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return message.charAt(0).toLowerCase() + message.slice(1);
};

const valueAt = (value: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined), value);
