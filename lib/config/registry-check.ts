import type { KubeObject } from '../core/object-ref.js';
import { refOf, formatRef } from '../core/object-ref.js';
import { isNamespaced } from '../render/cluster-scope.js';
import { namespaceAllowed } from './load-config.js';
import type { RepositoryGrant } from './schema.js';

/**
 * Objects a repository may not write under its registry grant: namespaced objects outside its namespace
 * patterns (objects without a namespace count as in `defaultNamespace`), and Namespaces whose names are outside them. Returns one message per violation.
 */
export const objectsOutsideGrant = (
  objects: readonly KubeObject[],
  grant: RepositoryGrant,
  repository: string,
  defaultNamespace?: string,
): string[] => {
  const out: string[] = [];
  for (const obj of objects) {
    const ref = refOf(obj);
    const inNamespace = ref.namespace ?? (isNamespaced(ref.kind) ? defaultNamespace : undefined);
    const ns = obj.kind === 'Namespace' ? ref.name : inNamespace;
    if (ns !== undefined && !namespaceAllowed(grant.namespaces, ns)) {
      out.push(`${formatRef(ref)}: namespace "${ns}" is not allowed for ${repository}`);
    }
  }
  return out;
};
