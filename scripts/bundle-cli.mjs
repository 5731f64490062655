// `npm run build`, second step: bundles the CLI (lib/cli/main.ts) into dist/cli, the code bin/driftless.js runs.
// One file per command instead of ~80 modules cuts start-up (issue #16); each command stays its own chunk, loaded
// when it runs. Dependencies stay external (the heavy clients load only with the commands that need them), except
// yaml, which every render needs (its ~40 CommonJS files cost more to load than its bundled copy), zod (the
// config schema, 10 files) and diff (19 files, for `driftless diff`): issue 17, a diff loads 46 modules, not 75.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['yaml', 'diff', 'zod']);

// Chunks of earlier builds (their names carry content hashes) go first.
rmSync(join(root, 'dist', 'cli'), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'lib', 'cli', 'main.ts')],
  outdir: join(root, 'dist', 'cli'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies)
    .filter((d) => !BUNDLED.has(d))
    .flatMap((d) => [d, `${d}/*`]),
  // yaml is CommonJS and requires Node's built-ins.
  banner: { js: "import { createRequire as __driftlessRequire } from 'node:module'; const require = __driftlessRequire(import.meta.url);" },
  // Less source for V8 to parse at start-up; identifiers kept, so stack traces still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
