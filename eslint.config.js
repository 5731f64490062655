// @ts-check
// Lint for driftless: typescript-eslint's type-aware recommended rules, plus import-boundary rules that encode
// the dependency direction of docs/STYLE.md §2.2. `npm run lint` runs it; `npm test` runs it before vitest.
// Folder cycles are checked by test/unit/architecture/folder-cycles.test.ts.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

// ---- The layers of docs/STYLE.md §2.2, as globs relative to this file --------------------------------------

/** Pure vocabulary: imports nothing outside itself, no package. */
const CORE = ['lib/core/**'];
/** Use cases: a pipeline over ports. */
const USE_CASES = ['lib/reconcile/**', 'lib/drift/**', 'lib/preview/**'];
/** Adapters, one entry per adapter: each may use its own files, lib/core, ports, pure helpers and SDKs. */
const ADAPTERS = {
  kubernetes: ['lib/targets/kubernetes/**'],
  cloudformation: ['lib/targets/cloudformation/**'],
  dynamodbLedger: ['lib/ledger/dynamodb-*.ts', 'lib/ledger/client.ts', 'lib/ledger/table.ts'],
  s3BlobStore: ['lib/ledger/s3-blob-store.ts'],
  directoryBlobStore: ['lib/ledger/directory-blob-store.ts'],
  githubSource: ['lib/source/github-*.ts'],
  localGitSource: ['lib/source/local-git-source.ts'],
  slackNotifier: ['lib/notify/slack-*.ts'],
  sqsDriftQueue: ['lib/queue/sqs-*.ts'],
};
const ALL_ADAPTERS = Object.values(ADAPTERS).flat();
/** Cloud and cluster SDKs: only adapters (and the composition) talk to them. */
const SDKS = [
  'node_modules/@aws-sdk/**',
  'node_modules/@smithy/**',
  'node_modules/@kubernetes/client-node/**',
  'node_modules/@slack/**',
  'node_modules/@octokit/core/**',
  'node_modules/@octokit/auth-app/**',
  'node_modules/@octokit/plugin-*/**',
];
/**
 * The composition: the only code that builds adapters. openTarget (issue #13) is the one place a target config
 * becomes an adapter, and open-blob-store the one place the environment becomes the ledger's blob store (the
 * functions and the CLI both use it), so they count as composition too.
 */
const COMPOSITION = [
  'functions/*/compose*.ts',
  'functions/common/compose.ts',
  'lib/local/serve*.ts',
  'lib/cli/main.ts',
  'lib/cli/ledger-env.ts',
  'lib/cli/local-target.ts',
  'lib/cli/commands/**',
  'lib/targets/open-target.ts',
  'lib/ledger/open-blob-store.ts',
  'test/support/**',
];
/** Runtimes: entry points and the code that wires them. Nothing in lib/ below them imports them. */
const RUNTIMES = ['functions/**', 'lib/cli/**', 'lib/local/**', 'lib/targets/open-target.ts', 'infra/**', 'bin/**'];
const TESTS_AND_TOOLS = ['test/**', 'bench/**', 'scripts/**'];

/** @typedef {{ from: string[], message: string }} Zone */

