import { ENV } from '../../core/env-names.js';
import { defineCommand, CLUSTER_FLAGS, JSON_FLAG, USAGE_EXIT } from '../args.js';

/** `driftless render`, declared once: its flags are parsed, explained by --help and completed from here. */
export const RENDER_COMMAND = defineCommand({
  name: 'render',
  summary: 'print what a directory (manifests, a kustomization, a Helm chart) or a target renders to',
  synopsis: ['render DIR [--json]', 'render --repo DIR --target NAME [--registry FILE] [--repository OWNER/NAME] [--json]'],
  details: ["A target renders exactly as sync renders it (its helm settings, the registry grant), with Helm's default capabilities."],
  positionals: [{ name: 'DIR', description: 'a directory of manifests, a kustomization or a Helm chart' }],
  flags: {
    repo: { type: 'string', value: 'DIR', description: 'the checkout: a directory with a driftless.yaml (with --target)' },
    target: { type: 'string', value: 'NAME', complete: 'target', description: 'the target of driftless.yaml to render (with --repo)' },
    registry: CLUSTER_FLAGS.registry,
    repository: CLUSTER_FLAGS.repository,
    ...JSON_FLAG,
  },
  env: [[ENV.registry, 'registry file, when --registry is not given']],
  exitCodes: [[0, 'rendered'], USAGE_EXIT],
});
