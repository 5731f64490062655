// @ts-check
// Lint for driftless: typescript-eslint's type-aware recommended rules plus the import-boundary rules that
// encode shared/STYLE.md §2.2. `npm run lint` runs it; `npm test` runs it before vitest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'cdk.out/**', 'node_modules/**', 'test/fixtures/**', 'examples/**', '.ci/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
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
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
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
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
