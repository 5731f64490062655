import type { DriftReport } from '../../core/drift.js';
import { ENV } from '../../core/env-names.js';
import { formatRef, type ObjectRef } from '../../core/object-ref.js';
import { targetId, targetLabelValue } from '../../core/ownership.js';
import { labelledByTarget } from '../../targets/kubernetes/labelled-objects.js';
import { ReconcilerError } from '../../core/errors.js';
import { detectTargetDrift } from '../../drift/check-target.js';
import { targetOpener } from '../../targets/open-target.js';
import { parseCommand } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { loadLocalConfig, localAccess, localTree } from '../local-target.js';
import { observationCache, type ObservationCache } from '../observation-cache.js';
import type { InventoryEntry } from '../../core/inventory.js';
import { paint, type Io, toJson } from '../output.js';
import { DRIFT_COMMAND } from '../specs/drift.js';

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? v : v === undefined ? '(unset)' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
};

/**
 * `driftless drift`: desired (the render of DIR) against live, for one target or every target (stacks by DetectStackDrift).
 * Exit 0: no drift; 1: drift; 2: errors.
 */
export const driftCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(DRIFT_COMMAND, args);
  const repo = values.repo;
  const registryFile = values.registry ?? io.env[ENV.registry];
  const base = { repo, cwd: io.cwd, ...(registryFile ? { registryFile } : {}), ...(values.repository ? { repository: values.repository } : {}) };
  const local = loadLocalConfig(base);
  const targets = values.target ? local.config.targets.filter((t) => t.name === values.target) : local.config.targets;
  if (values.target && !targets.length) {
    throw new ReconcilerError(`driftless.yaml: no target "${values.target}" (targets: ${local.config.targets.map((t) => t.name).join(', ')})`);
  }
  const ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env) : undefined;
  const access = localAccess(local.registry, values);
  const opener = targetOpener(access);
  const reports: DriftReport[] = [];
  try {
    // The drift use case of the scheduled run, for Kubernetes and stack targets alike.
    // Labelled objects are listed once per cluster (one LIST per served kind) for all of its targets.
    const labelledOn = new Map<string, ReadonlyMap<string, readonly ObjectRef[]>>();
    for (const config of targets) {
      const id = targetId(local.repository, config.name);
      const state = ledger ? await ledger.ledger.getState(id) : undefined;
      let labelled: readonly ObjectRef[] | undefined;
      let cache: ObservationCache | undefined;
      if (config.type === 'kubernetes') {
        if (!labelledOn.has(config.cluster)) labelledOn.set(config.cluster, await labelledByTarget(await access.cluster(config.cluster)));
        labelled = labelledOn.get(config.cluster)?.get(targetLabelValue(id)) ?? [];
        // Without a ledger, what earlier runs observed is kept in a local cache: unchanged objects cost no dry run.
        const server = access.cluster.server(config.cluster);
        if (!ledger && server) cache = observationCache({ env: io.env, cwd: io.cwd, server, target: id });
      }
      const observedNow: InventoryEntry[] = [];
      reports.push(
        await detectTargetDrift(
          {
            id,
            repository: local.repository,
            config,
            tree: localTree(local),
            ...(state?.lastSyncAt ? { inventory: state.inventory } : {}),
            ...(state?.lastSyncAt && state.checked ? { checked: state.checked } : {}),
            ...(labelled ? { labelled } : {}),
            ...(cache ? { checked: cache.entries, onObserved: (e: readonly InventoryEntry[]) => observedNow.push(...e) } : {}),
          },
          { targets: opener },
        ),
      );
      cache?.save([...cache.entries, ...observedNow]);
    }
  } finally {
    ledger?.close();
    access.close();
  }
  if (values.json) io.stdout(toJson(reports));
  else {
    for (const r of reports) {
      if (!r.objects.length) {
        io.stdout(`${r.target}: ${paint(io, 'green', 'no drift')}\n`);
        continue;
      }
      io.stdout(`${r.target}: ${paint(io, 'red', `${r.objects.length} object(s) drifted`)}\n`);
      for (const o of r.objects) {
        io.stdout(`  ${paint(io, o.state === 'modified' ? 'yellow' : 'red', o.state.padEnd(9))}  ${formatRef(o.ref)}${o.error ? `  ${o.error}` : ''}\n`);
        for (const f of o.fields ?? []) {
          io.stdout(`      ${f.path}: ${show(f.desired)} → ${show(f.live)}${f.changedBy ? paint(io, 'dim', `  (changed by ${f.changedBy})`) : ''}\n`);
        }
      }
    }
  }
  if (reports.some((r) => r.objects.some((o) => o.error))) return 2;
  return reports.some((r) => r.objects.length) ? 1 : 0;
};
