import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RenderError } from '../../core/errors.js';
import type { KubeObject } from '../../core/object-ref.js';
import { parseManifests } from '../yaml-documents.js';
import { HelmCommandError, runHelm } from './run-helm.js';

/** What `.Capabilities` holds: the cluster's version and API versions (from discovery), or Helm's defaults. */
export interface HelmCapabilities {
  /** `v1.31.2`; undefined leaves Helm's default. */
  readonly kubeVersion?: string;
  /** `apps/v1`, `apps/v1/Deployment`, ... sorted. */
  readonly apiVersions: readonly string[];
}

/** One `helm template` run. Values text is written to a private temp directory, never put on the command line. */
export interface HelmTemplateInput {
  /** Absolute local path of the chart (a directory or a .tgz). */
  readonly chart: string;
  /** How errors name the chart: its repository path, or `repository/name:version`. */
  readonly chartLabel: string;
  readonly releaseName: string;
  readonly namespace?: string;
  /** Values files in merge order; `name` is how errors name them. */
  readonly values: readonly { readonly name: string; readonly text: string }[];
  /** Values set last, by Helm path (`image.tag`), as `--set-json`. */
  readonly set?: Readonly<Record<string, unknown>>;
  readonly includeCRDs: boolean;
  readonly skipTests: boolean;
  /** `--no-hooks`: leave hook manifests out of the output. */
  readonly noHooks: boolean;
  readonly capabilities?: HelmCapabilities;
  /** Extra flags, validated by the caller (Kustomize's `--name-template`, `--api-versions` of an entry). */
  readonly extraArgs?: readonly string[];
}

/** Helm's release name rule (a DNS subdomain of at most 53 characters). */
export const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SET_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-[\]]*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KUBE_VERSION = /^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$/;
const API_VERSION = /^[A-Za-z0-9][A-Za-z0-9.\-/]*$/;

/** The command line of a `helm template` run (values files as paths in `dir`). Exported for tests. */
export const templateArgs = (input: HelmTemplateInput, valuesPaths: readonly string[]): string[] => {
  if (!RELEASE_NAME.test(input.releaseName) || input.releaseName.length > 53) {
    throw new RenderError(input.chartLabel, `release name "${input.releaseName}" is not a valid Helm release name (lowercase DNS subdomain, at most 53 characters)`);
  }
  if (input.namespace !== undefined && !NAMESPACE.test(input.namespace)) {
    throw new RenderError(input.chartLabel, `namespace "${input.namespace}" is not a DNS label`);
  }
  const args = ['template', `--namespace=${input.namespace ?? 'default'}`];
  for (const p of valuesPaths) args.push(`--values=${p}`);
  for (const [key, value] of Object.entries(input.set ?? {})) {
    if (!SET_KEY.test(key)) throw new RenderError(input.chartLabel, `helm.set key "${key}" is not a Helm value path`);
    args.push(`--set-json=${key}=${JSON.stringify(value)}`);
  }
  if (input.includeCRDs) args.push('--include-crds');
  if (input.skipTests) args.push('--skip-tests');
  if (input.noHooks) args.push('--no-hooks');
  const caps = input.capabilities;
  if (caps) {
    if (caps.kubeVersion !== undefined) {
      if (!KUBE_VERSION.test(caps.kubeVersion)) throw new RenderError(input.chartLabel, `kube version "${caps.kubeVersion}" is not a version`);
      args.push(`--kube-version=${caps.kubeVersion}`);
    }
    const apis = caps.apiVersions.filter((a) => API_VERSION.test(a));
    if (apis.length) args.push(`--api-versions=${apis.join(',')}`);
  }
  args.push(...(input.extraArgs ?? []));
  args.push('--', input.releaseName, input.chart);
  return args;
};

/** Objects of a `helm template` run, and the API versions the CRDs of its charts' `crds/` directories define. */
export interface HelmOutput {
  readonly objects: KubeObject[];
  /** `group/version` and `group/version/Kind` of every served version of a CRD from a `crds/` directory. */
  readonly crdApiVersions: string[];
}

