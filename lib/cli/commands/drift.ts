import type { DriftReport } from '../../drift/detect-drift.js';
import { driftReport } from '../../drift/detect-drift.js';
import { ENV } from '../../core/env-names.js';
import { formatRef, type ObjectRef } from '../../core/object-ref.js';
import { targetLabelValue } from '../../core/ownership.js';
import { labelledByTarget } from '../../targets/kubernetes/labelled-objects.js';
import { CLUSTER_FLAGS, parseFlags, required } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { loadLocalConfig, openLocalKubernetesTarget } from '../local-target.js';
import { paint, type Io, toJson } from '../output.js';

const USAGE = 'usage: driftless drift --repo DIR [--target NAME] [--kubeconfig FILE] [--context CTX] [--registry FILE] [--repository OWNER/NAME] [--json]';

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? v : v === undefined ? '(unset)' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
};

/**
 * `driftless drift`: desired (the render of DIR) against live, for one target or every Kubernetes target.
 * Exit 0: no drift; 1: drift; 2: errors.
 */
export const driftCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseFlags(args, { ...CLUSTER_FLAGS, target: { type: 'string' } }, USAGE);
  const repo = required(values.repo, 'repo', USAGE);
  const registryFile = values.registry ?? io.env[ENV.registry];
  const base = { repo, cwd: io.cwd, ...(registryFile ? { registryFile } : {}), ...(values.repository ? { repository: values.repository } : {}) };
  const first = loadLocalConfig(base).config;
  const names = values.target ? [values.target] : first.targets.filter((t) => t.type === 'kubernetes').map((t) => t.name);
  const ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env) : undefined;
  const reports: DriftReport[] = [];
  // Labelled objects are listed once per cluster (one LIST per served kind) for all of its targets.
  const labelledOn = new Map<string, ReadonlyMap<string, readonly ObjectRef[]>>();
  try {
    for (const name of names) {
      const { local, rendered, client, target } = await openLocalKubernetesTarget({ ...values, repo, target: name }, io);
      try {
        const state = ledger ? await ledger.ledger.getState(local.id) : undefined;
        const known = state?.lastSyncAt ? state.inventory : undefined;
        const plan = await target.plan(await target.prepare(rendered.objects), undefined, undefined, { ...(known ? { known } : {}), validateCreates: false });
        const cluster = local.target.cluster;
        if (!labelledOn.has(cluster)) labelledOn.set(cluster, await labelledByTarget(client));
        const labelled = labelledOn.get(cluster)?.get(targetLabelValue(local.id)) ?? [];
        reports.push(driftReport(local.id, plan.objects, labelled, state?.lastSyncAt ? state.inventory : undefined));
      } finally {
        client.close();
      }
    }
  } finally {
    ledger?.close();
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
