import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../lib/cli/main.js';

const CLI = join(import.meta.dirname, '..', '..', '..', 'lib', 'cli');
const source = (file: string) => readFileSync(join(CLI, file), 'utf8');
const FILES = readdirSync(join(CLI, 'commands')).filter((f) => f.endsWith('.ts'));
const SPEC_FILES = readdirSync(join(CLI, 'specs')).filter((f) => f.endsWith('.ts'));
const specOf = (name: string) => COMMANDS.find((c) => c.spec.name === name)!.spec;

/** The command names declared in the spec modules, by constant (`export const X = defineCommand({ name: '…'`). */
const SPEC_NAMES = new Map(
  SPEC_FILES.flatMap((f) => [...source(join('specs', f)).matchAll(/export const (\w+) = defineCommand\(\{\s*name: '([a-z_-]+)'/g)].map((m) => [m[1]!, m[2]!] as const)),
);

/** The commands an implementation file runs: the declarations it imports from lib/cli/specs. */
const declaredIn = (text: string): string[] => [...new Set([...text.matchAll(/\b(\w+_COMMAND)\b/g)].map((m) => SPEC_NAMES.get(m[1]!)).filter((n): n is string => n !== undefined))];

/** The flags a piece of code reads from parsed values: `values.x`, `values['x']`, `(values as T).x`, `const { x } = values`. */
const flagsRead = (text: string): Set<string> => {
  const read = new Set<string>();
  for (const m of text.matchAll(/\bvalues(?: as [^)]+\))?\??\.([A-Za-z_$][\w$]*)|\bvalues(?: as [^)]+\))?\[['"]([^'"]+)['"]\]/g)) read.add((m[1] ?? m[2])!);
  for (const m of text.matchAll(/const \{([^}]*)\} = values\b/g)) for (const k of m[1]!.split(',')) read.add(k.split(':')[0]!.trim());
  return read;
};

/** The body of an exported arrow function of a file, up to the next export. */
const bodyOf = (text: string, name: string): string => {
  const start = text.indexOf(`export const ${name} =`);
  const end = text.indexOf('\nexport ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
};

describe('command flag declarations', () => {
  it('declare every command main runs, each once, and implement each in one file', () => {
    expect([...SPEC_NAMES.values()].sort()).toEqual(COMMANDS.map((c) => c.spec.name).sort());
    const implemented = FILES.flatMap((f) => declaredIn(source(join('commands', f))));
    expect(implemented.sort()).toEqual(COMMANDS.map((c) => c.spec.name).sort());
  });

  it.each(SPEC_FILES)('specs/%s imports no command implementation, client or SDK (main imports every spec)', (file) => {
    const imports = [...source(join('specs', file)).matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);
    expect(imports.filter((i) => !['../args.js', '../completion.js', '../../core/env-names.js'].includes(i))).toEqual([]);
  });

  it.each(FILES)('%s reads no flag its commands do not declare, and no raw argument', (file) => {
    const text = source(join('commands', file));
    const names = declaredIn(text);
    const declared = new Set(names.flatMap((n) => Object.keys(specOf(n).flags)));
    for (const flag of flagsRead(text)) expect(declared, `${file} reads --${flag}`).toContain(flag);
    // The command line reaches a command only through its declaration.
    expect(text).not.toMatch(/parseArgs|process\.argv/);
    const code = text.replace(/^import .*$/gm, '');
    expect(code.match(/\bargs\b/g)?.length ?? 0).toBe((text.match(/\(args: readonly string\[\]/g)?.length ?? 0) + (text.match(/parseCommand\([^()]*, args\)/g)?.length ?? 0));
  });

  it('declare every flag the shared cluster helpers read, for each command that calls them', () => {
    const local = source('local-target.ts');
    const helpers = { loadFromFlags: flagsRead(bodyOf(local, 'loadFromFlags')), localAccess: flagsRead(bodyOf(local, 'localAccess')) };
    // Together the two read the checkout flags and the cluster flags.
    expect([...new Set([...helpers.loadFromFlags, ...helpers.localAccess])].sort()).toEqual(['context', 'kubeconfig', 'registry', 'repo', 'repository', 'target']);
    for (const file of FILES) {
      const text = source(join('commands', file));
      for (const [helper, read] of Object.entries(helpers)) {
        if (!text.includes(`${helper}(`)) continue;
        for (const name of declaredIn(text)) {
          for (const flag of read) expect(Object.keys(specOf(name).flags), `${name} calls ${helper}, which reads --${flag}`).toContain(flag);
        }
      }
    }
  });

  it('describe every flag in one lowercase phrase with no trailing period', () => {
    for (const { spec } of COMMANDS) {
      for (const [flag, f] of Object.entries(spec.flags)) {
        expect(f.description, `${spec.name} --${flag}`).toMatch(/^[a-z$].*[^.]$/);
        if (f.type === 'string') expect(f.value, `${spec.name} --${flag} names its value`).toMatch(/^[A-Z]/);
      }
    }
  });
});
