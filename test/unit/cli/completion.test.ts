import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPLETE_HOOK_COMMAND } from '../../../lib/cli/specs/completion.js';
import { COMPLETE_HOOK } from '../../../lib/cli/completion.js';
import { COMMANDS, main } from '../../../lib/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

const driftless = async (argv: string[], cwd = tmpdir()) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd, isTTY: false, env: {} });
  return { code, stdout, stderr };
};
const script = (shell: string) => driftless(['completion', shell]);

const has = (bin: string): boolean => {
  try {
    execFileSync(bin, ['-c', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('driftless completion', () => {
  it.each(['bash', 'zsh'])('writes a %s script that names every command and every flag of each', async (shell) => {
    const { code, stdout } = await script(shell);
    expect(code).toBe(0);
    for (const { spec } of COMMANDS.filter((c) => !c.spec.hidden)) {
      expect(stdout).toMatch(new RegExp(`\\n {4}${spec.name}\\)`));
      for (const flag of Object.keys(spec.flags)) expect(stdout).toContain(`--${flag}`);
    }
  });

  describe.skipIf(!has('bash'))('the bash script', () => {
    // GIVEN a directory to complete in, and the script sourced into bash
    const dir = mkdtempSync(join(tmpdir(), 'driftless-complete-'));
    mkdirSync(join(dir, 'shop'));
    writeFileSync(join(dir, 'kubeconfig'), '');
    writeFileSync(join(dir, 'shop', 'driftless.yaml'), 'version: 1\ntargets:\n  - name: shop-dev\n  - name: shop-prod\n');
    // A `driftless` on PATH, for the script's call back into the CLI for target names.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'main.mts'), `import { main } from ${JSON.stringify(join(ROOT, 'lib', 'cli', 'main.ts'))};\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    writeFileSync(join(dir, 'bin', 'driftless'), `#!/bin/sh\nexec ${join(ROOT, 'node_modules', '.bin', 'tsx')} ${join(dir, 'main.mts')} "$@"\n`, { mode: 0o755 });
    const complete = async (...words: string[]) => {
      const file = join(dir, 'driftless.bash');
      writeFileSync(file, (await script('bash')).stdout);
      const quoted = words.map((w) => `'${w}'`).join(' ');
      const out = execFileSync('bash', ['-c', `source ${file}; COMP_WORDS=(driftless ${quoted}); COMP_CWORD=${words.length}; _driftless; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` },
      });
      return out.split('\n').filter(Boolean);
    };

    it.each([
      // words after "driftless"     what is offered
      [['sy'], ['sync']],
      [[''], [...COMMANDS.filter((c) => !c.spec.hidden).map((c) => c.spec.name), '--help', '--version']],
      [['sync', '--dr'], ['--dry-run']],
      [['sync', '--repo', 'sh'], ['shop']],
      [['sync', '--repo', '=', 'sh'], ['shop']],
      [['diff', '--kubeconfig', 'kube'], ['kubeconfig']],
      [['render', 's'], ['shop']],
      [
        ['completion', ''],
        ['bash', 'zsh'],
      ],
      [['help', 'dr'], ['drift']],
      [['sync', '--target', ''], []],
      [
        ['sync', '--repo', 'shop', '--target', ''],
        ['shop-dev', 'shop-prod'],
      ],
      [['drift', '--repo', '=', 'shop', '--target', 'shop-p'], ['shop-prod']],
      [['history', '--repo', 'shop', '--target', ''], []],
    ])('completes %j to %j', async (words, offered) => {
      expect(await complete(...words)).toEqual(offered);
    });

    it('offers exactly the flags a command declares, and --help', async () => {
      for (const { spec } of COMMANDS.filter((c) => !c.spec.hidden)) {
        expect((await complete(spec.name, '--')).sort()).toEqual([...Object.keys(spec.flags).map((f) => `--${f}`), '--help'].sort());
      }
    });
  });

  it('lists the targets of a checkout through the hidden __complete command, and nothing for a bad one', async () => {
    expect(await driftless(['__complete', 'targets', 'examples/shop'], ROOT)).toEqual({ code: 0, stdout: 'shop-dev\nshop-prod\nnetwork-vpc\n', stderr: '' });
    expect(await driftless(['__complete', 'targets', 'no/such/dir'], ROOT)).toEqual({ code: 2, stdout: '', stderr: '' });
    expect(COMPLETE_HOOK_COMMAND.name).toBe(COMPLETE_HOOK);
    expect((await driftless(['--help'])).stdout).not.toContain('__complete');
    expect((await script('bash')).stdout).not.toMatch(/^ +__complete\)/m);
  });

  it.skipIf(!has('zsh'))('writes a zsh script that zsh parses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftless-zsh-'));
    writeFileSync(join(dir, '_driftless'), (await script('zsh')).stdout);
    expect(() => execFileSync('zsh', ['-n', join(dir, '_driftless')], { stdio: 'pipe' })).not.toThrow();
  });
});
