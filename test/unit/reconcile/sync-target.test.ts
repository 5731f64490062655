import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { GrantRefusalError } from '../../../lib/core/errors.js';
import type { TargetState } from '../../../lib/ledger/ledger.js';
import { syncTarget, type SyncDeps, type SyncRequest } from '../../../lib/reconcile/sync-target.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import type { TargetSpec } from '../../../lib/targets/target-opener.js';
import { FakeTarget, RecordingRecorder } from '../../fakes/fake-target.js';

const CONFIG = 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n';
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n';

const state = (over: Partial<TargetState> = {}): TargetState => ({
  targetId: 'acme/shop/web',
  repository: 'acme/shop',
  target: 'web',
  suspended: false,
  inventory: [{ group: '', kind: 'ConfigMap', namespace: 'shop', name: 'old' }],
  dependencies: [],
  lastSyncAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const setup = (files: Record<string, string> = {}, deps: Partial<SyncDeps> = {}) => {
  const target = new FakeTarget('acme/shop/web');
  const recorder = new RecordingRecorder();
  const opened: TargetSpec[] = [];
  const req = (over: Partial<SyncRequest> = {}): SyncRequest => ({
    repository: 'acme/shop',
    target: 'web',
    branch: 'main',
    commit: 'c0ffee0000000000000000000000000000000000',
    tree: new MemoryFileTree({ 'driftless.yaml': CONFIG, 'deploy/cm.yaml': CM, ...files }),
    ...over,
  });
  const full: SyncDeps = {
    targets: { open: async (spec) => (opened.push(spec), target), capabilities: async () => undefined },
    recorder,
    ...deps,
  };
  return { target, recorder, opened, req, deps: full };
};

describe('syncTarget', () => {
  it('applies the render through the target and records the outcome with the new state', async () => {
    // GIVEN a target with a recorded inventory
    const { target, recorder, req, deps } = setup();
    // WHEN it syncs
    const outcome = await syncTarget(req({ state: state() }), deps);
    // THEN the target got the render and the recorded inventory, and the recorder the outcome
    expect(outcome.result).toBe('succeeded');
    expect(target.calls.map((c) => c.method)).toEqual(['apply']);
    expect(target.calls[0]?.options.previousInventory).toEqual(state().inventory);
    expect(recorder.started).toBe(1);
    expect(recorder.outcomes).toEqual([outcome]);
    expect(outcome.update).toMatchObject({
      lastAppliedCommit: 'c0ffee0000000000000000000000000000000000',
      dependencies: ['deploy/cm.yaml', 'driftless.yaml'],
      inventory: [{ group: '', kind: 'ConfigMap', namespace: 'shop', name: 'a' }],
    });
    expect(outcome.status).toEqual({ state: 'success', description: '1 created' });
  });

  it.each([
    // [what, driftless.yaml suffix, state, message]
    ['suspended in the ledger (driftless suspend)', '', { suspended: true, suspendedBy: 'octo' }, 'suspended by octo'],
    ['suspended in driftless.yaml', '    suspend: true\n', {}, 'suspended in driftless.yaml'],
  ])('does not open or apply a target %s, and says why', async (_what, suffix, over, message) => {
    const { target, recorder, opened, req, deps } = setup({ 'driftless.yaml': CONFIG + suffix });
    const outcome = await syncTarget(req({ state: state(over) }), deps);
    expect(outcome).toMatchObject({ result: 'skipped', reason: 'suspended', message, status: { state: 'success', description: 'suspended: nothing applied' } });
    expect(opened).toEqual([]);
    expect(target.calls).toEqual([]);
    expect(recorder.started).toBe(0);
    expect(recorder.outcomes).toHaveLength(1);
  });

  it('leaves the objects of a target removed from driftless.yaml in place', async () => {
    const { target, req, deps } = setup({ 'driftless.yaml': CONFIG.replace('name: web', 'name: api') });
    const outcome = await syncTarget(req({ state: state() }), deps);
    expect(outcome).toMatchObject({ result: 'skipped', reason: 'removed', update: { removed: true } });
    expect(outcome.message).toBe('web is no longer in driftless.yaml on main; its objects were left in place');
    expect(target.calls).toEqual([]);
  });

  it('fails before opening the target when the render leaves the registry grant', async () => {
    const registry = parseRegistry('repositories:\n  acme/shop: {clusters: [dev], namespaces: ["team-*"]}\nclusters:\n  dev: {context: dev}\n', 'registry.yaml');
    const { opened, recorder, req, deps } = setup(
      { 'driftless.yaml': CONFIG.replace('namespace: shop', 'namespace: team-a'), 'deploy/cm.yaml': CM.replace('name: a', 'name: a\n  namespace: shop') },
      { registry },
    );
    const outcome = await syncTarget(req(), deps);
    expect(outcome.result).toBe('failed');
    expect(outcome.message).toContain('deploy: ConfigMap/shop/a: namespace "shop" is not allowed for acme/shop');
    expect(opened).toEqual([]);
    expect(recorder.outcomes[0]?.result).toBe('failed');
  });

  it('keeps the recorded inventory when the target refuses the objects before any write', async () => {
    const { target, req, deps } = setup();
    target.applyAnswer = new GrantRefusalError('ConfigMap/shop/a: refused; nothing was applied');
    const outcome = await syncTarget(req({ state: state() }), deps);
    expect(outcome).toMatchObject({ result: 'failed', message: 'ConfigMap/shop/a: refused; nothing was applied' });
    expect(outcome.update.inventory).toEqual(state().inventory);
  });

  it('fails naming the objects that failed, with the inventory the target reports', async () => {
    const { target, req, deps } = setup();
    const ref = { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'a' };
    target.applyAnswer = {
      result: 'failed',
      changeSet: { target: target.id, entries: [{ ref, action: 'failed', detail: 'denied' }] },
      inventory: [ref],
      error: 'apply failed for 1 object(s)',
    };
    const outcome = await syncTarget(req({ state: state() }), deps);
    expect(outcome).toMatchObject({ result: 'failed', message: 'apply failed for 1 object(s)', failures: ['ConfigMap/shop/a: denied'] });
    expect(outcome.update.inventory).toEqual([ref]);
    expect(outcome.update.lastAppliedCommit).toBeUndefined();
  });

  it('plans a dry run and records nothing', async () => {
    const { target, recorder, req, deps } = setup();
    const outcome = await syncTarget(req({ dryRun: true }), deps);
    expect(outcome.result).toBe('planned');
    expect(target.calls.map((c) => c.method)).toEqual(['plan']);
    expect(recorder.outcomes).toEqual([]);
    expect(recorder.started).toBe(0);
  });

  it('lets the target find its inventory when asked to and no sync was recorded', async () => {
    const { target, req, deps } = setup({}, { discoverInventory: true });
    await syncTarget(req({ state: state({ lastSyncAt: undefined }) }), deps);
    expect(target.calls[0]?.options.previousInventory).toBeUndefined();
  });

  it('skips a target this process cannot reach, as an outcome', async () => {
    const { req, deps } = setup(
      {},
      { targets: { open: async () => ({ unreachable: 'stack targets need AWS access, which this reconciler is not given' }), capabilities: async () => undefined } },
    );
    const outcome = await syncTarget(req(), deps);
    expect(outcome).toMatchObject({ result: 'skipped', reason: 'unreachable', status: { description: 'not applied: no AWS access here' } });
  });

  it('fails naming the subject when driftless.yaml is missing', async () => {
    const { req, deps } = setup();
    const outcome = await syncTarget(req({ tree: new MemoryFileTree({ 'deploy/cm.yaml': CM }) }), deps);
    expect(outcome).toMatchObject({ result: 'failed', message: 'driftless.yaml is missing at c0ffee000000' });
  });

  it('checks the lease before each write, naming the stage', async () => {
    const checked: string[] = [];
    const { req, deps } = setup({}, { beforeWrite: async (what) => void checked.push(what) });
    await syncTarget(req(), deps);
    expect(checked).toEqual(['the resources stage']);
  });
});