/** @type {Record<string, Zone>} */
const ZONE = {
  coreIsPure: {
    from: ['lib/!(core)/**', 'functions/**', 'infra/**', ...TESTS_AND_TOOLS, 'node_modules/**'],
    message: 'lib/core imports nothing from the project outside lib/core and no package (STYLE.md §2.2).',
  },
  useCasesUsePorts: {
    from: [...ALL_ADAPTERS, ...SDKS],
    message: 'Use cases import ports and lib/core, never adapters or SDKs; take the adapter through `deps` (STYLE.md §2.2).',
  },
  onlyCompositionBuildsAdapters: {
    from: ALL_ADAPTERS,
    message: 'Only the composition (functions/*/compose*.ts, lib/local/serve*.ts, lib/cli, openTarget, test/support) imports adapters (STYLE.md §2.2).',
  },
  nothingImportsRuntimes: {
    from: [...RUNTIMES, ...TESTS_AND_TOOLS],
    message: 'Library code never imports the runtimes (functions/, lib/cli, lib/local, openTarget, infra/) or tests.',
  },
  nothingImportsUseCases: {
    from: USE_CASES,
    message: 'Adapters and ports never import use cases; move the shared type to lib/core or the port (STYLE.md §2.2).',
  },
  sandboxStandsAlone: {
    from: ['lib/render/**', 'lib/reconcile/**', 'lib/drift/**', 'lib/preview/**', 'lib/targets/**', 'lib/cli/**', 'lib/local/*.ts', 'functions/**'],
    message:
      'The sandbox cluster (lib/local/sandbox-cluster) is its own part: a stand-in for kube-apiserver must not share code with what it tests; it imports lib/core only (issue #13).',
  },
  infraSharesOnlyNames: {
    from: ['lib/!(core)/**', 'lib/core/!(env-names|errors).ts', 'functions/**'],
    message: 'infra/ never imports runtime code; it shares env var names (lib/core/env-names.ts) only (STYLE.md §2.2).',
  },
};
/** Adapters never import each other: each adapter's zone lists the other adapters. */
const otherAdapters = (name) => ({
  from: Object.entries(ADAPTERS)
    .filter(([n]) => n !== name)
    .flatMap(([, globs]) => globs),
  message: `Adapters never import each other; share through lib/core or a port (STYLE.md §2.2).`,
});

/**
 * Violations that need the composition refactor of issue #13. Each entry names a file, what it may import against
 * its layer's rules, and why; the list may only shrink. A file not listed here gets every rule of its layer.
 * @type {{ file: string, imports: string[], why: string }[]}
 */
const ALLOWED = [
  // Synth-time validation of the registry (the same parser and overlap rule the Lambdas use), so a bad registry
  // fails `cdk synth` instead of the first sync. Goes if the registry schema moves to lib/core.
  { file: 'infra/stacks/reconciler-stack.ts', imports: ['lib/config/load-config.ts', 'lib/config/stack-grants.ts'], why: 'synth-time registry validation' },
];

// ---- Building the rule ---------------------------------------------------------------------------------------

const abs = (glob) => `${import.meta.dirname}/${glob}`;
const isGlob = (p) => /[*?{}()!@[\]]/.test(p);
/** A glob matcher for the globs used here (`*`, `**`; `!(a|b)` read loosely as any one segment). */
const matches = (file, glob) =>
  new RegExp(
    `^${glob
      .replace(/!\([^)]*\)/g, '¤')
      .replace(/[.]/g, '\\.')
      .replace(/\*\*\/?/g, '§')
      .replace(/\*/g, '[^/]*')
      .replace(/§/g, '.*')
      .replace(/¤/g, '[^/]*')}$`,
  ).test(file);
/** A plain path as a glob (the rule wants glob exceptions under a glob `from`). */
const asGlob = (p) => (isGlob(p) ? p : `${p.slice(0, p.lastIndexOf('/'))}/@(${p.slice(p.lastIndexOf('/') + 1)})`);
/**
 * One rule zone per `from` entry (the rule refuses a `from` list that mixes globs and plain paths), minus the
 * allowed imports: a `from` that is itself allowed is dropped, allowed files under a glob `from` become exceptions.
 */
const toZones = (/** @type {Zone} */ z, /** @type {string[]} */ targets, /** @type {string[]} */ allowed = []) =>
  z.from
    .filter((from) => !allowed.includes(from))
    .map((from) => {
      const except = isGlob(from) ? allowed.filter((a) => matches(a.replace(/\/\*\*$/, '/x'), from)).map((a) => abs(asGlob(a))) : [];
      return { target: targets.map(abs), from: abs(from), ...(except.length ? { except } : {}), message: z.message };
    });
/** One flat-config block giving `files` exactly these zones (later blocks override earlier ones per file). */
const boundaries = (files, zones, ignores = []) => ({
  files,
  ignores,
  rules: {
    'import-x/no-restricted-paths': zones.length ? ['error', { basePath: import.meta.dirname, zones: zones.flatMap(([z, except]) => toZones(z, files, except)) }] : 'off',
  },
});

