import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRef } from '../../../lib/core/object-ref.js';
import { TARGET_LABEL, targetLabelValue } from '../../../lib/core/ownership.js';
import { checkTarget } from '../../../lib/drift/check-target.js';
import { runDrift } from '../../../lib/drift/run-drift.js';
import { labelledByTarget } from '../../../lib/targets/kubernetes/labelled-objects.js';
import { pushPayload, REPO, startPipeline } from '../../support/pipeline.js';
import type { Pipeline } from '../../support/manifests.js';

const TARGETS = 3;

describe('runDrift API requests', () => {
  let p: Pipeline;
  const check = (id: string, labelled?: readonly import('../../../lib/core/object-ref.js').ObjectRef[]) => checkTarget(id, p.deps, undefined, labelled);
  const labelled = async (cluster: string) => labelledByTarget(await p.clusters(cluster));

  beforeAll(async () => {
    p = await startPipeline();
    const files: Record<string, string> = {};
    const targets: string[] = [];
    for (let t = 0; t < TARGETS; t++) {
      targets.push(`  - name: t${t}\n    path: deploy/t${t}\n    cluster: dev\n    namespace: shop-t${t}\n`);
      files[`deploy/t${t}/ns.yaml`] = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-t${t}\n`;
      files[`deploy/t${t}/objects.yaml`] = Array.from({ length: 20 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  i: "${i}"\n`).join('---\n');
    }
    const head = p.commit({ 'driftless.yaml': `version: 1\ntargets:\n${targets.join('')}`, ...files });
    await p.deliver('push', pushPayload('0'.repeat(40), head));
    // A stray object labelled for t1 only, outside its inventory.
    p.dev.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', namespace: 'shop-t1', labels: { [TARGET_LABEL]: targetLabelValue(`${REPO}/t1`) } } });
    await runDrift({ ledger: p.ledger, check, labelled }); // warm: discovery and clients
  }, 120_000);
  afterAll(() => p.stop());

  it('lists each kind once per cluster for all of its targets, and sends no dry run for unchanged objects', async () => {
    // GIVEN how many LISTs one discovery of labelled objects takes on this cluster
    p.dev.resetLog();
    await labelledByTarget(await p.clusters('dev'));
    const kinds = p.dev.counts().list ?? 0;
    expect(kinds).toBeGreaterThan(10);
    // WHEN a drift run checks each target with its own discovery, then with the shared one
    p.dev.resetLog();
    const own = await runDrift({ ledger: p.ledger, check: (id) => check(id) });
    const ownLists = p.dev.counts().list ?? 0;
    p.dev.resetLog();
    const shared = await runDrift({ ledger: p.ledger, check, labelled });
    const counts = p.dev.counts();
    // THEN the shared run saves a discovery per target but one, and both find the same drift
    expect(ownLists - (counts.list ?? 0)).toBe((TARGETS - 1) * kinds);
    expect(counts['dry-run apply'] ?? 0).toBe(0);
    expect(counts.get ?? 0).toBe(0);
    const found = (r: typeof own) => r.checks.flatMap((c) => (c.report?.objects ?? []).map((o) => `${c.targetId} ${formatRef(o.ref)} ${o.state}`));
    expect(found(shared)).toEqual([`${REPO}/t1 ConfigMap/shop-t1/stray unmanaged`]);
    expect(found(own)).toEqual(found(shared));
  });

  it('dry-runs an object changed only in fields it does not set once, then records the check: the next run sends none', async () => {
    // GIVEN another controller annotates a ConfigMap (its resourceVersion moves; no field we set changes)
    await fetch(`${p.dev.url}/api/v1/namespaces/shop-t0/configmaps/cm-2?fieldManager=some-controller`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { 'example.com/seen': 'yes' } } }),
    });
    // WHEN two drift runs follow
    p.dev.resetLog();
    const first = await runDrift({ ledger: p.ledger, check, labelled });
    const firstDryRuns = p.dev.counts()['dry-run apply'] ?? 0;
    p.dev.resetLog();
    await runDrift({ ledger: p.ledger, check, labelled });
    // THEN the first dry-runs it and finds no drift; the ledger keeps that check, so the second sends no dry run
    expect(first.checks.find((c) => c.targetId === `${REPO}/t0`)?.report?.objects).toEqual([]);
    expect(firstDryRuns).toBe(1);
    expect((await p.ledger.getState(`${REPO}/t0`))?.checked?.map((e) => e.name)).toEqual(['cm-2']);
    expect(p.dev.counts()['dry-run apply'] ?? 0).toBe(0);
  });

  it('finds an edit by another manager to an owned field with one dry run per edited object, whichever run recorded it', async () => {
    // GIVEN kubectl edits a value the manifest sets: in an object the sync recorded, and in one the last check recorded
    const edit = (path: string) =>
      fetch(`${p.dev.url}${path}?fieldManager=kubectl-edit`, {
        method: 'PATCH',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ data: { i: 'edited' } }),
      });
    await edit('/api/v1/namespaces/shop-t2/configmaps/cm-4');
    await edit('/api/v1/namespaces/shop-t0/configmaps/cm-2');
    p.dev.resetLog();
    const run = await runDrift({ ledger: p.ledger, check, labelled });
    // THEN the run reports both, having dry-run those objects alone
    const fields = (t: string, name: string, desired: string) => [
      { ref: { group: '', kind: 'ConfigMap', namespace: `shop-${t}`, name }, state: 'modified', fields: [{ path: 'data.i', desired, live: 'edited', changedBy: 'kubectl-edit' }] },
    ];
    expect(run.checks.find((c) => c.targetId === `${REPO}/t2`)?.report?.objects).toEqual(fields('t2', 'cm-4', '4'));
    expect(run.checks.find((c) => c.targetId === `${REPO}/t0`)?.report?.objects).toEqual(fields('t0', 'cm-2', '2'));
    expect(p.dev.counts()['dry-run apply']).toBe(2);
  });
});
