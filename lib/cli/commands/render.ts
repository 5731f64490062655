import { relative, resolve } from 'node:path';
import { LocalFileTree } from '../../render/file-tree.js';
import { renderPath } from '../../render/render.js';
import { toYamlStream } from '../../render/yaml-documents.js';
import { parseFlags, UsageError } from '../args.js';
import { loadFromFlags, renderLocalTarget } from '../local-target.js';
import { toJson, type Io } from '../output.js';

const USAGE = 'usage: driftless render DIR [--json]\n       driftless render --repo DIR --target NAME [--registry FILE] [--repository OWNER/NAME] [--json]';

/**
 * `driftless render DIR [--json]`: the objects DIR renders to (manifests, a kustomization, a Helm chart).
 * `driftless render --repo DIR --target NAME`: a target of DIR/driftless.yaml, rendered exactly as sync renders it
 * (its `helm` settings and the registry grant), without a cluster: Helm's default capabilities.
 */
export const renderCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(
    args,
    {
      json: { type: 'boolean', default: false },
      repo: { type: 'string' },
      target: { type: 'string' },
      registry: { type: 'string' },
      repository: { type: 'string' },
    },
    USAGE,
  );
  let result;
  if (values.repo !== undefined || values.target !== undefined) {
    if (!values.repo || !values.target || positionals.length) throw new UsageError(USAGE);
    result = await renderLocalTarget(loadFromFlags({ ...values, repo: values.repo, target: values.target }, io));
  } else {
    if (positionals.length !== 1) throw new UsageError(USAGE);
    const target = resolve(io.cwd, positionals[0] as string);
    // Rooted at / so that a kustomization may reach ../base; Kustomize's own load restrictions still apply.
    result = await renderPath(new LocalFileTree('/'), relative('/', target));
  }
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  io.stdout(values.json ? toJson(result.objects) : toYamlStream(result.objects));
  return 0;
};
