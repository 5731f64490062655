import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeSetEntry } from '../../../lib/core/change-set.js';
import { formatRef, type KubeObject, type ObjectRef } from '../../../lib/core/object-ref.js';
import { PRUNE_ANNOTATION, TARGET_LABEL, targetLabelValue } from '../../../lib/core/ownership.js';
import type { KubeClient } from '../../../lib/targets/kubernetes/kube-client.js';
import { KubernetesTarget } from '../../../lib/targets/kubernetes/kubernetes-target.js';
import { configMap, deployment, namespace, startCluster } from '../../support/kube.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
const actions = (entries: readonly ChangeSetEntry[]) => Object.fromEntries(entries.map((e) => [formatRef(e.ref), e.action]));
const details = (entries: readonly ChangeSetEntry[]) => Object.fromEntries(entries.map((e) => [formatRef(e.ref), e.detail]));
const writes = (c: Cluster) => (c.server.counts().apply ?? 0) + (c.server.counts().delete ?? 0) + (c.server.counts().patch ?? 0);

describe('KubernetesTarget', () => {
  let c: Cluster;
  beforeEach(async () => {
    c = await startCluster();
    c.server.createNamespace('shop');
  });
  afterEach(() => c.stop());

  it('creates objects with ownership label and annotation, then re-syncs without a single write', async () => {
    // GIVEN a fresh cluster WHEN a target is synced twice
    const target = c.target();
    const first = await target.sync([configMap('a'), deployment('web')], { previousInventory: [] });
    c.server.resetLog();
    const second = await target.sync([configMap('a'), deployment('web')], { previousInventory: first.inventory });
    // THEN the first creates, the second changes nothing and writes nothing
    expect(actions(first.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'created', 'Deployment/shop/web': 'created' });
    expect(actions(second.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'unchanged', 'Deployment/shop/web': 'unchanged' });
    expect(writes(c)).toBe(0);
    const live = c.server.get('v1', 'ConfigMap', 'shop', 'a') as KubeObject & { metadata: { labels: object; annotations: object; managedFields: { manager: string }[] } };
    expect(live.metadata.labels).toEqual({ [TARGET_LABEL]: targetLabelValue('acme/shop/web') });
    expect(live.metadata.annotations).toEqual({ 'driftless.dev/target-id': 'acme/shop/web' });
    expect(live.metadata.managedFields.map((m) => m.manager)).toEqual(['driftless']);
    expect(first.inventory).toHaveLength(2);
  });

  it('writes exactly the objects that change', async () => {
    const target = c.target();
    const objects = Array.from({ length: 10 }, (_, i) => configMap(`cm-${i}`));
    const first = await target.sync(objects, { previousInventory: [] });
    c.server.resetLog();
    objects[3] = configMap('cm-3', { k: 'changed' });
    const second = await target.sync(objects, { previousInventory: first.inventory });
    expect(second.changeSet.entries.filter((e) => e.action === 'configured').map((e) => e.ref.name)).toEqual(['cm-3']);
    expect(c.server.counts().apply).toBe(1);
  });

  it('applies a Namespace and a CRD before the objects that need them, waiting for the CRD to be Established', async () => {
    await c.stop();
    c = await startCluster({ crdEstablishDelayMs: 150 });
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', names: { kind: 'Widget', plural: 'widgets' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true }] },
    };
    const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'fresh' }, spec: { size: 3 } };
    const result = await c.target({ namespace: 'fresh' }).sync([widget, configMap('in-fresh'), crd, namespace('fresh')], { previousInventory: [] });
    expect(result.error).toBeUndefined();
    expect(actions(result.changeSet.entries)).toEqual({
      'CustomResourceDefinition/widgets.example.com': 'created',
      'Namespace/fresh': 'created',
      'ConfigMap/fresh/in-fresh': 'created',
      'Widget/fresh/w1': 'created',
    });
    expect(c.server.get('example.com/v1', 'Widget', 'fresh', 'w1')).toBeDefined();
  });

  it('forces conflicts by default and names the manager and field when not forcing', async () => {
    const target = c.target();
    const first = await target.sync([deployment('web', { replicas: 2 })], { previousInventory: [] });
    // Another manager (kubectl scale) takes spec.replicas with an Update.
    await fetch(`${c.server.url}/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=kubectl-scale`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 5 } }),
    });
    const strict = await c.target({ force: false }).sync([deployment('web', { replicas: 3 })], { previousInventory: first.inventory });
    expect(strict.failed).toBe(true);
    expect(details(strict.changeSet.entries)['Deployment/shop/web']).toBe('conflict: .spec.replicas is owned by "kubectl-scale"');
    const forced = await target.sync([deployment('web', { replicas: 3 })], { previousInventory: first.inventory });
    expect(actions(forced.changeSet.entries)).toEqual({ 'Deployment/shop/web': 'configured' });
    expect((c.server.get('apps/v1', 'Deployment', 'shop', 'web')?.spec as { replicas: number }).replicas).toBe(3);
  });

  it('stops before any write when a dry run fails for an object whose prerequisites exist, keeping every result', async () => {
    // GIVEN a synced object that this commit changes, next to an invalid new one
    const first = await c.target().sync([configMap('ok')], { previousInventory: [] });
    c.server.resetLog();
    const invalid = deployment('bad', { replicas: -1 });
    const result = await c.target().sync([configMap('ok', { k: 'changed' }), invalid, deployment('fine')], { previousInventory: first.inventory });
    // THEN the creates were dry-run too, and nothing was written
    expect(result.failed).toBe(true);
    expect(actions(result.changeSet.entries)).toEqual({ 'ConfigMap/shop/ok': 'skipped', 'Deployment/shop/bad': 'failed', 'Deployment/shop/fine': 'skipped' });
    expect(details(result.changeSet.entries)['Deployment/shop/bad']).toContain('Invalid: Deployment.apps "bad" is invalid: [spec.replicas: Invalid value: -1');
    expect(writes(c)).toBe(0);
  });

  it('validates creates by the apply itself when no existing object changes: the rejected one fails the sync and prunes nothing', async () => {
    // GIVEN an empty namespace and a commit of new objects, one invalid
    const stale = await c.target().sync([configMap('stale')], { previousInventory: [] });
    c.server.resetLog();
    const result = await c.target().sync([configMap('ok'), deployment('bad', { replicas: -1 }), deployment('fine')], { previousInventory: stale.inventory });
    // THEN no dry run was sent; the server rejected the invalid object at its apply, the others exist and are in the inventory
    expect(c.server.counts()['dry-run apply'] ?? 0).toBe(0);
    expect(result.failed).toBe(true);
    expect(actions(result.changeSet.entries)).toMatchObject({ 'ConfigMap/shop/ok': 'created', 'Deployment/shop/bad': 'failed', 'Deployment/shop/fine': 'created' });
    expect(details(result.changeSet.entries)['Deployment/shop/bad']).toContain('spec.replicas: Invalid value: -1');
    expect(result.inventory.map(formatRef).sort()).toEqual(['ConfigMap/shop/ok', 'ConfigMap/shop/stale', 'Deployment/shop/fine']);
    expect(c.server.get('v1', 'ConfigMap', 'shop', 'stale')).toBeDefined();
    expect(c.server.counts().delete ?? 0).toBe(0);
  });

  it('stops a later stage that fails, prunes nothing, and records the partial change set', async () => {
    const target = c.target();
    const first = await target.sync([configMap('old')], { previousInventory: [] });
    // A Namespace created by this sync, and an invalid Deployment inside it: only the apply can find out.
    const result = await target.sync([namespace('next'), deployment('bad', { replicas: -1, namespace: 'next' }), configMap('new', {}, 'next')], {
      previousInventory: first.inventory,
    });
    expect(result.failed).toBe(true);
    expect(actions(result.changeSet.entries)).toEqual({ 'Namespace/next': 'created', 'ConfigMap/next/new': 'created', 'Deployment/next/bad': 'failed' });
    expect(c.server.get('v1', 'ConfigMap', 'shop', 'old')).toBeDefined();
    expect(result.inventory.map((r) => formatRef(r)).sort()).toEqual(['ConfigMap/next/new', 'ConfigMap/shop/old', 'Namespace/next']);
  });

  it('fails before any write on a kind the server does not serve', async () => {
    const err = await c
      .target()
      .sync([{ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } }], { previousInventory: [] })
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain('Gadget/g: unknown kind Gadget in example.com/v1');
    expect(writes(c)).toBe(0);
  });

  describe('prune', () => {
    const refs = (names: string[]): ObjectRef[] => names.map((name) => ({ group: '', kind: 'ConfigMap', namespace: 'shop', name }));

    it('deletes only stale objects that carry the target label, and honours prune: disabled', async () => {
      const target = c.target();
      const first = await target.sync([configMap('keep'), configMap('stale'), configMap('protected'), configMap('stolen'), configMap('more')], {
        previousInventory: [],
      });
      // Another owner relabels one object; a person marks another as not prunable.
      c.server.put({ ...c.server.get('v1', 'ConfigMap', 'shop', 'stolen'), metadata: { name: 'stolen', namespace: 'shop', labels: { [TARGET_LABEL]: 'someone-else' } } });
      const prot = c.server.get('v1', 'ConfigMap', 'shop', 'protected') as { metadata: { annotations: Record<string, string> } };
      prot.metadata.annotations[PRUNE_ANNOTATION] = 'disabled';
      c.server.put(prot);
      const second = await target.sync([configMap('keep'), configMap('more')], { previousInventory: first.inventory });
      expect(actions(second.changeSet.entries)).toMatchObject({
        'ConfigMap/shop/stale': 'deleted',
        'ConfigMap/shop/protected': 'skipped',
        'ConfigMap/shop/stolen': 'skipped',
      });
      expect(c.server.get('v1', 'ConfigMap', 'shop', 'stale')).toBeUndefined();
      expect(c.server.get('v1', 'ConfigMap', 'shop', 'stolen')).toBeDefined();
      expect(c.server.get('v1', 'ConfigMap', 'shop', 'protected')).toBeDefined();
      expect(second.inventory.map((r) => r.name).sort()).toEqual(['keep', 'more']);
    });

    it('deletes nothing on an empty render unless allowEmpty is set', async () => {
      const first = await c.target().sync([configMap('a')], { previousInventory: [] });
      const empty = await c.target().sync([], { previousInventory: first.inventory });
      expect(details(empty.changeSet.entries)['ConfigMap/shop/a']).toContain('the render is empty');
      expect(c.server.get('v1', 'ConfigMap', 'shop', 'a')).toBeDefined();
      const allowed = await c.target({ prune: { enabled: true, allowEmpty: true, allowKinds: [], maxDeleteShare: 1 } }).sync([], { previousInventory: first.inventory });
      expect(actions(allowed.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'deleted' });
    });

    it('stops and reports when it would delete more than maxDeleteShare of the inventory', async () => {
      const first = await c.target().sync([configMap('a'), configMap('b'), configMap('c')], { previousInventory: [] });
      const result = await c.target().sync([configMap('a')], { previousInventory: first.inventory });
      expect(result.failed).toBe(true);
      expect(result.error).toContain('would delete 2 of 3 objects, more than prune.maxDeleteShare 0.5');
      expect(c.server.get('v1', 'ConfigMap', 'shop', 'b')).toBeDefined();
      expect(result.inventory.map((r) => r.name).sort()).toEqual(['a', 'b', 'c']);
    });

    it('needs allowKinds to delete a Namespace', async () => {
      const target = c.target({ prune: { enabled: true, allowEmpty: false, allowKinds: [], maxDeleteShare: 1 } });
      const first = await target.sync([namespace('temp'), configMap('a')], { previousInventory: [] });
      const second = await target.sync([configMap('a')], { previousInventory: first.inventory });
      expect(details(second.changeSet.entries)['Namespace/temp']).toBe('not pruned: deleting a Namespace needs prune.allowKinds: [Namespace]');
      expect(second.inventory.map(formatRef)).toContain('Namespace/temp');
      const third = await c
        .target({ prune: { enabled: true, allowEmpty: false, allowKinds: ['Namespace'], maxDeleteShare: 1 } })
        .sync([configMap('a')], { previousInventory: second.inventory });
      expect(actions(third.changeSet.entries)['Namespace/temp']).toBe('deleted');
    });

    it('keeps objects that failed to delete in the inventory', async () => {
      const target = c.target({ prune: { enabled: true, allowEmpty: false, allowKinds: [], maxDeleteShare: 1 } });
      const first = await target.sync([configMap('a'), configMap('b')], { previousInventory: [] });
      c.server.faults.push({ method: 'DELETE', status: 500, times: 10 });
      const second = await target.sync([configMap('a')], { previousInventory: first.inventory });
      expect(second.failed).toBe(true);
      expect(actions(second.changeSet.entries)['ConfigMap/shop/b']).toBe('failed');
      expect(second.inventory.map((r) => r.name).sort()).toEqual(['a', 'b']);
      expect(refs(['a', 'b']).length).toBe(2);
    });
  });

  describe('grants and ownership', () => {
    const grant = { repository: 'acme/shop', namespaces: ['shop'], clusterScoped: [], adopt: false, pruneKinds: [] as string[] };

    it('adopts an existing object when no registry limits it (CLI without --registry), recording it as adopted', async () => {
      c.server.put({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'old', namespace: 'shop', managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] },
        data: { k: 'old' },
      });
      const result = await c.target().sync([configMap('old')], { previousInventory: [] });
      expect(actions(result.changeSet.entries)).toEqual({ 'ConfigMap/shop/old': 'adopted' });
      expect(result.inventory).toEqual([
        { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'old', origin: 'adopted', digest: expect.any(String), resourceVersion: expect.any(String) },
      ]);
    });

    it('refuses the same object under a grant without adopt, before any write', async () => {
      c.server.put({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'old', namespace: 'shop', managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] },
        data: { k: 'old' },
      });
      c.server.resetLog();
      const result = await c.target({ grant }).sync([configMap('old'), configMap('new')], { previousInventory: [] });
      expect(result.failed).toBe(true);
      expect(result.error).toBe(
        "ConfigMap/shop/old exists and is not managed by acme/shop/web (managers: kubectl-create); the registry's `adopt` lets this repository take such objects over; nothing was applied",
      );
      expect(actions(result.changeSet.entries)).toEqual({ 'ConfigMap/shop/old': 'failed', 'ConfigMap/shop/new': 'skipped' });
      expect(writes(c)).toBe(0);
    });

    it('does not prune a protected kind the registry does not grant, even when allowKinds asks', async () => {
      const prune = { enabled: true, allowEmpty: false, allowKinds: ['Namespace'], maxDeleteShare: 1 };
      const first = await c.target({ prune, grant: { ...grant, namespaces: ['shop', 'temp'] } }).sync([namespace('temp'), configMap('a')], { previousInventory: [] });
      const second = await c.target({ prune, grant: { ...grant, namespaces: ['shop', 'temp'] } }).sync([configMap('a')], { previousInventory: first.inventory });
      expect(details(second.changeSet.entries)['Namespace/temp']).toBe("not pruned: deleting a Namespace needs the registry's pruneKinds to grant Namespace");
      expect(c.server.get('v1', 'Namespace', undefined, 'temp')).toBeDefined();
    });

    it('refuses an object created by someone else between the plan and the apply of its new namespace', async () => {
      // The Namespace does not exist at plan time; right after driftless creates it, another actor creates the ConfigMap.
      const racing: KubeClient = Object.assign(Object.create(c.client) as KubeClient, {
        apply: async (...args: Parameters<KubeClient['apply']>) => {
          const res = await c.client.apply(...args);
          if (!args[2].dryRun && args[1].kind === 'Namespace') {
            c.server.put({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'x', namespace: 'fresh', managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] },
              data: { k: 'theirs' },
            });
          }
          return res;
        },
      });
      const target = new KubernetesTarget(racing, { id: 'acme/shop/web', namespace: 'shop', pollMs: 20, grant: { ...grant, namespaces: ['shop', 'fresh'] } });
      const result = await target.sync([namespace('fresh'), configMap('x', { k: 'ours' }, 'fresh')], { previousInventory: [] });
      expect(result.failed).toBe(true);
      expect(details(result.changeSet.entries)['ConfigMap/fresh/x']).toBe(
        "ConfigMap/fresh/x exists and is not managed by acme/shop/web (managers: kubectl-create); the registry's `adopt` lets this repository take such objects over",
      );
      expect((c.server.get('v1', 'ConfigMap', 'fresh', 'x') as { data: object }).data).toEqual({ k: 'theirs' });
      expect(result.inventory.map(formatRef)).toEqual(['Namespace/fresh']);
    });

    it('deletes with uid and resourceVersion preconditions: a changed object is not deleted', async () => {
      await c.target().sync([configMap('a')], { previousInventory: [] });
      const live = c.server.get('v1', 'ConfigMap', 'shop', 'a') as { metadata: { uid: string; resourceVersion: string } };
      const info = (await c.client.discover()).get('v1/ConfigMap');
      if (!info) throw new Error('no ConfigMap in discovery');
      const loc = { info, namespace: 'shop', name: 'a' };
      await expect(c.client.delete(loc, { preconditions: { uid: 'another-uid' } })).rejects.toThrow(
        `409 Conflict: Operation cannot be fulfilled on configmaps "a": Precondition failed: UID in precondition: another-uid, UID in object meta: ${live.metadata.uid}`,
      );
      await expect(c.client.delete(loc, { preconditions: { uid: live.metadata.uid, resourceVersion: '1' } })).rejects.toThrow('Precondition failed: ResourceVersion');
      expect(c.server.get('v1', 'ConfigMap', 'shop', 'a')).toBeDefined();
      expect(await c.client.delete(loc, { preconditions: { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion } })).toBe('deleted');
    });
  });

  describe('resilience', () => {
    it('retries 429 (honouring Retry-After), 500 and dropped connections', async () => {
      c.server.faults.push({ method: 'PATCH', status: 429, retryAfterSeconds: 0, times: 2 }, { method: 'PATCH', status: 500 }, { method: 'PATCH', drop: true });
      const result = await c.target().sync([configMap('a')], { previousInventory: [] });
      expect(result.error).toBeUndefined();
      expect(actions(result.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'created' });
    });

    it('gives up at the deadline', async () => {
      c.server.latencyMs = 300;
      const err = await c
        .target()
        .sync([configMap('a')], { previousInventory: [], signal: AbortSignal.timeout(100) })
        .catch((e: unknown) => e);
      expect((err as Error).message).toContain('deadline reached');
    });

    it('reports an API server that keeps failing with its status', async () => {
      c.server.faults.push({ status: 500, times: 100 });
      const err = await c
        .target()
        .sync([configMap('a')], { previousInventory: [] })
        .catch((e: unknown) => e);
      expect((err as Error).message).toContain('500 InternalError');
    });
  });

  describe('health wait', () => {
    it('waits for a Deployment rollout and reports it ready', async () => {
      // A long timeout costs nothing (the wait ends when the rollout does) and holds on a loaded machine.
      const target = c.target({ wait: { enabled: true, timeoutMs: 25_000 } });
      const done = target.sync([deployment('web', { replicas: 2 })], { previousInventory: [] });
      // Play the controller: once the apply has created the Deployment (however long that takes), the rollout completes.
      let settled = false;
      void done.finally(() => (settled = true));
      for (;;) {
        const d = c.server.get('apps/v1', 'Deployment', 'shop', 'web') as { metadata: { generation: number } } | undefined;
        if (d) {
          c.server.setStatus('apps/v1', 'Deployment', 'shop', 'web', {
            observedGeneration: d.metadata.generation,
            replicas: 2,
            updatedReplicas: 2,
            availableReplicas: 2,
            readyReplicas: 2,
          });
          break;
        }
        if (settled) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const result = await done;
      expect(result.error).toBeUndefined();
      expect(result.health['Deployment/shop/web']).toEqual({ status: 'ready', message: '2 replicas available' });
    });

    it('fails the sync when the wait times out, naming the object', async () => {
      const result = await c.target({ wait: { enabled: true, timeoutMs: 200 } }).sync([deployment('web')], { previousInventory: [] });
      expect(result.failed).toBe(true);
      expect(result.error).toContain('Deployment/shop/web in-progress (timed out');
    });
  });

  it('never puts Secret values in a change set', async () => {
    const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' } };
    const result = await c.target().sync([secret], { previousInventory: [] });
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });
});
