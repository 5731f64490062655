import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { ChangeAction, hasChanges } from '../../core/change-set.js';
import { ENV } from '../../core/env-names.js';
import { ReconcilerError } from '../../core/errors.js';
import { formatRef } from '../../core/object-ref.js';
import { comparable, maskSecret } from '../../targets/kubernetes/normalize.js';
import { parseCommand } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { checkoutCommit } from '../ledger-sync.js';
import type { InventoryEntry } from '../../core/inventory.js';
import { loadFromFlags, localAccess, localObservations, runLocalSync } from '../local-target.js';
import { changeTable } from './stack.js';
import { paint, progress, type Io, toJson } from '../output.js';
import { DIFF_COMMAND } from '../specs/diff.js';

const yamlOf = (obj: Record<string, unknown> | undefined): string => (obj ? stringify(obj, { sortMapEntries: true, indentSeq: false, lineWidth: 0 }) : '');

/**
 * `driftless diff`: the server-side dry-run diff of a target, a unified diff per object (prunes included).
 * Exit 0: no changes; 1: changes; 2: errors (as `kubectl diff`).
 */
export const diffCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(DIFF_COMMAND, args);
  const flags = values;
  const local = loadFromFlags(flags, io);
  const access = localAccess(local.registry, values);
  const bar = progress(io);
  let outcome;
  try {
    // The plan of the sync use case: suspension and the recorded inventory count as they do for a sync.
    const ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env) : undefined;
    const state = ledger ? await ledger.ledger.getState(local.id).finally(() => ledger.close()) : undefined;
    // Without a ledger, what earlier runs observed is kept in a local cache: unchanged objects cost no dry run.
    const kube = local.target.type === 'kubernetes' && !local.target.suspend ? local.target.cluster : undefined;
    if (kube && !ledger) await access.cluster(kube);
    const cache = ledger ? undefined : localObservations(local, access, io);
    const observedNow: InventoryEntry[] = [];
    outcome = await runLocalSync(local, access, {
      ...(state ? { state } : {}),
      dryRun: true,
      commit: checkoutCommit(local.repoDir),
      onProgress: (_phase, done, total) => bar.update(`dry run ${done}/${total}`),
      ...(cache ? { checked: cache.entries, onObserved: (e: readonly InventoryEntry[]) => observedNow.push(...e) } : {}),
    });
    if (cache && outcome.plan) cache.save([...cache.entries, ...observedNow]);
  } finally {
    bar.done();
    access.close();
  }
  if (outcome.desired?.kind === 'kubernetes') for (const w of outcome.desired.warnings) io.stderr(`warning: ${w}\n`);
  if (outcome.result === 'skipped') {
    io.stderr(`${local.id}: ${outcome.message ?? 'skipped'}: a sync would apply nothing\n`);
    if (values.json) io.stdout(toJson({ target: local.id, entries: [] }));
    return 0;
  }
  const plan = outcome.plan;
  if (!plan) throw new ReconcilerError(outcome.message ?? `${local.id}: diff failed`, { cause: outcome.cause });
  const changeSet = plan.changeSet;
  if (values.json) io.stdout(toJson(changeSet));
  else if (local.target.type === 'cloudformation') io.stdout(changeTable(io, changeSet));
  else {
    for (const p of plan.changes ?? []) {
      if (p.action === ChangeAction.Unchanged) continue;
      const name = formatRef(p.ref);
      if (p.action === ChangeAction.Failed) {
        io.stdout(`${paint(io, 'red', `error: ${name}`)}: ${p.detail ?? ''}\n`);
        continue;
      }
      const after = comparable(p.desired ?? {});
      const before = p.live ? comparable(p.live) : undefined;
      const patch = createTwoFilesPatch(
        before ? `live/${name}` : '/dev/null',
        `desired/${name}`,
        yamlOf(before ? maskSecret(before, after) : undefined),
        yamlOf(maskSecret(after, before)),
        '',
        '',
        { context: 3 },
      );
      io.stdout(colorPatch(io, patch.split('\n').slice(1).join('\n')));
    }
    for (const e of plan.pruned ?? []) {
      if (e.action !== ChangeAction.Deleted) {
        io.stdout(`${paint(io, 'dim', `# ${formatRef(e.ref)}: ${e.detail ?? e.action}`)}\n`);
        continue;
      }
      const before = e.live ? maskSecret(comparable(e.live)) : {};
      const patch = createTwoFilesPatch(`live/${formatRef(e.ref)}`, '/dev/null', yamlOf(before), '', '', '', { context: 3 });
      io.stdout(colorPatch(io, patch.split('\n').slice(1).join('\n')));
    }
    if (plan.stop) io.stdout(`${paint(io, 'red', plan.stop)}\n`);
  }
  if (plan.failed) return 2;
  return hasChanges(changeSet.entries) ? 1 : 0;
};

const colorPatch = (io: Io, patch: string): string =>
  `${patch
    .split('\n')
    .map((l) =>
      l.startsWith('+') && !l.startsWith('+++')
        ? paint(io, 'green', l)
        : l.startsWith('-') && !l.startsWith('---')
          ? paint(io, 'red', l)
          : l.startsWith('@@')
            ? paint(io, 'cyan', l)
            : l,
    )
    .join('\n')
    .trimEnd()}\n`;
