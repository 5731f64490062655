/**
 * Regenerates the expected output of the Kustomize conformance corpus with the reference implementation:
 * `kubectl kustomize` (Kustomize v5.5). Run `npm run fixtures:kustomize` after adding or changing a case.
 * Cases under `cases/` must build; cases under `errors/` must fail in kubectl too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'test', 'fixtures', 'kustomize');
const expectedDir = join(root, 'expected');
mkdirSync(expectedDir, { recursive: true });

const version = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
if (!/Kustomize Version: v5\.5\./.test(version)) {
  console.warn(`warning: the corpus targets Kustomize v5.5; this kubectl reports:\n${version}`);
}

let failures = 0;
for (const name of readdirSync(join(root, 'cases')).sort()) {
  try {
    const out = execFileSync('kubectl', ['kustomize', join(root, 'cases', name)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    writeFileSync(join(expectedDir, `${name}.yaml`), out);
    console.log(`ok     ${name}`);
  } catch (err) {
    failures++;
    console.error(`FAILED ${name}: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}
for (const name of readdirSync(join(root, 'errors')).sort()) {
  try {
    execFileSync('kubectl', ['kustomize', join(root, 'errors', name)], { stdio: ['ignore', 'pipe', 'pipe'] });
    failures++;
    console.error(`FAILED ${name}: kubectl built it, but an error case must fail`);
  } catch {
    console.log(`ok     ${name} (fails in kubectl too)`);
  }
}
process.exitCode = failures ? 1 : 0;
