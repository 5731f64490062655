import type { Ledger, TargetState } from '../../lib/ledger/ledger.js';
import type { ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import type { CommitStatus, RepositorySource } from '../../lib/source/repository-source.js';
import { MemoryFileTree } from '../../lib/render/file-tree.js';

/** The slice of the ledger the webhook uses, in memory. */
export class InMemoryWebhookLedger implements Pick<Ledger, 'hasDelivery' | 'recordDelivery' | 'listTargets'> {
  readonly deliveries = new Set<string>();
  targets: TargetState[] = [];
  async hasDelivery(id: string) {
    return this.deliveries.has(id);
  }
  async recordDelivery(id: string) {
    if (this.deliveries.has(id)) return 'duplicate' as const;
    this.deliveries.add(id);
    return 'recorded' as const;
  }
  async listTargets(options: { repository?: string } = {}) {
    return this.targets.filter((t) => !options.repository || t.repository === options.repository);
  }
}

/** A source that serves fixed files for every commit and records statuses. */
export class StaticSource implements RepositorySource {
  readonly statuses: { sha: string; status: CommitStatus }[] = [];
  reads = 0;
  constructor(private readonly files: Record<string, string>) {}
  async headAndChanges() {
    return { head: 'f'.repeat(40) };
  }
  async snapshot() {
    return new MemoryFileTree(this.files);
  }
  async readFile(_repo: string, _sha: string, path: string) {
    this.reads++;
    return this.files[path];
  }
  async headIfChanged() {
    return { head: 'f'.repeat(40) };
  }
  async setStatus(_repo: string, sha: string, status: CommitStatus) {
    this.statuses.push({ sha, status });
  }
}

/** Records hand-offs; fails them while `failing` is set. */
export const recordingHandOff = () => {
  const handed: ReconcileRequest[] = [];
  const state = { failing: false };
  return {
    handed,
    state,
    handOff: async (r: ReconcileRequest) => {
      if (state.failing) throw new Error('invoke failed');
      handed.push(r);
    },
  };
};
