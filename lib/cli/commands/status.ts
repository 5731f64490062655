import { parseCommand } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { paint, paintResult, timestamp, type Io, toJson } from '../output.js';
import { table } from '../table.js';
import { STATUS_COMMAND } from '../specs/status.js';

/** `driftless status`: one line per target: last commit, result, when, suspended, drift. */
export const statusCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(STATUS_COMMAND, args);
  const { ledger, close } = await ledgerFromEnv(io.env, io.cwd);
  try {
    const targets = await ledger.listTargets(values.repo ? { repository: values.repo } : {});
    const rows = targets.map((t) => ({
      target: t.targetId,
      commit: t.lastAttemptedCommit ?? null,
      appliedCommit: t.lastAppliedCommit ?? null,
      result: t.lastResult ?? null,
      when: t.lastSyncAt ?? null,
      suspended: t.suspended,
      // none is a clean check; never checked is unknown.
      drift: t.drift ? (t.drift.status === 'none' ? 'clean' : t.drift.status) : 'unknown',
      pendingHead: t.pendingHead ?? null,
      objects: t.inventory.length,
    }));
    if (values.json) {
      io.stdout(toJson(rows));
      return 0;
    }
    if (!rows.length) {
      io.stdout('no targets recorded\n');
      return 0;
    }
    io.stdout(
      table(
        io,
        ['TARGET', 'COMMIT', 'RESULT', 'WHEN', 'SUSPENDED', 'DRIFT', 'OBJECTS'],
        rows.map((r) => [
          r.target,
          r.commit?.slice(0, 12) ?? '-',
          r.result ? paintResult(io, r.result) : '-',
          r.when ? timestamp(r.when) : '-',
          r.suspended ? paint(io, 'yellow', 'yes') : 'no',
          paint(io, r.drift === 'drifted' ? 'red' : r.drift === 'clean' || r.drift === 'healed' ? 'green' : '', r.drift),
          String(r.objects),
        ]),
      ),
    );
    return 0;
  } finally {
    close();
  }
};
