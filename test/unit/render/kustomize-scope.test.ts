import { describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/core/errors.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { kustomize } from '../../../lib/render/kustomize/build.js';
import { parseCustomSchema } from '../../../lib/render/kustomize/openapi-schema.js';
import { isClusterScopedId, KindScopes, withKindScopes } from '../../../lib/render/kustomize/scope.js';

describe('isClusterScopedId', () => {
  it.each([
    // [group, version, kind, cluster-scoped in Kustomize v5.5's built-in schema]
    ['', 'v1', 'Namespace', true],
    ['', 'v1', 'PersistentVolume', true],
    ['rbac.authorization.k8s.io', 'v1', 'ClusterRole', true],
    ['flowcontrol.apiserver.k8s.io', 'v1beta1', 'FlowSchema', true],
    // Kinds the v1.21.2 schema does not list are namespaced to Kustomize, whatever the API server says.
    ['flowcontrol.apiserver.k8s.io', 'v1', 'FlowSchema', false],
    ['flowcontrol.apiserver.k8s.io', 'v1beta3', 'PriorityLevelConfiguration', false],
    ['admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicy', false],
    ['rbac.authorization.k8s.io', 'v1alpha1', 'ClusterRole', false],
    ['example.io', 'v1', 'Namespace', false],
    ['cert-manager.io', 'v1', 'ClusterIssuer', false],
    ['', 'v1', 'ConfigMap', false],
  ])('%s/%s %s → %s', (group, version, kind, expected) => {
    // WHEN the built-in table decides THEN it matches Kustomize's
    expect(isClusterScopedId({ group, version, kind })).toBe(expected);
  });

  it('adds what a custom schema declares without overriding the built-in table', async () => {
    // GIVEN a schema that says ClusterIssuer is cluster-scoped and v1 Namespace is namespaced
    const scopes = new KindScopes();
    scopes.setCustom({
      scopes: new Map([
        ['cert-manager.io/v1 ClusterIssuer', false],
        ['v1 Namespace', true],
      ]),
      definedTypes: new Set(),
    });
    // WHEN asked inside and outside the build that uses it
    const inside = await withKindScopes(scopes, async () => [
      isClusterScopedId({ group: 'cert-manager.io', version: 'v1', kind: 'ClusterIssuer' }),
      isClusterScopedId({ group: '', version: 'v1', kind: 'Namespace' }),
    ]);
    // THEN the custom kind is cluster-scoped only inside, and the built-in answer stands
    expect(inside).toEqual([true, true]);
    expect(isClusterScopedId({ group: 'cert-manager.io', version: 'v1', kind: 'ClusterIssuer' })).toBe(false);
  });
});

describe('KindScopes.hasMergeSchema', () => {
  const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
  const custom = { scopes: new Map<string, boolean>(), definedTypes: new Set(['example.io/v1 Widget']) };

  it.each([
    // [types loaded before the schema is set, type asked, has a merge schema]
    [[], deployment, false],
    [[], { group: 'example.io', version: 'v1', kind: 'Widget' }, true],
    [[{ group: '', version: 'v1', kind: 'ConfigMap' }], deployment, false],
    // A kind outside the built-in table made kyaml parse its built-in schema before the custom one was set.
    [[{ group: 'cert-manager.io', version: 'v1', kind: 'Certificate' }], deployment, true],
  ])('after loading %j, %j → %s', (loaded, id, expected) => {
    // GIVEN types loaded, then a custom schema set
    const scopes = new KindScopes();
    for (const l of loaded) scopes.noteLoaded(l);
    scopes.setCustom(custom);
    // WHEN a strategic merge asks (the built-in schema knows apps) THEN the custom schema decides as kyaml would
    expect(scopes.hasMergeSchema(id, id.group === 'apps')).toBe(expected);
  });

  it('keeps the built-in answer without a custom schema', () => {
    expect(new KindScopes().hasMergeSchema(deployment, true)).toBe(true);
  });
});

describe('parseCustomSchema', () => {
  it('reads scope from GET paths: a namespaces/{namespace} path makes a type namespaced', () => {
    // GIVEN a swagger schema in YAML
    const text = [
      'paths:',
      '  /apis/x.io/v1/things:',
      '    get: {x-kubernetes-group-version-kind: {group: x.io, version: v1, kind: Thing}}',
      '  /apis/x.io/v1/namespaces/{namespace}/things:',
      '    get: {x-kubernetes-group-version-kind: {group: x.io, version: v1, kind: Thing}}',
      '  /apis/x.io/v1/globals:',
      '    get: {x-kubernetes-group-version-kind: {group: x.io, version: v1, kind: Global}}',
      '  /apis/x.io/v1/posts:',
      '    post: {x-kubernetes-group-version-kind: {group: x.io, version: v1, kind: PostOnly}}',
    ].join('\n');
    // WHEN it is parsed THEN Thing is namespaced, Global cluster-scoped, a type without GET unknown
    expect([...parseCustomSchema(text, 'schema.yaml').scopes]).toEqual([
      ['x.io/v1 Thing', true],
      ['x.io/v1 Global', false],
    ]);
  });

  it('fails on strategic merge keys of a custom definition, naming the definition', () => {
    // GIVEN merge keys outside io.k8s.* definitions, which the renderer would not honour
    const text = JSON.stringify({
      definitions: { 'io.x.v1.ThingSpec': { properties: { items: { 'x-kubernetes-patch-merge-key': 'id' } } } },
    });
    // WHEN parsed THEN it is refused rather than rendered differently
    expect(() => parseCustomSchema(text, 'schema.json')).toThrow(/schema\.json: schema definition "io\.x\.v1\.ThingSpec" sets strategic merge keys/);
  });

  it('fails on a file that is not a schema', () => {
    expect(() => parseCustomSchema('[1, 2]', 's.json')).toThrow(RenderError);
  });
});

describe('kustomize with openapi schemas', () => {
  const schema = (kind: string) => `paths:\n  /apis/x.io/v1/${kind.toLowerCase()}s:\n    get: {x-kubernetes-group-version-kind: {group: x.io, version: v1, kind: ${kind}}}\n`;
  const tree = (kind: string) =>
    new MemoryFileTree({
      'kustomization.yaml': 'namespace: apps\nopenapi:\n  path: schema.yaml\nresources: [r.yaml]\n',
      'schema.yaml': schema(kind),
      'r.yaml': 'apiVersion: x.io/v1\nkind: Alpha\nmetadata: {name: a}\n---\napiVersion: x.io/v1\nkind: Beta\nmetadata: {name: b}\n',
    });

  it('keeps each concurrent build to its own schema', async () => {
    // GIVEN two builds whose schemas make different kinds cluster-scoped, run at once
    const [alpha, beta] = await Promise.all([kustomize(tree('Alpha'), ''), kustomize(tree('Beta'), '')]);
    // THEN each namespaces only the kind its own schema leaves namespaced
    const namespaces = (objects: typeof alpha.objects) => objects.map((o) => `${String(o.kind)}:${String((o.metadata as { namespace?: string }).namespace ?? '-')}`);
    expect(namespaces(alpha.objects)).toEqual(['Alpha:-', 'Beta:apps']);
    expect(namespaces(beta.objects)).toEqual(['Alpha:apps', 'Beta:-']);
    expect(alpha.files.has('schema.yaml')).toBe(true);
  });
});
