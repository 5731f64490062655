import { parse, stringify } from 'yaml';
import { RenderError } from '../../core/errors.js';
import { isMap } from '../../core/plain-object.js';
import type { KubeObject } from '../../core/object-ref.js';
import type { FileTree } from '../file-tree.js';
import { checkRepositoryUrl } from './chart-repository.js';
import { isChartDirectory, renderChart, type HelmContext } from './render-helm.js';

/** One `helmCharts` entry of a kustomization (Kustomize's HelmChart type). */
export interface HelmChartEntry {
  name: string;
  version?: string;
  repo?: string;
  releaseName?: string;
  namespace?: string;
  nameTemplate?: string;
  valuesFile?: string;
  valuesInline?: Record<string, unknown>;
  valuesMerge?: 'override' | 'merge' | 'replace';
  additionalValuesFiles?: string[];
  includeCRDs?: boolean;
  skipHooks?: boolean;
  skipTests?: boolean;
  apiVersions?: string[];
  kubeVersion?: string;
}

const STRING_FIELDS = ['name', 'version', 'repo', 'releaseName', 'namespace', 'nameTemplate', 'valuesFile', 'valuesMerge', 'kubeVersion'] as const;
const BOOL_FIELDS = ['includeCRDs', 'skipHooks', 'skipTests', 'debug'] as const;
const LIST_FIELDS = ['additionalValuesFiles', 'apiVersions'] as const;
const KNOWN = new Set<string>([...STRING_FIELDS, ...BOOL_FIELDS, ...LIST_FIELDS, 'valuesInline']);

/** Checks `helmCharts` entries as Kustomize's typed structs do. */
export const parseHelmCharts = (raw: readonly unknown[], file: string): HelmChartEntry[] =>
  raw.map((e, i) => {
    const what = `helmCharts[${i}]`;
    if (!isMap(e)) throw new RenderError(file, `invalid kustomization: ${what} must be a mapping`);
    for (const key of Object.keys(e)) if (!KNOWN.has(key)) throw new RenderError(file, `invalid kustomization: unknown field "${what}.${key}"`);
    for (const f of STRING_FIELDS) {
      if (e[f] !== undefined && e[f] !== null && typeof e[f] !== 'string') throw new RenderError(file, `invalid kustomization: ${what}.${f} must be a string (quote it)`);
    }
    for (const f of BOOL_FIELDS) {
      if (e[f] !== undefined && e[f] !== null && typeof e[f] !== 'boolean') throw new RenderError(file, `invalid kustomization: ${what}.${f} must be true or false`);
    }
    for (const f of LIST_FIELDS) {
      const l = e[f];
      if (l !== undefined && l !== null && (!Array.isArray(l) || l.some((x) => typeof x !== 'string'))) {
        throw new RenderError(file, `invalid kustomization: ${what}.${f} must be a list of strings`);
      }
    }
    if (e.valuesInline !== undefined && e.valuesInline !== null && !isMap(e.valuesInline)) {
      throw new RenderError(file, `invalid kustomization: ${what}.valuesInline must be a mapping`);
    }
    if (!e.name) throw new RenderError(file, `${what}: chart name cannot be empty`);
    if (e.valuesMerge && !['override', 'merge', 'replace'].includes(e.valuesMerge as string)) {
      throw new RenderError(file, `${what}: valuesMerge must be one of override, merge or replace`);
    }
    return e as unknown as HelmChartEntry;
  });

/** Deep merge as Kustomize merges valuesInline with a values file: maps merge key by key, anything else is replaced. */
export const mergeValues = (base: unknown, over: unknown): unknown => {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeValues(base[k], v) : v;
  return out;
};

/** What the kustomize builder lends the chart inflation: its root-only path check and file reads. */
export interface KustomizeAccess {
  readonly tree: FileTree;
  /** Kustomization directory. */
  readonly dir: string;
  readonly kustFile: string;
  /** A path relative to the kustomization that must stay in or below it (throws otherwise). */
  readonly local: (rel: string) => string;
  /** Reads a file of the tree and records it as a dependency. */
  readonly readText: (path: string) => Promise<string>;
}

