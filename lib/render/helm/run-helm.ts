import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmBinary } from './helm-binary.js';

/** A failed Helm command: its exit code and its stderr (Helm's own message). */
export class HelmCommandError extends Error {
  constructor(
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(stderr.trim().replace(/^Error: /, '') || `helm exited with ${String(code)}`);
    this.name = 'HelmCommandError';
  }
}

let homes: string | undefined;

/**
 * Helm's homes for this process: empty config, cache and data directories, and an empty plugin directory,
 * so that no plugin, repository entry or registry login of the machine takes part in a render.
 */
const helmHomes = (): string => {
  if (homes) return homes;
  const root = mkdtempSync(join(tmpdir(), 'driftless-helm-home-'));
  for (const d of ['config', 'cache', 'data', 'plugins']) mkdirSync(join(root, d));
  return (homes = root);
};

/**
 * Runs Helm with an isolated environment: no plugins (HELM_PLUGINS is an empty directory), no kubeconfig,
 * no repository or registry configuration of the machine, no shell. Resolves to stdout.
 */
export const runHelm = (args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<string> => {
  const bin = helmBinary();
  const home = helmHomes();
  const env = {
    HOME: home,
    PATH: '',
    HELM_PLUGINS: join(home, 'plugins'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
    HELM_REGISTRY_CONFIG: join(home, 'config', 'registry.json'),
    HELM_REPOSITORY_CONFIG: join(home, 'config', 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: join(home, 'cache', 'repository'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  return new Promise((resolve, reject) => {
    execFile(
      bin.path,
      [...args],
      { env, cwd: options.cwd ?? home, timeout: options.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) reject(new HelmCommandError((err as NodeJS.ErrnoException).code ?? null, stderr || err.message));
        else resolve(stdout);
      },
    );
  });
};
