import type { SyncRecord } from '../../ledger/ledger.js';
import { formatCountMap } from '../../core/change-set.js';
import { parseCommand, UsageError } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { duration, paintResult, timestamp, type Io, toJson } from '../output.js';
import { table } from '../table.js';
import { HISTORY_COMMAND } from '../specs/history.js';

/** `driftless history`: syncs newest first, one line each. */
export const historyCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(HISTORY_COMMAND, args);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
  if (values.target && !values.repo) throw new UsageError('--target needs --repo OWNER/NAME');
  const { ledger, close } = await ledgerFromEnv(io.env, io.cwd);
  try {
    let records: SyncRecord[] = [];
    if (values.repo) {
      let cursor: string | undefined;
      do {
        const page = await ledger.history({
          ...(values.target ? { targetId: `${values.repo}/${values.target}` } : { repository: values.repo }),
          limit: limit - records.length,
          ...(cursor ? { cursor } : {}),
        });
        records.push(...page.items);
        cursor = page.cursor;
      } while (cursor && records.length < limit);
    } else {
      records = await ledger.recentSyncs({ limit });
    }
    if (values.json) {
      io.stdout(toJson(records.map(({ changeSet: _c, ...r }) => r)));
      return 0;
    }
    if (!records.length) {
      io.stdout('no syncs recorded\n');
      return 0;
    }
    io.stdout(
      table(
        io,
        ['WHEN', 'TARGET', 'COMMIT', 'AUTHOR', 'RESULT', 'CHANGES', 'DURATION'],
        records.map((r) => [
          timestamp(r.startedAt),
          r.targetId,
          r.commit.slice(0, 12),
          r.author ?? '',
          paintResult(io, r.result),
          r.counts ? formatCountMap(r.counts) : '',
          r.durationMs !== undefined ? duration(r.durationMs) : '',
        ]),
      ),
    );
    return 0;
  } finally {
    close();
  }
};
