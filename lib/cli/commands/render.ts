import { relative, resolve } from 'node:path';
import { LocalFileTree } from '../../render/file-tree.js';
import { renderPath } from '../../render/render.js';
import { toYamlStream } from '../../render/yaml-documents.js';
import { parseFlags, UsageError } from '../args.js';
import { toJson, type Io } from '../output.js';

const USAGE = 'usage: driftless render DIR [--json]';

/** `driftless render DIR [--json]`: the objects DIR renders to. */
export const renderCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean', default: false } }, USAGE);
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const target = resolve(io.cwd, positionals[0] as string);
  // Rooted at / so that a kustomization may reach ../base; Kustomize's own load restrictions still apply.
  const result = await renderPath(new LocalFileTree('/'), relative('/', target));
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  io.stdout(values.json ? toJson(result.objects) : toYamlStream(result.objects));
  return 0;
};
