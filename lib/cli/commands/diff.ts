import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { ChangeAction, hasChanges, type ChangeSet } from '../../core/change-set.js';
import { formatRef, refOf, type KubeObject } from '../../core/object-ref.js';
import { comparable, maskSecret } from '../../targets/kubernetes/normalize.js';
import { CLUSTER_FLAGS, parseFlags, required } from '../args.js';
import { ENV } from '../../core/env-names.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { loadFromFlags, openLocalKubernetesTarget, type LocalTarget } from '../local-target.js';
import type { CloudFormationTargetConfig } from '../../config/schema.js';
import { diffStack } from './stack.js';
import { paint, progress, type Io, toJson } from '../output.js';

const USAGE = 'usage: driftless diff --repo DIR --target NAME [--kubeconfig FILE] [--context CTX] [--registry FILE] [--repository OWNER/NAME] [--json]';

const yamlOf = (obj: Record<string, unknown> | undefined): string =>
  obj ? stringify(obj, { sortMapEntries: true, indentSeq: false, lineWidth: 0 }) : '';

/**
 * `driftless diff`: the server-side dry-run diff of a target, a unified diff per object (prunes included).
 * Exit 0: no changes; 1: changes; 2: errors (as `kubectl diff`).
 */
export const diffCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseFlags(args, CLUSTER_FLAGS, USAGE);
  const flags = { ...values, repo: required(values.repo, 'repo', USAGE), target: required(values.target, 'target', USAGE) };
  const chosen = loadFromFlags(flags, io);
  // Stack targets take the CloudFormation path: change sets with the caller's AWS credentials.
  if (chosen.target.type === 'cloudformation') return diffStack(chosen as LocalTarget & { target: CloudFormationTargetConfig }, values.json ?? false, io);
  const { local, rendered, client, target } = await openLocalKubernetesTarget(flags, io, chosen);
  try {
    const labelled = await target.labelledObjects();
    // With a ledger, its inventory's observations spare the dry run of every object unchanged since the last sync.
    const ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env) : undefined;
    const state = ledger ? await ledger.ledger.getState(local.id).finally(() => ledger.close()) : undefined;
    const bar = progress(io);
    const { plan, prune } = await target.preview(rendered.objects, {
      previousInventory: labelled.map(refOf),
      ...(state?.lastSyncAt ? { known: state.inventory } : {}),
      onProgress: (_phase, done, total) => bar.update(`dry run ${done}/${total}`),
    });
    bar.done();
    const changeSet: ChangeSet = {
      target: local.id,
      entries: [
        ...plan.objects.map((p) => ({ ref: p.ref, action: p.action, ...(p.detail ? { detail: p.detail } : {}) })),
        ...prune.entries,
      ],
    };
    if (values.json) {
      io.stdout(toJson(changeSet));
    } else {
      for (const p of plan.objects) {
        if (p.action === ChangeAction.Unchanged) continue;
        const name = formatRef(p.ref);
        if (p.action === ChangeAction.Failed) {
          io.stdout(`${paint(io, 'red', `error: ${name}`)}: ${p.detail ?? ''}\n`);
          continue;
        }
        const after = p.dryRun ? comparable(p.dryRun) : comparable(p.obj);
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
      const byRef = new Map(labelled.map((o) => [formatRef(refOf(o)), o] as const));
      for (const e of prune.entries) {
        if (e.action !== ChangeAction.Deleted) {
          io.stdout(`${paint(io, 'dim', `# ${formatRef(e.ref)}: ${e.detail ?? e.action}`)}\n`);
          continue;
        }
        const live = byRef.get(formatRef(e.ref)) as KubeObject | undefined;
        const before = live ? maskSecret(comparable(live)) : {};
        const patch = createTwoFilesPatch(`live/${formatRef(e.ref)}`, '/dev/null', yamlOf(before), '', '', '', { context: 3 });
        io.stdout(colorPatch(io, patch.split('\n').slice(1).join('\n')));
      }
      if (prune.stop) io.stdout(`${paint(io, 'red', prune.stop)}\n`);
    }
    if (plan.failed.length) return 2;
    return hasChanges(changeSet.entries) ? 1 : 0;
  } finally {
    client.close();
  }
};

const colorPatch = (io: Io, patch: string): string =>
  `${patch
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? paint(io, 'green', l) : l.startsWith('-') && !l.startsWith('---') ? paint(io, 'red', l) : l.startsWith('@@') ? paint(io, 'cyan', l) : l))
    .join('\n')
    .trimEnd()}\n`;
