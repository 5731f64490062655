import { relative, resolve } from 'node:path';
import { LocalFileTree } from '../../render/file-tree.js';
import { renderPath } from '../../render/render.js';
import { toYamlStream } from '../../render/yaml-documents.js';
import { CLUSTER_FLAGS, defineCommand, JSON_FLAG, parseCommand, USAGE_EXIT, UsageError } from '../args.js';
import { loadFromFlags, renderLocalTarget } from '../local-target.js';
import { toJson, type Io } from '../output.js';
import { ENV } from '../../core/env-names.js';

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

/**
 * `driftless render DIR [--json]`: the objects DIR renders to (manifests, a kustomization, a Helm chart).
 * `driftless render --repo DIR --target NAME`: a target of DIR/driftless.yaml, rendered exactly as sync renders it
 * (its `helm` settings and the registry grant), without a cluster: Helm's default capabilities.
 */
export const renderCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values, positionals } = parseCommand(RENDER_COMMAND, args);
  let result;
  if (values.repo !== undefined || values.target !== undefined) {
    if (positionals.length) throw new UsageError('give DIR, or --repo DIR --target NAME, not both');
    if (!values.repo || !values.target) throw new UsageError(values.repo ? '--target NAME is required with --repo' : '--repo DIR is required with --target');
    result = await renderLocalTarget(loadFromFlags({ ...values, repo: values.repo, target: values.target }, io));
  } else {
    if (positionals.length !== 1) throw new UsageError('DIR is required (or --repo DIR --target NAME)');
    const target = resolve(io.cwd, positionals[0] as string);
    // Rooted at / so that a kustomization may reach ../base; Kustomize's own load restrictions still apply.
    result = await renderPath(new LocalFileTree('/'), relative('/', target));
  }
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  io.stdout(values.json ? toJson(result.objects) : toYamlStream(result.objects));
  return 0;
};
