import { formatCounts, hasChanges, type ChangeSet } from '../../core/change-set.js';
import type { TargetApply } from '../../core/target.js';
import { paintAction, type Io } from '../output.js';
import { table } from '../table.js';

/** A stack change set as a table: action, logical id, resource type, replacement. */
export const changeTable = (io: Io, cs: ChangeSet): string =>
  table(
    io,
    ['ACTION', 'LOGICAL ID', 'TYPE', 'REPLACEMENT'],
    cs.entries.map((e) => [
      paintAction(io, e.action),
      e.ref.name,
      e.ref.kind,
      e.detail?.includes('replacement: conditional') ? 'Conditional' : e.detail?.includes('replacement') ? 'True' : e.action === 'configured' ? 'False' : '',
    ]),
  );

/** `driftless sync --dry-run` of a stack target: the planned change set (created, described, deleted again). */
export const printStackPlan = (io: Io, cs: ChangeSet): void => {
  io.stdout(`${changeTable(io, cs)}dry run: ${formatCounts(cs.entries)}\n`);
};

/** `driftless sync` of a stack target: the executed change set and how the stack ended. */
export const printStackApply = (io: Io, applied: TargetApply): void => {
  io.stdout(changeTable(io, applied.changeSet));
  const result = applied.result === 'succeeded' && !hasChanges(applied.changeSet.entries) ? 'unchanged' : applied.result;
  const tail = applied.result === 'failed' ? ` — ${applied.error ?? 'failed'}` : applied.result === 'in-progress' ? ` — stack ${applied.status ?? 'in progress'}` : '';
  io.stdout(`${result}: ${formatCounts(applied.changeSet.entries)}${tail}\n`);
};
