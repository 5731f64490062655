import type { Registry } from '../config/schema.js';
import type { Ledger } from '../ledger/ledger.js';
import type { ReconcileRequest } from '../reconcile/reconcile-target.js';
import type { RepositorySource } from '../source/repository-source.js';

export interface SweepDeps {
  readonly ledger: Ledger;
  readonly source: RepositorySource;
  readonly registry: Registry;
  readonly handOff: (request: ReconcileRequest) => Promise<void>;
}

/**
 * Catches what webhooks missed (GitHub never redelivers a failed delivery on its own): for each registered
 * repository and tracked branch, one conditional request for the head (ETag kept in the ledger); a head that
 * differs from the last processed one starts the same work a webhook would. Targets left with a pending head
 * and no lease are started too.
 */
export const sweep = async (deps: SweepDeps): Promise<{ handedOff: ReconcileRequest[] }> => {
  const handedOff: ReconcileRequest[] = [];
  for (const repository of Object.keys(deps.registry.repositories)) {
    const targets = await deps.ledger.listTargets({ repository, withInventory: false });
    const branches = new Map<string, string[]>();
    for (const t of targets) {
      const branch = (t.config as { branch?: string } | undefined)?.branch;
      if (branch) branches.set(branch, [...(branches.get(branch) ?? []), t.target]);
    }
    for (const [branch, names] of branches) {
      const stored = await deps.ledger.getHead(repository, branch);
      const r = await deps.source.headIfChanged(repository, branch, stored?.etag);
      const head = 'notModified' in r ? stored?.head : r.head;
      const changed = !('notModified' in r) && r.head !== stored?.head;
      for (const name of names) {
        const t = targets.find((x) => x.target === name);
        const missed = changed && t?.lastAttemptedCommit !== head;
        const free = !t?.lease || t.lease.expiresAt < Date.now();
        // Work left behind: a pending head nobody took, or a stack execution still to be finished.
        const stuck = free && (Boolean(t?.pendingHead) || t?.lastResult === 'in-progress');
        if (!missed && !stuck) continue;
        const req: ReconcileRequest = { repository, target: name, branch, ...(head ? { commit: head } : {}), trigger: 'sweeper' };
        await deps.handOff(req);
        handedOff.push(req);
      }
      if (!('notModified' in r)) await deps.ledger.putHead(repository, branch, { head: r.head, ...(r.etag ? { etag: r.etag } : {}) });
    }
  }
  return { handedOff };
};