/** Runs `helm template` and parses its output into objects, in Helm's output order. */
export const helmTemplate = async (input: HelmTemplateInput): Promise<HelmOutput> => {
  const dir = mkdtempSync(join(tmpdir(), 'driftless-helm-values-'));
  try {
    const paths = input.values.map((v, i) => {
      const p = join(dir, `${i}.yaml`);
      writeFileSync(p, v.text);
      return p;
    });
    const args = templateArgs(input, paths);
    let out: string;
    try {
      out = await runHelm(args);
    } catch (err) {
      if (err instanceof HelmCommandError) throw helmRenderError(err.message, input, paths);
      throw err;
    }
    return { objects: parseHelmOutput(out, input.chartLabel), crdApiVersions: crdApiVersions(out) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Splits Helm's output at its `---` lines, naming each document's file by its `# Source:` comment. */
export const parseHelmOutput = (out: string, chartLabel: string): KubeObject[] => {
  const objects: KubeObject[] = [];
  for (const chunk of out.split(/^---[ \t]*$/m)) {
    const source = /^# Source: (.+)$/m.exec(chunk)?.[1];
    objects.push(...parseManifests(chunk, source ? sourceFile(chartLabel, source.trim()) : chartLabel));
  }
  return objects;
};

const CRDS_DIR = /^[^/]+\/(charts\/[^/]+\/)*crds\//;

/** API versions defined by the CRDs of `crds/` directories (what `helm install` adds to .Capabilities after installing them). */
export const crdApiVersions = (out: string): string[] => {
  const apis = new Set<string>();
  for (const chunk of out.split(/^---[ \t]*$/m)) {
    const source = /^# Source: (.+)$/m.exec(chunk)?.[1]?.trim();
    if (!source || !CRDS_DIR.test(source)) continue;
    for (const o of parseManifests(chunk, source)) {
      if (o.kind !== 'CustomResourceDefinition') continue;
      const spec = o.spec as { group?: unknown; names?: { kind?: unknown }; versions?: { name?: unknown; served?: unknown }[] } | undefined;
      if (typeof spec?.group !== 'string' || typeof spec.names?.kind !== 'string') continue;
      for (const v of spec.versions ?? []) {
        if (typeof v.name !== 'string' || v.served === false) continue;
        apis.add(`${spec.group}/${v.name}`);
        apis.add(`${spec.group}/${v.name}/${spec.names.kind}`);
      }
    }
  }
  return [...apis].sort();
};

/** `webapp/templates/x.yaml` (chart name first) as a path below the chart's label. */
const sourceFile = (chartLabel: string, source: string): string => {
  const rest = source.split('/').slice(1).join('/');
  return rest ? `${chartLabel}/${rest}` : chartLabel;
};

/** Helm's error, located: `template: c/templates/x.yaml:3:7: ...`, `execution error at (c/templates/x.yaml:3:7): ...`. */
export const helmRenderError = (message: string, input: Pick<HelmTemplateInput, 'chartLabel' | 'values'>, valuesPaths: readonly string[] = []): RenderError => {
  let msg = (message.split('\n')[0] ?? message).trim();
  // A values file is named as the user wrote it, never by its temp path.
  valuesPaths.forEach((p, i) => (msg = msg.split(p).join(input.values[i]?.name ?? 'values')));
  const patterns: [RegExp, (m: RegExpExecArray) => [string, number | undefined, string]][] = [
    [/^template: ([^:\s]+):(\d+):\d+: (.*)$/, (m) => [m[1] as string, Number(m[2]), m[3] as string]],
    [/^execution error at \(([^:\s]+):(\d+)(?::\d+)?\): (.*)$/, (m) => [m[1] as string, Number(m[2]), m[3] as string]],
    [/^parse error at \(([^:\s]+):(\d+)\): (.*)$/, (m) => [m[1] as string, Number(m[2]), m[3] as string]],
    [/^YAML parse error on (\S+): (.*)$/, (m) => [m[1] as string, undefined, `invalid YAML in the rendered template: ${m[2] as string}`]],
  ];
  for (const [re, pick] of patterns) {
    const m = re.exec(msg);
    if (m) {
      const [file, line, text] = pick(m);
      return new RenderError(sourceFile(input.chartLabel, file), `helm template: ${text}`, line);
    }
  }
  return new RenderError(input.chartLabel, `helm template: ${msg}`);
};

const HOOK = 'helm.sh/hook';
const INSTALL_HOOKS = new Set(['pre-install', 'pre-upgrade', 'post-install', 'post-upgrade', 'test', 'test-success']);

/**
 * Hooks, as driftless applies them: install/upgrade hooks are applied with the release's objects, `pre-*`
 * hooks first and `post-*` hooks last, each by `helm.sh/hook-weight` then name (Helm's hook order); test hooks
 * stay when skipTests is off; hooks of delete and rollback events only are left out (no sync ever runs them).
 */
export const orderHooks = (objects: KubeObject[]): { objects: KubeObject[]; warnings: string[] } => {
  const pre: KubeObject[] = [];
  const main: KubeObject[] = [];
  const post: KubeObject[] = [];
  const warnings: string[] = [];
  for (const o of objects) {
    const hooks = hookEvents(o);
    if (!hooks) main.push(o);
    else if (!hooks.some((h) => INSTALL_HOOKS.has(h))) {
      warnings.push(`${String(o.kind)} ${name(o)}: a Helm hook for ${hooks.join(', ')} only; left out (driftless runs install/upgrade hooks only)`);
    } else if (hooks.some((h) => h.startsWith('pre-'))) pre.push(o);
    else post.push(o);
  }
  const byWeight = (a: KubeObject, b: KubeObject) => weight(a) - weight(b) || name(a).localeCompare(name(b));
  return { objects: [...pre.sort(byWeight), ...main, ...post.sort(byWeight)], warnings };
};

const annotations = (o: KubeObject): Record<string, unknown> => {
  const meta = o.metadata as { annotations?: Record<string, unknown> } | undefined;
  return meta?.annotations ?? {};
};
const hookEvents = (o: KubeObject): string[] | undefined => {
  const v = annotations(o)[HOOK];
  return typeof v === 'string' && v.trim() ? v.split(',').map((s) => s.trim()) : undefined;
};
const weight = (o: KubeObject): number => Number.parseInt(String(annotations(o)['helm.sh/hook-weight'] ?? '0'), 10) || 0;
const name = (o: KubeObject): string => String((o.metadata as { name?: string } | undefined)?.name ?? '');
