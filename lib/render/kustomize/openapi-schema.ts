import { parse } from 'yaml';
import { RenderError } from '../../core/errors.js';
import { isMap } from '../../core/plain-object.js';
import { typeKey, type CustomSchema } from './scope.js';

/** The one Kubernetes schema version built into Kustomize v5.5 (`openapi: {version}` accepts only this). */
export const BUILTIN_OPENAPI_VERSION = 'v1.21.2';

const PATCH_EXTENSIONS = ['x-kubernetes-patch-merge-key', 'x-kubernetes-patch-strategy'];

const mentionsPatchExtension = (node: unknown): boolean => {
  if (Array.isArray(node)) return node.some(mentionsPatchExtension);
  if (!isMap(node)) return false;
  return Object.entries(node).some(([k, v]) => PATCH_EXTENSIONS.includes(k) || mentionsPatchExtension(v));
};

/**
 * The scopes a custom OpenAPI (swagger 2) schema declares, as kyaml's findNamespaceability reads them: each GET path
 * with `x-kubernetes-group-version-kind` names a type; a type with a `namespaces/{namespace}` path is namespaced
 * (`true`), one with only other paths is cluster-scoped (`false`).
 *
 * Its definitions (`x-kubernetes-group-version-kind`) are the types strategic merges have a schema for. Kustomize
 * also takes merge keys of custom kinds from it; driftless does not, so a schema that declares them for a definition
 * outside Kubernetes' own (`io.k8s.*`) is refused rather than rendered differently.
 */
export const parseCustomSchema = (text: string, file: string): CustomSchema => {
  let doc: unknown;
  try {
    doc = text.trimStart().startsWith('{') ? JSON.parse(text) : parse(text);
  } catch (cause) {
    throw new RenderError(file, `invalid schema file: ${(cause as Error).message.split('\n')[0]}`, undefined, { cause });
  }
  if (!isMap(doc)) throw new RenderError(file, 'invalid schema file: not a mapping');
  const definedTypes = new Set<string>();
  if (isMap(doc.definitions)) {
    for (const [name, def] of Object.entries(doc.definitions)) {
      if (!name.startsWith('io.k8s.') && mentionsPatchExtension(def)) {
        throw new RenderError(file, `schema definition "${name}" sets strategic merge keys, which the driftless renderer does not read`);
      }
      const gvks = isMap(def) ? def['x-kubernetes-group-version-kind'] : undefined;
      for (const gvk of Array.isArray(gvks) ? gvks : []) {
        if (isMap(gvk) && typeof gvk.kind === 'string' && typeof gvk.version === 'string') {
          definedTypes.add(typeKey(typeof gvk.group === 'string' ? gvk.group : '', gvk.version, gvk.kind));
        }
      }
    }
  }
  const scopes = new Map<string, boolean>();
  const paths = isMap(doc.paths) ? doc.paths : {};
  for (const [path, info] of Object.entries(paths)) {
    if (!isMap(info) || !isMap(info.get)) continue;
    const gvk = info.get['x-kubernetes-group-version-kind'];
    if (!isMap(gvk) || typeof gvk.kind !== 'string' || typeof gvk.version !== 'string') continue;
    const key = typeKey(typeof gvk.group === 'string' ? gvk.group : '', gvk.version, gvk.kind);
    if (path.includes('namespaces/{namespace}')) scopes.set(key, true);
    else if (!scopes.has(key)) scopes.set(key, false);
  }
  return { scopes, definedTypes };
};
