import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { posix } from 'node:path';
import { RenderError } from '../../core/errors.js';
import type { KubeObject } from '../../core/object-ref.js';
import { normalizePath, type FileTree } from '../file-tree.js';
import { credentialsFromJson, DirectoryChartCache, pullChart, type ChartCache, type ChartRef, type CredentialsFor } from './chart-repository.js';
import { ENV } from '../../core/env-names.js';
import { credentialsFromSecret, LayeredChartCache } from './chart-cache-layers.js';
import { helmTemplate, orderHooks, type HelmCapabilities, type HelmOutput, type HelmTemplateInput } from './helm-template.js';

/** The `helm` field of a Kubernetes target (defaults filled in by the schema). */
export interface HelmSettings {
  readonly releaseName?: string;
  readonly values: readonly string[];
  readonly set: Readonly<Record<string, unknown>>;
  readonly includeCRDs: boolean;
  readonly skipTests: boolean;
  /** `apply`: install/upgrade hooks are applied with the release; `skip`: `--no-hooks`. */
  readonly hooks: 'apply' | 'skip';
  readonly chart?: ChartRef;
}

/** The Helm settings a chart directory without a `helm` field renders with. */
export const DEFAULT_HELM: HelmSettings = { values: [], set: {}, includeCRDs: true, skipTests: true, hooks: 'apply' };

/** What a render needs besides the files: the cluster's capabilities, the chart cache, repository credentials. */
export interface HelmContext {
  /** From the target cluster's discovery; undefined renders with Helm's defaults. */
  readonly capabilities?: HelmCapabilities;
  readonly cache: ChartCache;
  readonly credentials: CredentialsFor;
}

let defaultContext: HelmContext | undefined;

/**
 * The context of this process: charts cached in `DRIFTLESS_CACHE_DIR`, `/tmp/driftless-cache` in Lambda, else
 * `.driftless/cache` of the working directory, and (deployed) in the artifact bucket under `helm-charts/`;
 * credentials from `DRIFTLESS_HELM_CREDENTIALS`, or the Secrets Manager secret `DRIFTLESS_HELM_CREDENTIALS_SECRET_ID`.
 */
export const defaultHelmContext = (env: Record<string, string | undefined> = process.env): HelmContext => {
  if (defaultContext) return defaultContext;
  const root = env[ENV.cacheDir] ?? (env.AWS_LAMBDA_FUNCTION_NAME ? '/tmp/driftless-cache' : resolve('.driftless', 'cache'));
  const local = new DirectoryChartCache(join(root, 'helm'));
  const bucket = env[ENV.artifactBucket];
  const secretId = env[ENV.helmCredentialsSecretId];
  const cache = bucket ? new LayeredChartCache(local, new LazyS3ChartCache(bucket)) : local;
  const credentials = secretId ? credentialsFromSecret(secretId, readSecretString) : credentialsFromJson(env[ENV.helmCredentials]);
  return (defaultContext = { cache, credentials });
};

/** The S3 cache, with the SDK loaded on first use (the CLI never needs it). */
class LazyS3ChartCache implements ChartCache {
  private inner?: Promise<ChartCache>;
  constructor(private readonly bucket: string) {}
  private get(): Promise<ChartCache> {
    this.inner ??= Promise.all([import('@aws-sdk/client-s3'), import('./remote-chart-cache.js')]).then(
      ([{ S3Client }, { S3ChartCache }]) => new S3ChartCache(new S3Client({}), this.bucket),
    );
    return this.inner;
  }
  async getRef(key: string) {
    return (await this.get()).getRef(key);
  }
  async putRef(key: string, digest: string) {
    return (await this.get()).putRef(key, digest);
  }
  async getBlob(digest: string) {
    return (await this.get()).getBlob(digest);
  }
  async putBlob(digest: string, bytes: Uint8Array) {
    return (await this.get()).putBlob(digest, bytes);
  }
}

