import { posix } from 'node:path';
import { RenderError } from '../core/errors.js';
import type { KubeObject } from '../core/object-ref.js';
import { normalizePath, type FileTree } from './file-tree.js';
import { findKustomizationFile, kustomize } from './kustomize/build.js';
import { defaultHelmContext, isChartDirectory, renderHelmTarget, type HelmContext, type HelmSettings } from './helm/render-helm.js';
import type { HelmCapabilities } from './helm/helm-template.js';
import { parseManifests } from './yaml-documents.js';
import { checkRenderedObjects, inputLimits, type InputLimits } from './limits.js';

/** Rendered desired state: objects in order, and every file read to produce them. */
export interface RenderResult {
  readonly objects: KubeObject[];
  /** Repository paths read: the target's dependency files, used to decide which targets a push touches. */
  readonly files: ReadonlySet<string>;
  /** Non-fatal findings, e.g. a patch target that selects nothing (Kustomize ignores it silently). */
  readonly warnings: readonly string[];
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** What a target adds to a render: its name and namespace (a Helm release's), its `helm` field, and Helm's context. */
export interface RenderOptions {
  readonly target?: { readonly name: string; readonly namespace?: string; readonly helm?: HelmSettings };
  /** The chart cache and credentials. @default defaultHelmContext() */
  readonly helm?: HelmContext;
  /**
   * The target cluster's capabilities for Helm (`clusterCapabilities`), asked for only when a chart is rendered;
   * undefined (or a failure to reach the cluster) renders with Helm's defaults, and says so in a warning.
   */
  readonly capabilities?: () => Promise<HelmCapabilities | undefined>;
  /** Objects per target and bytes per object. @default inputLimits() (defaults, or the DRIFTLESS_MAX_* environment) */
  readonly limits?: InputLimits;
}

/**
 * Renders a path of a file tree: a manifest file, a Helm chart (a directory holding Chart.yaml, or the target's
 * `helm.chart` from a repository; lib/render/helm), a Kustomize directory (one holding a kustomization; its
 * `helmCharts` by Helm too), or a plain directory of manifests read recursively in path order.
 * @example
 * const { objects } = await renderPath(new LocalFileTree('.'), 'deploy/dev');
 */
export const renderPath = async (tree: FileTree, path: string, options: RenderOptions = {}): Promise<RenderResult> => {
  const limits = options.limits ?? inputLimits();
  const result = await renderUnchecked(tree, path, options);
  checkRenderedObjects(result.objects, normalizePath(path) ?? path, limits);
  return result;
};

const renderUnchecked = async (tree: FileTree, path: string, options: RenderOptions): Promise<RenderResult> => {
  const p = normalizePath(path);
  if (p === undefined) throw new RenderError(path, 'path leaves the repository');
  const helmCtx = async (): Promise<HelmContext> => {
    const base = options.helm ?? defaultHelmContext();
    const capabilities = await options.capabilities?.().catch(() => undefined);
    return capabilities ? { ...base, capabilities } : base;
  };
  // A chart from a repository needs no path of the tree; a chart directory is rendered by Helm.
  if (options.target?.helm?.chart) return renderHelmTarget(tree, p, options.target, await helmCtx());
  const kind = await tree.kind(p);
  if (kind === undefined) throw new RenderError(p || '.', 'no such file or directory');
  if (kind === 'file') return renderFile(tree, p);
  if (options.target?.helm || (await isChartDirectory(tree, p))) {
    return renderHelmTarget(tree, p, options.target ?? { name: 'release-name' }, await helmCtx());
  }
  if (await findKustomizationFile(tree, p)) return kustomize(tree, p, { helm: helmCtx });
  return renderPlainDirectory(tree, p, helmCtx);
};

const renderFile = async (tree: FileTree, p: string): Promise<RenderResult> => {
  const text = new TextDecoder().decode(await tree.read(p));
  return { objects: parseManifests(text, p), files: new Set([p]), warnings: [] };
};

/** Every .yaml/.yml/.json below `dir`; a subdirectory with a kustomization is rendered as Kustomize. */
const renderPlainDirectory = async (tree: FileTree, dir: string, helm: () => Promise<HelmContext>): Promise<RenderResult> => {
  const objects: KubeObject[] = [];
  const files = new Set<string>();
  const warnings: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of await tree.list(d)) {
      if (name.startsWith('.')) continue;
      const p = d ? posix.join(d, name) : name;
      const kind = await tree.kind(p);
      if (kind === 'dir') {
        if (await findKustomizationFile(tree, p)) {
          const sub = await kustomize(tree, p, { helm });
          objects.push(...sub.objects);
          warnings.push(...sub.warnings);
          for (const f of sub.files) files.add(f);
        } else await walk(p);
      } else if (kind === 'file' && MANIFEST.test(name)) {
        const sub = await renderFile(tree, p);
        objects.push(...sub.objects);
        files.add(p);
      }
    }
  };
  await walk(dir);
  return { objects, files, warnings };
};
