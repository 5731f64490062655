import { describe, expect, it } from 'vitest';
import { LedgerConflictError } from '../../../lib/ledger/dynamodb-ledger.js';
import type { Lease } from '../../../lib/ledger/ledger.js';
import { holdLease, LeaseLostError } from '../../../lib/reconcile/lease.js';

const lease: Lease = { targetId: 'acme/shop/web', holder: 'h', token: 3, expiresAt: 0 };

describe('holdLease', () => {
  it('renews on check and goes on while the ledger confirms the lease', async () => {
    let now = 1000;
    let renewals = 0;
    const held = holdLease({ renewLease: async (l, ttl) => (renewals++, { ...l, expiresAt: now + ttl }) }, { ...lease, expiresAt: now + 60_000 }, 60_000, {
      heartbeatMs: 10_000_000,
      now: () => now,
    });
    await held.check('the resources stage');
    now += 50_000;
    await held.check('prune');
    expect(renewals).toBe(2);
    expect(held.lost).toBeUndefined();
    expect(held.signal.aborted).toBe(false);
    held.stop();
  });

  it('marks the lease lost, aborts the holder and refuses the next stage when the fence refuses the renewal', async () => {
    const held = holdLease(
      { renewLease: async () => Promise.reject(new LedgerConflictError('acme/shop/web: lease 3 of h is no longer held; UpdateItem (renew lease) refused')) },
      { ...lease, expiresAt: Date.now() + 60_000 },
      60_000,
      { heartbeatMs: 10_000_000 },
    );
    await expect(held.check('the resources stage')).rejects.toBeInstanceOf(LeaseLostError);
    expect(held.lost).toMatch(/taken over or expired/);
    expect(held.signal.aborted).toBe(true);
    held.stop();
  });

  it('goes on through an unreachable ledger while more than half the TTL is left, then stops', async () => {
    let now = 0;
    const held = holdLease(
      { renewLease: async () => Promise.reject(new Error('ledger table t: UpdateItem (renew lease) failed: TimeoutError')) },
      { ...lease, expiresAt: 60_000 },
      60_000,
      {
        heartbeatMs: 10_000_000,
        now: () => now,
      },
    );
    now = 10_000;
    await held.check('the definitions stage');
    expect(held.lost).toBeUndefined();
    now = 40_000;
    await expect(held.check('the resources stage')).rejects.toThrow(/^lease lost before the resources stage: cannot confirm lease 3/);
    held.stop();
  });

  it('renews with the heartbeat while the holder works', async () => {
    let renewals = 0;
    const held = holdLease({ renewLease: async (l, ttl) => (renewals++, { ...l, expiresAt: Date.now() + ttl }) }, { ...lease, expiresAt: Date.now() + 300 }, 300, {
      heartbeatMs: 20,
    });
    while (renewals < 2) await new Promise((r) => setTimeout(r, 10));
    held.stop();
    const after = renewals;
    await new Promise((r) => setTimeout(r, 100));
    // At most a beat already under way when it stopped.
    expect(renewals - after).toBeLessThanOrEqual(1);
  });
});