const readSecretString = async (id: string): Promise<string | undefined> => {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  return (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
};

/** Whether `dir` of the tree is a Helm chart (holds Chart.yaml). */
export const isChartDirectory = async (tree: FileTree, dir: string): Promise<boolean> => (await tree.kind(dir ? `${dir}/Chart.yaml` : 'Chart.yaml')) === 'file';

/** A chart read out of a file tree: its files (repository paths), their digest, and a local copy for Helm. */
interface LocalChart {
  readonly files: string[];
  readonly digest: string;
  /** Writes the chart to a local directory (once per digest in this process) and returns its path. */
  readonly materialize: () => string;
}

const readChart = async (tree: FileTree, dir: string): Promise<LocalChart> => {
  const entries: [string, Uint8Array][] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of await tree.list(d)) {
      const p = d ? `${d}/${name}` : name;
      const kind = await tree.kind(p);
      if (kind === 'dir') await walk(p);
      else if (kind === 'file') entries.push([p, await tree.read(p)]);
    }
  };
  await walk(dir);
  const h = createHash('sha256');
  for (const [p, data] of entries) h.update(`${posix.relative(dir, p)}\0${data.length}\0`).update(data);
  const digest = h.digest('hex');
  return {
    files: entries.map(([p]) => p),
    digest: `sha256:${digest}`,
    materialize: () => {
      const target = join(tmpdir(), 'driftless-helm-charts', digest, posix.basename(dir) || 'chart');
      if (existsSync(target)) return target;
      const staging = mkdtempSync(join(tmpdir(), 'driftless-helm-chart-'));
      for (const [p, data] of entries) {
        const abs = join(staging, posix.relative(dir, p));
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, data);
      }
      mkdirSync(dirname(target), { recursive: true });
      try {
        renameSync(staging, target);
      } catch {
        // another render of the same digest won the rename
      }
      return target;
    },
  };
};

