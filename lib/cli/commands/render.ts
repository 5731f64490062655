import { relative, resolve } from 'node:path';
import { LocalFileTree } from '../../render/file-tree.js';
import { renderPath } from '../../render/render.js';
import { toYamlStream } from '../../render/yaml-documents.js';
import { parseCommand, UsageError } from '../args.js';
import { toJson, type Io } from '../output.js';
import { RENDER_COMMAND } from '../specs/render.js';

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
    // A target's render reads the config and the registry (zod, the cluster openers): loaded only for --repo.
    const { loadFromFlags, renderLocalTarget } = await import('../local-target.js');
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
