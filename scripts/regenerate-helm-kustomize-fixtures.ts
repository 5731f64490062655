/**
 * Records the expected output of the Helm cases of Kustomize (`helmCharts`) with the reference implementation:
 * `kubectl kustomize --enable-helm` (Kustomize v5.5) calling the Helm 3 driftless ships (Helm 4 fails
 * Kustomize's `helm version -c`). Run `npx tsx scripts/regenerate-helm-kustomize-fixtures.ts` after changing a case.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmBinary } from '../lib/render/helm/helm-binary.js';

const root = join(import.meta.dirname, '..', 'test', 'fixtures', 'helm', 'kustomize');
const helm = helmBinary().path;
const home = mkdtempSync(join(tmpdir(), 'driftless-kustomize-helm-'));
const run = (dir: string) =>
  execFileSync('kubectl', ['kustomize', '--enable-helm', '--helm-command', helm, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, HELM_PLUGINS: join(home, 'plugins') },
  });
mkdirSync(join(root, 'expected'), { recursive: true });
let failures = 0;
for (const name of readdirSync(join(root, 'cases')).sort()) {
  try {
    writeFileSync(join(root, 'expected', `${name}.yaml`), run(join(root, 'cases', name)));
    console.log(`ok     ${name}`);
  } catch (err) {
    failures++;
    console.error(`FAILED ${name}: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}
for (const name of readdirSync(join(root, 'errors')).sort()) {
  try {
    run(join(root, 'errors', name));
    failures++;
    console.error(`FAILED ${name}: kubectl built it, but an error case must fail`);
  } catch {
    console.log(`ok     ${name} (fails in kubectl too)`);
  }
}
process.exit(failures ? 1 : 0);
