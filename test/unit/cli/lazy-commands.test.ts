import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', '..', 'lib', 'cli');
const staticImports = (file: string): string[] => [...readFileSync(join(CLI, file), 'utf8').matchAll(/^import (?!type ).* from '([^']+)';$/gm)].map((m) => m[1]!);

describe('lazy commands (issue #16, start-up)', () => {
  it('main imports the declarations of the commands, never an implementation', () => {
    // GIVEN the static imports of main.ts
    const imports = staticImports('main.ts');
    // THEN none is a command implementation, and every command's declaration is among them
    expect(imports.filter((i) => i.startsWith('./commands/'))).toEqual([]);
    expect(imports.filter((i) => i.startsWith('./specs/')).length).toBeGreaterThanOrEqual(10);
  });

  it('render DIR imports no cluster, cloud or config code before it knows it needs a target', () => {
    // GIVEN the static imports of the render command and of what main needs before any command runs
    const imports = [...staticImports('commands/render.ts'), ...staticImports('main.ts'), ...staticImports('redacting-io.ts')];
    // THEN the target helpers (zod, the Kubernetes and AWS clients) are not among them
    expect(imports.filter((i) => /local-target|ledger|targets\/|@aws-sdk|@kubernetes|zod/.test(i))).toEqual([]);
  });
});
