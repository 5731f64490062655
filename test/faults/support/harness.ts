import { expect } from 'vitest';
import { refKey } from '../../../lib/core/inventory.js';
import type { ObjectRef } from '../../../lib/core/object-ref.js';
import { TARGET_LABEL, targetLabelValue } from '../../../lib/core/ownership.js';
import type { Ledger, SyncRecord } from '../../../lib/ledger/ledger.js';
import type { KubeApiServer } from '../../kube-api-server/server.js';

/** Waits until `check` is true (polling), or fails after `ms`. */
export const until = async (check: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not reached`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Whether the API server has seen a write (not a dry run) of `kind` (PATCH: server-side apply). */
export const sawWrite = (server: KubeApiServer, pathPart: string): boolean =>
  server.requests.some((r) => r.method === 'PATCH' && !r.dryRun && r.path.includes(pathPart) && r.status > 0 && r.status < 400);

/** Every sync record of a target (all pages). */
export const allSyncs = async (ledger: Ledger, targetId: string): Promise<SyncRecord[]> => {
  const out: SyncRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await ledger.history({ targetId, limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
};

/**
 * The ledger's final state after a fault: no `running` record, no running marker, the lease free, and every
 * object on the cluster that carries the target's label in the target's inventory.
 */
export const expectSettled = async (ledger: Ledger, server: KubeApiServer, targetId: string, kinds: [apiVersion: string, kind: string][]): Promise<void> => {
  const syncs = await allSyncs(ledger, targetId);
  expect(syncs.filter((s) => s.result === 'running')).toEqual([]);
  const state = await ledger.getState(targetId);
  expect(state?.runningSyncId).toBeUndefined();
  expect(state?.lease).toBeUndefined();
  const inventory = new Set((state?.inventory ?? []).map(refKey));
  const label = targetLabelValue(targetId);
  for (const [apiVersion, kind] of kinds) {
    for (const o of server.list(apiVersion, kind)) {
      const meta = o.metadata as { name: string; namespace?: string; labels?: Record<string, string> };
      if (meta.labels?.[TARGET_LABEL] !== label) continue;
      const ref: ObjectRef = {
        group: apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '',
        kind,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        name: meta.name,
      };
      expect(inventory.has(refKey(ref)), `${refKey(ref)} of ${targetId} is in the inventory`).toBe(true);
    }
  }
};

export { gatedClient } from './gated-client.js';