/**
 * Inflates a kustomization's `helmCharts` as Kustomize 5.5's HelmChartInflationGenerator does: the chart at
 * `chartHome/name` (or `chartHome/name-version/name` with repo and version), pulled from `repo` when absent;
 * `valuesFile` (default: the chart's values.yaml) merged with `valuesInline` by `valuesMerge`, then
 * `additionalValuesFiles`; release name `release-name` unless given. Objects come in Helm's output order.
 */
export const inflateHelmCharts = async (
  k: { helmCharts: unknown[]; helmGlobals?: unknown },
  access: KustomizeAccess,
  ctx: HelmContext,
): Promise<{ objects: KubeObject[]; files: string[] }> => {
  const { kustFile } = access;
  const entries = parseHelmCharts(k.helmCharts, kustFile);
  const globals = k.helmGlobals;
  if (globals !== undefined && !isMap(globals)) throw new RenderError(kustFile, 'invalid kustomization: helmGlobals must be a mapping');
  for (const key of Object.keys(globals ?? {})) {
    if (key !== 'chartHome' && key !== 'configHome') throw new RenderError(kustFile, `invalid kustomization: unknown field "helmGlobals.${key}"`);
  }
  const chartHomeRel = typeof globals?.chartHome === 'string' && globals.chartHome ? globals.chartHome : 'charts';
  const objects: KubeObject[] = [];
  const files: string[] = [];
  for (const [i, e] of entries.entries()) {
    const what = `helmCharts[${i}]`;
    const home = e.version && e.repo ? `${chartHomeRel}/${e.name}-${e.version}` : chartHomeRel;
    const chartDir = access.local(`${home}/${e.name}`);
    const inTree = await isChartDirectory(access.tree, chartDir);
    if (!inTree) {
      if (!e.repo) throw new RenderError(kustFile, `${what}: no repo specified for pull, no chart found at '${chartDir}'`);
      if (!e.version) throw new RenderError(kustFile, `${what}: chart "${e.name}" from ${e.repo} needs a version (driftless pins charts from repositories)`);
      checkRepositoryUrl(e.repo);
    }
    const values: { name: string; text: string }[] = [];
    let valuesFile = e.valuesFile ? access.local(e.valuesFile) : inTree ? `${chartDir}/values.yaml` : undefined;
    if (valuesFile && (await access.tree.kind(valuesFile)) !== 'file') {
      if (e.valuesFile) throw new RenderError(kustFile, `${what}: valuesFile ${e.valuesFile}: no such file`);
      valuesFile = undefined;
    }
    const inline = e.valuesInline && Object.keys(e.valuesInline).length ? e.valuesInline : undefined;
    if (inline) {
      const fileValues = valuesFile ? ((parse(await access.readText(valuesFile)) as unknown) ?? {}) : {};
      const merged = e.valuesMerge === 'replace' ? inline : e.valuesMerge === 'merge' ? mergeValues(inline, fileValues) : mergeValues(fileValues, inline);
      values.push({ name: `${kustFile} (${what}.valuesInline)`, text: stringify(merged) });
    } else if (valuesFile) {
      values.push({ name: valuesFile, text: await access.readText(valuesFile) });
    }
    for (const f of e.additionalValuesFiles ?? []) {
      const p = access.local(f);
      if ((await access.tree.kind(p)) !== 'file') throw new RenderError(kustFile, `${what}: could not load additionalValuesFile ${f}`);
      values.push({ name: p, text: await access.readText(p) });
    }
    const extraArgs: string[] = [];
    if (e.nameTemplate) {
      extraArgs.push(`--name-template=${e.nameTemplate}`);
    }
    const caps = e.kubeVersion || e.apiVersions?.length ? { ...(e.kubeVersion ? { kubeVersion: e.kubeVersion } : {}), apiVersions: e.apiVersions ?? [] } : ctx.capabilities;
    const out = await renderChart(
      {
        source: inTree ? { tree: access.tree, dir: chartDir } : { ref: { repository: e.repo as string, name: e.name, version: e.version as string } },
        releaseName: e.releaseName || 'release-name',
        ...(e.namespace ? { namespace: e.namespace } : {}),
        values,
        includeCRDs: e.includeCRDs ?? false,
        skipTests: e.skipTests ?? false,
        noHooks: e.skipHooks ?? false,
        ...(caps ? { capabilities: caps } : {}),
        extraArgs,
      },
      ctx,
    );
    objects.push(...out.objects);
    files.push(...out.files);
  }
  return { objects, files };
};