const pulledChartFile = (digest: string, bytes: Uint8Array): string => {
  const file = join(tmpdir(), 'driftless-helm-charts', `${digest.replace(':', '-')}.tgz`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.${process.pid}`, bytes);
    renameSync(`${file}.${process.pid}`, file);
  }
  return file;
};

/** Rendered output by (chart digest, values digest, capabilities, flags), within this process. */
const renderCache = new Map<string, HelmOutput>();
const CACHE_LIMIT = 128;

/** Counts of `helm template` runs and cache hits in this process (benchmarks and tests read them). */
export const helmRenderStats = { runs: 0, hits: 0 };

/** Empties the in-process render cache (benchmarks). */
export const clearHelmRenderCache = (): void => renderCache.clear();

/** A chart to render: from the tree (a directory path) or a repository; values already read. */
export interface ChartRender {
  readonly source: { readonly tree: FileTree; readonly dir: string } | { readonly ref: ChartRef };
  readonly releaseName: string;
  readonly namespace?: string;
  readonly values: readonly { readonly name: string; readonly text: string }[];
  readonly set?: Readonly<Record<string, unknown>>;
  readonly includeCRDs: boolean;
  readonly skipTests: boolean;
  readonly noHooks: boolean;
  readonly capabilities?: HelmCapabilities;
  readonly extraArgs?: readonly string[];
}

/** Renders one chart with `helm template` (or from the in-process cache). Returns the chart's repository files too. */
export const renderChart = async (req: ChartRender, ctx: HelmContext): Promise<HelmOutput & { files: string[]; chartLabel: string }> => {
  let digest: string;
  let chartPath: () => string;
  let files: string[] = [];
  let chartLabel: string;
  if ('ref' in req.source) {
    const ref = req.source.ref;
    chartLabel = `${ref.repository.replace(/\/$/, '')}/${ref.name}:${ref.version}`;
    const pulled = await pullChart(ref, { cache: ctx.cache, credentials: ctx.credentials });
    digest = pulled.digest;
    chartPath = () => pulledChartFile(pulled.digest, pulled.bytes);
  } else {
    const { tree, dir } = req.source;
    chartLabel = dir || '.';
    const chart = await readChart(tree, dir);
    digest = chart.digest;
    files = chart.files;
    chartPath = chart.materialize;
  }
  const valuesDigest = createHash('sha256')
    .update(JSON.stringify([req.values.map((v) => v.text), req.set ?? {}]))
    .digest('hex');
  const key = JSON.stringify([
    digest,
    valuesDigest,
    req.capabilities ?? null,
    req.releaseName,
    req.namespace ?? null,
    req.includeCRDs,
    req.skipTests,
    req.noHooks,
    req.extraArgs ?? [],
    chartLabel,
  ]);
  const hit = renderCache.get(key);
  if (hit) {
    helmRenderStats.hits++;
    return { objects: structuredClone(hit.objects), crdApiVersions: hit.crdApiVersions, files, chartLabel };
  }
  const input: HelmTemplateInput = {
    chart: chartPath(),
    chartLabel,
    releaseName: req.releaseName,
    ...(req.namespace !== undefined ? { namespace: req.namespace } : {}),
    values: req.values,
    ...(req.set ? { set: req.set } : {}),
    includeCRDs: req.includeCRDs,
    skipTests: req.skipTests,
    noHooks: req.noHooks,
    ...(req.capabilities ? { capabilities: req.capabilities } : {}),
    ...(req.extraArgs ? { extraArgs: req.extraArgs } : {}),
  };
  helmRenderStats.runs++;
  const out = await helmTemplate(input);
  if (renderCache.size >= CACHE_LIMIT) renderCache.delete(renderCache.keys().next().value as string);
  renderCache.set(key, structuredClone(out));
  return { ...out, files, chartLabel };
};

/** Reads repository-relative values files of a target. */
const readValues = async (tree: FileTree, paths: readonly string[]): Promise<{ name: string; text: string }[]> => {
  const out: { name: string; text: string }[] = [];
  for (const v of paths) {
    const p = normalizePath(v);
    if (p === undefined || (await tree.kind(p)) !== 'file') throw new RenderError(v, 'helm values file: no such file');
    out.push({ name: p, text: new TextDecoder().decode(await tree.read(p)) });
  }
  return out;
};

/**
 * Renders a Helm target: the chart at `path` (a directory holding Chart.yaml), or `helm.chart` from a repository,
 * with the target's release name (default: the target name), namespace, values files, `set` and flags.
 */
export const renderHelmTarget = async (
  tree: FileTree,
  path: string,
  target: { readonly name: string; readonly namespace?: string; readonly helm?: HelmSettings },
  ctx: HelmContext = defaultHelmContext(),
): Promise<{ objects: KubeObject[]; files: ReadonlySet<string>; warnings: readonly string[] }> => {
  const helm = target.helm ?? DEFAULT_HELM;
  const values = await readValues(tree, helm.values);
  const dir = normalizePath(path);
  if (!helm.chart && (dir === undefined || !(await isChartDirectory(tree, dir)))) {
    throw new RenderError(path || '.', 'not a Helm chart (no Chart.yaml); set helm.chart to render a chart from a repository');
  }
  const request = (capabilities: HelmCapabilities | undefined): ChartRender => ({
    source: helm.chart ? { ref: helm.chart } : { tree, dir: dir ?? '' },
    releaseName: helm.releaseName ?? target.name,
    ...(target.namespace ? { namespace: target.namespace } : {}),
    values,
    set: helm.set,
    includeCRDs: helm.includeCRDs,
    skipTests: helm.skipTests,
    noHooks: helm.hooks === 'skip',
    ...(capabilities ? { capabilities } : {}),
  });
  let out = await renderChart(request(ctx.capabilities), ctx);
  // `helm install` installs the CRDs of crds/ first and renders the templates with their kinds in .Capabilities.
  const caps = ctx.capabilities;
  if (caps && helm.includeCRDs) {
    const missing = out.crdApiVersions.filter((a) => !caps.apiVersions.includes(a));
    if (missing.length) out = await renderChart(request({ ...caps, apiVersions: [...caps.apiVersions, ...missing].sort() }), ctx);
  }
  const { objects, warnings } = orderHooks(out.objects);
  if (!ctx.capabilities) warnings.push(`${out.chartLabel}: rendered with Helm's default capabilities (no cluster reached)`);
  return { objects, files: new Set([...out.files, ...values.map((v) => v.name)]), warnings };
};
