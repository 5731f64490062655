import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ReconcilerError } from '../core/errors.js';
import { LocalFileTree } from '../render/file-tree.js';
import { renderPath } from '../render/render.js';
import { toYamlStream } from '../render/yaml-documents.js';

/** Exit codes shared by every command (DESIGN.md). */
export const EXIT = { ok: 0, changes: 1, error: 2 } as const;

const USAGE = `usage: driftless <command> [options]

commands:
  render DIR [--json]   print the objects DIR renders to (a Kustomize directory, a plain
                        directory of manifests, or a manifest file) as a YAML stream
`;

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
};

/** Runs the `driftless` command line and returns its exit code. */
export const main = async (argv: readonly string[], io: Io = defaultIo): Promise<number> => {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'render':
        return await render(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(USAGE);
        return command === undefined ? EXIT.error : EXIT.ok;
      default:
        io.stderr(`driftless: unknown command "${command}"\n${USAGE}`);
        return EXIT.error;
    }
  } catch (err) {
    io.stderr(`driftless ${command}: ${err instanceof ReconcilerError || err instanceof TypeError ? err.message : String((err as Error)?.stack ?? err)}\n`);
    return EXIT.error;
  }
};

const render = async (args: readonly string[], io: Io): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    io.stderr('usage: driftless render DIR [--json]\n');
    return EXIT.error;
  }
  const target = resolve(io.cwd, positionals[0] as string);
  // The directory's own root is the tree: Kustomize may read ../base, so root the tree at the filesystem root
  // and render the path inside it; kustomize's own load restrictions still apply per kustomization.
  const tree = new LocalFileTree('/');
  const result = await renderPath(tree, relative('/', target));
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  io.stdout(values.json ? `${JSON.stringify(result.objects, null, 2)}\n` : toYamlStream(result.objects));
  return EXIT.ok;
};
