import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ReconcilerError } from '../core/errors.js';
import { parseRegistry } from '../config/load-config.js';
import type { Registry } from '../config/schema.js';
import { ADMIN_TOKEN, KubeApiServer } from './sandbox-cluster/server.js';

/** `driftless serve`'s demo set-up: what runs when nothing is configured. */

/** The package's root (where examples/ lives), from lib/local or dist/lib/local. */
const packageRoot = (): string => {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
  }
  throw new ReconcilerError('cannot find the driftless package (its examples/ directory)');
};

/** What the demo gives serve: its registry, the example clone, and how to stop the sandbox. */
export interface Demo {
  readonly registry: Registry;
  readonly clones: Record<string, string>;
  stop(): Promise<void>;
}

/** The demo: the example repository as a local git clone, and a sandbox cluster for both of its clusters. */
export const startDemo = async (stateDir: string, print: (l: string) => void): Promise<Demo> => {
  const demoDir = join(stateDir, 'demo');
  const repoDir = join(demoDir, 'shop');
  if (!existsSync(join(repoDir, '.git'))) {
    mkdirSync(demoDir, { recursive: true });
    cpSync(join(packageRoot(), 'examples', 'shop'), repoDir, { recursive: true });
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repoDir, '-c', 'user.name=driftless demo', '-c', 'user.email=demo@driftless.invalid', ...args], { stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'example repository');
  }
  const sandbox = new KubeApiServer({ namespaceController: true, simulateControllers: true });
  await sandbox.start();
  const kubeconfig = join(demoDir, 'kubeconfig');
  // One sandbox serves both registry clusters, through two contexts.
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: sandbox-dev',
      'clusters:',
      `- name: sandbox\n  cluster:\n    server: ${sandbox.url}\n    insecure-skip-tls-verify: true`,
      'users:',
      `- name: sandbox-admin\n  user:\n    token: ${ADMIN_TOKEN}`,
      'contexts:',
      '- name: sandbox-dev\n  context:\n    cluster: sandbox\n    user: sandbox-admin',
      '- name: sandbox-prod\n  context:\n    cluster: sandbox\n    user: sandbox-admin',
      '',
    ].join('\n'),
  );
  const registry = parseRegistry(
    JSON.stringify({
      repositories: {
        'acme/shop': {
          clusters: ['dev', 'prod'],
          namespaces: ['shop-*'],
          stackPrefix: 'acme-',
          regions: ['eu-west-1'],
          cloudformation: { capabilities: ['CAPABILITY_NAMED_IAM'] },
        },
      },
      clusters: { dev: { context: 'sandbox-dev', kubeconfig }, prod: { context: 'sandbox-prod', kubeconfig } },
    }),
  );
  print(`demo: example repository acme/shop at ${repoDir} (commit there to see it synced)`);
  print(`demo: sandbox cluster at ${sandbox.url} (kubeconfig ${kubeconfig}, contexts sandbox-dev and sandbox-prod)`);
  return { registry, clones: { 'acme/shop': repoDir }, stop: () => sandbox.stop() };
};
