import { describe, expect, it } from 'vitest';
import type { TargetCheck } from '../../../lib/drift/check-target.js';
import { runDrift } from '../../../lib/drift/run-drift.js';
import { retryDue, RETRY_POLICY, sweepReason } from '../../../lib/drift/sweep.js';
import type { DriftRecord, DriftStatus, Ledger, TargetState } from '../../../lib/ledger/ledger.js';

const HEAD = 'a'.repeat(40);
const NOW = Date.parse('2026-12-01T12:00:00Z');
const target = (extra: Partial<TargetState> = {}): TargetState => ({
  targetId: 'acme/shop/web',
  repository: 'acme/shop',
  target: 'web',
  suspended: false,
  inventory: [],
  dependencies: [],
  config: { branch: 'main' },
  lastAttemptedCommit: HEAD,
  lastResult: 'succeeded',
  lastSyncAt: new Date(NOW - 1000).toISOString(),
  ...extra,
});

describe('sweepReason', () => {
  it('leaves a target at the head, and one whose lease is held', () => {
    expect(sweepReason(target(), HEAD, false, NOW)).toBeUndefined();
    expect(sweepReason(target({ runningSyncId: 's', lease: { holder: 'h', token: 1, expiresAt: NOW + 1000 } }), HEAD, false, NOW)).toBeUndefined();
  });

  it('starts a target whose holder crashed (a running marker, the lease free)', () => {
    expect(sweepReason(target({ runningSyncId: 's', lease: { holder: 'h', token: 1, expiresAt: NOW - 1 } }), HEAD, false, NOW)).toBe('its holder stopped while running');
    expect(sweepReason(target({ runningSyncId: 's' }), HEAD, false, NOW)).toBe('its holder stopped while running');
  });

  it('does not restart a head that failed until the backoff has passed; a new head starts it at once', () => {
    const failed = target({ lastResult: 'failed', failedAttempts: 1 });
    expect(sweepReason(failed, HEAD, false, NOW)).toBeUndefined();
    expect(sweepReason({ ...failed, pendingHead: HEAD }, HEAD, false, NOW)).toBeUndefined();
    expect(sweepReason(failed, HEAD, false, NOW + RETRY_POLICY.baseMs)).toBe('retry of a failed head');
    expect(sweepReason(failed, 'b'.repeat(40), true, NOW)).toBe('a head it missed');
  });

  it('starts pending heads and stack executions left in progress', () => {
    expect(sweepReason(target({ pendingHead: 'b'.repeat(40) }), HEAD, false, NOW)).toBe('a pending head');
    expect(sweepReason(target({ lastResult: 'in-progress' }), HEAD, false, NOW)).toBe('a stack execution to finish');
  });
});

describe('retryDue', () => {
  it('doubles the wait per failure and gives up after the last attempt', () => {
    const at = (failedAttempts: number, waitedMs: number) => retryDue({ failedAttempts, lastSyncAt: new Date(NOW).toISOString() }, NOW + waitedMs);
    expect(at(1, 2 * 60_000 - 1)).toBe(false);
    expect(at(1, 2 * 60_000)).toBe(true);
    expect(at(2, 4 * 60_000 - 1)).toBe(false);
    expect(at(3, 8 * 60_000)).toBe(true);
    expect(at(RETRY_POLICY.maxAttempts, 24 * 3600_000)).toBe(false);
  });
});

/** The slice of the ledger a drift run uses, in memory. */
class DriftLedger {
  readonly drift = new Map<string, DriftRecord>();
  constructor(readonly targets: TargetState[]) {}
  async listTargets() {
    return this.targets;
  }
  async latestDrift(id: string) {
    return this.drift.get(id);
  }
  async putDrift(r: DriftRecord) {
    this.drift.set(r.targetId, r);
    this.summary(r.targetId, { status: r.status === 'drifted' ? 'drifted' : 'none', checkedAt: r.checkedAt });
  }
  async markDriftChecked(id: string, s: { status: DriftStatus; checkedAt: string }) {
    this.summary(id, s);
  }
  private summary(id: string, s: { status: DriftStatus; checkedAt: string }) {
    const i = this.targets.findIndex((t) => t.targetId === id);
    this.targets[i] = { ...(this.targets[i] as TargetState), drift: s };
  }
}

describe('runDrift keeps the drift summary true', () => {
  const check =
    (objects: number, healed = false) =>
    async (targetId: string): Promise<TargetCheck> => ({
      targetId,
      suspended: false,
      healed,
      report: {
        target: targetId,
        checkedAt: '',
        objects: Array.from({ length: objects }, () => ({ ref: { group: '', kind: 'ConfigMap', namespace: 'n', name: 'x' }, state: 'missing' as const })),
        fingerprint: objects ? 'f1' : '',
      },
    });

  it('clean after a clean check, healed after self-heal, clean again once healed', async () => {
    const ledger = new DriftLedger([target()]);
    const deps = { ledger: ledger as unknown as Ledger };
    await runDrift({ ...deps, check: check(0) });
    expect(ledger.targets[0]?.drift?.status).toBe('none');
    const healed = await runDrift({ ...deps, check: check(1, true) });
    expect(healed.changes.map((c) => c.change)).toEqual(['new']);
    expect(ledger.targets[0]?.drift?.status).toBe('healed');
    const after = await runDrift({ ...deps, check: check(0) });
    expect(after.changes.map((c) => c.change)).toEqual(['resolved']);
    expect(ledger.targets[0]?.drift?.status).toBe('none');
  });

  it('reports a removed target once, then no longer checks it', async () => {
    const ledger = new DriftLedger([target({ removed: true })]);
    const checked: string[] = [];
    const deps = { ledger: ledger as unknown as Ledger, check: async (id: string) => (checked.push(id), check(0)(id)) };
    const first = await runDrift(deps);
    expect(first.changes.map((c) => c.change)).toEqual(['removed']);
    expect(ledger.targets[0]?.drift?.status).toBe('removed');
    const second = await runDrift(deps);
    expect(second.changes).toEqual([]);
    expect(checked).toEqual([]);
  });
});
