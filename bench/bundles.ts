import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { median, ms } from './machine.js';

const ROOT = join(import.meta.dirname, '..');

/** Bundles each handler as the CDK stack does and times importing it in a fresh Node process (the init phase). */
export const benchBundles = async (): Promise<string> => {
  const out = join(ROOT, '.bench-bundles');
  mkdirSync(out, { recursive: true });
  const registry = readFileSync(join(ROOT, 'infra', 'registry.example.json'), 'utf8');
  const rows: string[] = [];
  try {
    for (const [name, goal] of [
      ['webhook', 300],
      ['reconcile', 2000],
      ['drift', 2000],
    ] as const) {
      const file = join(out, `${name}.mjs`);
      await build({
        entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        minify: true,
        sourcemap: true,
        mainFields: ['module', 'main'],
        external: ['@aws-sdk/*'],
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
        outfile: file,
      });
      const size = readFileSync(file).length;
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = execFileSync(
          process.execPath,
          ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`],
          {
            encoding: 'utf8',
            env: {
              ...process.env,
              DRIFTLESS_TABLE: 'bench',
              DRIFTLESS_REGISTRY_JSON: registry,
              DRIFTLESS_RECONCILE_FUNCTION: 'reconcile',
              DRIFTLESS_DRIFT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-drift.fifo',
              AWS_REGION: 'eu-west-1',
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            },
          },
        );
        times.push(Number(t.trim()));
      }
      rows.push(`| ${name} | ${(size / 1000).toFixed(0)} KB | ≤ ${goal} KB | ${ms(median(times))} |`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return [
    "Each handler bundled with the stack's esbuild settings (ESM, minified, Node 22 target) with the AWS SDK v3 left to",
    'the Lambda runtime (as the stack does: `@aws-sdk/*` is external), and imported in a fresh Node process (median of 7):',
    'module evaluation and the cold-start composition, no request made. The client-node kubeconfig module is loaded only',
    'when a `kubeconfigSecret` cluster is first used, and Secrets Manager and GitHub credentials on first need.',
    '',
    '| function | bundle (minified) | goal | init: import (ms) |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
};
