import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagLabel, parseCommand, UsageError } from '../../../lib/cli/args.js';
import { COMMANDS, main } from '../../../lib/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// An empty directory: nothing to redact, no serve, no checkout.
const CWD = mkdtempSync(join(tmpdir(), 'driftless-help-'));

const run = async (argv: string[], o: { isTTY?: boolean; env?: Record<string, string> } = {}) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: CWD, isTTY: o.isTTY ?? false, env: o.env ?? {} });
  return { code, stdout, stderr };
};

/** The flag names a help text lists in its "flags:" section. */
const listedFlags = (help: string): string[] => {
  const section = help.split('\n\n').find((p) => p.startsWith('flags:')) ?? '';
  return section
    .split('\n')
    .slice(1)
    .map((l) => /--([a-z][a-z-]*)/.exec(l)?.[1] ?? '')
    .filter(Boolean);
};

const NAMES = COMMANDS.map((c) => c.spec.name);

describe('driftless --help', () => {
  it.each(NAMES)('%s --help exits 0 and lists every flag the command accepts, with its exit codes', async (name) => {
    // GIVEN the command's declaration
    const { spec } = COMMANDS.find((c) => c.spec.name === name)!;
    // WHEN its help is asked for
    const { code, stdout, stderr } = await run([name, '--help']);
    // THEN it is printed on stdout, exit 0
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(new RegExp(`^driftless ${name}: `));
    expect(stdout).toContain(`usage:\n  driftless ${name}`);
    const listed = listedFlags(stdout);
    expect(listed.sort()).toEqual([...Object.keys(spec.flags), 'help'].sort());
    for (const [flag, f] of Object.entries(spec.flags)) expect(stdout).toContain(`${flagLabel(flag, f)}  `);
    // every listed flag parses, so the help does not promise a flag the command would refuse
    for (const flag of listed.filter((f) => f !== 'help')) {
      const f = spec.flags[flag]!;
      const parse = () => parseCommand(spec, f.type === 'string' ? [`--${flag}=${f.choices?.[0] ?? 'x'}`] : [`--${flag}`]);
      try {
        parse();
      } catch (err) {
        expect((err as Error).message).not.toMatch(/unknown flag/);
      }
    }
    for (const [c, meaning] of spec.exitCodes) expect(stdout).toMatch(new RegExp(`\\n  ${c}  ${meaning.replace(/[().*+?[\]]/g, '\\$&')}\\n`));
  });

  it.each(NAMES)('%s -h, driftless help %s and driftless --help %s print the same help', async (name) => {
    const long = await run([name, '--help']);
    expect(await run([name, '-h'])).toEqual(long);
    expect(await run(['help', name])).toEqual(long);
    expect(await run(['--help', name])).toEqual(long);
  });

  it('lists every command with its summary at the top level, exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const { code, stdout } = await run(argv);
      expect(code).toBe(0);
      for (const { spec } of COMMANDS.filter((c) => !c.spec.hidden)) expect(stdout).toMatch(new RegExp(`\\n  ${spec.name} +${spec.summary.replace(/[().*+?[\]]/g, '\\$&')}\\n`));
      expect(stdout).toContain('--version');
    }
  });

  it('wins over other flags, but not when -h is the value of another flag', async () => {
    expect((await run(['sync', '--bogus', '--help'])).code).toBe(0);
    const asValue = await run(['sync', '--repo', 'x', '--target', 'y', '--context=-h', '--bogus']);
    expect(asValue.code).toBe(2);
    expect(asValue.stderr).toMatch(/^driftless sync: unknown flag --bogus\n/);
  });

  it('aligns the descriptions of flags, environment and exit codes in one column per section', async () => {
    const { stdout } = await run(['sync', '--help']);
    for (const section of stdout.split('\n\n').filter((p) => /^(flags|environment|exit codes):/.test(p))) {
      const starts = section
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => /^ {2}\S+(?: \S+)*? {2,}(?=\S)/.exec(l)?.[0].length);
      expect(starts.every((s) => s !== undefined && s === starts[0])).toBe(true);
    }
  });

  it('is coloured only on a terminal, and not with NO_COLOR set', async () => {
    expect((await run(['sync', '--help'], { isTTY: true })).stdout).toContain('\u001b[1musage:\u001b[0m');
    expect((await run(['sync', '--help'], { isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toContain('\u001b[');
    expect((await run(['sync', '--help'], { isTTY: false })).stdout).not.toContain('\u001b[');
    expect((await run(['--help'], { isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toContain('\u001b[');
  });

  it('fails with exit 2 on help for an unknown command', async () => {
    const { code, stderr } = await run(['help', 'frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^driftless help: unknown command "frobnicate" \(commands: serve, render/);
  });
});

describe('driftless --version', () => {
  it('prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('driftless usage errors', () => {
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

  it.each(NAMES)('fails %s --no-such-flag with one line, the usage on stderr and exit 2', async (name) => {
    const { code, stdout, stderr } = await run([name, '--no-such-flag']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const [first, usage, ...more] = stderr.trimEnd().split('\n');
    expect(first).toBe(`driftless ${name}: unknown flag --no-such-flag`);
    expect(usage).toMatch(new RegExp(`^usage: driftless ${name}\\b`));
    expect(more.at(-1)).toBe(`Run "driftless ${name} --help" for the flags.`);
    noStack(stderr);
  });

  it.each(
    COMMANDS.flatMap(({ spec }) =>
      Object.entries(spec.flags)
        .filter(([, f]) => f.type === 'string')
        .map(([flag, f]) => [spec.name, flag, f.value ?? 'VALUE'] as const),
    ),
  )('fails %s --%s without its value, naming the value it needs', async (name, flag, value) => {
    const { code, stderr } = await run([name, `--${flag}`]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`driftless ${name}: --${flag} needs a value (${value})`);
    noStack(stderr);
  });

  it.each(
    COMMANDS.flatMap(({ spec }) =>
      Object.entries(spec.flags)
        .filter(([, f]) => f.required)
        .map(([flag, f]) => [spec.name, flag, flagLabel(flag, f)] as const),
    ),
  )('fails %s without --%s, naming it', async (name, flag, label) => {
    const { spec } = COMMANDS.find((c) => c.spec.name === name)!;
    // every other required flag given
    const others = Object.entries(spec.flags)
      .filter(([n, f]) => f.required && n !== flag)
      .flatMap(([n]) => [`--${n}`, 'x']);
    const { code, stderr } = await run([name, ...others]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`driftless ${name}: ${label} is required`);
  });

  it('fails on an unknown command and on no command with exit 2 and the list of commands', async () => {
    for (const [argv, first] of [
      [['frobnicate'], 'driftless: unknown command "frobnicate"'],
      [[], 'driftless: no command given'],
      [['--bogus'], 'driftless: unknown flag "--bogus"'],
    ] as const) {
      const { code, stdout, stderr } = await run([...argv]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.split('\n')[0]).toBe(first);
      expect(stderr).toContain(
        `commands: ${COMMANDS.filter((c) => !c.spec.hidden)
          .map((c) => c.spec.name)
          .join(', ')}`,
      );
    }
  });

  it('fails on a stray argument, a value given to a switch and a forgotten value', async () => {
    expect((await run(['status', 'extra'])).stderr.split('\n')[0]).toBe('driftless status: unexpected argument "extra"');
    expect((await run(['status', '--json=yes'])).stderr.split('\n')[0]).toBe('driftless status: --json takes no value');
    expect((await run(['sync', '--repo', '--json'])).stderr.split('\n')[0]).toBe('driftless sync: --repo needs a value (DIR), not the flag --json');
    expect((await run(['completion', 'fish'])).stderr.split('\n')[0]).toBe('driftless completion: SHELL "fish": expected one of bash, zsh');
  });

  it.each([
    // command line                    first line on stderr
    [['snyc'], 'driftless: unknown command "snyc" (did you mean sync?)'],
    [['sync', '--dryrun'], 'driftless sync: unknown flag --dryrun (did you mean --dry-run?)'],
    [['drift', '--targte', 'x'], 'driftless drift: unknown flag --targte (did you mean --target?)'],
    [['--verison'], 'driftless: unknown flag "--verison" (did you mean --version?)'],
    [['help', 'stauts'], 'driftless help: unknown command "stauts" (did you mean status?)'],
    [['sync', '--x'], 'driftless sync: unknown flag --x'],
  ])('suggests the closest name for a typo in %j', async (argv, first) => {
    const { code, stderr } = await run([...argv]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(first);
  });

  it('answers a usage error found by the command itself the same way', async () => {
    const { code, stderr } = await run(['history', '--limit', '0']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'driftless history: --limit must be a positive whole number\nusage: driftless history [--repo OWNER/NAME] [--target NAME] [--limit N] [--json]\nRun "driftless history --help" for the flags.\n',
    );
  });
});

describe('parseCommand', () => {
  const { spec } = COMMANDS.find((c) => c.spec.name === 'serve')!;

  it('fills defaults, collects repeated flags and takes --flag=value', () => {
    const { values } = parseCommand(spec, ['--clone', 'a/b=x', '--clone=c/d=y', '--port=9000']);
    expect(values).toEqual({ port: '9000', poll: '10s', 'drift-interval': '5m', clone: ['a/b=x', 'c/d=y'] });
  });

  it('fails with a UsageError, never an error of node:util', () => {
    expect(() => parseCommand(spec, ['--nope'])).toThrow(UsageError);
    expect(() => parseCommand(spec, ['-x'])).toThrow('unknown flag -x');
  });
});
