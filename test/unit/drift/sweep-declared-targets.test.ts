import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { sweep, type SweepDeps } from '../../../lib/drift/sweep.js';
import type { Ledger, TargetState } from '../../../lib/ledger/ledger.js';
import type { ReconcileRequest } from '../../../lib/reconcile/reconcile-target.js';
import type { RepositorySource } from '../../../lib/source/repository-source.js';

const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);
const NOW = Date.parse('2026-12-04T12:00:00Z');
const registry = parseRegistry(JSON.stringify({ repositories: { 'acme/shop': { clusters: ['dev'], namespaces: ['shop-*'] } }, clusters: { dev: { context: 'dev' } } }));
const CONFIG = `version: 1\ntargets:\n${['web', 'api', 'jobs'].map((n) => `  - name: ${n}\n    path: deploy/${n}\n    cluster: dev\n    namespace: shop-${n}\n`).join('')}`;

const state = (target: string, extra: Partial<TargetState> = {}): TargetState => ({
  targetId: `acme/shop/${target}`,
  repository: 'acme/shop',
  target,
  suspended: false,
  inventory: [],
  dependencies: [],
  config: { branch: 'main' },
  lastAttemptedCommit: OLD,
  lastResult: 'succeeded',
  lastSyncAt: new Date(NOW - 60_000).toISOString(),
  ...extra,
});

/** A ledger holding `states` and the branch head `stored`; a source whose `main` is at `head`. */
const world = (states: TargetState[], stored: string | undefined, head: string, config: string | undefined = CONFIG) => {
  const handedOff: ReconcileRequest[] = [];
  const heads = new Map<string, { head: string; etag?: string }>(stored ? [['acme/shop main', { head: stored, etag: stored }]] : []);
  const reads: string[] = [];
  const deps: SweepDeps = {
    registry,
    now: () => NOW,
    ledger: {
      listTargets: async () => states,
      getHead: async (r: string, b: string) => heads.get(`${r} ${b}`),
      putHead: async (r: string, b: string, h: { head: string; etag?: string }) => void heads.set(`${r} ${b}`, h),
    } as unknown as Ledger,
    source: {
      headIfChanged: async (_r: string, _b: string, etag?: string) => (etag === head ? { notModified: true } : { head, etag: head }),
      readFile: async (_r: string, sha: string, path: string) => (reads.push(`${sha.slice(0, 1)}:${path}`), config),
    } as unknown as RepositorySource,
    handOff: async (req) => void handedOff.push(req),
  };
  return { deps, handedOff, reads };
};

describe('sweep, with the targets driftless.yaml declares', () => {
  it('starts the targets a missed push added (declared at the new head, never seen by the ledger), once', async () => {
    // GIVEN web and api synced at the old head, and a push (its webhook lost) that moved main and added jobs
    const w = world([state('web'), state('api')], OLD, NEW);
    const first = await sweep(w.deps);
    // THEN all three start at the new head: web and api missed it, jobs is new
    expect(first.handedOff.map((r) => [r.target, r.commit]).sort()).toEqual([
      ['api', NEW],
      ['jobs', NEW],
      ['web', NEW],
    ]);
    expect(w.reads).toEqual(['b:driftless.yaml']);
    // AND the next sweep, the head unchanged, reads nothing and starts nothing
    w.handedOff.length = 0;
    expect((await sweep(w.deps)).handedOff).toEqual([]);
    expect(w.reads).toHaveLength(1);
  });

  it('recovers a target whose first sync never finished (no config in the ledger) when its holder is gone, not while it holds the lease', async () => {
    const crashed = state('jobs', { config: undefined, lastAttemptedCommit: undefined, lastResult: undefined, runningSyncId: 's-1' });
    const held = world(
      [state('web', { lastAttemptedCommit: NEW }), state('api', { lastAttemptedCommit: NEW }), { ...crashed, lease: { holder: 'h', token: 3, expiresAt: NOW + 30_000 } }],
      NEW,
      NEW,
    );
    expect((await sweep(held.deps)).handedOff).toEqual([]);
    const gone = world([state('web', { lastAttemptedCommit: NEW }), state('api', { lastAttemptedCommit: NEW }), crashed], NEW, NEW);
    expect((await sweep(gone.deps)).handedOff.map((r) => r.target)).toEqual(['jobs']);
  });

  it('with catchUp (a restarted serve), treats the head as new: every target not attempted at it starts', async () => {
    const w = world([state('web', { lastAttemptedCommit: NEW }), state('api')], NEW, NEW);
    expect((await sweep(w.deps)).handedOff).toEqual([]);
    const caught = await sweep({ ...w.deps, catchUp: true });
    expect(caught.handedOff.map((r) => r.target).sort()).toEqual(['api', 'jobs']);
  });

  it('reports a broken driftless.yaml at a new head as skipped, and still starts the targets the ledger knows', async () => {
    const w = world([state('web')], OLD, NEW, 'version: 1\ntargets:\n  - name: web\n    path: [\n');
    const out = await sweep(w.deps);
    expect(out.handedOff.map((r) => r.target)).toEqual(['web']);
    expect(out.skipped).toEqual([{ repository: 'acme/shop', head: NEW, reason: expect.stringContaining('driftless.yaml') }]);
  });
});