/** The zones of each layer; a file's block is the most specific layer it falls in. */
const LAYERS = [
  // Library code that is neither a use case, an adapter nor composition: render, config, ports, pure helpers.
  { files: ['lib/**/*.ts', 'functions/**/*.ts'], zones: [ZONE.onlyCompositionBuildsAdapters, ZONE.nothingImportsUseCases, ZONE.nothingImportsRuntimes] },
  // Handlers and functions/common helpers may call use cases, never build adapters.
  { files: ['functions/**/*.ts', 'lib/cli/**/*.ts', 'lib/local/**/*.ts'], zones: [ZONE.onlyCompositionBuildsAdapters] },
  { files: COMPOSITION, zones: [] },
  // The sandbox cluster answers like kube-apiserver from recordings; it shares nothing with the code it stands in for.
  { files: ['lib/local/sandbox-cluster/**/*.ts'], zones: [ZONE.sandboxStandsAlone, ZONE.onlyCompositionBuildsAdapters, ZONE.nothingImportsUseCases] },
  { files: CORE, zones: [ZONE.coreIsPure] },
  { files: USE_CASES, zones: [ZONE.useCasesUsePorts, ZONE.nothingImportsRuntimes] },
  ...Object.entries(ADAPTERS).map(([name, files]) => ({ files, zones: [otherAdapters(name), ZONE.nothingImportsUseCases, ZONE.nothingImportsRuntimes] })),
  { files: ['infra/**/*.ts'], zones: [ZONE.infraSharesOnlyNames] },
];
const layerBlocks = LAYERS.map((l) =>
  boundaries(
    l.files,
    l.zones.map((z) => [z, []]),
  ),
);
/** The layer a file falls in: the last matching LAYERS entry, the same one ESLint applies. */
const layerOf = (file) => [...LAYERS].reverse().find((l) => l.files.some((glob) => matches(file, glob)));
const allowBlocks = [...new Set(ALLOWED.map((a) => a.file))].map((file) => {
  const entries = ALLOWED.filter((a) => a.file === file);
  const layer = layerOf(file);
  if (!layer) throw new Error(`eslint.config.js: allow-list file ${file} is in no layer`);
  const imports = entries.flatMap((e) => e.imports);
  return boundaries(
    [file],
    layer.zones.map((z) => [z, imports]),
  );
});

export default tseslint.config(
  { ignores: ['dist/**', 'cdk.out/**', 'node_modules/**', 'test/fixtures/**', 'examples/**', '.ci/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })] },
    rules: {
      // Port implementations (FileTree, ManifestSource, fakes, CLI commands) are `async` without an `await`
      // so that a synchronous throw becomes a rejection, as the Promise-returning port promises; 73 hits, all that.
      '@typescript-eslint/require-await': 'off',
      // Values read from parsed YAML/JSON are `unknown`; `String(x ?? '')` narrows them to `{}`, which this rule
      // reads as "a plain object" (all 38 hits were that deliberate coercion). restrict-template-expressions
      // still catches objects interpolated into messages.
      '@typescript-eslint/no-base-to-string': 'off',
      // `_`-prefixed names are the house way to drop a field from a rest spread or an unused parameter;
      // tsc's noUnusedLocals/noUnusedParameters already checks the rest.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `reject(signal.reason)` is the platform's abort convention: the reason is the AbortError/TimeoutError
      // (typed `any`) the caller's signal carries, and callers check it by identity.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true }],
    },
  },
  {
    // Tests assert on parsed YAML/JSON output (`(doc as any).spec.replicas`); typing every fixture shape would
    // add casts, not safety. The unsafe-any rules stay on for everything that ships.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // bin/driftless.js is a 15-line JS shim whose one import is the build output (dist/), absent before
    // `npm run build`; type-aware rules would give different answers before and after a build.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...layerBlocks,
  ...allowBlocks,
);
